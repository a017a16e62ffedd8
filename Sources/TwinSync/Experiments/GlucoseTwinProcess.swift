import TwinSimulation
import Foundation
import TwinModels

/// The UVA/Padova glucose model as a filter's process: 13 model states, the stomach content at the start of
/// the last meal (simglucose's gastric-emptying memory, which depends on the state), and chosen parameters
/// as log-multipliers of their population values (state augmentation).
///
/// Inputs are given per minute from the start, as in a simglucose trace: carbohydrate **announced** (g at the
/// minute a meal starts, or spread over its minutes; the trace's `CHO` column, a recorded meal event), eaten as
/// simglucose's patient eats it (``TwinModels/Eating``: at most 5 g/min, the rest carried over), and insulin
/// infused (U/min). They are held constant over each minute and integrated with classical RK4 (two steps of
/// 30 s). Time is in minutes; propagation intervals must be whole minutes.
public struct GlucoseTwinProcess: ProcessModel {
    public let population: UVAPadovaParameters
    /// Carbohydrate announced per minute (g), as given.
    public let carbohydrate: [Double]
    /// Carbohydrate eaten per minute (g/min): ``carbohydrate`` through ``TwinModels/Eating``.
    public let eaten: [Double]
    public let insulin: [Double]
    /// Parameters estimated as `population × exp(θ)`.
    public let estimated: [String]
    let foodTaken: [Double]
    let mealStart: [Bool]
    /// Process-noise standard deviations per minute (random walk) for the model states, memory and θ.
    public let noiseRate: [Double]

    /// Names of the parameters that can be estimated.
    public static let estimable = ["EGPb", "Vmx", "f", "ka1", "ka2", "kabs", "ki", "kmax", "kp1", "kp3", "kmin", "kp2", "k1", "k2", "p2u", "Vm0", "Km0", "m1", "b", "d", "BW"]

    /// Reads or writes an estimable parameter by name (``TwinModels/UVAPadovaParameters/keyPath(named:)``; names are
    /// checked against ``estimable`` where they enter, and any other falls back to `kp3` as before).
    static func value(_ name: String, in p: UVAPadovaParameters) -> Double {
        p[keyPath: UVAPadovaParameters.keyPath(named: name) ?? \.kp3]
    }

    static func set(_ name: String, _ v: Double, in p: inout UVAPadovaParameters) {
        p[keyPath: UVAPadovaParameters.keyPath(named: name) ?? \.kp3] = v
    }

    public init(population: UVAPadovaParameters, carbohydrate: [Double], insulin: [Double], estimated: [String], noiseRate: [Double]) throws {
        guard carbohydrate.count == insulin.count, !carbohydrate.isEmpty else {
            throw SyncError(.dimensionMismatch, "carbohydrate and insulin inputs need one value per minute each (got \(carbohydrate.count) and \(insulin.count)).")
        }
        for name in estimated where !Self.estimable.contains(name) {
            throw SyncError(.invalidArgument, "parameter '\(name)' cannot be estimated; choose from \(Self.estimable.joined(separator: ", ")).", value: name)
        }
        try checkCount(noiseRate.count, 14 + estimated.count, "process noise rates")
        self.population = population
        self.carbohydrate = carbohydrate
        self.insulin = insulin
        self.estimated = estimated
        self.noiseRate = noiseRate
        let eating = Eating.schedule(announced: carbohydrate)
        self.eaten = eating.eaten
        self.foodTaken = eating.foodTaken
        self.mealStart = eating.startsEpisode
    }

    public var dimension: Int { 14 + estimated.count }
    public var stateNames: [String] { UVAPadovaModel.stateNames + ["lastStomachContent"] + estimated.map { "log(\($0)/population)" } }

    /// Blood glucose seen by the sensor, `Gs / Vg` (mg/dL).
    public func glucose(_ state: UnsafeBufferPointer<Double>) -> Double { state[12] / population.Vg }

    /// The largest |log-multiplier| an estimated parameter takes effect with: beyond it the model uses the
    /// bound (`population × e^±bound`), so a filter's parameter cannot drift to a value no person has (the
    /// collapse of issue 22: Vmx 0.109 → 0.0009). Infinite (no bound) by default.
    public var logMultiplierBound = Double.infinity

    /// The multiplier a log-multiplier `theta` takes effect with: `exp(theta)` clamped to ``logMultiplierBound``.
    public func multiplier(_ theta: Double) -> Double { exp(min(max(theta, -logMultiplierBound), logMultiplierBound)) }

    func parameters(_ state: UnsafeMutableBufferPointer<Double>) -> UVAPadovaParameters {
        var p = population
        for (i, name) in estimated.enumerated() { Self.set(name, Self.value(name, in: population) * multiplier(state[14 + i]), in: &p) }
        return p
    }

    public func propagate(_ state: UnsafeMutableBufferPointer<Double>, from time: Double, over interval: Double) throws {
        let first = Int(time.rounded()), minutes = Int(interval.rounded())
        guard abs(time - Double(first)) < 1e-9, abs(interval - Double(minutes)) < 1e-9 else {
            throw SyncError(.invalidTime, "the glucose twin moves in whole minutes; got t = \(time), interval \(interval).", value: String(interval))
        }
        let p = parameters(state)
        try withUnsafeTemporaryAllocation(of: Double.self, capacity: 13 * 6) { w in
            let y = w.baseAddress!, k1 = y + 13, k2 = k1 + 13, k3 = k2 + 13, k4 = k3 + 13, tmp = k4 + 13
            for i in 0..<13 { y[i] = state[i] }
            for m in first..<(first + minutes) {
                let k = min(max(m, 0), carbohydrate.count - 1)
                if m < carbohydrate.count, mealStart[k] { state[13] = y[0] + y[1] }
                let cho = m < carbohydrate.count ? eaten[k] : 0
                let ins = m < insulin.count ? insulin[k] : population.basalInsulinRate
                let model = UVAPadovaModel(parameters: p, carbohydrate: cho, insulin: ins,
                                           lastStomachContent: state[13], lastFoodTaken: foodTaken[k])
                let h = 0.5
                for s in 0..<2 {
                    let t = Double(m) + Double(s) * h
                    func f(_ x: UnsafeMutablePointer<Double>, _ d: UnsafeMutablePointer<Double>, _ tt: Double) {
                        model.derivatives(t: tt, y: UnsafeBufferPointer(start: x, count: 13), dy: UnsafeMutableBufferPointer(start: d, count: 13))
                    }
                    f(y, k1, t)
                    for i in 0..<13 { tmp[i] = y[i] + 0.5 * h * k1[i] }
                    f(tmp, k2, t + 0.5 * h)
                    for i in 0..<13 { tmp[i] = y[i] + 0.5 * h * k2[i] }
                    f(tmp, k3, t + 0.5 * h)
                    for i in 0..<13 { tmp[i] = y[i] + h * k3[i] }
                    f(tmp, k4, t + h)
                    for i in 0..<13 { y[i] += h / 6 * (k1[i] + 2 * k2[i] + 2 * k3[i] + k4[i]) }
                }
            }
            for i in 0..<13 { state[i] = y[i] }
            if let bad = Dense.firstNonFinite(y, 13) {
                throw SyncError(.nonFinite, "the glucose twin's '\(UVAPadovaModel.stateNames[bad])' became non-finite at t = \(time + interval) min.", value: String(y[bad]))
            }
        }
    }

    public func noiseCovariance(over interval: Double, into q: UnsafeMutableBufferPointer<Double>) {
        let n = dimension
        for i in 0..<(n * n) { q[i] = 0 }
        for i in 0..<n { q[i * n + i] = noiseRate[i] * noiseRate[i] * interval }
    }
}

/// The CGM: `Gs / Vg` plus sensor noise.
public struct GlucoseSensor: ObservationModel {
    public let volume: Double
    public let standardDeviation: Double
    public init(volume: Double, standardDeviation: Double) { self.volume = volume; self.standardDeviation = standardDeviation }
    public var outputCount: Int { 1 }
    public var outputNames: [String] { ["CGM"] }
    public func observe(_ state: UnsafeBufferPointer<Double>, time: Double, into z: UnsafeMutableBufferPointer<Double>) { z[0] = state[12] / volume }
    public func noiseCovariance(time: Double, into r: UnsafeMutableBufferPointer<Double>) { r[0] = standardDeviation * standardDeviation }
}
