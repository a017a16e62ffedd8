import Foundation
import TwinBank
import TwinCore

/// A twin's thread read through a ``ThreadBinding`` as known at one recorded time: readings, inputs and
/// parameters on the model's time grid, in the model's units.
///
/// Times are in the binding's ``ThreadBinding/timeUnit`` from ``origin``; values in the units the binding names.
public struct BoundThread: Sendable, Hashable {
    /// A measured output's reading.
    public struct Reading: Sendable, Hashable {
        /// Model time of the reading.
        public var time: Double
        /// Index into the binding's ``ThreadBinding/outputs``.
        public var output: Int
        /// The value in the output's unit.
        public var value: Double
        /// The event read.
        public var event: ContentHash
        /// The event's effective time.
        public var effective: Instant
        /// Settings the reading carries for the model (a PEtab measurement's `condition`, `preequilibration`,
        /// `observableParameters`, `noiseParameters`); empty for most models.
        public var context: [String: String]
        public init(time: Double, output: Int, value: Double, event: ContentHash, effective: Instant, context: [String: String] = [:]) {
            self.time = time; self.output = output; self.value = value; self.event = event; self.effective = effective; self.context = context
        }
    }

    /// An input event: an amount given at ``time`` over ``duration`` (0 for an instant).
    public struct Dose: Sendable, Hashable {
        public var time: Double
        public var duration: Double
        /// The amount in the input's unit (a rate is multiplied by the period).
        public var amount: Double
        /// Index into the binding's ``ThreadBinding/inputs``.
        public var input: Int
        public var event: ContentHash
    }

    /// The data window: readings effective in `[from, to]`; inputs from `from` to ``inputsUntil``.
    public struct Window: Sendable, Hashable {
        /// Start of the window; nil: the earliest bound event known at `knownAt` (the whole history).
        public var from: Instant?
        /// End of the window (readings after it are not read); nil: `knownAt`.
        public var to: Instant?
        /// Read the thread as known at this recorded time; nil: the bank clock's now.
        public var knownAt: Instant?
        /// How far past `to` input events (planned doses, meals) are read, in the model's time unit (a forecast's horizon).
        public var horizon: Double
        public init(from: Instant? = nil, to: Instant? = nil, knownAt: Instant? = nil, horizon: Double = 0) {
            self.from = from; self.to = to; self.knownAt = knownAt; self.horizon = horizon
        }
    }

    public var twin: TwinID
    /// The model's time zero (the binding's origin, else `from`).
    public var origin: Instant
    public var from: Instant
    public var to: Instant
    public var knownAt: Instant
    /// Readings in effective-time order (ties by sequence).
    public var readings: [Reading]
    /// Inputs in time order.
    public var doses: [Dose]
    /// The parameters the binding sets, in their model units.
    public var parameters: [String: Double]
    /// Every event read (readings, inputs, recorded parameter values), for provenance.
    public var used: [ContentHash]
}

extension ThreadBinding {
    /// Reads the twin's thread through this binding as known at the window's `knownAt` (bitemporal: a late
    /// reading is used at its effective time; a replay with the same `knownAt` reads the same events).
    ///
    /// - Readings: `observation` events with an output's code effective in `[from, to]` (flagged-implausible
    ///   and retracted events are not read), converted to the output's unit (TwinCore's units, analyte-aware).
    /// - Inputs: `intervention` events with an input's code whose period overlaps `[from, to + horizon]` (from the
    ///   binding's origin when it has one and it is earlier: the model runs from there).
    /// - Parameters: attributes and the latest recorded value at or before `to`, converted to the parameter's unit.
    /// - Throws: ``SyncError`` `invalidTime` (window in the future or empty), `invalidArgument` naming an event
    ///   whose value is missing or whose unit does not convert (both units named), `invalidBinding` for a missing
    ///   attribute; bank errors.
    public func read(_ twin: TwinID, in bank: Bank, window: BoundThread.Window = .init()) throws -> BoundThread {
        try validate()
        let now = bank.clock.now()
        let knownAt = window.knownAt ?? now
        guard knownAt <= now else {
            throw SyncError(.invalidTime, "knownAt \(knownAt) is in the future of the bank clock (\(now)).", value: knownAt.iso8601)
        }
        let to = window.to ?? knownAt
        guard to <= knownAt else {
            throw SyncError(.invalidTime, "the window end \(to) is after what the thread can know (\(knownAt)).", value: to.iso8601)
        }
        guard window.horizon >= 0, window.horizon.isFinite else {
            throw SyncError(.invalidArgument, "the horizon must be a non-negative number of \(timeUnit.rawValue).", value: String(window.horizon))
        }
        let record = try bank.twin(twin).twin
        // the window's start: given, else the earliest bound event known then
        var from = window.from
        if from == nil {
            var earliest: Instant?
            for o in outputs {
                if let e = try bank.events(ThreadQuery(twin: twin, code: o.code.key, category: .observation, to: to, knownAt: knownAt)).first {
                    earliest = min(earliest ?? e.effective.start, e.effective.start)
                }
            }
            for i in inputs {
                if let e = try bank.events(ThreadQuery(twin: twin, code: i.code.key, category: .intervention, to: to, knownAt: knownAt)).first {
                    earliest = min(earliest ?? e.effective.start, e.effective.start)
                }
            }
            from = earliest ?? to
        }
        let start = from!
        guard start <= to else { throw SyncError(.invalidTime, "the window starts at \(start), after its end \(to).", value: start.iso8601) }
        let origin = self.origin ?? start
        let end = timeUnit.instant(timeUnit.time(of: to, from: origin) + window.horizon, from: origin)
        var used: [ContentHash] = []

        var readings: [BoundThread.Reading] = []
        for (k, o) in outputs.enumerated() {
            let events = try bank.events(ThreadQuery(twin: twin, code: o.code.key, category: .observation, from: start, to: to, knownAt: knownAt))
            for e in events {
                let v = try Self.convert(e, to: o.unit, what: "observation of \(o.code.key) (output '\(o.output)')")
                readings.append(BoundThread.Reading(time: timeUnit.time(of: e.effective.start, from: origin), output: k, value: v, event: e.id,
                                                    effective: e.effective.start, context: model.kind == .petab ? PEtabThread.context(of: e) : [:]))
                used.append(e.id)
            }
        }
        let order = Dictionary(uniqueKeysWithValues: readings.enumerated().map { ($0.element.event, $0.offset) })
        readings.sort { ($0.time, order[$0.event]!) < ($1.time, order[$1.event]!) }

        var doses: [BoundThread.Dose] = []
        // a model with a fixed origin runs from it, so it takes the doses given since then even before the window
        let inputsFrom = self.origin.map { min($0, start) } ?? start
        for (k, i) in inputs.enumerated() {
            let events = try bank.events(ThreadQuery(twin: twin, code: i.code.key, category: .intervention, to: end, knownAt: knownAt))
                .filter { ($0.effective.end ?? $0.effective.start) >= inputsFrom }
            for e in events {
                let t0 = timeUnit.time(of: e.effective.start, from: origin)
                let duration = e.effective.end.map { timeUnit.time(of: $0, from: e.effective.start) } ?? 0
                let amount: Double
                switch i.kind {
                case .bolus, .meal:
                    amount = try Self.convert(e, to: i.unit, what: "\(i.kind.rawValue) \(i.code.key) (input '\(i.input)')", nonNegative: true)
                case .infusion:
                    if let a = try? Self.convert(e, to: i.unit, what: "", nonNegative: true) {
                        amount = a
                    } else {
                        let rateUnit = "\(i.unit)/\(timeUnit.rawValue)"
                        let rate = try Self.convert(e, to: rateUnit, what: "infusion \(i.code.key) (input '\(i.input)'; an amount in \(i.unit) or a rate in \(rateUnit))", nonNegative: true)
                        guard duration > 0 else {
                            throw SyncError(.invalidArgument, "infusion event \(e.id.abbreviated()) at \(e.effective.start) gives a rate but no period (start/end).", value: e.value.map { "\($0)" })
                        }
                        amount = rate * duration
                    }
                }
                doses.append(BoundThread.Dose(time: i.kind == .bolus ? t0 : t0, duration: i.kind == .bolus ? 0 : duration, amount: amount, input: k, event: e.id))
                used.append(e.id)
            }
        }
        doses.sort { ($0.time, $0.input) < ($1.time, $1.input) }

        var values: [String: Double] = [:]
        for p in parameters {
            if let v = p.value { values[p.parameter] = v; continue }
            if let name = p.attribute {
                guard let a = record.attributes[name] else {
                    throw SyncError(.invalidBinding, "binding '\(self.name)': twin '\(twin)' has no attribute '\(name)' (parameter '\(p.parameter)', in \(p.unit)).", value: name)
                }
                guard let q = a.quantity else {
                    throw SyncError(.invalidBinding, "binding '\(self.name)': attribute '\(name)' of twin '\(twin)' is \(a), not a quantity in \(p.unit).", value: "\(a)")
                }
                do { values[p.parameter] = try q.converted(to: p.unit).value } catch {
                    throw SyncError(.invalidArgument, "attribute '\(name)' of twin '\(twin)' is \(q), whose unit '\(q.unit)' does not convert to \(p.unit) (parameter '\(p.parameter)').", value: q.description)
                }
            } else if let code = p.code {
                let events = try bank.events(ThreadQuery(twin: twin, code: code.key, category: .observation, to: to, knownAt: knownAt))
                guard let e = events.max(by: { ($0.effective.start, $0.sequence) < ($1.effective.start, $1.sequence) }) else {
                    throw SyncError(.invalidBinding, "binding '\(self.name)': twin '\(twin)' records no \(code.key) at or before \(to) (parameter '\(p.parameter)').", value: code.key.description)
                }
                values[p.parameter] = try Self.convert(e, to: p.unit, what: "recorded \(code.key) (parameter '\(p.parameter)')")
                used.append(e.id)
            }
        }
        return BoundThread(twin: twin, origin: origin, from: start, to: to, knownAt: knownAt, readings: readings, doses: doses, parameters: values, used: used)
    }

    /// An event's quantity in `unit`.
    /// - Throws: ``SyncError`` `invalidArgument` naming the event, its value and both units.
    static func convert(_ e: Event, to unit: String, what: String, nonNegative: Bool = false) throws -> Double {
        guard let q = e.value?.quantity else {
            throw SyncError(.invalidArgument, "\(what) event \(e.id.abbreviated()) at \(e.effective.start) has no quantity (value: \(e.value.map { "\($0)" } ?? "none")).",
                            value: e.value.map { "\($0)" })
        }
        let v: Double
        do { v = try q.converted(to: unit, for: e.code.key).value } catch {
            throw SyncError(.invalidArgument, "\(what) event \(e.id.abbreviated()) at \(e.effective.start) is \(q): its unit '\(q.unit)' does not convert to \(unit).", value: q.description)
        }
        guard v.isFinite, !nonNegative || v >= 0 else {
            throw SyncError(.invalidArgument, "\(what) event \(e.id.abbreviated()) at \(e.effective.start) is \(q), not a \(nonNegative ? "non-negative " : "")finite amount.", value: q.description)
        }
        return v
    }
}
