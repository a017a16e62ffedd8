import TwinBank
import TwinCore

/// Keeps a glucose twin's forecast current and warns of hypoglycaemia: on each update that brings a CGM
/// reading, a meal or insulin, it runs the ``GlucoseSynchroniser`` as the thread was known right after the
/// update, with the forecast origin at the latest glucose reading, and returns what the synchroniser would
/// write (the forecast points with their interval and, if the ``HypoglycaemiaWatcher`` fired, the alert,
/// derived from the forecast's mean events and the readings) plus, with an alert, a `recommendation`: take
/// 15 g of fast-acting carbohydrate and recheck in 15 minutes (the "rule of 15" of the ADA Standards of Care),
/// derived from the alert.
///
/// Before the twin has any glucose reading it returns nothing. Every event carries the update's marker.
public struct GlucoseForecastWatcher: ThreadWatcher {
    /// The recommendation's code.
    public static let carbohydrateRecommendation = Concept(system: "urn:twinbank:recommendation", code: "hypoglycaemia-fast-carbohydrate",
                                                           display: "Take fast-acting carbohydrate (hypoglycaemia predicted)")
    public var name: String { "glucose-forecast" }
    /// The synchroniser's settings; `from`, `to`, `knownAt` and `context` are set per update.
    public var options: GlucoseSynchroniser.Options
    /// Hours of history assimilated before the latest reading.
    public var windowHours: Double

    public init(options: GlucoseSynchroniser.Options = .init(), windowHours: Double = 24) {
        self.options = options
        self.windowHours = windowHours
    }

    public func isTrigger(_ event: Event) -> Bool {
        switch event.category {
        case .observation: event.code.key == GlucoseSynchroniser.glucose.key
        case .intervention: event.code.key == GlucoseSynchroniser.carbohydrate.key || event.code.key == GlucoseSynchroniser.insulin.key
        default: false
        }
    }

    public func evaluate(_ update: ThreadUpdate, in bank: Bank) async throws -> [EventDraft] {
        let latest = try bank.state(of: update.twin, knownAt: update.recorded, code: GlucoseSynchroniser.glucose.key, category: .observation)
        guard let reading = latest.first else { return [] }
        var o = options
        o.knownAt = update.recorded
        o.to = min(reading.effective.start, update.recorded)
        o.from = o.to?.advanced(bySeconds: -windowHours * 3600)
        o.context = update.marker(watcher: name)
        let result = try await GlucoseSynchroniser.compute(update.twin, in: bank, options: o)
        var drafts = result.drafts
        if let alert = drafts.last, alert.category == .alert, let text = result.alert {
            var hasher = EventHasher()
            let first = text.split(separator: "|").first.map { $0.trimmingCharacters(in: .whitespaces) } ?? text
            drafts.append(EventDraft(twin: update.twin, effective: alert.effective, category: .recommendation, code: Self.carbohydrateRecommendation,
                                     value: .text("Take 15 g of fast-acting carbohydrate now and recheck glucose in 15 minutes. " + first),
                                     source: GlucoseSynchroniser.source,
                                     provenance: Provenance(derivedFrom: [hasher.hash(alert)], model: alert.provenance.model, modelVersion: alert.provenance.modelVersion,
                                                            seed: alert.provenance.seed, notes: "rule of 15 (ADA Standards of Care, hypoglycaemia treatment) " + update.marker(watcher: name))))
        }
        return drafts
    }
}
