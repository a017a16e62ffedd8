import Foundation
import Testing
import TwinTesting
import TwinBank
import TwinCore
import TwinModels
@testable import TwinRun

@Suite("A glucose twin runs the UVA/Padova model from its own thread")
struct GlucoseTwinTests {
    let start = try! Instant(parsing: "2024-01-01T00:00:00Z")

    func bankWithPatient() throws -> Bank {
        let bank = Bank(storage: MemoryStorage(), clock: ManualClock(try Instant(parsing: "2024-01-02T00:00:00Z")))
        try bank.createTwin(Twin(id: "alice", kind: .person, attributes: ["virtualPatient": .text("adult#001")]))
        var drafts: [EventDraft] = []
        for (h, g) in [(7.0, 45.0), (12.0, 70.0), (18.0, 80.0)] {
            drafts.append(EventDraft(twin: "alice", effective: EffectiveTime(start.advanced(bySeconds: h * 3600)), category: .intervention,
                                     code: GlucoseTwin.carbohydrateIntake, value: .quantity(Quantity(g, "g")), source: Source(.person, "alice")))
        }
        try bank.append(drafts)
        return bank
    }

    @Test(.enabled(if: SharedFolder.has("data/simglucose/simglucose-adult001-24h.csv"),

                   "skipped: the simglucose trace data/simglucose/simglucose-adult001-24h.csv is missing (put ../shared beside the package or set TWINBANK_SHARED)"))
    func matchesSimglucoseThroughTheTwinsThread() throws {
        let bank = try bankWithPatient()
        let run = try GlucoseTwin.simulate("alice", in: bank, start: start, hours: 24)
        let reference = try SharedData.columns("simglucose/simglucose-adult001-24h.csv")["BG"] ?? []
        let n = min(reference.count, run.trace.bg.count)
        #expect(n >= 1440)
        var sum = 0.0
        for i in 0..<n { sum += (reference[i] - run.trace.bg[i]) * (reference[i] - run.trace.bg[i]) }
        let rms = (sum / Double(n)).squareRoot()
        #expect(rms < 1.0, "BG RMS vs simglucose \(rms) mg/dL")
        #expect(run.provenance.derivedFrom.count == 3)
    }

    @Test func predictionsCarryProvenanceAndForksDiverge() throws {
        let bank = try bankWithPatient()
        let run = try GlucoseTwin.simulate("alice", in: bank, start: start, hours: 24)
        let written = try GlucoseTwin.record(run, to: "alice", in: bank, every: 5)
        #expect(written.count == (run.trace.bg.count + 4) / 5)
        let predictions = try bank.events(ThreadQuery(twin: "alice", category: .prediction))
        #expect(predictions.count == written.count)
        let p = try #require(predictions.first)
        #expect(p.provenance.model == GlucoseTwin.modelID)
        #expect(p.provenance.parametersHash?.count == 64)
        #expect(p.provenance.notes?.contains("rtol=") == true)
        #expect(p.source == Source(.model, "\(GlucoseTwin.modelID)@\(GlucoseTwin.modelVersion)"))

        // A fork receives a hypothetical larger dinner; only the fork's simulation sees it.
        try bank.fork("alice", at: start.advanced(bySeconds: 8 * 3600), as: "alice-big-dinner")
        try bank.append([EventDraft(twin: "alice-big-dinner", effective: EffectiveTime(start.advanced(bySeconds: 18 * 3600)),
                                    category: .intervention, code: GlucoseTwin.carbohydrateIntake, value: .quantity(Quantity(150, "g")),
                                    source: Source(.person, "what-if"))])
        let fork = try GlucoseTwin.simulate("alice-big-dinner", in: bank, start: start, hours: 24)
        // The fork keeps breakfast (before the fork point) but not lunch or the original dinner.
        #expect(fork.scenario.meals.meals.map(\.grams) == [45, 150])
        #expect(fork.trace.bg.max()! > run.trace.bg.max()!)
        let again = try GlucoseTwin.simulate("alice", in: bank, start: start, hours: 24)
        #expect(again.trace.bg == run.trace.bg)
    }

    @Test func missingOrUnknownBindingIsAClearError() throws {
        let bank = Bank(storage: MemoryStorage())
        try bank.createTwin(Twin(id: "bob", kind: .person))
        #expect(throws: RunError.self) { try GlucoseTwin.simulate("bob", in: bank, start: start, hours: 1) }
        try bank.createTwin(Twin(id: "carol", kind: .person, attributes: ["virtualPatient": .text("adult#999")]))
        do {
            _ = try GlucoseTwin.simulate("carol", in: bank, start: start, hours: 1)
            Issue.record("an unknown patient must be rejected")
        } catch let e as RunError {
            #expect(e.code == .invalidBinding)
            #expect(e.value == "adult#999")
        }
    }
}
