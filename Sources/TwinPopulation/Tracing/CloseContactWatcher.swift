import TwinBank
import TwinCore
import TwinSync

/// Alerts a person whose thread receives a close contact found by tracing (``LocationEvents/closeContact``,
/// written by `twinbank trace --bank`), and recommends quarantine and a test: the live link of contact tracing.
///
/// On an update that brings one or more current close-contact observations, it writes, at the end of the latest
/// contact in the update:
/// - an `alert` (code ``alertCode``): "Close contact of CASE (from T1 to T2)", every index case of the update in
///   the order of their contacts, with the tracing settings recorded in each close-contact event; `derivedFrom`
///   the close-contact events;
/// - a `recommendation` (code ``quarantineCode``) derived from the alert: quarantine until ``quarantineDays``
///   after the last contact, and a test.
///
/// **Quiet period** (``quietPeriod``, 24 hours by default): no new alert when this watcher alerted the twin for an
/// earlier update with an effective time within the quiet period, so a person met by several cases on one day
/// is told once; a contact after the quiet period alerts again (a new exposure restarts the quarantine).
/// Retracted close contacts (a trace found wrong) raise nothing. Deterministic per update.
public struct CloseContactWatcher: ThreadWatcher {
    /// The alert's code.
    public static let alertCode = Concept(system: "urn:twinbank:alert", code: "close-contact", display: "close contact of an index case")
    /// The recommendation's code.
    public static let quarantineCode = Concept(system: "urn:twinbank:recommendation", code: "quarantine-and-test",
                                               display: "quarantine after a close contact, and a test")
    /// The source of what it writes.
    public static let source = Source(.model, "close-contact")

    public var name: String { "contact" }
    /// Days of quarantine after the last contact (14 by default, the incubation-period rule of thumb).
    public var quarantineDays: Double
    public var quietPeriod: QuietPeriod

    /// - Throws: `PopulationError` `invalidArgument` when `quarantineDays` is negative or not finite.
    public init(quarantineDays: Double = 14, quietPeriod: QuietPeriod? = nil) throws {
        guard quarantineDays.isFinite, quarantineDays >= 0 else {
            throw PopulationError(.invalidArgument, "the quarantine must be a finite number of days ≥ 0 (got \(quarantineDays))", value: String(quarantineDays))
        }
        self.quarantineDays = quarantineDays
        self.quietPeriod = try quietPeriod ?? QuietPeriod(minutes: 24 * 60)
    }

    public func isTrigger(_ event: Event) -> Bool {
        event.category == .observation && event.code.key == LocationEvents.closeContact.key && event.retractedAtSequence == nil
    }

    public func evaluate(_ update: ThreadUpdate, in bank: Bank) async throws -> [EventDraft] {
        let contacts = update.events.filter(isTrigger)
        guard let last = contacts.map({ $0.effective.end ?? $0.effective.start }).max() else { return [] }
        let marker = update.marker(watcher: name)
        let quietPeriod = self.quietPeriod, name = self.name
        let earlier = try await bank.run { bank in try quietPeriod.earlierAlerts(of: name, code: Self.alertCode.key, near: last, before: update, in: bank) }
        guard earlier.isEmpty else { return [] }

        let parts = contacts.map { e -> String in
            let who: String
            if case .text(let id)? = e.value { who = id } else { who = e.value?.description ?? "an index case (erased)" }
            let when = e.effective.end.map { "from \(e.effective.start.iso8601) to \($0.iso8601)" } ?? "at \(e.effective.start.iso8601)"
            let how = e.provenance.notes.map { " (\($0))" } ?? ""
            return "\(who) \(when)\(how)"
        }
        let until = last.advanced(bySeconds: quarantineDays * 86_400)
        let text = "Close contact of " + parts.joined(separator: "; ") + "."
        let alert = EventDraft(twin: update.twin, effective: EffectiveTime(last), category: .alert, code: Self.alertCode, value: .text(text),
                               source: Self.source,
                               provenance: Provenance(derivedFrom: contacts.map(\.id), model: "close-contact",
                                                      notes: "contacts=\(contacts.count) quarantine=\(Value.format(quarantineDays))d quiet=\(Value.format(quietPeriod.minutes))min " + marker))
        var hasher = EventHasher()
        let advice = "Quarantine until \(until.iso8601) (\(Value.format(quarantineDays)) days after the last contact) and take a test; "
            + "report symptoms at once."
        let recommendation = EventDraft(twin: update.twin, effective: EffectiveTime(last), category: .recommendation, code: Self.quarantineCode,
                                        value: .text(advice), source: Self.source,
                                        provenance: Provenance(derivedFrom: [hasher.hash(alert)], model: "close-contact", notes: marker))
        return [alert, recommendation]
    }
}
