/// Integrates an `ODESystem` over an interval with output at requested times, state and time events, and
/// (for `.auto`) automatic switching from the explicit to the stiff method.
///
/// Output values come from the dense output of the step that contains each output time; the integrator is
/// never stopped at output points (only at time events, the end time and located state events).
///
/// ```swift
/// let solver = ODESolver(options: SolverOptions(method: .rodas5, rtol: 1e-8, atol: 1e-10))
/// let solution = try solver.solve(system, initialState: [1, 0, 0], from: 0, to: 40,
///                                 output: .evenlySpaced(count: 101))
/// ```
public struct ODESolver: Sendable {
    /// Method, tolerances and limits.
    public var options: SolverOptions

    public init(options: SolverOptions = SolverOptions()) {
        self.options = options
    }

    /// Solves `y' = f(t, y)`, `y(t0) = initialState` on `[t0, tEnd]`.
    ///
    /// - Parameters:
    ///   - output: where to record the solution (at steps, at given times, or evenly spaced).
    ///   - events: state events (see `StateEvent` for the location guarantee and simultaneity rule).
    ///   - timeEvents: time events; times outside `[t0, tEnd]` are ignored, times equal to `t0` fire
    ///     before the first step. State events located inside a step fire before a time event that ends it.
    /// - Returns: the solution; a run stopped by an event ends at the event time with the state after its action.
    /// - Throws: `SimulationError` for invalid input (naming the value), a non-finite state or derivative
    ///   (naming the variable and time), step-size underflow, too many steps or a singular iteration matrix.
    public func solve<System: ODESystem>(_ system: System, initialState: [Double], from t0: Double, to tEnd: Double,
                                         output: OutputTimes = .steps, events: [StateEvent] = [],
                                         timeEvents: [TimeEvent] = []) throws(SimulationError) -> Solution {
        var run = try SolverRun(system: system, options: options, initialState: initialState, t0: t0, tEnd: tEnd,
                                output: output, events: events, timeEvents: timeEvents)
        return try run.execute()
    }
}

/// One run of `ODESolver.solve`: the stepper, the output cursor, the event bookkeeping.
struct SolverRun {
    let system: any ODESystem
    let options: SolverOptions
    let n: Int
    let t0: Double
    let tEnd: Double
    let names: [String]
    let recordSteps: Bool
    let outputTimes: [Double]
    var outputIndex = 0
    let events: [StateEvent]
    /// Time-event schedule: ascending unique times with the indices of the events firing there.
    let schedule: [(time: Double, indices: [Int])]
    let timeEvents: [TimeEvent]
    var scheduleIndex = 0

    var stepper: any ODEStepper
    var previousStatistics = SolverStatistics()
    var times: [Double] = []
    var states: [Double] = []
    var log: [EventRecord] = []
    var status: SolutionStatus = .completed
    var eventsFired = 0
    var stiffSwitch: Double? = nil
    var switches = 0
    var work: [Double]
    var gOld: [Double]
    var gNew: [Double]

    init(system: any ODESystem, options: SolverOptions, initialState: [Double], t0: Double, tEnd: Double,
         output: OutputTimes, events: [StateEvent], timeEvents: [TimeEvent]) throws(SimulationError) {
        self.system = system
        self.options = options
        self.n = system.dimension
        guard t0.isFinite, tEnd.isFinite else {
            throw .invalid("start and end times must be finite", value: "[\(t0), \(tEnd)]")
        }
        guard tEnd > t0 else {
            throw .invalid("end time \(tEnd) must be after start time \(t0) (integration runs forward)", value: "\(tEnd)")
        }
        self.t0 = t0
        self.tEnd = tEnd
        let names = system.variableNames
        guard names.count == system.dimension else {
            throw .invalid("the system names \(names.count) variables but has \(system.dimension) states", value: "\(names.count)")
        }
        self.names = names
        switch output {
        case .steps:
            recordSteps = true
            outputTimes = []
        case .times(let ts):
            recordSteps = false
            for (i, t) in ts.enumerated() {
                guard t.isFinite, t >= t0, t <= tEnd else {
                    throw .invalid("output time \(t) is outside [\(t0), \(tEnd)]", value: "\(t)")
                }
                if i > 0, t < ts[i - 1] { throw .invalid("output times must be ascending", value: "\(t)") }
            }
            outputTimes = ts
        case .evenlySpaced(let count):
            guard count >= 2 else { throw .invalid("evenly spaced output needs at least 2 points", value: "\(count)") }
            recordSteps = false
            let span = tEnd - t0
            outputTimes = (0..<count).map { i in i == count - 1 ? tEnd : t0 + span * Double(i) / Double(count - 1) }
        }
        self.events = events
        self.timeEvents = timeEvents
        var byTime: [Double: [Int]] = [:]
        for (index, event) in timeEvents.enumerated() {
            for t in event.times {
                guard t.isFinite else { throw .invalid("time event '\(event.name)' has a non-finite time", value: "\(t)") }
                if t >= t0 && t <= tEnd, !(byTime[t]?.contains(index) ?? false) { byTime[t, default: []].append(index) }
            }
        }
        schedule = byTime.keys.sorted().map { (time: $0, indices: byTime[$0]!) }
        stepper = try makeStepper(for: system, time: t0, state: initialState, options: options)
        work = [Double](repeating: 0, count: system.dimension)
        gOld = [Double](repeating: 0, count: events.count)
        gNew = [Double](repeating: 0, count: events.count)
        if recordSteps {
            times.reserveCapacity(1024)
            states.reserveCapacity(1024 * n)
        } else {
            times.reserveCapacity(outputTimes.count)
            states.reserveCapacity(outputTimes.count * n)
        }
    }

    var eventTolerance: Double { options.eventTimeTolerance ?? 1e-12 * Swift.max(1, Swift.abs(tEnd), Swift.abs(t0)) }

    // MARK: output

    mutating func record(time t: Double, state: UnsafeBufferPointer<Double>) {
        times.append(t)
        states.append(contentsOf: state)
    }

    /// Emits requested output times `< t` (or `<= t` when `inclusive`) from the current step's dense output.
    mutating func emitOutputs(upTo t: Double, inclusive: Bool) {
        var end = outputIndex
        while end < outputTimes.count, inclusive ? outputTimes[end] <= t : outputTimes[end] < t { end += 1 }
        let count = end - outputIndex
        guard count > 0 else { return }
        let start = states.count
        states.append(contentsOf: repeatElement(0.0, count: count * n))
        let first = outputIndex
        let stepper = self.stepper
        outputTimes.withUnsafeBufferPointer { all in
            let slice = UnsafeBufferPointer(rebasing: all[first..<end])
            states.withUnsafeMutableBufferPointer { buffer in
                stepper.interpolate(at: slice, into: buffer.baseAddress! + start)
            }
        }
        times.append(contentsOf: outputTimes[first..<end])
        outputIndex = end
    }

    mutating func recordCurrentState() {
        let t = stepper.time
        stepper.withState { y in
            times.append(t)
            states.append(contentsOf: y)
        }
    }

    // MARK: events

    func evaluateConditions(at t: Double, state: UnsafeBufferPointer<Double>) throws(SimulationError) -> [Double] {
        var g = [Double](repeating: 0, count: events.count)
        for (i, event) in events.enumerated() {
            let value = event.condition(t, state)
            guard !value.isNaN else {
                throw SimulationError(code: .nonFiniteValue, message: "event function '\(event.name)' returned NaN at t = \(t)",
                                      variable: event.name, time: t, value: "nan")
            }
            g[i] = value
        }
        return g
    }

    func conditionsAtCurrentState() throws(SimulationError) -> [Double] {
        if events.isEmpty { return [] }
        let t = stepper.time
        let state = stepper.state
        return try state.withUnsafeBufferPointer { (buffer) throws(SimulationError) -> [Double] in
            try evaluateConditions(at: t, state: buffer)
        }
    }

    static func triggered(_ direction: CrossingDirection, _ a: Double, _ b: Double) -> Bool {
        switch direction {
        case .rising: a < 0 && b >= 0
        case .falling: a > 0 && b <= 0
        case .both: (a < 0 && b >= 0) || (a > 0 && b <= 0)
        }
    }

    /// Locates the crossing of event `index` in `(a, b]` with the Illinois method on the dense output;
    /// returns the right end of the final bracket (where `g` has crossed).
    mutating func locate(_ index: Int, a a0: Double, ga: Double, b b0: Double, gb: Double) -> Double {
        let condition = events[index].condition
        let tol = eventTolerance
        var a = a0, b = b0, fa = ga, fb = gb
        let negativeBefore = ga < 0
        var side = 0
        var iterations = 0
        while b - a > tol && iterations < 200 {
            iterations += 1
            var c = (a * fb - b * fa) / (fb - fa)
            if !(c > a && c < b) || !c.isFinite { c = 0.5 * (a + b) }
            // keep the bracket shrinking by at least half the tolerance
            c = Swift.min(Swift.max(c, a + 0.5 * tol), b - 0.5 * tol)
            let fc = work.withUnsafeMutableBufferPointer { buffer -> Double in
                stepper.interpolate(at: c, into: buffer)
                return condition(c, UnsafeBufferPointer(buffer))
            }
            let crossed = negativeBefore ? fc >= 0 : fc <= 0
            if crossed {
                b = c; fb = fc
                if side == -1 { fa *= 0.5 }
                side = -1
            } else {
                a = c; fa = fc
                if side == 1 { fb *= 0.5 }
                side = 1
            }
        }
        return b
    }

    /// Applies `actions` at `t` to `state`; returns whether the state changed and whether to stop.
    mutating func apply(_ fired: [(name: String, action: EventAction?)], at t: Double,
                        state: inout [Double]) -> (changed: Bool, stop: Bool) {
        var changed = false
        var stop = false
        for (name, action) in fired {
            var context = EventContext(time: t, eventName: name, state: state)
            action?(&context)
            let didChange = context.state != state
            if didChange {
                changed = true
                state = context.state
            }
            if context.requestRestart { changed = true }
            eventsFired += 1
            log.append(EventRecord(name: name, time: t, changedState: didChange, stopped: context.stop))
            if context.stop { stop = true; break }
        }
        return (changed, stop)
    }

    /// Restarts the stepper at `(t, state)` and re-evaluates the event functions there.
    mutating func restart(at t: Double, state: [Double]) throws(SimulationError) {
        guard state.count == n else {
            throw .invalid("an event action changed the state's length to \(state.count) (expected \(n))", value: "\(state.count)")
        }
        try stepper.reset(time: t, state: state)
        gOld = try conditionsAtCurrentState()
    }

    /// Fires the time events scheduled at the current time. Returns true if the run must stop.
    mutating func fireTimeEvents() throws(SimulationError) -> Bool {
        guard scheduleIndex < schedule.count, schedule[scheduleIndex].time == stepper.time else { return false }
        let entry = schedule[scheduleIndex]
        scheduleIndex += 1
        var state = stepper.state
        let fired = entry.indices.map { (name: timeEvents[$0].name, action: Optional(timeEvents[$0].action)) }
        let (changed, stop) = apply(fired, at: entry.time, state: &state)
        if changed {
            if recordSteps { recordCurrentState() }   // the left limit, so plots show the jump
            try restart(at: entry.time, state: state)
        }
        if stop {
            status = .stoppedByEvent(name: log.last?.name ?? entry.indices.map { timeEvents[$0].name }.joined(), time: entry.time)
        }
        return stop
    }

    // MARK: main loop

    mutating func execute() throws(SimulationError) -> Solution {
        gOld = try conditionsAtCurrentState()
        if try fireTimeEvents() {
            recordCurrentState()
            return finish()
        }
        if recordSteps { recordCurrentState() } else { emitOutputs(upTo: t0, inclusive: true) }

        while stepper.time < tEnd {
            let nextStop = scheduleIndex < schedule.count ? Swift.min(schedule[scheduleIndex].time, tEnd) : tEnd
            try stepper.step(limit: nextStop)
            if try handleStateEvents() { return finish() }
            let tB = stepper.time
            if scheduleIndex < schedule.count, schedule[scheduleIndex].time == tB {
                emitOutputs(upTo: tB, inclusive: false)
                if try fireTimeEvents() {
                    recordCurrentState()
                    return finish()
                }
                if recordSteps { recordCurrentState() } else { emitOutputs(upTo: tB, inclusive: true) }
            } else {
                if recordSteps { recordCurrentState() } else { emitOutputs(upTo: tB, inclusive: true) }
            }
            try switchIfStiff()
        }
        // Output times that equal tEnd but were not emitted (rounding) come from the final state.
        while outputIndex < outputTimes.count {
            let t = outputTimes[outputIndex]
            stepper.withState { y in times.append(t); states.append(contentsOf: y) }
            outputIndex += 1
        }
        return finish()
    }

    /// Finds, locates and fires the state events of the last step. Returns true if the run must stop.
    /// After a state change the stepper has been restarted at the event time (the rest of the step is dropped).
    mutating func handleStateEvents() throws(SimulationError) -> Bool {
        guard !events.isEmpty else { return false }
        let tB = stepper.time
        gNew = try conditionsAtCurrentState()
        var scanStart = stepper.previousTime
        var gStart = gOld
        while true {
            var earliest = Double.infinity
            var roots: [(index: Int, time: Double)] = []
            for i in 0..<events.count where Self.triggered(events[i].direction, gStart[i], gNew[i]) {
                let root = locate(i, a: scanStart, ga: gStart[i], b: tB, gb: gNew[i])
                roots.append((i, root))
                earliest = Swift.min(earliest, root)
            }
            if roots.isEmpty { break }
            let tol = eventTolerance
            let group = roots.filter { $0.time <= earliest + tol }.map { $0.index }.sorted()
            let tE = group.map { i in roots.first { $0.index == i }!.time }.max() ?? earliest
            emitOutputs(upTo: tE, inclusive: false)
            var state = stepper.interpolate(at: tE)
            let before = state
            if recordSteps { before.withUnsafeBufferPointer { record(time: tE, state: $0) } }
            let fired = group.map { (name: events[$0].name, action: events[$0].action) }
            let (changed, stop) = apply(fired, at: tE, state: &state)
            if stop {
                if !recordSteps || changed { state.withUnsafeBufferPointer { record(time: tE, state: $0) } }
                status = .stoppedByEvent(name: log.last?.name ?? "", time: tE)
                return true
            }
            if changed {
                try restart(at: tE, state: state)
                if recordSteps { recordCurrentState() } else { emitOutputs(upTo: tE, inclusive: true) }
                // The stepper now sits at tE; the main loop continues from there.
                return false
            }
            // No state change: keep scanning the rest of this step from tE.
            scanStart = tE
            gStart = try state.withUnsafeBufferPointer { (buffer) throws(SimulationError) -> [Double] in
                try evaluateConditions(at: tE, state: buffer)
            }
            if tE >= tB { break }
        }
        gOld = gNew
        return false
    }

    /// `.auto`: moves from Dormand-Prince to Rodas5P when the stiffness test fires, and back when the stiff
    /// stepper sees `h·‖J‖∞ < 1` on 15 steps in a row. Called between steps (the dense output of the
    /// last step has been used by then).
    mutating func switchIfStiff() throws(SimulationError) {
        guard options.method == .auto, stepper.time < tEnd else { return }
        if let explicit = stepper as? DormandPrinceStepper, explicit.stiffnessDetected {
            previousStatistics.accumulate(explicit.statistics)
            previousStatistics.restarts += explicit.statistics.restarts
            if stiffSwitch == nil { stiffSwitch = explicit.time }
            switches += 1
            var stiffOptions = options
            stiffOptions.method = .rodas5P
            stiffOptions.initialStep = explicit.nextStepSize
            let stiff = try Rodas5Stepper(system: system, time: explicit.time, state: explicit.state, options: stiffOptions)
            stiff.monitorsNonStiffness = true
            stepper = stiff
        } else if let stiff = stepper as? Rodas5Stepper, stiff.nonStiffnessDetected {
            previousStatistics.accumulate(stiff.statistics)
            previousStatistics.restarts += stiff.statistics.restarts
            switches += 1
            var explicitOptions = options
            explicitOptions.method = .dormandPrince
            explicitOptions.initialStep = stiff.nextStepSize
            stepper = try DormandPrinceStepper(system: system, time: stiff.time, state: stiff.state, options: explicitOptions)
        }
    }

    mutating func finish() -> Solution {
        var statistics = previousStatistics
        statistics.accumulate(stepper.statistics)
        statistics.restarts = previousStatistics.restarts + stepper.statistics.restarts
        statistics.eventsFired = eventsFired
        statistics.stiffnessSwitchTime = stiffSwitch
        statistics.methodSwitches = switches
        return Solution(variableNames: names, times: times, states: states, events: log, status: status,
                        statistics: statistics, method: stepper.method)
    }
}
