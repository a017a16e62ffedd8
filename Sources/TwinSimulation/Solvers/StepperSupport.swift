import RealModule

/// Buffers and checks shared by the steppers: tolerances, error norms, non-finite detection with variable
/// names, Hairer's initial step size. Raw pointers owned by the class; freed in `deinit`.
final class StepperBase {
    let n: Int
    let rtol: Double
    /// Absolute tolerance per component.
    let atol: UnsafeMutablePointer<Double>
    let names: [String]
    /// The longest step allowed (`.infinity` for none); the explicit stepper lets a caller change it between steps.
    var maxStep: Double
    let userInitialStep: Double?

    init(dimension n: Int, options: SolverOptions, names: [String]) {
        self.n = n
        self.rtol = options.relativeTolerance
        self.atol = .allocate(capacity: max(n, 1))
        for i in 0..<n { atol[i] = options.absoluteTolerance.value(at: i) }
        self.names = names
        self.maxStep = options.maxStep ?? .infinity
        self.userInitialStep = options.initialStep
    }

    deinit { atol.deallocate() }

    func name(_ i: Int) -> String { i < names.count ? names[i] : "y[\(i)]" }

    /// Index of the first non-finite entry, or nil.
    @inline(__always)
    func firstNonFinite(_ v: UnsafePointer<Double>) -> Int? {
        for i in 0..<n where !v[i].isFinite { return i }
        return nil
    }

    func nonFiniteError(_ what: String, index i: Int, value: Double, time t: Double) -> SimulationError {
        SimulationError(code: .nonFiniteValue,
                        message: "the \(what) of '\(name(i))' is \(value) at t = \(t); check the model's parameters and initial state",
                        variable: name(i), time: t, value: "\(value)")
    }

    /// Checks a state and its derivative, throwing a named error for the first non-finite entry.
    func checkFinite(state y: UnsafePointer<Double>, derivative f: UnsafePointer<Double>, time t: Double) throws(SimulationError) {
        if let i = firstNonFinite(y) { throw nonFiniteError("value", index: i, value: y[i], time: t) }
        if let i = firstNonFinite(f) { throw nonFiniteError("derivative", index: i, value: f[i], time: t) }
    }

    /// RMS norm of `e / (atol + rtol max(|y0|, |y1|))`.
    @inline(__always)
    func errorNorm(_ e: UnsafePointer<Double>, _ y0: UnsafePointer<Double>, _ y1: UnsafePointer<Double>) -> Double {
        var sum = 0.0
        for i in 0..<n {
            let sk = atol[i] + rtol * Swift.max(Swift.abs(y0[i]), Swift.abs(y1[i]))
            let r = e[i] / sk
            sum += r * r
        }
        return (sum / Double(Swift.max(n, 1))).squareRoot()
    }

    /// Hairer's initial step size (HINIT in DOPRI5/RADAU) for a method of order `order`.
    /// `f0` = f(t0, y0); uses `y1`, `f1` as scratch; `evaluate` computes f.
    func initialStep(order: Int, t0: Double, limit: Double, y0: UnsafePointer<Double>, f0: UnsafePointer<Double>,
                     y1: UnsafeMutablePointer<Double>, f1: UnsafeMutablePointer<Double>,
                     evaluate: (Double, UnsafeMutablePointer<Double>, UnsafeMutablePointer<Double>) -> Void) -> Double {
        let span = limit - t0
        let hmax = Swift.min(maxStep, span)
        if let h = userInitialStep { return Swift.min(h, hmax) }
        var dnf = 0.0, dny = 0.0
        for i in 0..<n {
            let sk = atol[i] + rtol * Swift.abs(y0[i])
            dnf += (f0[i] / sk) * (f0[i] / sk)
            dny += (y0[i] / sk) * (y0[i] / sk)
        }
        var h = (dnf <= 1e-10 || dny <= 1e-10) ? 1e-6 : (dny / dnf).squareRoot() * 0.01
        h = Swift.min(h, hmax)
        for i in 0..<n { y1[i] = y0[i] + h * f0[i] }
        evaluate(t0 + h, y1, f1)
        var der2 = 0.0
        for i in 0..<n {
            let sk = atol[i] + rtol * Swift.abs(y0[i])
            let d = (f1[i] - f0[i]) / sk
            der2 += d * d
        }
        der2 = der2.squareRoot() / h
        let der12 = Swift.max(Swift.abs(der2), dnf.squareRoot())
        let h1 = der12 <= 1e-15 ? Swift.max(1e-6, h * 1e-3) : Double.pow(0.01 / der12, 1.0 / Double(order))
        h = Swift.min(100 * h, h1, hmax)
        if !h.isFinite || h <= 0 { h = Swift.min(1e-6, hmax) }
        return Swift.max(h, minimumStep(at: t0))
    }

    /// The smallest step that still changes `t` (16 ulps).
    @inline(__always)
    func minimumStep(at t: Double) -> Double { 16 * Swift.max(Swift.abs(t), 1e-300).ulp + 1e-300 }

    func underflowError(time t: Double, step h: Double, worst: Int?) -> SimulationError {
        var err = SimulationError(code: .stepSizeUnderflow,
                                  message: "step size \(h) at t = \(t) is too small to meet the tolerances; the problem may be singular or need a stiff method",
                                  time: t, value: "\(h)")
        if let worst { err.variable = name(worst) }
        return err
    }

    func tooManyStepsError(time t: Double, maxSteps: Int) -> SimulationError {
        SimulationError(code: .tooManySteps,
                        message: "more than \(maxSteps) steps needed before t = \(t); raise maxSteps or loosen the tolerances (or use a stiff method)",
                        time: t, value: "\(maxSteps)")
    }
}
