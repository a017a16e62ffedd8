import Foundation
import Testing
@testable import TwinBank
import TwinCore

@Suite struct EventJSONTests {
    @Test func manualEventLinesDecodeToTheSameEvent() throws {
        let values: [Value?] = [nil, .quantity(Quantity(1e-5, "mg/dL")), .quantity(Quantity(-123456.789, "{beats}/min")),
                                .concept(Concept(system: "http://snomed.info/sct", code: "44054006", display: "Diabetes \"type 2\"")),
                                .text("tab\there, newline\nback\\slash, ünïcödé ✓, \u{1}"), .date(t("1980-04-02T07:45:30.123456Z")),
                                .vector(Vector([0.1, -2, 3e-9, 1e300], unit: "mV")), .boolean(false)]
        var writer = EventJSONWriter()
        for (i, v) in values.enumerated() {
            let e = Event(id: EventHasher.sha256([UInt8(i)]), twin: "a.b:c#1", effective: EffectiveTime(t("2024-01-01"), end: i % 2 == 0 ? t("2024-01-02") : nil),
                          recorded: t("2026-01-01T00:00:00.5Z"), sequence: Int64(i) * 1_000_000_007, category: Event.Category.allCases[i % 7],
                          code: Concept(system: "urn:x", code: "c\"\(i)", display: i == 3 ? nil : "d\\"), value: v,
                          source: Source(.import, "/tmp/x y.csv".replacingOccurrences(of: " ", with: "_")),
                          provenance: i == 2 ? Provenance(derivedFrom: [EventHasher.sha256([1]), EventHasher.sha256([2])], model: "m", modelVersion: "1.0",
                                                          parametersHash: "p", seed: UInt64.max, notes: "n\"") : Provenance(),
                          retractedAtSequence: i == 4 ? 99 : nil, erasure: i == 5 ? "privacy \"x\"" : nil)
            let line = writer.eventLine(e)
            let decoded = try JSONDecoder().decode(BundleFormat.EventLine.self, from: Data(line))
            #expect(decoded.event == e, "value \(i)")
            #expect(decoded.t == "event")
        }
    }
}
