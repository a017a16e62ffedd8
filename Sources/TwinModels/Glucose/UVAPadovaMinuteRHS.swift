import Foundation

/// The UVA/Padova right-hand side with everything that is constant over one minute (inputs held) computed once,
/// by the same expressions as `UVAPadovaModel.rhs`, and the two `tanh` values of gastric emptying memoised on
/// their exact arguments. Bit-for-bit the same results as `UVAPadovaModel.rhs`, about twice as fast.
struct UVAPadovaMinuteRHS: PointerRHS {
    let p: UVAPadovaParameters
    private var d = 0.0, insulinIn = 0.0, hasMeal = false, aa = 0.0, cc = 0.0, bD = 0.0, dD = 0.0
    private let halfRange: Double, fkabs: Double, m2m4: Double, ka1kd: Double, m1m30: Double
    private var lastArg1 = Double.nan, lastTanh1 = 0.0, lastArg2 = Double.nan, lastTanh2 = 0.0

    init(parameters: UVAPadovaParameters) {
        p = parameters
        halfRange = (p.kmax - p.kmin) / 2
        fkabs = p.f * p.kabs
        m2m4 = p.m2 + p.m4
        ka1kd = p.ka1 + p.kd
        m1m30 = p.m1 + p.m30
    }

    /// Sets the inputs held over the coming minute (as `UVAPadovaModel`'s properties of the same names).
    mutating func setInputs(carbohydrate: Double, insulin: Double, lastStomachContent: Double, lastFoodTaken: Double) {
        d = carbohydrate * 1000
        insulinIn = insulin * 6000 / p.BW
        let Dbar = lastStomachContent + lastFoodTaken * 1000
        hasMeal = Dbar > 0
        if hasMeal {
            aa = 5 / (2 * Dbar * (1 - p.b))
            cc = 5 / (2 * Dbar * p.d)
            bD = p.b * Dbar
            dD = p.d * Dbar
        }
    }

    @inline(__always)
    mutating func rhs(_ x: UnsafePointer<Double>, _ dxdt: UnsafeMutablePointer<Double>) {
        let qsto = x[0] + x[1]
        dxdt[0] = -p.kmax * x[0] + d
        let kgut: Double
        if hasMeal {
            let arg1 = aa * (qsto - bD), arg2 = cc * (qsto - dD)
            if arg1 != lastArg1 { lastArg1 = arg1; lastTanh1 = tanh(arg1) }
            if arg2 != lastArg2 { lastArg2 = arg2; lastTanh2 = tanh(arg2) }
            kgut = p.kmin + halfRange * (lastTanh1 - lastTanh2 + 2)
        } else {
            kgut = p.kmax
        }
        dxdt[1] = p.kmax * x[0] - x[1] * kgut
        dxdt[2] = kgut * x[1] - p.kabs * x[2]
        let Rat = fkabs * x[2] / p.BW
        let EGPt = p.kp1 - p.kp2 * x[3] - p.kp3 * x[8]
        let Et = x[3] > p.ke2 ? p.ke1 * (x[3] - p.ke2) : 0
        let d3 = max(EGPt, 0) + Rat - p.Fsnc - Et - p.k1 * x[3] + p.k2 * x[4]
        dxdt[3] = x[3] >= 0 ? d3 : 0
        let Vmt = p.Vm0 + p.Vmx * x[6]
        let Uidt = Vmt * x[4] / (p.Km0 + x[4])
        let d4 = -Uidt + p.k1 * x[3] - p.k2 * x[4]
        dxdt[4] = x[4] >= 0 ? d4 : 0
        let d5 = -m2m4 * x[5] + p.m1 * x[9] + p.ka1 * x[10] + p.ka2 * x[11]
        let It = x[5] / p.Vi
        dxdt[5] = x[5] >= 0 ? d5 : 0
        dxdt[6] = -p.p2u * x[6] + p.p2u * (It - p.Ib)
        dxdt[7] = -p.ki * (x[7] - It)
        dxdt[8] = -p.ki * (x[8] - x[7])
        let d9 = -m1m30 * x[9] + p.m2 * x[5]
        dxdt[9] = x[9] >= 0 ? d9 : 0
        let d10 = insulinIn - ka1kd * x[10]
        dxdt[10] = x[10] >= 0 ? d10 : 0
        let d11 = p.kd * x[10] - p.ka2 * x[11]
        dxdt[11] = x[11] >= 0 ? d11 : 0
        let d12 = -p.ksc * x[12] + p.ksc * x[3]
        dxdt[12] = x[12] >= 0 ? d12 : 0
    }
}
