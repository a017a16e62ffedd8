import Foundation
import TwinBank
import TwinCore
import TwinPrognostic
import TwinSimulation

extension Demo {
    static let systolic = Concept.loinc("8480-6", "Systolic blood pressure")
    /// The demo's prognostic cohort: ``prognosticPeople`` synthetic people with four years of blood pressure.
    static let bloodPressureCohort: AggregateID = "bp-cohort"
    static let prognosticPeople = 60

    /// 13. A prognostic twin learned from a cohort: ``prognosticPeople`` synthetic people (`bp-00`...) with systolic
    /// pressure every ~4 months for 4 years (118 + 0.4 (age - 50) + 4 if male + a personal level N(0, 8²) + a
    /// personal slope N(1, 1) mmHg/year + noise N(0, 4²)), an aggregate of them, a model predicting systolic pressure
    /// a year ahead fitted and evaluated on held-out people (``TwinPrognostic/Prognostic/fit(bank:aggregate:spec:seed:)``),
    /// and its prediction for `bp-new`, a person outside the cohort, written to her thread with the model's hash.
    /// `start` is when the readings begin (they must end before the bank's clock).
    func prognosticStep(in bank: Bank, start: Instant) throws -> [String] {
        var rng = Xoshiro256StarStar(seed: seed &+ 14)  // its own stream
        let year = 365.25 * 86_400
        var ids: [TwinID] = []
        func person(_ id: TwinID) throws {
            let age = 35 + 40 * rng.uniform(), male = rng.uniform() < 0.5
            try bank.createTwin(Twin(id: id, kind: .person, attributes: ["birthDate": .date(start.advanced(bySeconds: -age * year)),
                                                                        "gender": .text(male ? "male" : "female")]))
            let level = 8 * rng.normal(), slope = 1 + rng.normal()
            var drafts: [EventDraft] = []
            var t = 0.0
            while t < 4 * year {
                let sbp = 118 + 0.4 * (age - 50) + (male ? 4 : 0) + level + slope * t / year + 4 * rng.normal()
                drafts.append(.observation(id, at: start.advanced(bySeconds: t), code: Self.systolic, Quantity(sbp.rounded(), "mm[Hg]"), source: Source(.device, "cuff")))
                t += (100 + 40 * rng.uniform()) * 86_400
            }
            try bank.append(drafts)
        }
        for i in 0..<Self.prognosticPeople {
            let id = try TwinID(String(format: "bp-%02d", i))
            try person(id)
            ids.append(id)
        }
        try bank.createAggregate(Self.bloodPressureCohort, members: ids)
        let spec = try PrognosticSpec(outcome: Self.systolic.key, horizonSeconds: 365 * 86_400, windowSeconds: 60 * 86_400)
        let (hash, model) = try Prognostic.fit(bank: bank, aggregate: Self.bloodPressureCohort, spec: spec, seed: seed)
        var lines = ["13. Prognostic twin: systolic pressure a year ahead, learned from aggregate \(Self.bloodPressureCohort) (\(ids.count) synthetic people, 4 years each)"]
        if let test = model.testMetrics, let last = model.metrics.first(where: { $0.model == "last-value" && $0.split == "test" }) ?? model.metrics.first(where: { $0.model == "last-value" }) {
            lines.append(String(format: "   model %@ (%@, chosen on validation people), on %d held-out people: MAE %.1f mmHg (carrying the last value forward: %.1f), %.0f %% of their readings inside the 90 %% interval",
                                String(hash.hex.prefix(12)), model.kind.rawValue, test.people, test.meanAbsoluteError, last.meanAbsoluteError, (test.coverage ?? .nan) * 100))
        }
        try person("bp-new")
        let p = try Prognostic.predict(bank: bank, twin: "bp-new", model: hash.hex)
        lines.append(String(format: "   bp-new, not in the cohort: %.0f mmHg on %@ (90 %% interval %.0f-%.0f), written to her thread with the model's hash (twinbank prognostic predict)",
                            p.value, String(p.time.iso8601.prefix(10)), p.lower, p.upper))
        return lines
    }
}
