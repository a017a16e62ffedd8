import RealModule

/// Rodas5: the L-stable, stiffly accurate Rosenbrock method of order 5(4) of Di Marzo (1993), in the
/// transformed formulation of Hairer & Wanner (*Solving ODEs II*, section IV.7), with the 4th-order dense
/// output whose coefficients were derived for OrdinaryDiffEq.jl (Rackauckas). Eight stages, one Jacobian
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
    public var method: SolverMethod { .rodas5 }
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
            guard matrix.factor(shift: 1.0 / (h * Rodas5Tableau.gamma)) else {
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
            let a = Rodas5Tableau.a, C = Rodas5Tableau.C, c = Rodas5Tableau.c, d = Rodas5Tableau.d
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
                    let out = dense + row * n, coefficients = Rodas5Tableau.H[row]
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

/// Rodas5 coefficients (Di Marzo 1993, transformed form; dense output from OrdinaryDiffEq.jl).
enum Rodas5Tableau {
    static let gamma = 0.19
    static let a: [[Double]] = [
        [],
        [2.0],
        [3.040894194418781, 1.041747909077569],
        [2.576417536461461, 1.622083060776640, -0.9089668560264532],
        [2.760842080225597, 1.446624659844071, -0.3036980084553738, 0.2877498600325443],
        [-14.09640773051259, 6.925207756232704, -41.47510893210728, 2.343771018586405, 24.13215229196062],
    ]
    static let C: [[Double]] = [
        [],
        [-10.31323885133993],
        [-21.04823117650003, -7.234992135176716],
        [32.22751541853323, -4.943732386540191, 19.44922031041879],
        [-20.69865579590063, -8.816374604402768, 1.260436877740897, -0.7495647613787146],
        [-46.22004352711257, -17.49534862857472, -289.6389582892057, 93.60855400400906, 318.3822534212147],
        [34.20013733472935, -14.15535402717690, 57.82335640988400, 25.83362985412365, 1.408950972071624, -6.551835421242162],
        [42.57076742291101, -13.80770672017997, 93.98938432427124, 18.77919633714503, -31.58359187223370,
         -6.685968952921985, -5.810979938412932],
    ]
    static let c: [Double] = [0, 0.38, 0.3878509998321533, 0.4839718937873840, 0.4570477008819580, 1, 1, 1]
    static let d: [Double] = [0.19, -0.1823079225333714636, -0.319231832186874912, 0.3449828624725343,
                                      -0.377417564392089818, 0, 0, 0]
    static let H: [[Double]] = [
        [27.354592673333357, -6.925207756232857, 26.40037733258859, 0.5635230501052979, -4.699151156849391,
         -1.6008677469422725, -1.5306074446748028, -1.3929872940716344],
        [44.19024239501722, 1.3677947663381929e-13, 202.93261852171622, -35.5669339789154, -181.91095152160645,
         3.4116351403665033, 2.5793540257308067, 2.2435122582734066],
        [-44.0988150021747, -5.755396159656812e-13, -181.26175034586677, 56.99302194811676, 183.21182741427398,
         -7.480257918273637, -5.792426076169686, -5.32503859794143],
    ]

}
