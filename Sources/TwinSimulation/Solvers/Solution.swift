/// Where a solver records the solution.
public enum OutputTimes: Sendable, Hashable {
    /// At every accepted step (and at events).
    case steps
    /// At the given times (ascending, within `[t0, tEnd]`), from the dense output.
    case times([Double])
    /// At `count` evenly spaced times from `t0` to `tEnd` inclusive (like `numpy.linspace`), from the dense output.
    case evenlySpaced(count: Int)
}

/// How a run ended.
public enum SolutionStatus: Sendable, Hashable, Codable {
    /// Reached the end time.
    case completed
    /// An event action asked to stop, at `time`.
    case stoppedByEvent(name: String, time: Double)
}

/// The result of a solver run: the trajectory at the output times, the event log and the work statistics.
///
/// States are stored row-major: row `i` (time `times[i]`) occupies `states[i*dimension ..< (i+1)*dimension]`.
/// At an event time the recorded state is the one after the event's action (right-continuous).
public struct Solution: Sendable {
    /// Names of the state variables.
    public var variableNames: [String]
    /// Output times, ascending.
    public var times: [Double]
    /// Row-major states, `times.count × dimension`.
    public var states: [Double]
    /// Events that fired, in order.
    public var events: [EventRecord]
    /// How the run ended.
    public var status: SolutionStatus
    /// Work counters.
    public var statistics: SolverStatistics
    /// The method that was used (for `.auto`, the method in use at the end).
    public var method: SolverMethod

    public init(variableNames: [String], times: [Double], states: [Double], events: [EventRecord],
                status: SolutionStatus, statistics: SolverStatistics, method: SolverMethod) {
        self.variableNames = variableNames
        self.times = times
        self.states = states
        self.events = events
        self.status = status
        self.statistics = statistics
        self.method = method
    }

    /// Number of state variables.
    public var dimension: Int { variableNames.count }

    /// Number of recorded rows.
    public var count: Int { times.count }

    /// The state at row `i`.
    public func state(at i: Int) -> ArraySlice<Double> {
        states[(i * dimension) ..< ((i + 1) * dimension)]
    }

    /// The value of variable `variable` at row `i`.
    public func value(_ variable: Int, at i: Int) -> Double { states[i * dimension + variable] }

    /// The trajectory of one variable.
    public func series(_ variable: Int) -> [Double] {
        (0..<count).map { states[$0 * dimension + variable] }
    }

    /// The trajectory of the variable named `name`, or `nil` if there is none.
    public func series(named name: String) -> [Double]? {
        guard let index = variableNames.firstIndex(of: name) else { return nil }
        return series(index)
    }

    /// The last recorded state.
    public var finalState: [Double] { count == 0 ? [] : Array(state(at: count - 1)) }
}
