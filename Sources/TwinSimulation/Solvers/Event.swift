/// The direction of a zero crossing of an event function that triggers the event.
public enum CrossingDirection: String, Sendable, Hashable, Codable {
    /// `g` goes from negative to zero or positive.
    case rising
    /// `g` goes from positive to zero or negative.
    case falling
    /// Either.
    case both
}

/// What an event action sees and may change.
public struct EventContext: Sendable {
    /// The time of the event (the located root, or the time event's exact time).
    public let time: Double
    /// The name of the event that fired.
    public let eventName: String
    /// The state at `time`; an action may change it (a dose adds to a compartment). The integrator then
    /// restarts from the changed state.
    public var state: [Double]
    /// Set to `true` to end the integration at `time` (the solution then ends with this state).
    public var stop: Bool = false
    /// Set to `true` when the action changed something the right-hand side depends on (a parameter, a
    /// discrete variable held by the system) without changing `state`: the integrator then restarts at
    /// `time` as it does after a state change.
    public var requestRestart: Bool = false

    public init(time: Double, eventName: String, state: [Double]) {
        self.time = time
        self.eventName = eventName
        self.state = state
    }
}

/// An action run when an event fires.
public typealias EventAction = @Sendable (inout EventContext) -> Void

/// A state event: fires when `condition(t, y)` crosses zero in `direction`.
///
/// The crossing time is located to `SolverOptions.eventTimeTolerance` by the Illinois method on the
/// dense output of the step in which `g` changed sign; the event fires at the right end of the final
/// bracket, so `g` has already crossed when the action runs and the event cannot fire twice for one
/// crossing. Events whose roots lie within the tolerance of one another fire together, in the order
/// of the list given to the solver. A crossing is seen only if `g` has opposite signs at the ends of a
/// step (bound `SolverOptions.maxStep` if `g` may cross twice within one step).
public struct StateEvent: Sendable {
    /// A name, used in the event log and in errors.
    public var name: String
    /// `g(t, y)`: must be continuous in `t` along the solution.
    public var condition: @Sendable (_ t: Double, _ y: UnsafeBufferPointer<Double>) -> Double
    /// Which crossings fire the event.
    public var direction: CrossingDirection
    /// What happens when it fires; `nil` only records the crossing in the event log.
    public var action: EventAction?

    public init(name: String, direction: CrossingDirection = .both,
                condition: @escaping @Sendable (_ t: Double, _ y: UnsafeBufferPointer<Double>) -> Double,
                action: EventAction? = nil) {
        self.name = name
        self.condition = condition
        self.direction = direction
        self.action = action
    }

    /// An event that fires when variable `index` crosses `threshold` in `direction`.
    public static func threshold(_ name: String, variable index: Int, crosses threshold: Double,
                                 direction: CrossingDirection = .both, action: EventAction? = nil) -> StateEvent {
        StateEvent(name: name, direction: direction, condition: { _, y in y[index] - threshold }, action: action)
    }

    /// An event that stops the integration at the crossing.
    public static func stop(_ name: String, direction: CrossingDirection = .both,
                            condition: @escaping @Sendable (_ t: Double, _ y: UnsafeBufferPointer<Double>) -> Double) -> StateEvent {
        StateEvent(name: name, direction: direction, condition: condition, action: { $0.stop = true })
    }
}

/// A time event: fires at known times (a dose schedule, a meal). The integrator steps exactly onto each
/// time (it never steps over one), applies the action and restarts if the state changed (or the action
/// set `requestRestart`). Time events at one time fire in the order of the list; state events located
/// inside the step that ends at a time event fire before it.
public struct TimeEvent: Sendable {
    /// A name, used in the event log.
    public var name: String
    /// The times at which it fires (any order; duplicates fire once).
    public var times: [Double]
    /// What happens.
    public var action: EventAction

    public init(name: String, times: [Double], action: @escaping EventAction) {
        self.name = name
        self.times = times
        self.action = action
    }

    /// A bolus: adds `amount` to variable `index` at each of `times`.
    public static func bolus(_ name: String, variable index: Int, amount: Double, at times: [Double]) -> TimeEvent {
        TimeEvent(name: name, times: times, action: { $0.state[index] += amount })
    }
}

/// One fired event in a solution's event log.
public struct EventRecord: Sendable, Hashable, Codable {
    /// The event's name.
    public var name: String
    /// When it fired.
    public var time: Double
    /// Whether its action changed the state.
    public var changedState: Bool
    /// Whether its action stopped the integration.
    public var stopped: Bool

    public init(name: String, time: Double, changedState: Bool, stopped: Bool) {
        self.name = name
        self.time = time
        self.changedState = changedState
        self.stopped = stopped
    }
}
