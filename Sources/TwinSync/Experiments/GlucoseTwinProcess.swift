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

    public init(population: UVAPadovaParameters, carbohydrate: [Double], insulin: [Double], estimated: [String], noiseRate: [Double],
                sensorError: SensorError? = nil) throws {
        guard carbohydrate.count == insulin.count, !carbohydrate.isEmpty else {
            throw SyncError(.dimensionMismatch, "carbohydrate and insulin inputs need one value per minute each (got \(carbohydrate.count) and \(insulin.count)).")
        }
        for name in estimated where !Self.estimable.contains(name) {
            throw SyncError(.invalidArgument, "parameter '\(name)' cannot be estimated; choose from \(Self.estimable.joined(separator: ", ")).", value: name)
        }
        try checkCount(noiseRate.count, 14 + estimated.count, "process noise rates")
        if let e = sensorError {
            guard e.correlationTime > 0, e.correlationTime.isFinite, e.standardDeviation > 0, e.standardDeviation.isFinite else {
                throw SyncError(.invalidArgument, "the sensor error needs a positive correlation time and sd (got \(e.correlationTime) min, \(e.standardDeviation) mg/dL).",
                                value: String(e.correlationTime))
            }
        }
        self.sensorError = sensorError
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

    public var dimension: Int { 14 + estimated.count + (sensorError == nil ? 0 : 1) }
    public var stateNames: [String] {
        UVAPadovaModel.stateNames + ["lastStomachContent"] + estimated.map { "log(\($0)/population)" } + (sensorError == nil ? [] : ["sensorError"])
    }

    /// A CGM error that is not white: a stationary AR(1) (Ornstein-Uhlenbeck) process `e`, sampled every Δ minutes
    /// as `e ← φ e + w` with `φ = exp(−Δ/τ)` and `w ~ N(0, σ²(1 − φ²))`, so its sd stays `σ` and its correlation
    /// after `Δ` is `φ` (`τ` of 10-30 min is typical of CGM sensors). Held as the process's last state; the
    /// sensor (``GlucoseSensor/errorIndex``) then sees `Gs/Vg + e` plus the white rest of the noise.
    public struct SensorError: Sendable, Hashable {
        /// `τ`, minutes.
        public var correlationTime: Double
        /// `σ`, mg/dL.
        public var standardDeviation: Double
        public init(correlationTime: Double, standardDeviation: Double) { self.correlationTime = correlationTime; self.standardDeviation = standardDeviation }
    }

    /// The correlated sensor error augmenting the state (its index is ``sensorErrorIndex``), or `nil`.
    public let sensorError: SensorError?
    /// Where the sensor error sits in the state: the last entry, after the log-parameters.
    public var sensorErrorIndex: Int? { sensorError == nil ? nil : 14 + estimated.count }

    /// Relative sd of an announced meal's size (0.25: the amount eaten is the announced one ± 25 %, typical of
    /// carbohydrate counting). Over the interval in which a meal is announced, the variance
    /// `(relative sd × grams × 1000)²` (mg²) is added to the stomach's solid compartment `qss`, so the readings
    /// that follow correct the meal's size. 0 (the default): the announced amount is taken as exact.
    public var carbohydrateUncertainty = 0.0

    /// Factor on the process-noise variance of the 13 model states (the model-error scale an innovation-based
    /// estimate sets, ``GlucoseFilterBank/Settings/adaptiveNoise``); 1 by default.
    public var modelNoiseScale = 1.0

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
            if let e = sensorError { state[14 + estimated.count] *= exp(-Double(minutes) / e.correlationTime) }
            if let bad = Dense.firstNonFinite(y, 13) {
                throw SyncError(.nonFinite, "the glucose twin's '\(UVAPadovaModel.stateNames[bad])' became non-finite at t = \(time + interval) min.", value: String(y[bad]))
            }
        }
    }

    /// The random walks of ``noiseRate`` (the model states' scaled by ``modelNoiseScale``) and the sensor error's
    /// innovation, without meals.
    public func noiseCovariance(over interval: Double, into q: UnsafeMutableBufferPointer<Double>) {
        let n = dimension
        for i in 0..<(n * n) { q[i] = 0 }
        for i in 0..<noiseRate.count { q[i * n + i] = noiseRate[i] * noiseRate[i] * interval * (i < 13 ? modelNoiseScale : 1) }
        if let e = sensorError, let k = sensorErrorIndex {
            q[k * n + k] = e.standardDeviation * e.standardDeviation * (1 - exp(-2 * interval / e.correlationTime))
        }
    }

    /// ``noiseCovariance(over:into:)`` plus, for every meal announced in `[time, time + interval)`, the
    /// uncertainty of its size (``carbohydrateUncertainty``) on `qss`.
    public func noiseCovariance(from time: Double, over interval: Double, into q: UnsafeMutableBufferPointer<Double>) {
        noiseCovariance(over: interval, into: q)
        guard carbohydrateUncertainty > 0 else { return }
        let first = max(Int(time.rounded()), 0), end = min(Int((time + interval).rounded()), carbohydrate.count)
        guard first < end else { return }
        var variance = 0.0
        for m in first..<end where carbohydrate[m] > 0 { variance += pow(carbohydrateUncertainty * carbohydrate[m] * 1000, 2) }
        q[0] += variance
    }
}

/// The CGM: `Gs / Vg` plus sensor noise: white of ``standardDeviation``, plus the correlated error held in the
/// state at ``errorIndex`` when there is one (``GlucoseTwinProcess/SensorError``).
public struct GlucoseSensor: ObservationModel {
    public let volume: Double
    public let standardDeviation: Double
    /// The state entry of a correlated sensor error added to the reading (``GlucoseTwinProcess/sensorErrorIndex``).
    public let errorIndex: Int?
    public init(volume: Double, standardDeviation: Double, errorIndex: Int? = nil) {
        self.volume = volume; self.standardDeviation = standardDeviation; self.errorIndex = errorIndex
    }
    public var outputCount: Int { 1 }
    public var outputNames: [String] { ["CGM"] }
    public func observe(_ state: UnsafeBufferPointer<Double>, time: Double, into z: UnsafeMutableBufferPointer<Double>) {
        z[0] = state[12] / volume + (errorIndex.map { state[$0] } ?? 0)
    }
    public func noiseCovariance(time: Double, into r: UnsafeMutableBufferPointer<Double>) { r[0] = standardDeviation * standardDeviation }
}
