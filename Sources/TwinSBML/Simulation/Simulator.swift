import TwinSimulation

/// A variable to record: a model id, and for species whether to report the concentration (`true`), the
/// amount (`false`) or the value as it appears in math (`nil`).
public struct OutputVariable: Sendable, Hashable {
    public var id: String
    public var concentration: Bool?
    public init(id: String, concentration: Bool? = nil) {
        self.id = id
        self.concentration = concentration
    }
}

/// Tolerances and limits of a simulation run.
public struct SimulationOptions: Sendable {
    /// Relative tolerance of the integrator's local error.
    public var relativeTolerance: Double = 1e-9
    /// Absolute tolerance of the integrator's local error (in the units of the state: species amounts).
    public var absoluteTolerance: Double = 1e-12
    /// The most integrator steps a run may take before it stops with an error.
    public var maxSteps: Int = 2_000_000
    /// Parameter (or compartment, species) values that replace the model's initial values for this run.
    public var overrides: [String: Double] = [:]
    /// Seed of the generator that orders simultaneous events of equal priority (SBML: random order).
    public var seed: UInt64 = 0x5EED
    /// The most wall-clock seconds a run may take before it stops with an error (nil: no limit).
    public var timeLimit: Double?
    /// The integrator (`TwinSimulation`'s steppers). `.auto` (the default) starts with explicit
    /// Dormand-Prince 5(4) and moves one way to Rodas5P when Hairer's stiffness test fires (15 steps
    /// limited by stability rather than accuracy), so a stiff model pays for a few explicit steps before
    /// the switch; `.rodas5P` or `.rodas5` run the stiff Rosenbrock method from the start (what
    /// libRoadRunner does with CVODE's BDF by default), `.dormandPrince` never switches.
    public var method: SolverMethod = .auto
    public init() {}
}

/// Runs a compiled model from time 0 and records outputs. Events (with delays, priorities, persistence,
/// `initialValue`, values from trigger or assignment time) are located by bisection on the dense
/// output to about 1e-13 relative; the integrator restarts after each event. Triggers are checked at
/// the end of each step; a trigger that combines conditions (`and`, `xor`, `not`, `eq`, `neq`,
/// piecewise) is also checked at 7 interior points, so a window at least 1/8 of a step long is found
/// (a shorter one can be missed). The assignments of one event all act on the state before it. Switches of piecewise
/// conditions that depend on time alone are located before each step (to about 1e-14 relative): the
/// integrator stops just before and restarts just after them instead of stepping across.
///
/// The integrators are `TwinSimulation`'s: with `SimulationOptions.method` `.auto`, integration starts
/// with Dormand–Prince 5(4) and moves one way to Rodas5P when Hairer's stiffness test fires, with the
/// model's analytic sparse Jacobian where it has one (else finite differences).
/// Steps are bounded by the output spacing only for models with events or `delay()`. Re-running one
/// compiled model (with other `overrides`) recompiles nothing; a run allocates only its output rows and
/// a few state-sized buffers.
public struct Simulator {
    public let model: CompiledModel
    public var options: SimulationOptions

    public init(model: CompiledModel, options: SimulationOptions = SimulationOptions()) {
        self.model = model
        self.options = options
    }

    private struct Pending {
        var event: Int
        var time: Double
        var values: [Double]?
        var sequence: Int
    }

    /// Simulates from t = 0 and returns one row per output time (ascending, all >= 0), each with the
    /// requested variables in order.
    /// - Throws: `SBMLError` `.evaluation` if initial values are not finite where they must be,
    ///   `.integration` if the integrator fails.
    public func simulate(outputTimes: [Double], outputs: [OutputVariable]) throws(SBMLError) -> [[Double]] {
        let m = model
        let n = m.dimension
        let v = m.values
        let startTime = TestSuiteRunner.monotonicSeconds()
        // Initial values.
        for i in 0..<m.slotCount { v[i] = 0 }
        // Overrides replace a symbol's initial value before the initial values that depend on it are
        // computed (an initial assignment `S = k * 2` follows an override of `k`).
        var overrideOfSlot: [Int: Double] = [:]
        for (id, value) in options.overrides {
            guard let slot = m.slotOfSymbol[id] else {
                throw SBMLError(.undefinedSymbol, "override for '\(id)', which the model does not define", value: id)
            }
            overrideOfSlot[slot] = value
        }
        for (slot, e) in m.initialization { v[slot] = overrideOfSlot[slot] ?? e(v) }
        for (id, value) in options.overrides {
            let slot = m.slotOfSymbol[id]!
            v[slot] = value
            if let s = m.speciesInfo[id], let k = s.state {
                v[m.stateSlots[k]] = s.onlySubstance ? value : value * v[s.compartmentSlot]
            }
        }
        // delay() before the start reads the initial values (with rules evaluated at the earlier time).
        if let h = m.history {
            h.reset()
            h.initial = Array(UnsafeBufferPointer(start: v, count: m.slotCount))
            h.stateSlots = m.stateSlots
            h.recompute = { [unowned m] b in m.computeDerived(b) }
        }
        m.computeDerived(v)
        if let a = m.algebraic, a.failed {
            throw SBMLError(.evaluation, "the algebraic rules have no solution at t = 0 (for \(a.names.joined(separator: ", ")))", value: a.names.first)
        }
        for (s, k) in m.reactionSlots where v[s].isNaN || v[s].isInfinite {
            let allFiniteInputs = m.stateSlots.allSatisfy { v[$0].isFinite }
            if allFiniteInputs {
                let r = m.model.reactions[k]
                throw SBMLError(.evaluation, "the rate of reaction '\(r.id)' is \(v[s]) at t = 0 (a division by zero or an undefined value)", value: r.id, line: r.line)
            }
        }

        var rows: [[Double]] = []
        rows.reserveCapacity(outputTimes.count)
        var outIndex = 0
        let accessors = outputs.map { m.outputAccessor($0.id, concentration: $0.concentration) }
        func record(_ t: Double) {
            var row = [Double](repeating: 0, count: accessors.count)
            for (k, a) in accessors.enumerated() { row[k] = a.value(v) }
            rows.append(row)
            _ = t
        }

        // Events at t = 0.
        var previous = m.events.map { $0.initialValue }
        var pending: [Pending] = []
        var sequence = 0
        var rng = SplitMix64(seed: options.seed)
        var t = 0.0
        if let fast = m.fast {
            var y0 = m.currentState()
            fast.project(model: m, t: t, y: &y0)
        }
        try processEvents(at: t, previous: &previous, pending: &pending, sequence: &sequence, rng: &rng)
        var y = m.currentState()
        if let fast = m.fast, !m.events.isEmpty { fast.project(model: m, t: t, y: &y) }
        while outIndex < outputTimes.count && outputTimes[outIndex] <= t {
            record(t); outIndex += 1
        }
        guard outIndex < outputTimes.count else { return rows }
        let tEnd = outputTimes[outputTimes.count - 1]
        // Steps no longer than the output spacing where events or delays need their triggers and
        // history sampled finely; otherwise the error control alone sets the steps (outputs come from
        // the dense output).
        var hMax = max(tEnd - t, 1e-12)
        if !m.events.isEmpty || m.history != nil {
            hMax = outputTimes.count > 1 ? max((tEnd - outputTimes[0]) / Double(outputTimes.count - 1), 1e-12) : max(tEnd, 1e-12)
            if tEnd > 0 { hMax = min(hMax, tEnd / 10) }
        }

        var stepMax0 = hMax
        if let h = m.history, h.minimumDelay.isFinite, h.minimumDelay > 0 { stepMax0 = min(stepMax0, max(h.minimumDelay / 2, hMax / 64)) }
        var stepper: any SimulationStepper
        var stiff = false
        switch options.method {
        case .rodas5P, .rodas5:
            if let r = Rodas5Adapter(model: m, method: options.method, t: t, y: y, rtol: options.relativeTolerance,
                                     atol: options.absoluteTolerance, maxStep: stepMax0) {
                stepper = r
                stiff = true
            } else {
                stepper = try ExplicitAdapter(model: m, t: t, y: y, rtol: options.relativeTolerance, atol: options.absoluteTolerance, maxStep: stepMax0)
            }
        case .auto, .dormandPrince:
            stepper = try ExplicitAdapter(model: m, t: t, y: y, rtol: options.relativeTolerance, atol: options.absoluteTolerance, maxStep: stepMax0)
        }
        let switchesWhenStiff = options.method == .auto
        let watchesTriggers = !m.events.isEmpty
        let samplesTriggers = m.events.contains(where: \.mayHoldWithinStep)

        if let h = m.history {
            // The stepper's start-up evaluations leave trial values in the working slots: reload the start.
            m.load(t: t, y: y.withUnsafeBufferPointer { $0 })
            h.record(t: t, slots: v, count: m.slotCount, dy: stepper.derivative)
        }
        var triggers = previous
        var yi = y
        var totalSteps = 0
        var nextStabilityCheck = Self.stabilityCheckInterval
        /// Restarts the integrator at `time`, on the far side of a time switch (the state moves on by
        /// O(1e-14·f)), and records the outputs up to it.
        func restart(at time: Double) throws(SBMLError) {
            let current = stepper.y
            t = time
            stepper.reset(t: t, y: current, initialStep: nil)
            if let f = stepper.failure { throw SBMLError(.integration, "the \(stiff ? "stiff " : "")integrator cannot restart at t = \(t): \(f)", value: "\(t)") }
            m.load(t: t, y: current.withUnsafeBufferPointer { $0 })
            while outIndex < outputTimes.count && outputTimes[outIndex] <= t { record(t); outIndex += 1 }
        }
        while outIndex < outputTimes.count {
            let nextDelayed = pending.map(\.time).min() ?? .infinity
            let tStop = min(tEnd, nextDelayed)
            var stepMax = hMax
            if let h = m.history, h.minimumDelay.isFinite, h.minimumDelay > 0 { stepMax = min(stepMax, max(h.minimumDelay / 2, hMax / 64)) }
            // The second stiffness test: every `stabilityCheckInterval` explicit steps, is the step the
            // controller proposes within a factor ~3 of Dormand-Prince's stability limit (h·ρ(J) > 1, with
            // ρ(J) the Jacobian's spectral radius by power iteration)? Accuracy-limited steps at the usual
            // SBML tolerances stay far below (h·ρ ~ 0.01-0.3); Hairer's test alone can take thousands of
            // steps to fire on a moderately stiff model whose estimate hovers just under its threshold.
            var stabilityLimited = false
            if !stiff && switchesWhenStiff && totalSteps >= nextStabilityCheck && stepper.t < tStop {
                nextStabilityCheck = totalSteps + Self.stabilityCheckInterval
                let h = stepper.proposedStep
                if h.isFinite && h > 0 && h < 0.5 * stepMax {
                    let rho = Self.spectralRadius(m, t: stepper.t, y: stepper.y, rtol: options.relativeTolerance, atol: options.absoluteTolerance)
                    stabilityLimited = h * rho > 1
                }
            }
            if !stiff && switchesWhenStiff && (stepper.stiffnessDetected || stabilityLimited) {
                // One-way switch to the stiff solver from the current point.
                let current = stepper.y
                if let r = Rodas5Adapter(model: m, method: .rodas5P, t: stepper.t, y: current, rtol: options.relativeTolerance, atol: options.absoluteTolerance, maxStep: stepMax) {
                    stepper = r
                    stiff = true
                }
            }
            // A switch of a time-only condition within the coming step: stop just before it and restart
            // just after it, so that no step straddles the discontinuity.
            var breakpoint: (lo: Double, hi: Double)?
            var stepLimit = tStop
            if m.hasTimeSwitches && tStop > t {
                let proposed = stepper.proposedStep
                let probe = proposed.isFinite && proposed > 0 ? min(tStop, t + min(proposed, stepMax)) : tStop
                if let b = m.timeSwitch(after: t, before: probe) {
                    if b.lo <= t {
                        try restart(at: b.hi)
                        continue
                    }
                    breakpoint = b
                    stepLimit = b.lo
                }
            }
            if tStop > t {
                guard stepper.step(tMax: stepLimit, hMax: stepMax) else {
                    let f = stepper.failure ?? "step size too small or non-finite derivatives in \(Self.nonFinite(m, stepper.y))"
                    throw SBMLError(.integration, "the \(stiff ? "stiff " : "")integrator failed at t = \(stepper.t): \(f)", value: "\(stepper.t)")
                }
                totalSteps += 1
                if let limit = options.timeLimit, TestSuiteRunner.monotonicSeconds() - startTime > limit {
                    throw SBMLError(.integration, "the run exceeded its time limit of \(limit) s at t = \(stepper.t) (the model may be stiff)", value: "\(stepper.t)")
                }
                if totalSteps > options.maxSteps {
                    throw SBMLError(.integration, "more than \(options.maxSteps) steps before t = \(stepper.t) (the model may be stiff)", value: "\(stepper.t)")
                }
            }
            let ta = stepper.tPrevious, tb = stepper.t
            // Did any trigger change?
            var changed = false
            if watchesTriggers {
                stepper.withState { m.load(t: tb, y: $0) }
                for (i, e) in m.events.enumerated() {
                    triggers[i] = e.trigger(v) != 0
                    if triggers[i] != previous[i] { changed = true }
                }
            }
            var tEvent: Double?
            func differs(_ tt: Double) -> Bool {
                stepper.interpolate(tt, into: &yi)
                m.load(t: tt, y: yi.withUnsafeBufferPointer { $0 })
                for (i, e) in m.events.enumerated() where (e.trigger(v) != 0) != previous[i] { return true }
                return false
            }
            // A trigger that combines conditions can be true only inside the step (a window shorter than the
            // step): it is looked for at interior points of the dense output; the first point where a trigger
            // differs bounds the search.
            var hiStart = tb
            if samplesTriggers && !changed && tb > ta {
                for j in 1..<Self.triggerSamples {
                    let tt = ta + (tb - ta) * Double(j) / Double(Self.triggerSamples)
                    if tt > ta && tt < tb && differs(tt) { changed = true; hiStart = tt; break }
                }
                if !changed { stepper.withState { m.load(t: tb, y: $0) } }
            }
            if changed && tb > ta {
                var (lo, hi) = bisectChange(from: ta, to: hiStart, differs)
                var k = outIndex
                while k < outputTimes.count && outputTimes[k] <= hi {
                    if outputTimes[k] > lo && differs(outputTimes[k]) { hi = outputTimes[k]; break }
                    k += 1
                }
                tEvent = hi
            } else if changed {
                tEvent = tb
            } else if tb == nextDelayed {
                tEvent = tb
            }
            let segmentEnd = tEvent ?? tb
            while outIndex < outputTimes.count && (tEvent == nil ? outputTimes[outIndex] <= segmentEnd : outputTimes[outIndex] < segmentEnd) {
                let to = outputTimes[outIndex]
                if to == tb { stepper.withState { s in for i in 0..<n { yi[i] = s[i] } } } else { stepper.interpolate(to, into: &yi) }
                m.load(t: to, y: yi.withUnsafeBufferPointer { $0 })
                record(to)
                outIndex += 1
            }
            if let te = tEvent {
                if te == tb { stepper.withState { s in for i in 0..<n { yi[i] = s[i] } } } else { stepper.interpolate(te, into: &yi) }
                m.load(t: te, y: yi.withUnsafeBufferPointer { $0 })
                if let h = m.history {
                    var d = [Double](repeating: 0, count: n)
                    yi.withUnsafeBufferPointer { yb in d.withUnsafeMutableBufferPointer { m.derivatives(t: te, y: yb, dy: $0) } }
                    m.load(t: te, y: yi.withUnsafeBufferPointer { $0 })
                    h.record(t: te, slots: v, count: m.slotCount, dy: d)
                }
                t = te
                try processEvents(at: t, previous: &previous, pending: &pending, sequence: &sequence, rng: &rng)
                y = m.currentState()
                if let fast = m.fast { fast.project(model: m, t: t, y: &y) }
                stepper.reset(t: t, y: y, initialStep: nil)
                if let f = stepper.failure { throw SBMLError(.integration, "the \(stiff ? "stiff " : "")integrator cannot restart at t = \(t): \(f)", value: "\(t)") }
                if let h = m.history {
                    m.load(t: t, y: y.withUnsafeBufferPointer { $0 })
                    h.record(t: t, slots: v, count: m.slotCount, dy: stepper.derivative)
                }
                m.load(t: t, y: y.withUnsafeBufferPointer { $0 })
                while outIndex < outputTimes.count && outputTimes[outIndex] <= t {
                    record(t); outIndex += 1
                }
            } else {
                t = tb
                if let h = m.history {
                    stepper.withState { m.load(t: tb, y: $0) }
                    h.record(t: tb, slots: v, count: m.slotCount, dy: stepper.derivative)
                }
                if let b = breakpoint, tb == b.lo, b.hi <= tEnd {
                    try restart(at: b.hi)
                }
            }
            if t >= tEnd && outIndex < outputTimes.count {
                // Numerical end: record what remains at the final state.
                while outIndex < outputTimes.count { record(t); outIndex += 1 }
            }
        }
        return rows
    }

    private static func nonFinite(_ m: CompiledModel, _ y: [Double]) -> String {
        for (i, x) in y.enumerated() where !x.isFinite { return "'\(m.variableNames[i])'" }
        return "the state"
    }

    /// Fires events whose triggers became true, then executes those due now, highest priority first,
    /// re-checking triggers after each execution.
    private func processEvents(at t: Double, previous: inout [Bool], pending: inout [Pending], sequence: inout Int, rng: inout SplitMix64) throws(SBMLError) {
        let m = model
        let v = m.values
        guard !m.events.isEmpty else { return }
        var executions = 0
        while true {
            for (i, e) in m.events.enumerated() {
                let now = e.trigger(v) != 0
                if now && !previous[i] {
                    let d = e.delay?(v) ?? 0
                    let vals: [Double]? = e.useValuesFromTriggerTime || d == 0 ? e.assignments.map { $0.eval(v) } : nil
                    pending.append(Pending(event: i, time: t + max(d, 0), values: vals, sequence: sequence))
                    sequence += 1
                } else if !now && previous[i] {
                    pending.removeAll { $0.event == i && !m.events[i].persistent }
                }
                previous[i] = now
            }
            var best: Int?
            var bestPriority = -Double.infinity
            var ties: [Int] = []
            for (k, p) in pending.enumerated() where p.time <= t {
                let pr = m.events[p.event].priority?(v) ?? -Double.infinity
                if best == nil || pr > bestPriority || (pr == bestPriority && p.sequence < pending[best!].sequence) {
                    if best == nil || pr > bestPriority { ties = [] }
                    best = k
                    bestPriority = pr
                }
                if pr == bestPriority { ties.append(k) }
            }
            guard var b = best else { return }
            // Events with the same (explicit) priority execute in random order.
            if ties.count > 1 && bestPriority > -Double.infinity {
                b = ties[Int(rng.next() % UInt64(ties.count))]
            }
            let p = pending.remove(at: b)
            let e = m.events[p.event]
            let vals = (e.useValuesFromTriggerTime ? p.values : nil) ?? e.assignments.map { $0.eval(v) }
            // Species first: all assignments act on the state before the event, so a species' concentration
            // is converted to an amount with its compartment's size before this event changes it.
            for pass in 0..<2 {
                for (k, a) in e.assignments.enumerated() {
                    let isSpecies = m.speciesInfo[a.target] != nil
                    if (pass == 0) != isSpecies { continue }
                    assign(a.target, vals[k])
                }
            }
            m.computeDerived(v)
            executions += 1
            if executions > 100_000 {
                throw SBMLError(.integration, "events keep firing at t = \(t) (more than 100000 executions at one time)", value: e.id)
            }
        }
    }

    /// Sub-intervals of a step at whose interior points event triggers are also checked.
    static let triggerSamples = 8

    /// Explicit steps between two checks of the step size against the stability limit (`.auto`).
    static let stabilityCheckInterval = 200

    /// An estimate of the spectral radius of the Jacobian at `(t, y)`: 16 power iterations on
    /// `S⁻¹ J S` (the same eigenvalues; `S` the error weights `|y| + atol/rtol`, so that species of very
    /// different magnitudes are perturbed alike), with Jacobian-vector products by forward differences.
    /// Returns 0 when a value is not finite. Overwrites the model's working values (callers reload).
    static func spectralRadius(_ m: CompiledModel, t: Double, y: [Double], rtol: Double, atol: Double) -> Double {
        let n = y.count
        guard n > 0 else { return 0 }
        var f0 = [Double](repeating: 0, count: n), f1 = f0, yp = y, w = f0
        var scale = f0, v = f0
        for i in 0..<n {
            scale[i] = abs(y[i]) + atol / max(rtol, 1e-300)
            v[i] = i % 2 == 0 ? 1 : -0.5 - Double(i % 7) / 14
        }
        y.withUnsafeBufferPointer { yb in f0.withUnsafeMutableBufferPointer { m.derivatives(t: t, y: yb, dy: $0) } }
        let eps = 1e-7
        var rho = 0.0
        for _ in 0..<16 {
            var norm = 0.0
            for i in 0..<n { norm = max(norm, abs(v[i])) }
            guard norm > 0, norm.isFinite else { return rho }
            for i in 0..<n { v[i] /= norm; yp[i] = y[i] + eps * scale[i] * v[i] }
            yp.withUnsafeBufferPointer { yb in f1.withUnsafeMutableBufferPointer { m.derivatives(t: t, y: yb, dy: $0) } }
            var wn = 0.0
            for i in 0..<n {
                w[i] = (f1[i] - f0[i]) / (eps * scale[i])
                guard w[i].isFinite else { return 0 }
                wn = max(wn, abs(w[i]))
            }
            rho = wn
            swap(&v, &w)
        }
        return rho
    }

    private func assign(_ id: String, _ value: Double) {
        let m = model
        let v = m.values
        if let s = m.speciesInfo[id] {
            if let k = s.state {
                v[m.stateSlots[k]] = s.onlySubstance ? value : value * v[s.compartmentSlot]
            }
            v[s.slot] = value
            return
        }
        if let slot = m.slotOfSymbol[id] { v[slot] = value }
    }
}
