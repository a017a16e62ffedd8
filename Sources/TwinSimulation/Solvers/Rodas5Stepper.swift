import RealModule

/// Rodas5 / Rodas5P: L-stable, stiffly accurate Rosenbrock methods of order 5(4) — Rodas5 of Di Marzo
/// (1993) with the dense output derived for OrdinaryDiffEq.jl, and Rodas5P of Steinebach (2023) with a
/// dense output that stays accurate on very stiff problems — in the transformed formulation of Hairer &
/// Wanner (*Solving ODEs II*, section IV.7). `options.method == .rodas5` selects Rodas5; any other
/// method selects Rodas5P. Eight stages, one Jacobian
/// and one LU factorisation per step attempt (the Jacobian is reused after a rejection), the time
/// derivative `∂f/∂t` by a forward difference.
///
/// Step control: `h_new = h · clamp(0.9 · err^(−1/5), 0.2, 6)` with Gustafsson's predictive correction on
/// accepted steps. A singular iteration matrix halves the step (up to 6 times in a row, then
/// `.singularMatrix`); a non-finite trial stage rejects the step with a 4× smaller step.
public final class Rodas5Stepper: ODEStepper {
    /// The system (held as an existential so that the solver code is compiled once, not per system type).
    public let system: any ODESystem
    public let dimension: Int
    public private(set) var time: Double
    public private(set) var previousTime: Double
    public private(set) var nextStepSize: Double = 0
    private var counters = SolverStatistics()
    public var statistics: SolverStatistics {
        var s = counters
        s.functionEvaluations += evaluations
        return s
    }
    public let method: SolverMethod
    private let tableau: RosenbrockTableau
    /// Set by a caller that may switch back to an explicit method (`.auto`): the stepper then watches
    /// `h·‖J‖∞` after every accepted step.
    public var monitorsNonStiffness = false
    /// Set when `h·‖J‖∞ < 1` on 15 accepted steps in a row: an explicit method (stable for `h|λ| ≲ 3.3`)
    /// would take the same steps, so the problem is no longer stiff at this accuracy.
    public private(set) var nonStiffnessDetected = false
    private var jacobianNorm = 0.0
    private var nonStiffSteps = 0
    /// Whether the linear algebra runs on the sparse path.
    public var usesSparseLinearAlgebra: Bool { matrix.isSparse }

    private let base: StepperBase
    private let matrix: IterationMatrix
    private let maxSteps: Int
    private let y, u, du, f0, dT, yPrev, rhs: UnsafeMutablePointer<Double>
    private let k: UnsafeMutablePointer<Double>       // 8 stage vectors, n each
    private let dense: UnsafeMutablePointer<Double>   // 3 dense-output vectors
    private var hasStep = false
    private var needsInit = true
    private var jacobianCurrent = false
    private var lastRejected = false
    private var hAccepted = 0.0
    private var errAccepted = 0.0
    /// f-evaluations not yet added to `statistics` (kept apart to avoid exclusivity checks in the hot loop).
    private var evaluations = 0

    public init(system: any ODESystem, time t0: Double, state y0: [Double], options: SolverOptions) throws(SimulationError) {
        let n = system.dimension
        try options.validate(dimension: n)
        guard n > 0 else { throw .invalid("the system has no state variables", value: "\(n)") }
        guard y0.count == n else {
            throw .invalid("initial state has \(y0.count) entries but the system has \(n) states", value: "\(y0.count)")
        }
        guard t0.isFinite else { throw .invalid("start time must be finite", value: "\(t0)") }
        self.system = system
        self.dimension = n
        self.time = t0
        self.previousTime = t0
        self.maxSteps = options.maxSteps
        self.method = options.method == .rodas5 ? .rodas5 : .rodas5P
        self.tableau = options.method == .rodas5 ? .rodas5 : .rodas5P
        self.base = StepperBase(dimension: n, options: options, names: system.variableNames)
        self.matrix = try IterationMatrix(system: system, choice: options.linearSolver)
        func buf(_ count: Int) -> UnsafeMutablePointer<Double> {
            let p = UnsafeMutablePointer<Double>.allocate(capacity: count)
            p.initialize(repeating: 0, count: count)
            return p
        }
        y = buf(n); u = buf(n); du = buf(n); f0 = buf(n); dT = buf(n); yPrev = buf(n); rhs = buf(n)
        k = buf(8 * n)
        dense = buf(3 * n)
        for i in 0..<n { y[i] = y0[i] }
        if let i = base.firstNonFinite(y) { throw base.nonFiniteError("initial value", index: i, value: y[i], time: t0) }
    }

    deinit {
        for p in [y, u, du, f0, dT, yPrev, rhs, k, dense] { p.deallocate() }
    }

    public var state: [Double] { Array(UnsafeBufferPointer(start: y, count: dimension)) }

    public func withState<R>(_ body: (UnsafeBufferPointer<Double>) throws -> R) rethrows -> R {
        try body(UnsafeBufferPointer(start: y, count: dimension))
    }

    @inline(__always)
    private func f(_ t: Double, _ yy: UnsafeMutablePointer<Double>, _ out: UnsafeMutablePointer<Double>) {
        system.derivatives(t: t, y: UnsafeBufferPointer(start: yy, count: dimension),
                           dy: UnsafeMutableBufferPointer(start: out, count: dimension))
        evaluations &+= 1
    }

    public func reset(time t: Double, state newState: [Double]) throws(SimulationError) {
        guard newState.count == dimension else {
            throw .invalid("reset state has \(newState.count) entries but the system has \(dimension) states", value: "\(newState.count)")
        }
        guard t.isFinite else { throw .invalid("reset time must be finite", value: "\(t)") }
        for i in 0..<dimension { y[i] = newState[i] }
        if let i = base.firstNonFinite(y) { throw base.nonFiniteError("value", index: i, value: y[i], time: t) }
        time = t
        previousTime = t
        hasStep = false
        needsInit = true
        jacobianCurrent = false
        lastRejected = false
        hAccepted = 0
        counters.restarts += 1
    }

    public func step(limit: Double) throws(SimulationError) {
        let n = dimension
        guard limit > time else {
            throw .invalid("step limit \(limit) is not after the current time \(time)", value: "\(limit)")
        }
        if limit - time <= base.minimumStep(at: time) {
            // A stop closer than floating point can step: advance the clock (state change O(ulp·f)).
            previousTime = time
            time = limit
            hasStep = false
            return
        }
        if needsInit {
            f(time, y, f0)
            try base.checkFinite(state: y, derivative: f0, time: time)
            nextStepSize = base.initialStep(order: 5, t0: time, limit: limit, y0: y, f0: f0, y1: u, f1: du,
                                            evaluate: { t, a, b in self.f(t, a, b) })
            needsInit = false
            jacobianCurrent = false
        }
        var h = Swift.min(nextStepSize, base.maxStep)
        var singularCount = 0
        var nonFiniteIndex: Int? = nil
        let t = time
        while true {
            if counters.totalSteps >= maxSteps { throw base.tooManyStepsError(time: t, maxSteps: maxSteps) }
            if !jacobianCurrent {
                let evaluations = matrix.evaluateJacobian(t: t, y: y, f0: f0, h: h, weights: .init(rtol: base.rtol, atol: base.atol))
                counters.functionEvaluations += evaluations
                counters.jacobianEvaluations += 1
                if monitorsNonStiffness { jacobianNorm = matrix.normInf() }
                if let row = matrix.firstNonFiniteRow() {
                    throw SimulationError(code: .nonFiniteValue,
                                          message: "the Jacobian row of '\(base.name(row))' is not finite at t = \(t); the model is not differentiable there",
                                          variable: base.name(row), time: t, value: "nan")
                }
                // ∂f/∂t by a forward difference.
                let delta = (Double.ulpOfOne * Swift.max(1e-5, Swift.abs(t))).squareRoot()
                f(t + delta, y, du)
                for i in 0..<n { dT[i] = (du[i] - f0[i]) / delta }
                jacobianCurrent = true
            }
            var last = false
            if t + 1.01 * h >= limit { h = limit - t; last = true }
            if h < base.minimumStep(at: t) {
                if let i = nonFiniteIndex { throw base.nonFiniteError("trial value", index: i, value: u[i], time: t) }
                throw base.underflowError(time: t, step: h, worst: nil)
            }
            counters.luFactorizations += 1
            guard matrix.factor(shift: 1.0 / (h * tableau.gamma)) else {
                singularCount += 1
                counters.rejectedSteps += 1
                if singularCount > 6 {
                    throw SimulationError(code: .singularMatrix,
                                          message: "the iteration matrix I/(hγ) − J is singular at t = \(t) even after halving the step \(singularCount) times",
                                          time: t, value: "\(h)")
                }
                h *= 0.5
                continue
            }
            // Stages.
            let a = tableau.a, C = tableau.C, c = tableau.c, d = tableau.d
            let invH = 1.0 / h
            for s in 0..<8 {
                let ks = k + s * n
                if s == 0 {
                    for i in 0..<n { rhs[i] = f0[i] + h * d[0] * dT[i] }
                } else {
                    // Stage argument.
                    if s <= 5 {
                        for i in 0..<n { u[i] = y[i] }
                        for j in 0..<s {
                            let aj = a[s][j], kj = k + j * n
                            for i in 0..<n { u[i] += aj * kj[i] }
                        }
                    } else {
                        let kp = k + (s - 1) * n
                        for i in 0..<n { u[i] += kp[i] }
                    }
                    let ts = (last && c[s] == 1) ? limit : t + c[s] * h
                    f(ts, u, du)
                    let ds = h * d[s]
                    for i in 0..<n { rhs[i] = du[i] + ds * dT[i] }
                    for j in 0..<s {
                        let cj = C[s][j] * invH, kj = k + j * n
                        for i in 0..<n { rhs[i] += cj * kj[i] }
                    }
                }
                matrix.solve(rhs)
                counters.linearSolves += 1
                for i in 0..<n { ks[i] = rhs[i] }
            }
            // y_new = u + k8; error estimate = k8.
            let k8 = k + 7 * n
            for i in 0..<n { u[i] += k8[i] }
            var err = base.errorNorm(k8, y, u)
            if !err.isFinite || base.firstNonFinite(u) != nil {
                nonFiniteIndex = base.firstNonFinite(u) ?? base.firstNonFinite(k8)
                counters.rejectedSteps += 1
                lastRejected = true
                h *= 0.25
                continue
            }
            let safe = 0.9
            var fac = Swift.max(1.0 / 6.0, Swift.min(5.0, Double.pow(Swift.max(err, 1e-300), 0.2) / safe))
            if err <= 1.0 {
                let tNew = last ? limit : t + h
                f(tNew, u, du)
                if let i = base.firstNonFinite(du) {
                    // The new point has a non-finite derivative: try a smaller step once, else report it.
                    if h > 1e3 * base.minimumStep(at: t) {
                        nonFiniteIndex = i
                        counters.rejectedSteps += 1
                        h *= 0.25
                        continue
                    }
                    throw base.nonFiniteError("derivative", index: i, value: du[i], time: tNew)
                }
                counters.acceptedSteps += 1
                if hAccepted > 0 {
                    let gus = (hAccepted / h) * Double.pow(err * err / Swift.max(errAccepted, 1e-300), 0.2) / safe
                    fac = Swift.max(fac, Swift.max(1.0 / 6.0, Swift.min(5.0, gus)))
                }
                hAccepted = h
                errAccepted = Swift.max(1e-2, err)
                // Dense output.
                for row in 0..<3 {
                    let out = dense + row * n, coefficients = tableau.H[row]
                    for i in 0..<n { out[i] = 0 }
                    for j in 0..<8 {
                        let hj = coefficients[j], kj = k + j * n
                        for i in 0..<n { out[i] += hj * kj[i] }
                    }
                }
                for i in 0..<n {
                    yPrev[i] = y[i]
                    y[i] = u[i]
                    f0[i] = du[i]
                }
                previousTime = t
                time = tNew
                hasStep = true
                jacobianCurrent = false
                var hNew = h / fac
                if lastRejected { hNew = Swift.min(hNew, h) }
                lastRejected = false
                nextStepSize = Swift.min(hNew, base.maxStep)
                if monitorsNonStiffness {
                    if nextStepSize * jacobianNorm < 1 {
                        nonStiffSteps += 1
                        if nonStiffSteps >= 15 { nonStiffnessDetected = true }
                    } else {
                        nonStiffSteps = 0
                    }
                }
                return
            } else {
                counters.rejectedSteps += 1
                lastRejected = true
                err = Swift.min(err, 1e10)
                h = h / fac
            }
        }
    }

    public func interpolate(at times: UnsafeBufferPointer<Double>, into out: UnsafeMutablePointer<Double>) {
        let n = dimension
        guard hasStep, time > previousTime else {
            for r in 0..<times.count { for i in 0..<n { out[r * n + i] = y[i] } }
            return
        }
        let h = time - previousTime
        let d1 = dense, d2 = dense + n, d3 = dense + 2 * n
        for r in 0..<times.count {
            let s = (times[r] - previousTime) / h
            let s1 = 1 - s
            let row = out + r * n
            for i in 0..<n {
                row[i] = s1 * yPrev[i] + s * (y[i] + s1 * (d1[i] + s * (d2[i] + s * d3[i])))
            }
        }
    }

    public func interpolate(at t: Double, into out: UnsafeMutableBufferPointer<Double>) {
        let n = dimension
        guard hasStep, time > previousTime else {
            for i in 0..<n { out[i] = y[i] }
            return
        }
        let s = (t - previousTime) / (time - previousTime)
        let s1 = 1 - s
        let d1 = dense, d2 = dense + n, d3 = dense + 2 * n
        for i in 0..<n {
            out[i] = s1 * yPrev[i] + s * (y[i] + s1 * (d1[i] + s * (d2[i] + s * d3[i])))
        }
    }
}

