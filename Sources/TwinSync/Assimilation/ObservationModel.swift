/// How a sensor sees the state: `z = h(x, t) + v`, `v ~ N(0, R)`.
///
/// One model per sensor (a CGM, a blood-pressure cuff, a lab assay...), each with its own noise.
/// Conformers promise that `observe` is a deterministic, allocation-free function of the state and time.
public protocol ObservationModel: Sendable {
    /// Number of outputs `m`.
    var outputCount: Int { get }
    /// Names of the outputs (used in error messages).
    var outputNames: [String] { get }
    /// Writes `h(x, t)` (`m` entries).
    func observe(_ state: UnsafeBufferPointer<Double>, time: Double, into z: UnsafeMutableBufferPointer<Double>)
    /// Writes `∂h/∂x` (`m × n`, row-major) and returns `true`, or `false` to let filters use finite differences.
    func jacobian(_ state: UnsafeBufferPointer<Double>, time: Double, into h: UnsafeMutableBufferPointer<Double>) -> Bool
    /// Writes the noise covariance `R` (`m × m`, row-major).
    func noiseCovariance(time: Double, into r: UnsafeMutableBufferPointer<Double>)
}

extension ObservationModel {
    public var outputNames: [String] { (0..<outputCount).map { "z[\($0)]" } }
    public func jacobian(_ state: UnsafeBufferPointer<Double>, time: Double, into h: UnsafeMutableBufferPointer<Double>) -> Bool { false }
}

/// A linear sensor `z = H x + v` with constant noise covariance `R`.
public struct LinearObservation: ObservationModel {
    public let outputCount: Int
    public let stateDimension: Int
    public let outputNames: [String]
    /// `H`, row-major `m × n`.
    public let matrix: [Double]
    /// `R`, row-major `m × m`.
    public let noise: [Double]

    public init(matrix: [Double], outputCount: Int, noise: [Double], outputNames: [String]? = nil) throws {
        guard outputCount > 0, matrix.count % outputCount == 0 else {
            throw SyncError(.dimensionMismatch, "H has \(matrix.count) entries, not a multiple of \(outputCount) outputs.", value: String(matrix.count))
        }
        try checkCount(noise.count, outputCount * outputCount, "noise covariance R")
        self.outputCount = outputCount
        self.stateDimension = matrix.count / outputCount
        self.matrix = matrix
        self.noise = noise
        self.outputNames = outputNames ?? (0..<outputCount).map { "z[\($0)]" }
    }

    /// Observes state component `index` of an `n`-state model with noise standard deviation `sd`.
    public static func component(_ index: Int, of n: Int, standardDeviation sd: Double, name: String? = nil) throws -> LinearObservation {
        guard index >= 0, index < n else {
            throw SyncError(.invalidArgument, "observed component \(index) is outside 0..<\(n).", value: String(index))
        }
        var h = [Double](repeating: 0, count: n)
        h[index] = 1
        return try LinearObservation(matrix: h, outputCount: 1, noise: [sd * sd], outputNames: name.map { [$0] })
    }

    public func observe(_ state: UnsafeBufferPointer<Double>, time: Double, into z: UnsafeMutableBufferPointer<Double>) {
        let n = stateDimension
        for i in 0..<outputCount {
            var s = 0.0
            for j in 0..<n { s += matrix[i * n + j] * state[j] }
            z[i] = s
        }
    }

    public func jacobian(_ state: UnsafeBufferPointer<Double>, time: Double, into h: UnsafeMutableBufferPointer<Double>) -> Bool {
        for i in 0..<matrix.count { h[i] = matrix[i] }
        return true
    }

    public func noiseCovariance(time: Double, into r: UnsafeMutableBufferPointer<Double>) {
        for i in 0..<noise.count { r[i] = noise[i] }
    }
}

/// A nonlinear sensor given by a closure `h(x, t)` and a constant noise covariance `R`.
public struct FunctionObservation: ObservationModel {
    public let outputCount: Int
    public let outputNames: [String]
    public let noise: [Double]
    private let function: @Sendable (UnsafeBufferPointer<Double>, Double, UnsafeMutableBufferPointer<Double>) -> Void

    public init(outputCount: Int, noise: [Double], outputNames: [String]? = nil,
                function: @escaping @Sendable (_ state: UnsafeBufferPointer<Double>, _ time: Double, _ z: UnsafeMutableBufferPointer<Double>) -> Void) throws {
        try checkCount(noise.count, outputCount * outputCount, "noise covariance R")
        self.outputCount = outputCount
        self.noise = noise
        self.function = function
        self.outputNames = outputNames ?? (0..<outputCount).map { "z[\($0)]" }
    }

    public func observe(_ state: UnsafeBufferPointer<Double>, time: Double, into z: UnsafeMutableBufferPointer<Double>) {
        function(state, time, z)
    }

    public func noiseCovariance(time: Double, into r: UnsafeMutableBufferPointer<Double>) {
        for i in 0..<noise.count { r[i] = noise[i] }
    }
}

/// One sample from one sensor at its effective time.
///
/// `values` has one entry per output of the sensor's model; `present`, when given, marks which outputs were
/// actually measured (a missing output is simply not assimilated). A present value must be finite.
public struct Observation: Sendable, Hashable {
    /// Effective time (when it happened), in the filter's time unit.
    public var time: Double
    public var values: [Double]
    public var present: [Bool]?
    /// Which sensor (index into the assimilator's list of observation models).
    public var sensor: Int

    public init(time: Double, values: [Double], present: [Bool]? = nil, sensor: Int = 0) {
        self.time = time
        self.values = values
        self.present = present
        self.sensor = sensor
    }

    /// Indices of the outputs to assimilate, after validating sizes and finiteness.
    func selectedOutputs<Model: ObservationModel>(for model: Model) throws -> [Int] {
        try checkCount(values.count, model.outputCount, "observation at t = \(time)")
        if let present { try checkCount(present.count, model.outputCount, "presence mask at t = \(time)") }
        guard time.isFinite else { throw SyncError(.invalidTime, "observation time is not finite.", value: String(time)) }
        var idx: [Int] = []
        idx.reserveCapacity(values.count)
        let names = model.outputNames
        for i in values.indices where present?[i] ?? true {
            guard values[i].isFinite else {
                throw SyncError(.nonFinite, "observed value of '\(names[i])' at t = \(time) is not finite; mark it absent instead.", value: String(values[i]))
            }
            idx.append(i)
        }
        return idx
    }
}
