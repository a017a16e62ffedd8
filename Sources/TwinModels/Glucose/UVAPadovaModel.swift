import Foundation
import TwinSimulation

/// The UVA/Padova type 1 diabetes glucose-insulin model, 13 states, exactly as simglucose 0.2.11 implements it
/// in `simglucose/patient/t1dpatient.py` (`T1DPatient.model`).
///
/// Sources: C. Dalla Man, R. A. Rizza, C. Cobelli, "Meal simulation model of the glucose-insulin system", IEEE
/// Trans. Biomed. Eng. 54 (2007) 1740-1749; B. P. Kovatchev et al., "In silico preclinical trials: a proof of
/// concept in closed-loop control of type 1 diabetes", J. Diabetes Sci. Technol. 3 (2009) 44-55; and the open
/// implementation J. Xie, simglucose v0.2.11 (2018, MIT), https://github.com/jxx123/simglucose.
///
/// States (per kg body weight): `qss` solid glucose in the stomach (mg), `qsl` liquid (mg), `qint` intestine (mg),
/// `Gp` plasma glucose (mg/kg), `Gt` tissue glucose (mg/kg), `Ip` plasma insulin (pmol/kg), `X` insulin action on
/// utilisation (pmol/L), `I1` and `Id` delayed insulin (pmol/L), `Il` liver insulin (pmol/kg), `Isc1`, `Isc2`
/// subcutaneous insulin (pmol/kg), `Gs` subcutaneous glucose (mg/kg).
///
/// The inputs are held constant over an integration interval (as simglucose does each minute): carbohydrate
/// being eaten (`carbohydrate`, g/min) and insulin infused (`insulin`, U/min), plus the gastric-emptying memory
/// (`lastStomachContent` mg and `lastFoodTaken` g) that simglucose's meal state machine sets. The non-smooth
/// parts are kept as simglucose has them: `max(EGP, 0)`, renal excretion above `ke2`, the clamp that zeroes the
/// derivative of a state that is negative (`(x >= 0) * dx`), and the `tanh` gastric emptying that depends on the
/// size of the last meal.
public struct UVAPadovaModel: ODESystem, Sendable, DescribedModel {
    public var parameters: UVAPadovaParameters
    /// Carbohydrate eaten over the interval, g/min.
    public var carbohydrate: Double
    /// Insulin infused subcutaneously over the interval, U/min.
    public var insulin: Double
    /// Stomach content (`qss + qsl`, mg) when the current or last meal started.
    public var lastStomachContent: Double
    /// Carbohydrate eaten so far in the current or last meal, g.
    public var lastFoodTaken: Double

    public init(parameters: UVAPadovaParameters, carbohydrate: Double = 0, insulin: Double = 0,
                lastStomachContent: Double = 0, lastFoodTaken: Double = 0) {
        self.parameters = parameters; self.carbohydrate = carbohydrate; self.insulin = insulin
        self.lastStomachContent = lastStomachContent; self.lastFoodTaken = lastFoodTaken
    }

    public static let stateNames = ["qss", "qsl", "qint", "Gp", "Gt", "Ip", "X", "I1", "Id", "Il", "Isc1", "Isc2", "Gs"]
    public static let stateUnits = ["mg", "mg", "mg", "mg/kg", "mg/kg", "pmol/kg", "pmol/L", "pmol/L", "pmol/L",
                                    "pmol/kg", "pmol/kg", "pmol/kg", "mg/kg"]

    public var dimension: Int { 13 }
    public var variableNames: [String] { Self.stateNames }

    public var modelDescription: ModelDescription {
        ModelDescription(id: "uva-padova-t1d-simglucose", version: "0.2.11-1", parameters: parameters.described,
                         states: zip(Self.stateNames, Self.stateUnits).map { ModelDescription.State($0, $1) },
                         source: "Dalla Man et al. 2007; Kovatchev et al. 2009; simglucose 0.2.11 (Xie 2018)")
    }

    public func derivatives(t: Double, y: UnsafeBufferPointer<Double>, dy: UnsafeMutableBufferPointer<Double>) {
        guard let yp = y.baseAddress, let dp = dy.baseAddress, y.count >= 13, dy.count >= 13 else { return }
        pureRHS(yp, dp)
    }

    /// The right-hand side on raw pointers (13 entries each). Arithmetic is ordered as in simglucose's Python so
    /// that results agree to the last bits where the libm functions agree.
    @inline(__always)
    mutating func rhs(_ x: UnsafePointer<Double>, _ dxdt: UnsafeMutablePointer<Double>) {
        pureRHS(x, dxdt)
    }

    @inline(__always)
    func pureRHS(_ x: UnsafePointer<Double>, _ dxdt: UnsafeMutablePointer<Double>) {
        let p = parameters
        let d = carbohydrate * 1000                       // g -> mg
        let insulinIn = insulin * 6000 / p.BW             // U/min -> pmol/kg/min
        let qsto = x[0] + x[1]
        let Dbar = lastStomachContent + lastFoodTaken * 1000
        dxdt[0] = -p.kmax * x[0] + d
        let kgut: Double
        if Dbar > 0 {
            let aa = 5 / (2 * Dbar * (1 - p.b))
            let cc = 5 / (2 * Dbar * p.d)
            kgut = p.kmin + (p.kmax - p.kmin) / 2 * (tanh(aa * (qsto - p.b * Dbar)) - tanh(cc * (qsto - p.d * Dbar)) + 2)
        } else {
            kgut = p.kmax
        }
        dxdt[1] = p.kmax * x[0] - x[1] * kgut
        dxdt[2] = kgut * x[1] - p.kabs * x[2]
        let Rat = p.f * p.kabs * x[2] / p.BW
        let EGPt = p.kp1 - p.kp2 * x[3] - p.kp3 * x[8]
        let Uiit = p.Fsnc
        let Et = x[3] > p.ke2 ? p.ke1 * (x[3] - p.ke2) : 0
        let d3 = max(EGPt, 0) + Rat - Uiit - Et - p.k1 * x[3] + p.k2 * x[4]
        dxdt[3] = x[3] >= 0 ? d3 : 0
        let Vmt = p.Vm0 + p.Vmx * x[6]
        let Uidt = Vmt * x[4] / (p.Km0 + x[4])
        let d4 = -Uidt + p.k1 * x[3] - p.k2 * x[4]
        dxdt[4] = x[4] >= 0 ? d4 : 0
        let d5 = -(p.m2 + p.m4) * x[5] + p.m1 * x[9] + p.ka1 * x[10] + p.ka2 * x[11]
        let It = x[5] / p.Vi
        dxdt[5] = x[5] >= 0 ? d5 : 0
        dxdt[6] = -p.p2u * x[6] + p.p2u * (It - p.Ib)
        dxdt[7] = -p.ki * (x[7] - It)
        dxdt[8] = -p.ki * (x[8] - x[7])
        let d9 = -(p.m1 + p.m30) * x[9] + p.m2 * x[5]
        dxdt[9] = x[9] >= 0 ? d9 : 0
        let d10 = insulinIn - (p.ka1 + p.kd) * x[10]
        dxdt[10] = x[10] >= 0 ? d10 : 0
        let d11 = p.kd * x[10] - p.ka2 * x[11]
        dxdt[11] = x[11] >= 0 ? d11 : 0
        let d12 = -p.ksc * x[12] + p.ksc * x[3]
        dxdt[12] = x[12] >= 0 ? d12 : 0
    }
}
