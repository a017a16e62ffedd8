import Foundation
import Testing
import TwinBank
import TwinCore
@testable import TwinSync

/// The hypotension rule of a binding's safety section, in the general loop: any model whose watched output is mean
/// arterial pressure in mm[Hg] gets reading alerts (below 65 mmHg) and a predicted-hypotension alert from its
/// forecast. The model here: an SBML relaxation `dP/dt = -k (P - 50)` from 90 mmHg (a person drifting down after a
/// bleed, say), bound to a twin whose readings follow k = 0.02 /min.
@Suite("The hypotension rule: reading alerts and predicted hypotension through the general loop")
struct HypotensionRuleTests {
    static let map = Concept(system: "http://loinc.org", code: "8478-0", display: "Mean blood pressure")
    static let model = """
        <?xml version="1.0" encoding="UTF-8"?>
        <sbml xmlns="http://www.sbml.org/sbml/level3/version2/core" level="3" version="2">
          <model id="relaxation">
            <listOfCompartments><compartment id="body" size="1" constant="true"/></listOfCompartments>
            <listOfSpecies><species id="P" compartment="body" initialAmount="90" hasOnlySubstanceUnits="true" boundaryCondition="false" constant="false"/></listOfSpecies>
            <listOfParameters><parameter id="k" value="0.01" constant="true"/><parameter id="Pinf" value="50" constant="true"/></listOfParameters>
            <listOfReactions>
              <reaction id="fall" reversible="true">
                <listOfReactants><speciesReference species="P" stoichiometry="1" constant="true"/></listOfReactants>
                <kineticLaw><math xmlns="http://www.w3.org/1998/Math/MathML"><apply><times/><ci> k </ci><apply><minus/><ci> P </ci><ci> Pinf </ci></apply></apply></math></kineticLaw>
              </reaction>
            </listOfReactions>
          </model>
        </sbml>
        """

    struct Fixture {
        let bank: Bank
        let origin = try! Instant(parsing: "2026-03-01T08:00:00Z")
        let binding: ThreadBinding
        init(rule: ThreadBinding.Safety.Rule? = .hypotension) throws {
            let file = FileManager.default.temporaryDirectory.appendingPathComponent("relaxation-\(UUID().uuidString).xml")
            try HypotensionRuleTests.model.write(to: file, atomically: true, encoding: .utf8)
            bank = Bank(storage: MemoryStorage(), clock: ManualClock(origin.advanced(bySeconds: 3 * 3600), stepMicroseconds: 1_000_000))
            try bank.createTwin(Twin(id: "patient", kind: .person))
            binding = ThreadBinding(name: "pressure", model: .init(kind: .sbml, file: file.path, id: "relaxation"), timeUnit: .min, origin: origin,
                                    outputs: [.init(code: HypotensionRuleTests.map, output: "P", unit: "mm[Hg]", noise: .init(additive: 1))],
                                    estimated: [.init(parameter: "k", scale: .log, lower: 1e-4, upper: 1, start: 0.01)],
                                    safety: ThreadBinding.Safety(output: "P", health: ModelHealth.Settings(plausibleRange: 20...200), rule: rule,
                                                                 threshold: LowPressureReading.level1, horizon: 30, probability: 0.5))
            try ThreadBinding.attach(binding, to: "patient", in: bank)
        }
        func measure(_ minutes: [Double]) throws {
            try bank.append(minutes.map { m in
                .observation("patient", at: origin.advanced(bySeconds: m * 60), code: HypotensionRuleTests.map,
                             Quantity((50 + 40 * exp(-0.02 * m)).rounded(), "mm[Hg]"), source: Source(.device, "arterial-line"))
            })
        }
    }

    /// Readings down to 68 mmHg (none low yet): the loop learns k and predicts the pressure below 65 within 30 min.
    @Test func aFallingPressureIsPredictedToBecomeHypotension() async throws {
        let f = try Fixture()
        try f.measure([0, 5, 10, 15, 20, 25, 30, 35, 40])
        var options = BindingSynchroniser.Options()
        options.horizon = 30
        let r = try await BindingSynchroniser.synchronise("patient", in: f.bank, binding: f.binding, options: options)
        let k = try #require(r.estimate["k"]?.value)
        #expect(abs(k - 0.02) < 0.003, "k \(k)")
        let alerts = try f.bank.events(ThreadQuery(twin: "patient", category: .alert))
        #expect(alerts.map(\.code.key) == [BindingSynchroniser.hypotensionAlert.key], "\(alerts.map(\.code))")
        guard case .text(let text)? = alerts.first?.value else { Issue.record("no alert text"); return }
        #expect(text.contains("Hypotension predicted in") && text.contains("min: mean arterial pressure"), "\(text)")
        #expect(alerts.first?.provenance.notes?.contains("watcher=hypotension") == true)
        // no reading was low: no reading alert
        #expect(try f.bank.events(ThreadQuery(twin: "patient", code: LowPressureReading.alertCode.key, category: .alert)).isEmpty)
        // the same sync again writes nothing new
        _ = try await BindingSynchroniser.synchronise("patient", in: f.bank, binding: f.binding, options: options)
        #expect(try f.bank.events(ThreadQuery(twin: "patient", category: .alert)).count == 1)
    }

    /// Readings that go below 65 and then 55 mmHg: one reading alert when the episode starts, one when it becomes
    /// severe, and the latest (the current state always alerts), whatever the model says.
    @Test func lowReadingsAlertOncePerEpisodeAndOnEscalation() async throws {
        let f = try Fixture()
        try f.measure([0, 20, 40, 50, 60, 70, 80, 90, 100, 110])  // 90, 77, 68, 65, 62, 60, 58, 57, 55, 54
        _ = try await BindingSynchroniser.synchronise("patient", in: f.bank, binding: f.binding, options: BindingSynchroniser.Options())
        let lows = try f.bank.events(ThreadQuery(twin: "patient", code: LowPressureReading.alertCode.key, category: .alert))
        let values = lows.compactMap { e -> Double? in
            guard case .text(let t)? = e.value, let r = t.range(of: "reading: ") else { return nil }
            return Double(t[r.upperBound...].prefix { $0 != " " })
        }
        // 65 is not below 65; 62 starts the episode, 57 is 5 below it, 54 is severe (and the latest); 60, 58 and 55
        // neither escalate nor are the latest
        #expect(values == [62, 57, 54], "\(values)")
        #expect(lows.allSatisfy { $0.provenance.notes?.contains("watcher=low-pressure-reading") == true })
    }

    @Test func theRuleNeedsPressureInMillimetresOfMercury() throws {
        var b = try Fixture(rule: nil).binding
        b.outputs[0].unit = "kPa"
        b.safety?.rule = .hypotension
        #expect(throws: SyncError.self) { try b.validate() }
        do { try b.validate() } catch let e as SyncError { #expect(e.message.contains("mm[Hg]")) } catch { Issue.record("\(error)") }
    }
}
