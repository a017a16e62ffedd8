import Foundation
import Testing
import TwinBank
import TwinCore
import TwinModels
import TwinSimulation
@testable import TwinRun

/// Beat-by-beat blood pressure derived from an arterial pressure waveform in a thread (issue 30 item 4): the
/// circulation's own aortic pressure at 125 Hz as a waveform observation; its summary and per-beat readings written
/// back once, with the waveform as provenance, and agreeing with the model's exact beats.
@Suite struct ArterialPressureDerivationTests {
    @Test func beatsOfAWaveformAreDerivedOnceWithProvenance() throws {
        let rate = 125.0
        let scenario = CirculationScenario(parameters: .withPulmonaryCirculation, seconds: 30, baroreflex: Baroreflex(), sampleInterval: 1 / rate)
        var (truth, pressure) = try CirculationSimulator.runWithPressureWaveform(scenario)
        var random = Xoshiro256StarStar(seed: 3)
        for i in pressure.indices { pressure[i] += 0.5 * random.nextNormal() }
        let seconds = Double(pressure.count) / rate
        let t0 = try Instant(parsing: "2026-03-01T08:00:00Z")
        let bank = Bank(storage: MemoryStorage(), clock: ManualClock(t0.advanced(bySeconds: 3600)))
        try bank.createTwin(Twin(id: "heart", kind: .person))
        let abp = Concept(system: "urn:oid:2.16.840.1.113883.6.24", code: "150016", display: "MDC_PRESS_BLD_ART")
        let waveform = EventDraft(twin: "heart", effective: EffectiveTime(t0, end: t0.advanced(bySeconds: seconds)), category: .observation, code: abp,
                                  value: .vector(Vector(pressure, unit: "mm[Hg]")), source: Source(.device, "art-line-1"))
        let short = EventDraft(twin: "heart", effective: EffectiveTime(t0.advanced(bySeconds: 100), end: t0.advanced(bySeconds: 102)), category: .observation,
                               code: abp, value: .vector(Vector(Array(pressure.prefix(250)), unit: "mm[Hg]")), source: Source(.device, "art-line-1"))
        let ids = try bank.append([waveform, short]).ids

        let report = try ArterialPressureDerivation.derive("heart", in: bank, perBeat: true)
        #expect(report.skipped.map(\.strip) == [ids[1]], "the 2 s waveform is too short: \(report.skipped)")
        let d = try #require(report.derived.first)
        #expect(abs(d.samplingRate - rate) < 1e-9)
        // against the model's exact beats (all but the first and last, which the waveform cuts)
        let inner = truth.dropFirst().dropLast()
        func mean(_ f: (BeatSummary) -> Double) -> Double { inner.reduce(0) { $0 + f($1) } / Double(inner.count) }
        print(String(format: "derived %d beats (%d plausible): %.1f/%.1f mean %.1f, HR %.1f; model %.1f/%.1f mean %.1f, HR %.1f",
                     d.beats, d.plausibleBeats, d.systolic, d.diastolic, d.mean, d.heartRate,
                     mean(\.systolicPressure), mean(\.diastolicPressure), mean(\.meanArterialPressure), mean(\.heartRate)))
        #expect(d.plausibleBeats >= inner.count - 1)
        #expect(abs(d.systolic - mean(\.systolicPressure)) < 1.5)
        #expect(abs(d.diastolic - mean(\.diastolicPressure)) < 1.5)
        #expect(abs(d.mean - mean(\.meanArterialPressure)) < 1)
        #expect(abs(d.heartRate - mean(\.heartRate)) < 1)

        // in the thread: the four summaries at the waveform's span and three readings per plausible beat, from it
        #expect(d.appended.count == 4 + 3 * d.plausibleBeats)
        let maps = try bank.events(ThreadQuery(twin: "heart", code: ArterialPressureDerivation.meanPressure.key))
        #expect(maps.count == 1 + d.plausibleBeats)
        #expect(maps.allSatisfy { $0.provenance.derivedFrom == [ids[0]] && $0.provenance.model == ArterialPressureDerivation.model.name })
        let summary = try #require(maps.first { $0.effective == waveform.effective })
        guard case .quantity(let q)? = summary.value else { Issue.record("no mean pressure value"); return }
        #expect(q.unit == "mm[Hg]" && abs(q.value - d.mean) < 1e-9)
        let perBeat = maps.filter { $0.effective.end == nil }.map(\.effective.start).sorted()
        #expect(perBeat.first.map { $0 >= t0 } == true && perBeat.last.map { $0 <= t0.advanced(bySeconds: seconds) } == true)
        let hr = try bank.events(ThreadQuery(twin: "heart", code: ArterialPressureDerivation.heartRate.key))
        #expect(hr.count == 1)

        // again: nothing appended; the ECG derivation leaves the pressure waveform alone, even by its code
        let again = try ArterialPressureDerivation.derive("heart", in: bank, perBeat: true)
        #expect(again.derived.first?.appended.isEmpty == true)
        #expect(try bank.events(ThreadQuery(twin: "heart", code: ArterialPressureDerivation.meanPressure.key)).count == maps.count)
        let ecg = try ECGDerivation.derive("heart", in: bank, code: abp.key)
        #expect(ecg.derived.isEmpty && ecg.skipped.isEmpty)
    }

    /// A waveform in kPa is converted; one that is flat has no beats and is skipped with why.
    @Test func convertsUnitsAndSkipsAFlatWaveform() throws {
        let t0 = try Instant(parsing: "2026-03-01T08:00:00Z")
        let bank = Bank(storage: MemoryStorage(), clock: ManualClock(t0.advanced(bySeconds: 3600)))
        try bank.createTwin(Twin(id: "h", kind: .person))
        let rate = 125.0
        let (_, pressure) = try CirculationSimulator.runWithPressureWaveform(
            CirculationScenario(parameters: .withPulmonaryCirculation, seconds: 20, baroreflex: Baroreflex(), sampleInterval: 1 / rate))
        let seconds = Double(pressure.count) / rate
        let abp = Concept(system: "urn:twinbank:test", code: "abp")
        try bank.append([
            EventDraft(twin: "h", effective: EffectiveTime(t0, end: t0.advanced(bySeconds: seconds)), category: .observation, code: abp,
                       value: .vector(Vector(pressure.map { $0 * 0.133322 }, unit: "kPa")), source: Source(.device, "cuff")),
            EventDraft(twin: "h", effective: EffectiveTime(t0.advanced(bySeconds: 60), end: t0.advanced(bySeconds: 70)), category: .observation, code: abp,
                       value: .vector(Vector([Double](repeating: 90, count: 1250), unit: "mm[Hg]")), source: Source(.device, "cuff")),
        ])
        let report = try ArterialPressureDerivation.derive("h", in: bank)
        let d = try #require(report.derived.first)
        #expect(d.mean > 70 && d.mean < 120, "converted from kPa: \(d.mean)")
        #expect(report.skipped.count == 1)
        #expect(report.skipped.first?.reason.contains("plausible beat") == true, "\(report.skipped)")
    }
}
