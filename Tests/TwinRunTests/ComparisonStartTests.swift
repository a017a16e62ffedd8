import Foundation
import Testing
import TwinBank
import TwinCore
import TwinModels
import TwinSync
import TwinSimulation
@testable import TwinRun

@Suite("A comparison starts from what the two-way loop learnt")
struct ComparisonStartTests {
    static let drug = Concept(system: "http://www.nlm.nih.gov/research/umls/rxnorm", code: "11124", display: "vancomycin")
    static let level = Concept.loinc("20578-1", "Vancomycin [Mass/volume] in Serum or Plasma")
    let start = try! Instant(parsing: "2026-03-01T08:00:00Z")
    let clock = ManualClock(try! Instant(parsing: "2026-03-03T00:00:00Z"), stepMicroseconds: 1_000_000)

    /// A vancomycin twin (prior CL 4 L/h, V 50 L, iv) bound through the pk preset; the person clears 6 L/h.
    func bank() throws -> Bank {
        let bank = Bank(storage: MemoryStorage(), clock: clock)
        try bank.createTwin(Twin(id: "pat", kind: .person, attributes: [
            "pk.clearance": .quantity(Quantity(4, "L/h")), "pk.volume": .quantity(Quantity(50, "L")),
            "pk.targetLow": .quantity(Quantity(10, "mg/L")), "pk.targetHigh": .quantity(Quantity(20, "mg/L")),
            "pk.code": .concept(Self.drug), "pk.levelCode": .concept(Self.level)]))
        try ThreadBinding.attach(try ThreadBinding.pk(for: try bank.twin("pat").twin), to: "pat", in: bank)
        try bank.append([EventDraft(twin: "pat", effective: EffectiveTime(start), category: .intervention, code: Self.drug,
                                    value: .quantity(Quantity(1500, "mg")), source: Source(.record, "mar"))])
        return bank
    }

    func measure(_ bank: Bank, _ hours: [Double]) throws {
        try bank.append(hours.map { h in
            .observation("pat", at: start.advanced(bySeconds: h * 3600), code: Self.level, Quantity(30 * exp(-0.12 * h), "mg/L"), source: Source(.device, "lab"))
        })
    }

    @Test func aComparisonAfterASynchronisationStartsFromItsEstimate() async throws {
        let bank = try bank()
        try measure(bank, [2, 6])
        let binding = try ThreadBinding.binding(of: try bank.twin("pat").twin)
        var sync = BindingSynchroniser.Options()
        sync.to = start.advanced(bySeconds: 7 * 3600)
        let synced = try await BindingSynchroniser.synchronise("pat", in: bank, binding: binding, options: sync)
        let compareAt = start.advanced(bySeconds: 8 * 3600)
        let estimate = try #require(try ComparisonStart.estimate(for: "pat", kind: .pk, in: bank, at: compareAt))
        #expect(estimate["clearance"]?.value == synced.estimate["clearance"]?.value)
        let result = try await DoseComparison.compare("pat", in: bank, options: [try .init(parsing: "hold=")], start: compareAt, hours: 12, ensemble: 1)
        let c = try #require(result.calibration)
        #expect(c.clearance == synced.estimate["clearance"]!.value && c.volume == synced.estimate["volume"]!.value)
        #expect(c.priorClearance == 4 && c.levels == 2)
        #expect(c.clearance > 4.5)   // it learnt the faster clearance
    }

    @Test func aReplayAsOfAnEarlierKnownAtUsesWhatWasKnownThen() async throws {
        let bank = try bank()
        try measure(bank, [2])
        let binding = try ThreadBinding.binding(of: try bank.twin("pat").twin)
        var sync = BindingSynchroniser.Options()
        sync.to = start.advanced(bySeconds: 3 * 3600)
        let first = try await BindingSynchroniser.synchronise("pat", in: bank, binding: binding, options: sync)
        clock.advance(byMicroseconds: 3_600_000_000)
        let then = clock.now()
        clock.advance(byMicroseconds: 3_600_000_000)
        try measure(bank, [6, 10])
        sync.to = start.advanced(bySeconds: 11 * 3600)
        let second = try await BindingSynchroniser.synchronise("pat", in: bank, binding: binding, options: sync)
        let compareAt = start.advanced(bySeconds: 12 * 3600)
        let now = try await DoseComparison.compare("pat", in: bank, options: [try .init(parsing: "hold=")], start: compareAt, hours: 12, ensemble: 1)
        let replay = try await DoseComparison.compare("pat", in: bank, options: [try .init(parsing: "hold=")], start: compareAt, hours: 12, ensemble: 1, knownAt: then)
        #expect(now.calibration?.clearance == second.estimate["clearance"]!.value && now.calibration?.levels == 3)
        #expect(replay.calibration?.clearance == first.estimate["clearance"]!.value && replay.calibration?.levels == 1)
        #expect(first.estimate["clearance"]!.value != second.estimate["clearance"]!.value)
        // a comparison before the estimate's window ended does not use it
        #expect(try ComparisonStart.estimate(for: "pat", kind: .pk, in: bank, at: start.advanced(bySeconds: 3600)) == nil)
    }
}

@Suite("A glucose comparison starts from the glucose twin's latest estimate")
struct GlucoseComparisonStartTests {
    let start = try! Instant(parsing: "2024-01-01T00:00:00Z")

    /// Alice (adult#001) with three meals after the start and two hours of CGM readings before it, bound with the
    /// glucose preset on a manual clock.
    func bank(_ clock: ManualClock) throws -> Bank {
        let bank = Bank(storage: MemoryStorage(), clock: clock)
        try bank.createTwin(Twin(id: "alice", kind: .person, attributes: ["virtualPatient": .text("adult#001")]))
        try ThreadBinding.attach(.glucose, to: "alice", in: bank)
        try bank.append([(7.0, 45.0), (12.0, 70.0), (18.0, 80.0)].map { h, g in
            EventDraft(twin: "alice", effective: EffectiveTime(start.advanced(bySeconds: h * 3600)), category: .intervention,
                       code: GlucoseTwin.carbohydrateIntake, value: .quantity(Quantity(g, "g")), source: Source(.person, "alice"))
        })
        try bank.append(stride(from: -120, through: 0, by: 5).map { m in
            .observation("alice", at: start.advanced(bySeconds: Double(m) * 60), code: GlucoseSynchroniser.glucose,
                         Quantity(180 + Double(m) * 0.2, "mg/dL"), source: Source(.device, "cgm"))
        })
        return bank
    }

    @Test func theEnsembleCentresOnTheEstimateAndAReplayOnWhatWasKnown() async throws {
        let clock = ManualClock(try! Instant(parsing: "2024-01-03T00:00:00Z"), stepMicroseconds: 1_000_000)
        let bank = try bank(clock)
        let options = [try InSilicoComparison.Option(parsing: "usual=")]
        let before = try await InSilicoComparison.compare("alice", in: bank, options: options, start: start, hours: 12, ensemble: 1, seed: 3)
        let beforeSync = clock.now()
        var o = GlucoseSynchroniser.Options()
        o.from = start.advanced(bySeconds: -7200)
        o.to = start
        o.binding = .glucose
        let synced = try await GlucoseSynchroniser.synchronise("alice", in: bank, options: o)
        let estimate = try #require(try ComparisonStart.estimate(for: "alice", kind: .glucose, in: bank, at: start))
        #expect(estimate.parameters.map(\.id) == ["Vmx", "kp3", "kabs"])
        #expect(estimate["Vmx"]?.value == synced.parameters["Vmx"]?["estimated"])
        let after = try await InSilicoComparison.compare("alice", in: bank, options: options, start: start, hours: 12, ensemble: 1, seed: 3)
        #expect(after.options[0].outcomes != before.options[0].outcomes)
        let replay = try await InSilicoComparison.compare("alice", in: bank, options: options, start: start, hours: 12, ensemble: 1, seed: 3, knownAt: beforeSync)
        #expect(replay.options[0].outcomes == before.options[0].outcomes)
    }
}

@Suite("An SBML model bound to a twin becomes a thread binding")
struct SBMLThreadBindingTests {
    @Test func theBindingCarriesItsModelParametersAndOutputs() throws {
        let sbml = SBMLBinding(modelPath: "/models/apap.xml", modelID: "apap", parameters: [(attribute: "weight", parameter: "BW", unit: "kg")],
                               outputs: [.init(variable: "APAP", code: Concept.loinc("3298-7"), unit: "umol/L", scale: 1e6)], modelTimePerHour: 3600)
        let b = try sbml.threadBinding(name: "apap", noise: .init(additive: 1, proportional: 0.1))
        #expect(b.model.kind == .sbml && b.model.file == "/models/apap.xml" && b.timeUnit == .s)
        #expect(b.outputs[0].output == "APAP" && b.outputs[0].unit == "10*6.umol/L")
        #expect(b.parameters == [ThreadBinding.ParameterSetting(parameter: "BW", attribute: "weight", unit: "kg")])
        try b.validate()
        // a reading of 5 umol/L is 5e-6 of the model's unit (mol/L)
        #expect(abs((try Quantity(5, "umol/L").converted(to: b.outputs[0].unit).value) - 5e-6) < 1e-18)
        let odd = SBMLBinding(modelPath: "m.xml", modelID: "m", outputs: [.init(variable: "x", code: Concept.loinc("1-1"), unit: "mg", scale: 3)])
        #expect(throws: RunError.self) { try odd.threadBinding(name: "m", noise: .init(additive: 1)) }
    }
}
