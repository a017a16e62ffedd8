import Foundation
import Testing
import TwinTesting
import TwinBank
import TwinCore
@testable import TwinRun

@Suite("An SBML model bound to a twin",
       .enabled(if: SharedFolder.has("data/models/apap_reddyhoff2015_reconstructed.xml"),
                "skipped: the SBML model data/models/apap_reddyhoff2015_reconstructed.xml is missing (put ../shared beside the package or set TWINBANK_SHARED)"))
struct SBMLTwinTests {
    let start = try! Instant(parsing: "2024-03-01T08:00:00Z")
    let gsh = Concept(system: "urn:twinbank:apap", code: "GSH", display: "hepatic glutathione")
    let apap = Concept(system: "urn:twinbank:apap", code: "APAP", display: "hepatic acetaminophen")

    var binding: SBMLBinding {
        SBMLBinding(modelPath: SharedData.path("models/apap_reddyhoff2015_reconstructed.xml"), modelID: "apap-reddyhoff-2015",
                    outputs: [.init(variable: "G", code: gsh, unit: "fmol", scale: 1e15),
                              .init(variable: "APAP", code: apap, unit: "fmol", scale: 1e15)])
    }

    @Test(.enabled(if: SharedFolder.has("data/models/apap_reddyhoff2015_reconstructed_roadrunner.csv"),
                   "skipped: the libRoadRunner trace data/models/apap_reddyhoff2015_reconstructed_roadrunner.csv is missing (put ../shared beside the package or set TWINBANK_SHARED)"))
    func predictionsMatchLibRoadRunnerReference() throws {
        let bank = Bank(storage: MemoryStorage())
        try bank.createTwin(Twin(id: "alice-liver", kind: .organ))
        let (result, provenance, series) = try binding.run(for: "alice-liver", in: bank, start: start, hours: 24, points: 999)
        #expect(result.count == 2 * 1000)
        #expect(provenance.parametersHash.count == 64)
        // libRoadRunner (CVODE, rtol 1e-8) trace of the same published model, 1000 points over 0-24 h.
        let ref = try SharedData.columns("models/apap_reddyhoff2015_reconstructed_roadrunner.csv")
        let refGSH = try #require(ref["GSH"]), refAPAP = try #require(ref["APAP"])
        #expect(refGSH.count == 1000)
        var worst = 0.0
        for i in 0..<1000 {
            let g = series[0].points[i].value / 1e15, a = series[1].points[i].value / 1e15
            worst = max(worst, abs(g - refGSH[i]) / (abs(refGSH[i]) + 1e-18))
            worst = max(worst, abs(a - refAPAP[i]) / (abs(refAPAP[i]) + 1e-16))
        }
        #expect(worst < 1e-4, "worst relative deviation from libRoadRunner: \(worst)")
        let stored = try bank.events(ThreadQuery(twin: "alice-liver", code: gsh.key, category: .prediction))
        #expect(stored.count == 1000)
        #expect(stored.first?.provenance.model == "apap-reddyhoff-2015")
    }

    @Test func parameterFromTwinAttributeChangesTheRun() throws {
        let bank = Bank(storage: MemoryStorage())
        try bank.createTwin(Twin(id: "slow-liver", kind: .organ, attributes: ["cyp450Rate": .quantity(Quantity(0.1, "1"))]))
        var b = binding
        b.parameters = [(attribute: "cyp450Rate", parameter: "k450", unit: nil)]
        let (_, _, series) = try b.run(for: "slow-liver", in: bank, start: start, hours: 24, points: 24)
        // Slower CYP450 turnover: less NAPQI, so glutathione falls less at 2 h.
        let ref = Bank(storage: MemoryStorage())
        try ref.createTwin(Twin(id: "liver", kind: .organ))
        let (_, _, normal) = try binding.run(for: "liver", in: ref, start: start, hours: 24, points: 24)
        #expect(series[0].points[2].value > normal[0].points[2].value)

        try bank.createTwin(Twin(id: "unbound", kind: .organ))
        #expect(throws: RunError.self) { try b.run(for: "unbound", in: bank, start: start, hours: 1) }
        var missing = binding
        missing.modelPath = "/nonexistent/model.xml"
        #expect(throws: RunError.self) { try missing.run(for: "slow-liver", in: bank, start: start, hours: 1) }
        #expect(try bank.events(ThreadQuery(twin: "unbound")).isEmpty)
    }

    @Test func initialStateComesFromTheThread() throws {
        let bank = Bank(storage: MemoryStorage())
        try bank.createTwin(Twin(id: "liver", kind: .organ))
        // A measured, depleted glutathione level before the run starts.
        try bank.append([EventDraft(twin: "liver", effective: EffectiveTime(start.advanced(bySeconds: -600)), category: .observation,
                                    code: gsh, value: .quantity(Quantity(3.0, "fmol")), source: Source(.record, "biopsy"))])
        var b = binding
        b.initialValues = [(code: gsh.key, variable: "G", unit: "fmol", scale: 1e15)]
        let (_, provenance, series) = try b.run(for: "liver", in: bank, start: start, hours: 2, points: 4)
        #expect(abs(series[0].points[0].value - 3.0) < 1e-9)
        #expect(provenance.derivedFrom.count == 1)
        // Without a value in the thread, the run names what is missing and writes nothing.
        try bank.createTwin(Twin(id: "other", kind: .organ))
        #expect(throws: RunError.self) { try b.run(for: "other", in: bank, start: start, hours: 1) }
        #expect(try bank.events(ThreadQuery(twin: "other")).isEmpty)
    }
}
