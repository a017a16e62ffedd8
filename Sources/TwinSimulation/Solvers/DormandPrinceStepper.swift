import RealModule

/// Explicit Dormand-Prince 5(4) (Dormand & Prince 1980; Hairer, Nørsett & Wanner, *Solving ODEs I*,
/// section II.5 and the DOPRI5 code) with:
/// - PI step-size control (β = 0.04, safety 0.9, step ratio in [0.2, 10]);
/// - the 4th-order continuous extension of Hairer's DOPRI5 (`CONTD5`) as dense output;
/// - Hairer's initial step size;
/// - Hairer's stiffness test: `h·‖f(y₁) − f(ŷ₆)‖/‖y₁ − ŷ₆‖ > 2` on 15 accepted steps (without 6
///   non-stiff steps in between) sets `stiffnessDetected` (the `.auto` solver then switches to Rodas5).
///
/// Inner loops run over preallocated raw buffers and do not allocate.
public final class DormandPrinceStepper: ODEStepper {
    /// The system (held as an existential so that the solver code is compiled once, not per system type).
    public let system: any ODESystem
    public let dimension: Int
    public private(set) var time: Double
    public private(set) var previousTime: Double
    public private(set) var nextStepSize: Double
    private var counters = SolverStatistics()
    public var statistics: SolverStatistics {
        var s = counters
        s.functionEvaluations += evaluations
        return s
    }
    public var method: SolverMethod { .dormandPrince }
    /// Set when Hairer's stiffness test has fired.
    public private(set) var stiffnessDetected = false
    /// The longest step allowed (`SolverOptions.maxStep`, `.infinity` when unbounded). A caller driving the
    /// stepper may change it between steps (the SBML simulator bounds steps by the output spacing where
    /// events must be watched); a value that is not positive means no bound.
    public var maxStep: Double {
        get { base.maxStep }
        set {
            base.maxStep = newValue > 0 ? newValue : .infinity
            nextStepSize = Swift.min(nextStepSize, base.maxStep)
        }
    }

    private let base: StepperBase
    private let maxSteps: Int
    // Buffers: y, y1 (trial), k1..k7, ysti (stage-6 argument), err, dense (5 × n).
    private let y: UnsafeMutablePointer<Double>
    private let y1: UnsafeMutablePointer<Double>
    private let k1, k2, k3, k4, k5, k6, k7: UnsafeMutablePointer<Double>
    private let ysti: UnsafeMutablePointer<Double>
    private let errv: UnsafeMutablePointer<Double>
    private let rc: UnsafeMutablePointer<Double>   // rcont1..rcont5, each n
    /// `h·|λ|` above which a step counts as stability-limited. Hairer's DOPRI5 uses 3.25 (the edge of
    /// the stability region); with PI control the step of a stiff problem settles near `h·|λ| ≈ 2.4`
    /// (measured on Robertson), so 3.25 is reached late or never. 2.0 is well above what
    /// accuracy-limited steps show at usual tolerances (≤ 0.5 at rtol 1e-6 on the test problems).
    static var stiffnessThreshold: Double { 2.0 }
    private var hasStep = false
    private var needsInit = true
    private var facOld = 1e-4
    private var lastRejected = false
    private var stiffCount = 0
    private var nonStiffCount = 0
    /// f-evaluations not yet added to `statistics` (kept apart to avoid exclusivity checks in the hot loop).
    private var evaluations = 0

    // Coefficients (Hairer's DOPRI5).
    private static var c2: Double { 0.2 }
    private static var c3: Double { 0.3 }
    private static var c4: Double { 0.8 }
    private static var c5: Double { 8.0 / 9.0 }

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
        self.nextStepSize = 0
        self.maxSteps = options.maxSteps
        self.base = StepperBase(dimension: n, options: options, names: system.variableNames)
        func buf() -> UnsafeMutablePointer<Double> {
            let p = UnsafeMutablePointer<Double>.allocate(capacity: n)
            p.initialize(repeating: 0, count: n)
            return p
        }
        y = buf(); y1 = buf(); k1 = buf(); k2 = buf(); k3 = buf(); k4 = buf(); k5 = buf(); k6 = buf(); k7 = buf()
        ysti = buf(); errv = buf()
        rc = .allocate(capacity: 5 * n)
        rc.initialize(repeating: 0, count: 5 * n)
        for i in 0..<n { y[i] = y0[i] }
        if let i = base.firstNonFinite(y) { throw base.nonFiniteError("initial value", index: i, value: y[i], time: t0) }
    }

    deinit {
        for p in [y, y1, k1, k2, k3, k4, k5, k6, k7, ysti, errv, rc] { p.deallocate() }
    }

    @inline(__always)
    private func f(_ t: Double, _ yy: UnsafeMutablePointer<Double>, _ out: UnsafeMutablePointer<Double>) {
        system.derivatives(t: t, y: UnsafeBufferPointer(start: yy, count: dimension),
                           dy: UnsafeMutableBufferPointer(start: out, count: dimension))
        evaluations &+= 1
    }

    public var state: [Double] { Array(UnsafeBufferPointer(start: y, count: dimension)) }

    public func withState<R>(_ body: (UnsafeBufferPointer<Double>) throws -> R) rethrows -> R {
        try body(UnsafeBufferPointer(start: y, count: dimension))
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
        facOld = 1e-4
        lastRejected = false
        counters.restarts += 1
    }

    /// Chooses the first step after the start or a reset now (Hairer's initial step size towards `limit`,
    /// two evaluations of the right-hand side) instead of in the coming `step`, so that `nextStepSize`
    /// tells a caller how far that step may go (the SBML simulator looks for switches of time-only
    /// conditions within it). Does nothing when a step size is already known.
    /// - Throws: `SimulationError` `.nonFiniteValue` naming the variable whose value or derivative is not finite.
    public func chooseInitialStep(limit: Double = .infinity) throws(SimulationError) {
        guard needsInit else { return }
        f(time, y, k1)
        try base.checkFinite(state: y, derivative: k1, time: time)
        nextStepSize = base.initialStep(order: 5, t0: time, limit: limit, y0: y, f0: k1, y1: y1, f1: k2,
                                        evaluate: { t, a, b in self.f(t, a, b) })
        needsInit = false
    }

    public func step(limit: Double) throws(SimulationError) {
        let n = dimension
        guard limit > time else {
            throw .invalid("step limit \(limit) is not after the current time \(time)", value: "\(limit)")
        }
        if limit - time <= base.minimumStep(at: time) {
            // A stop closer than floating point can step (e.g. two event times a few ulps apart):
            // advance the clock; the state changes by O(ulp·f), below any tolerance.
            previousTime = time
            time = limit
            hasStep = false
            return
        }
        try chooseInitialStep(limit: limit)
        let beta = 0.04, expo1 = 0.2 - beta * 0.75, safe = 0.9
        let facc1 = 1.0 / 0.2, facc2 = 1.0 / 10.0
        var h = Swift.min(nextStepSize, base.maxStep)
        var nonFiniteIndex: Int? = nil
        while true {
            if counters.totalSteps >= maxSteps { throw base.tooManyStepsError(time: time, maxSteps: maxSteps) }
            var last = false
            if time + h >= limit || time + 1.01 * h >= limit { h = limit - time; last = true }
            if h < base.minimumStep(at: time) {
                if let i = nonFiniteIndex { throw base.nonFiniteError("trial value", index: i, value: y1[i], time: time) }
                throw base.underflowError(time: time, step: h, worst: nil)
            }
            let t = time
            // Stages.
            for i in 0..<n { y1[i] = y[i] + h * 0.2 * k1[i] }
            f(t + Self.c2 * h, y1, k2)
            for i in 0..<n { y1[i] = y[i] + h * (3.0 / 40.0 * k1[i] + 9.0 / 40.0 * k2[i]) }
            f(t + Self.c3 * h, y1, k3)
            for i in 0..<n { y1[i] = y[i] + h * (44.0 / 45.0 * k1[i] - 56.0 / 15.0 * k2[i] + 32.0 / 9.0 * k3[i]) }
            f(t + Self.c4 * h, y1, k4)
            for i in 0..<n {
                y1[i] = y[i] + h * (19372.0 / 6561.0 * k1[i] - 25360.0 / 2187.0 * k2[i] + 64448.0 / 6561.0 * k3[i]
                                     - 212.0 / 729.0 * k4[i])
            }
            f(t + Self.c5 * h, y1, k5)
            for i in 0..<n {
                ysti[i] = y[i] + h * (9017.0 / 3168.0 * k1[i] - 355.0 / 33.0 * k2[i] + 46732.0 / 5247.0 * k3[i]
                                       + 49.0 / 176.0 * k4[i] - 5103.0 / 18656.0 * k5[i])
            }
            let tph = last ? limit : t + h
            f(tph, ysti, k6)
            for i in 0..<n {
                y1[i] = y[i] + h * (35.0 / 384.0 * k1[i] + 500.0 / 1113.0 * k3[i] + 125.0 / 192.0 * k4[i]
                                     - 2187.0 / 6784.0 * k5[i] + 11.0 / 84.0 * k6[i])
            }
            f(tph, y1, k7)
            for i in 0..<n {
                errv[i] = h * (71.0 / 57600.0 * k1[i] - 71.0 / 16695.0 * k3[i] + 71.0 / 1920.0 * k4[i]
                               - 17253.0 / 339200.0 * k5[i] + 22.0 / 525.0 * k6[i] - 1.0 / 40.0 * k7[i])
            }
            var err = base.errorNorm(errv, y, y1)
            if !err.isFinite || base.firstNonFinite(y1) != nil || base.firstNonFinite(k7) != nil {
                // A non-finite trial: shrink strongly and retry; remember which variable for the error message.
                nonFiniteIndex = base.firstNonFinite(y1) ?? base.firstNonFinite(k7)
                counters.rejectedSteps += 1
                lastRejected = true
                h *= 0.1
                continue
            }
            let fac11 = Double.pow(Swift.max(err, 1e-300), expo1)
            if err <= 1.0 {
                // Accepted.
                var fac = fac11 / Double.pow(facOld, beta)
                fac = Swift.max(facc2, Swift.min(facc1, fac / safe))
                var hnew = h / fac
                facOld = Swift.max(err, 1e-4)
                counters.acceptedSteps += 1
                // Hairer's stiffness test, on every accepted step: h·|λ| estimated from stages 6 and 7.
                var stnum = 0.0, stden = 0.0
                for i in 0..<n {
                    stnum += (k7[i] - k6[i]) * (k7[i] - k6[i])
                    stden += (y1[i] - ysti[i]) * (y1[i] - ysti[i])
                }
                if stden > 0, h * (stnum / stden).squareRoot() > Self.stiffnessThreshold {
                    nonStiffCount = 0
                    stiffCount += 1
                    if stiffCount >= 15 { stiffnessDetected = true }
                } else if stiffCount > 0 {
                    nonStiffCount += 1
                    if nonStiffCount == 6 { stiffCount = 0 }
                }
                // Dense output (CONTD5).
                for i in 0..<n {
                    let ydiff = y1[i] - y[i]
                    let bspl = h * k1[i] - ydiff
                    rc[i] = y[i]
                    rc[n + i] = ydiff
                    rc[2 * n + i] = bspl
                    rc[3 * n + i] = ydiff - h * k7[i] - bspl
                    rc[4 * n + i] = h * (-12715105075.0 / 11282082432.0 * k1[i] + 87487479700.0 / 32700410799.0 * k3[i]
                                         - 10690763975.0 / 1880347072.0 * k4[i] + 701980252875.0 / 199316789632.0 * k5[i]
                                         - 1453857185.0 / 822651844.0 * k6[i] + 69997945.0 / 29380423.0 * k7[i])
                }
                for i in 0..<n { k1[i] = k7[i]; y[i] = y1[i] }
                previousTime = t
                time = tph
                hasStep = true
                if lastRejected { hnew = Swift.min(hnew, h) }
                lastRejected = false
                nextStepSize = Swift.min(hnew, base.maxStep)
                return
            } else {
                counters.rejectedSteps += 1
                lastRejected = true
                err = Swift.min(err, 1e10)
                h = h / Swift.min(facc1, fac11 / safe)
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
        for r in 0..<times.count {
            let s = (times[r] - previousTime) / h
            let s1 = 1.0 - s
            let row = out + r * n
            for i in 0..<n {
                row[i] = rc[i] + s * (rc[n + i] + s1 * (rc[2 * n + i] + s * (rc[3 * n + i] + s1 * rc[4 * n + i])))
            }
        }
    }

    public func interpolate(at t: Double, into out: UnsafeMutableBufferPointer<Double>) {
        let n = dimension
        guard hasStep, time > previousTime else {
            for i in 0..<n { out[i] = y[i] }
            return
        }
        let h = time - previousTime
        let s = (t - previousTime) / h
        let s1 = 1.0 - s
        for i in 0..<n {
            out[i] = rc[i] + s * (rc[n + i] + s1 * (rc[2 * n + i] + s * (rc[3 * n + i] + s1 * rc[4 * n + i])))
        }
    }
}
