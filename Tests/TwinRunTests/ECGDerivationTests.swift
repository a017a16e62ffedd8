import Foundation
import Testing
import TwinBank
import TwinCore
import TwinModels
@testable import TwinRun

/// Heart rate and variability derived from ECG strips in a thread, written back with the strip as provenance.
@Suite struct ECGDerivationTests {
    /// A synthetic ECG at `rate` Hz: a narrow R wave (1 mV) on each beat at the given sample, a broad T wave
    /// (0.3 mV) 250 ms after it, on a slow 0.2 mV baseline drift.
    static func strip(beats: [Int], samples: Int, rate: Double) -> [Double] {
        var x = (0..<samples).map { 0.2 * sin(2 * Double.pi * 0.3 * Double($0) / rate) }
        for b in beats {
            for k in -15...15 where b + k >= 0 && b + k < samples {
                x[b + k] += exp(-pow(Double(k) / rate / 0.008, 2))
            }
            let t = b + Int(0.25 * rate)
            for k in -40...40 where t + k >= 0 && t + k < samples {
                x[t + k] += 0.3 * exp(-pow(Double(k) / rate / 0.04, 2))
            }
        }
        return x
    }

    @Test func heartRateAndVariabilityAreDerivedOnceWithProvenance() throws {
        let t0 = try Instant(parsing: "2026-03-01T08:00:00Z")
        let bank = Bank(storage: MemoryStorage(), clock: ManualClock(t0.advanced(bySeconds: 3600)))
        try bank.createTwin(Twin(id: "heart", kind: .person))
        // 30 s at 250 Hz; intervals cycling 800, 840, 760 ms (200, 210, 190 samples)
        let rate = 250.0
        var beats: [Int] = [120]  // (as NeuroKit2, a peak within 300 ms of the strip's start is not taken)
        while true { let next = beats.last! + [200, 210, 190][beats.count % 3]; if next >= 7450 { break }; beats.append(next) }
        let values = Self.strip(beats: beats, samples: 7500, rate: rate)
        let lead = Concept(system: "urn:oid:2.16.840.1.113883.6.24", code: "131329", display: "MDC_ECG_ELEC_POTL_I")
        let ecg = EventDraft(twin: "heart", effective: EffectiveTime(t0, end: t0.advanced(bySeconds: 30)), category: .observation, code: lead,
                             value: .vector(Vector(values, unit: "mV")), source: Source(.device, "holter-1"))
        let short = EventDraft(twin: "heart", effective: EffectiveTime(t0.advanced(bySeconds: 60), end: t0.advanced(bySeconds: 62)), category: .observation,
                               code: lead, value: .vector(Vector(Array(values.prefix(500)), unit: "mV")), source: Source(.device, "holter-1"))
        let ids = try bank.append([ecg, short]).ids

        let report = try ECGDerivation.derive("heart", in: bank)
        #expect(report.derived.count == 1)
        #expect(report.skipped.map(\.strip) == [ids[1]], "the 2 s strip is too short: \(report.skipped)")
        let d = try #require(report.derived.first)
        #expect(d.beats == beats.count)
        #expect(abs(d.samplingRate - rate) < 1e-9)
        let intervals = zip(beats.dropFirst(), beats).map { Double($0 - $1) * 4 }
        let expected = try HeartRateVariability(intervals: intervals)
        #expect(abs(d.variability.heartRate - expected.heartRate) < 1e-9, "\(d.variability.heartRate) vs \(expected.heartRate)")
        #expect(abs(d.variability.sdnn - expected.sdnn) < 1e-9 && abs(d.variability.rmssd - expected.rmssd) < 1e-9)
        #expect(abs(expected.heartRate - 75) < 0.5)

        // in the thread: three observations at the strip's span, derived from it
        let hr = try bank.events(ThreadQuery(twin: "heart", code: ECGDerivation.heartRate.key))
        #expect(hr.count == 1)
        #expect(hr.first?.provenance.derivedFrom == [ids[0]])
        #expect(hr.first?.effective == ecg.effective)
        guard case .quantity(let q)? = hr.first?.value else { Issue.record("no heart rate value"); return }
        #expect(q.unit == "/min" && abs(q.value - expected.heartRate) < 1e-9)
        #expect(try bank.events(ThreadQuery(twin: "heart", code: ECGDerivation.sdnn.key)).count == 1)
        #expect(try bank.events(ThreadQuery(twin: "heart", code: ECGDerivation.rmssd.key)).count == 1)

        // deriving again appends nothing
        let again = try ECGDerivation.derive("heart", in: bank)
        #expect(again.derived.count == 1 && again.derived[0].appended.isEmpty)
        #expect(try bank.events(ThreadQuery(twin: "heart", code: ECGDerivation.heartRate.key)).count == 1)
        // a code that no strip has reads nothing
        #expect(try ECGDerivation.derive("heart", in: bank, code: CodeKey(system: "http://loinc.org", code: "0000-0")).derived.isEmpty)
    }

    @Test func aStripWithoutASpanIsSkippedSayingWhy() throws {
        let bank = Bank(storage: MemoryStorage())
        try bank.createTwin(Twin(id: "h", kind: .person))
        try bank.append([EventDraft(twin: "h", effective: EffectiveTime(try Instant(parsing: "2026-03-01T08:00:00Z")), category: .observation,
                                    code: Concept(system: "urn:local", code: "ecg"), value: .vector(Vector([0, 1, 0], unit: "mV")), source: Source(.device, "d"))])
        let report = try ECGDerivation.derive("h", in: bank)
        #expect(report.derived.isEmpty)
        #expect(report.skipped.first?.reason.contains("no span") == true)
    }
}
