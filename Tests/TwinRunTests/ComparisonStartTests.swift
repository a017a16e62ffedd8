import Foundation
import Testing
import TwinBank
import TwinCore
import TwinModels
import TwinSync
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
