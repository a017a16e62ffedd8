import Foundation
import TwinBank
import TwinCore
import TwinModels
import TwinSimulation

/// Parameter estimates as thread events: what each synchronisation learnt, readable as of any known-at time.
///
/// Coding: one `prediction` event per estimated parameter, code `urn:twinbank:estimate|BINDING/PARAMETER`
/// (``code(binding:parameter:)``), value the estimate as a quantity in the parameter's unit, effective over the
/// data window it rests on (start: the window's start, end: its end), source ``source``. Its provenance names
/// the model and version, the seed, the events used (derivedFrom) and, in its notes, the words
/// `estimate binding=B parameter=P scale=S sd=SD prior=V readings=N estimator=LABEL window=FROM..TO knownAt=T generator=G`
/// followed by the estimator's settings and `inputs=KEY` (what it was computed from, so a repeated
/// synchronisation over the same data writes nothing new; ``HeldEvents``).
public enum EstimateEvents {
    /// The code system of estimate events.
    public static let system = "urn:twinbank:estimate"
    /// The source of the events the binding synchroniser writes.
    public static let source = Source(.model, "twinsync-binding@1")

    /// The code of the estimate of `parameter` through binding `binding`.
    public static func code(binding: String, parameter: String) -> Concept {
        Concept(system: system, code: "\(binding)/\(parameter)", display: "Estimate of \(parameter) (\(binding))")
    }

    /// An estimate read back from the thread.
    public struct Recorded: Sendable, Hashable, Codable {
        public var binding: String
        public var parameters: [ParameterEstimate.Parameter]
        /// The data window the estimate rests on.
        public var from: Instant
        public var to: Instant
        public var estimator: String
        public var seed: UInt64?
        public var readings: Int
        /// When the bank recorded it.
        public var recorded: Instant
        /// The estimate events read.
        public var events: [ContentHash]
        /// The parameter named `id`.
        public subscript(id: String) -> ParameterEstimate.Parameter? { parameters.first { $0.id == id } }
    }

    /// The drafts for one estimate.
    static func drafts(twin: TwinID, binding: ThreadBinding, estimate: ParameterEstimate, estimator: String, settings: [String], seed: UInt64,
                       from: Instant, to: Instant, knownAt: Instant, used: [ContentHash], inputs: String, context: String?) -> [EventDraft] {
        estimate.parameters.map { p in
            var notes = "estimate binding=\(binding.name) parameter=\(p.id) scale=\(p.scale.rawValue)"
            if let sd = p.standardDeviation, sd.isFinite { notes += " sd=\(Value.format(sd))" }
            if let prior = p.prior, prior.isFinite { notes += " prior=\(Value.format(prior))" }
            notes += " readings=\(estimate.readings) estimator=\(estimator.replacingOccurrences(of: " ", with: "_")) window=\(from.iso8601)..\(to.iso8601) knownAt=\(knownAt.iso8601) generator=\(Xoshiro256StarStar.streamLabel)"
            if !settings.isEmpty { notes += " " + settings.joined(separator: " ") }
            if let context { notes += " " + context }
            notes += " inputs=\(inputs)"
            return EventDraft(twin: twin, effective: EffectiveTime(from, end: to), category: .prediction, code: code(binding: binding.name, parameter: p.id),
                              value: .quantity(Quantity(p.value, p.unit)), source: source,
                              provenance: Provenance(derivedFrom: used, model: binding.model.id, modelVersion: binding.model.version, seed: seed, notes: notes))
        }
    }

    /// The latest estimate through `binding` of `parameters` whose data window ended at or before `at`, as the
    /// thread knew it at `knownAt` (nil: now): a replay with an earlier `knownAt` sees what was known then.
    /// "Latest" is the estimate with the latest window end (ties: the last recorded); every parameter comes from
    /// that one synchronisation (the same `inputs=` key).
    /// - Returns: nil when the thread holds no such estimate.
    public static func latest(for twin: TwinID, binding: String, parameters: [String], in bank: Bank, at: Instant? = nil, knownAt: Instant? = nil) throws -> Recorded? {
        var events: [Event] = []
        for p in parameters {
            events += try bank.events(ThreadQuery(twin: twin, code: code(binding: binding, parameter: p).key, category: .prediction, to: at, knownAt: knownAt))
                .filter { at == nil || ($0.effective.end ?? $0.effective.start) <= at! }
        }
        func end(_ e: Event) -> Instant { e.effective.end ?? e.effective.start }
        guard let newest = events.max(by: { (end($0), $0.sequence) < (end($1), $1.sequence) }) else { return nil }
        let key = HeldEvents.inputsWord(newest.provenance.notes)
        let group = events.filter { end($0) == end(newest) && HeldEvents.inputsWord($0.provenance.notes) == key }
        var byParameter: [String: Event] = [:]
        for e in group.sorted(by: { $0.sequence < $1.sequence }) {
            let words = Self.words(e.provenance.notes)
            if let p = words["parameter"] { byParameter[p] = e }
        }
        let chosen = parameters.compactMap { byParameter[$0] }
        let words = Self.words(newest.provenance.notes)
        return Recorded(binding: binding, parameters: chosen.map { e in
            let w = Self.words(e.provenance.notes)
            let q = e.value?.quantity
            return ParameterEstimate.Parameter(id: w["parameter"] ?? e.code.code, value: q?.value ?? .nan, unit: q?.unit ?? "1",
                                               scale: w["scale"].flatMap(ThreadBinding.EstimatedParameter.Scale.init(rawValue:)) ?? .lin,
                                               standardDeviation: w["sd"].flatMap(Double.init), prior: w["prior"].flatMap(Double.init))
        }, from: newest.effective.start, to: end(newest), estimator: words["estimator"] ?? "", seed: newest.provenance.seed,
           readings: words["readings"].flatMap(Int.init) ?? 0, recorded: chosen.map(\.recorded).max() ?? newest.recorded, events: chosen.map(\.id))
    }

    /// The `key=value` words of an estimate event's notes (the first of each key).
    static func words(_ notes: String?) -> [String: String] {
        var out: [String: String] = [:]
        for word in (notes ?? "").split(separator: " ") {
            guard let eq = word.firstIndex(of: "=") else { continue }
            let k = String(word[..<eq])
            if out[k] == nil { out[k] = String(word[word.index(after: eq)...]) }
        }
        return out
    }
}

extension EstimateEvents.Recorded {
    /// simglucose parameters with this (glucose binding's) estimate's values set: each estimated parameter that
    /// the UVA/Padova model has (`Vmx`, `kp3`, `kabs`, ...) takes the estimate; the others stay.
    public func applied(to parameters: UVAPadovaParameters) -> UVAPadovaParameters {
        var p = parameters
        for e in self.parameters where e.value.isFinite && e.value > 0 {
            if let path = UVAPadovaParameters.keyPath(named: e.id) { p[keyPath: path] = e.value }
        }
        return p
    }
}
