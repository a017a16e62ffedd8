/// Feeds observations from several sensors to a filter in effective-time order, including ones that
/// arrive late.
///
/// Observations are assimilated at their *effective* time (when the thing happened), not their arrival
/// time. The assimilator keeps a short history: for each assimilated observation, the filter as it was
/// just before it. When an observation arrives whose time precedes the filter's, the filter is restored
/// from the last state before that time and every later observation is re-assimilated in order, so the
/// result is the same as if everything had arrived in order (exactly so for the deterministic filters;
/// for the ensemble and particle filters, equal in distribution). An observation older than the history
/// window is rejected with a clear error rather than silently assimilated at the wrong time.
public struct Assimilator<Filter: SequentialFilter>: Sendable {
    /// The filter after everything assimilated so far.
    public private(set) var filter: Filter
    /// One observation model per sensor; ``Observation/sensor`` indexes this list.
    public let sensors: [any ObservationModel]
    /// How many past observations (and the filter states before them) are kept for late arrivals.
    public let historyLength: Int
    private var history: [(before: Filter, observation: Observation)] = []
    /// The furthest time the filter was moved to by ``advance(to:)`` (re-reached after a re-run).
    private var horizon: Double

    /// What happened to an observation.
    public enum Outcome: Sendable, Hashable {
        /// Assimilated in order.
        case inOrder
        /// Arrived late: the filter was rewound and this many later observations were re-assimilated.
        case late(reassimilated: Int)
    }

    public init(filter: Filter, sensors: [any ObservationModel], historyLength: Int = 64) throws {
        guard !sensors.isEmpty else { throw SyncError(.invalidArgument, "an assimilator needs at least one sensor model.") }
        guard historyLength >= 1 else { throw SyncError(.invalidArgument, "the history must hold at least one observation.", value: String(historyLength)) }
        self.filter = filter
        self.sensors = sensors
        self.historyLength = historyLength
        self.horizon = filter.time
    }

    /// Moves the belief forward without an observation (for example to forecast from "now").
    public mutating func advance(to time: Double) async throws {
        try await filter.predict(to: time)
        horizon = max(horizon, time)
    }

    /// Assimilates one observation at its effective time.
    /// - Parameter now: when given, an observation time after `now` is rejected as being in the future.
    @discardableResult
    public mutating func assimilate(_ observation: Observation, now: Double? = nil) async throws -> Outcome {
        guard observation.sensor >= 0, observation.sensor < sensors.count else {
            throw SyncError(.invalidArgument, "observation names sensor \(observation.sensor) but only \(sensors.count) sensor model(s) are known.",
                            value: String(observation.sensor))
        }
        guard observation.time.isFinite else { throw SyncError(.invalidTime, "observation time is not finite.", value: String(observation.time)) }
        if let now, observation.time > now {
            throw SyncError(.invalidTime, "observation at t = \(observation.time) is in the future (now is \(now)).", value: String(observation.time))
        }
        // validate shape before touching any state
        _ = try observation.selectedOutputs(for: sensors[observation.sensor])
        if observation.time >= filter.time {
            try await step(observation)
            return .inOrder
        }
        // late: rewind to the state before the first stored observation later than this one
        guard let index = history.firstIndex(where: { $0.observation.time > observation.time }),
              history[index].before.time <= observation.time else {
            let oldest = history.first?.before.time ?? filter.time
            throw SyncError(.invalidTime,
                            "observation at t = \(observation.time) arrived after the filter moved to t = \(filter.time) and is older than the history window (which starts at t = \(oldest)).",
                            value: String(observation.time))
        }
        let replay = history[index...].map(\.observation)
        let saved = (filter, history)
        filter = history[index].before
        history.removeSubrange(index...)
        do {
            try await step(observation)
            for o in replay { try await step(o) }
            if horizon > filter.time { try await filter.predict(to: horizon) }
        } catch {
            (filter, history) = saved
            throw error
        }
        return .late(reassimilated: replay.count)
    }

    private mutating func step(_ observation: Observation) async throws {
        let before = filter
        var next = filter
        try await next.predict(to: observation.time)
        try Self.update(&next, observation, sensors[observation.sensor])
        history.append((before, observation))
        if history.count > historyLength { history.removeFirst(history.count - historyLength) }
        filter = next
    }

    private static func update<Model: ObservationModel>(_ filter: inout Filter, _ observation: Observation, _ model: Model) throws {
        try filter.update(with: observation, model: model)
    }
}
