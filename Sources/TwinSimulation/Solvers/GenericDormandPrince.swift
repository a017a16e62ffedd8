import RealModule

/// A system `y' = f(t, y)` over any real floating-point type (`Float`, `Double`, `Float80`...).
public protocol RealODESystem {
    associatedtype Scalar: Real & BinaryFloatingPoint
    /// Number of state variables.
    var dimension: Int { get }
    /// Writes `f(t, y)` into `dy`.
    func derivatives(t: Scalar, y: UnsafeBufferPointer<Scalar>, dy: UnsafeMutableBufferPointer<Scalar>)
}

/// Dormand-Prince 5(4) generic over the scalar type: the same method, PI step control, Hairer initial
/// step and 4th-order dense output as `DormandPrinceStepper`, for systems in `Float` (fast, low accuracy)
/// or `Float80` (tolerances below what `Double` can meet). Fully inlinable, so it is specialised for the
/// caller's scalar and system types. No events; output at the requested times from the dense output.
///
/// The error of each accepted step is below 1 in the RMS norm of `err_i / (atol + rtol·max(|y_i|, |y_i⁺|))`.
public struct GenericDormandPrince<Scalar: Real & BinaryFloatingPoint> {
    public var relativeTolerance: Scalar
    public var absoluteTolerance: Scalar
    public var maxSteps: Int

    @inlinable
    public init(relativeTolerance: Scalar, absoluteTolerance: Scalar, maxSteps: Int = 500_000) {
        self.relativeTolerance = relativeTolerance
        self.absoluteTolerance = absoluteTolerance
        self.maxSteps = maxSteps
    }

    /// The solution at `outputTimes` (ascending, in `[t0, tEnd]`), row-major, and the work statistics.
    @inlinable
    public func solve<System: RealODESystem>(_ system: System, initialState: [Scalar], from t0: Scalar, to tEnd: Scalar,
                                             outputTimes: [Scalar]) throws(SimulationError) -> (states: [Scalar], statistics: SolverStatistics)
    where System.Scalar == Scalar {
        let n = system.dimension
        guard n > 0, initialState.count == n else {
            throw .invalid("initial state has \(initialState.count) entries but the system has \(n) states", value: "\(initialState.count)")
        }
        guard relativeTolerance > 0, absoluteTolerance > 0 else {
            throw .invalid("tolerances must be positive", value: "\(relativeTolerance), \(absoluteTolerance)")
        }
        guard tEnd > t0, t0.isFinite, tEnd.isFinite else { throw .invalid("end time must be after start time", value: "\(tEnd)") }
        for (i, t) in outputTimes.enumerated() {
            guard t >= t0, t <= tEnd, i == 0 || t >= outputTimes[i - 1] else {
                throw .invalid("output times must be ascending within [t0, tEnd]", value: "\(t)")
            }
        }
        let rtol = relativeTolerance, atol = absoluteTolerance
        // Coefficients in Scalar.
        let c2: Scalar = 1 / 5, c3: Scalar = 3 / 10, c4: Scalar = 4 / 5, c5: Scalar = 8 / 9
        let a21: Scalar = 1 / 5
        let a31: Scalar = 3 / 40, a32: Scalar = 9 / 40
        let a41: Scalar = 44 / 45, a42: Scalar = -56 / 15, a43: Scalar = 32 / 9
        let a51: Scalar = 19372 / 6561, a52: Scalar = -25360 / 2187, a53: Scalar = 64448 / 6561, a54: Scalar = -212 / 729
        let a61: Scalar = 9017 / 3168, a62: Scalar = -355 / 33, a63: Scalar = 46732 / 5247, a64: Scalar = 49 / 176
        let a65: Scalar = -5103 / 18656
        let a71: Scalar = 35 / 384, a73: Scalar = 500 / 1113, a74: Scalar = 125 / 192, a75: Scalar = -2187 / 6784
        let a76: Scalar = 11 / 84
        let e1: Scalar = 71 / 57600, e3: Scalar = -71 / 16695, e4: Scalar = 71 / 1920, e5: Scalar = -17253 / 339200
        let e6: Scalar = 22 / 525, e7: Scalar = -1 / 40
        let d1: Scalar = -12715105075 / 11282082432, d3: Scalar = 87487479700 / 32700410799
        let d4: Scalar = -10690763975 / 1880347072, d5: Scalar = 701980252875 / 199316789632
        let d6: Scalar = -1453857185 / 822651844, d7: Scalar = 69997945 / 29380423

        var work = [Scalar](repeating: 0, count: 16 * n)
        var output = [Scalar](repeating: 0, count: outputTimes.count * n)
        var statistics = SolverStatistics()
        try work.withUnsafeMutableBufferPointer { (buffer) throws(SimulationError) in
            let base = buffer.baseAddress!
            let y = base, y1 = base + n, k1 = base + 2 * n, k2 = base + 3 * n, k3 = base + 4 * n
            let k4 = base + 5 * n, k5 = base + 6 * n, k6 = base + 7 * n, k7 = base + 8 * n, ysti = base + 9 * n
            let rc = base + 10 * n   // 5 n
            for i in 0..<n { y[i] = initialState[i] }
            func f(_ t: Scalar, _ x: UnsafeMutablePointer<Scalar>, _ out: UnsafeMutablePointer<Scalar>) {
                system.derivatives(t: t, y: UnsafeBufferPointer(start: x, count: n), dy: UnsafeMutableBufferPointer(start: out, count: n))
                statistics.functionEvaluations += 1
            }
            func norm(_ e: (Int) -> Scalar) -> Scalar {
                var sum: Scalar = 0
                for i in 0..<n {
                    let sk = atol + rtol * Swift.max(Swift.abs(y[i]), Swift.abs(y1[i]))
                    let r = e(i) / sk
                    sum += r * r
                }
                return Scalar.sqrt(sum / Scalar(n))
            }
            var t = t0
            f(t, y, k1)
            // Hairer's initial step.
            var dnf: Scalar = 0, dny: Scalar = 0
            for i in 0..<n {
                let sk = atol + rtol * Swift.abs(y[i])
                dnf += (k1[i] / sk) * (k1[i] / sk)
                dny += (y[i] / sk) * (y[i] / sk)
            }
            var h: Scalar = (dnf <= 1e-10 || dny <= 1e-10) ? 1e-6 : Scalar.sqrt(dny / dnf) / 100
            h = Swift.min(h, tEnd - t0)
            for i in 0..<n { y1[i] = y[i] + h * k1[i] }
            f(t + h, y1, k2)
            var der2: Scalar = 0
            for i in 0..<n {
                let sk = atol + rtol * Swift.abs(y[i])
                der2 += ((k2[i] - k1[i]) / sk) * ((k2[i] - k1[i]) / sk)
            }
            der2 = Scalar.sqrt(der2) / h
            let der12 = Swift.max(der2, Scalar.sqrt(dnf))
            let h1: Scalar = der12 <= 1e-15 ? Swift.max(1e-6, h / 1000) : Scalar.pow(Scalar(1) / 100 / der12, Scalar(1) / 5)
            h = Swift.min(100 * h, h1, tEnd - t0)

            var outIndex = 0
            while outIndex < outputTimes.count && outputTimes[outIndex] <= t0 {
                for i in 0..<n { output[outIndex * n + i] = y[i] }
                outIndex += 1
            }
            var facOld: Scalar = 1e-4
            var lastRejected = false
            let beta: Scalar = 0.04, expo1: Scalar = Scalar(1) / 5 - beta * Scalar(3) / 4, safe: Scalar = 0.9
            while t < tEnd {
                if statistics.totalSteps >= maxSteps {
                    throw SimulationError(code: .tooManySteps, message: "more than \(maxSteps) steps needed before t = \(t)", value: "\(maxSteps)")
                }
                if t + h * Scalar(1.01) >= tEnd { h = tEnd - t }
                guard h > Scalar.ulpOfOne * Swift.max(1, Swift.abs(t)) * 16 else {
                    throw SimulationError(code: .stepSizeUnderflow, message: "step size \(h) at t = \(t) is too small", value: "\(h)")
                }
                for i in 0..<n { y1[i] = y[i] + h * a21 * k1[i] }
                f(t + c2 * h, y1, k2)
                for i in 0..<n { y1[i] = y[i] + h * (a31 * k1[i] + a32 * k2[i]) }
                f(t + c3 * h, y1, k3)
                for i in 0..<n { y1[i] = y[i] + h * (a41 * k1[i] + a42 * k2[i] + a43 * k3[i]) }
                f(t + c4 * h, y1, k4)
                for i in 0..<n { y1[i] = y[i] + h * (a51 * k1[i] + a52 * k2[i] + a53 * k3[i] + a54 * k4[i]) }
                f(t + c5 * h, y1, k5)
                for i in 0..<n { ysti[i] = y[i] + h * (a61 * k1[i] + a62 * k2[i] + a63 * k3[i] + a64 * k4[i] + a65 * k5[i]) }
                let tph = t + h
                f(tph, ysti, k6)
                for i in 0..<n { y1[i] = y[i] + h * (a71 * k1[i] + a73 * k3[i] + a74 * k4[i] + a75 * k5[i] + a76 * k6[i]) }
                f(tph, y1, k7)
                let err = norm { i in h * (e1 * k1[i] + e3 * k3[i] + e4 * k4[i] + e5 * k5[i] + e6 * k6[i] + e7 * k7[i]) }
                guard err.isFinite else {
                    statistics.rejectedSteps += 1
                    h /= 10
                    lastRejected = true
                    continue
                }
                let fac11 = Scalar.pow(Swift.max(err, Scalar.leastNormalMagnitude), expo1)
                if err <= 1 {
                    var fac = fac11 / Scalar.pow(facOld, beta)
                    fac = Swift.max(Scalar(1) / 10, Swift.min(5, fac / safe))
                    var hNew = h / fac
                    facOld = Swift.max(err, 1e-4)
                    statistics.acceptedSteps += 1
                    for i in 0..<n {
                        let ydiff = y1[i] - y[i]
                        let bspl = h * k1[i] - ydiff
                        rc[i] = y[i]; rc[n + i] = ydiff; rc[2 * n + i] = bspl
                        rc[3 * n + i] = ydiff - h * k7[i] - bspl
                        rc[4 * n + i] = h * (d1 * k1[i] + d3 * k3[i] + d4 * k4[i] + d5 * k5[i] + d6 * k6[i] + d7 * k7[i])
                    }
                    let tNew = tph >= tEnd ? tEnd : tph
                    while outIndex < outputTimes.count && outputTimes[outIndex] <= tNew {
                        let s = (outputTimes[outIndex] - t) / h, s1 = 1 - s
                        for i in 0..<n {
                            output[outIndex * n + i] = rc[i] + s * (rc[n + i] + s1 * (rc[2 * n + i] + s * (rc[3 * n + i] + s1 * rc[4 * n + i])))
                        }
                        outIndex += 1
                    }
                    for i in 0..<n { y[i] = y1[i]; k1[i] = k7[i] }
                    for i in 0..<n where !y[i].isFinite {
                        throw SimulationError(code: .nonFiniteValue, message: "the value of y[\(i)] is not finite at t = \(tNew)",
                                              variable: "y[\(i)]", time: Double(tNew), value: "\(y[i])")
                    }
                    t = tNew
                    if lastRejected { hNew = Swift.min(hNew, h) }
                    lastRejected = false
                    h = hNew
                } else {
                    statistics.rejectedSteps += 1
                    lastRejected = true
                    h /= Swift.min(5, fac11 / safe)
                }
            }
        }
        return (output, statistics)
    }
}
