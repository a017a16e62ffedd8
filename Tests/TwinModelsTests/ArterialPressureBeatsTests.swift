import Foundation
import Testing
import TwinSimulation
import TwinTesting
@testable import TwinModels

/// The arterial-pressure beat detector on the circulation model's own waveform: the two-circuit person with the
/// baroreflex, losing blood so pressure and heart rate move beat by beat, sampled at 125 and 250 Hz with Gaussian
/// noise, must give back the model's exact beats (``BeatSummary``, the model's own cardiac cycles).
@Suite struct ArterialPressureBeatsTests {
    /// The model's beats and its aortic pressure sampled at `rate` Hz, with noise of `noise` mmHg (SD).
    static func recording(rate: Double, noise: Double, seed: UInt64) throws -> (beats: [BeatSummary], pressure: [Double]) {
        let scenario = CirculationScenario(parameters: .withPulmonaryCirculation, seconds: 90, haemorrhages: [(start: 20, duration: 40, volume: 400)],
                                           baroreflex: Baroreflex(), sampleInterval: 1 / rate)
        var (beats, pressure) = try CirculationSimulator.runWithPressureWaveform(scenario)
        var random = Xoshiro256StarStar(seed: seed)
        for i in pressure.indices { pressure[i] += noise * random.nextNormal() }
        return (beats, pressure)
    }

    @Test(arguments: [(125.0, 1 as UInt64), (250.0, 2 as UInt64)])
    func findsTheModelsBeats(rate: Double, seed: UInt64) throws {
        let (truth, pressure) = try Self.recording(rate: rate, noise: 0.5, seed: seed)
        let found = try ArterialPressureBeats(samplingRate: rate).beats(pressure)
        // each model beat (a whole cardiac cycle from the start of contraction) holds exactly one detected foot
        var worst = (systolic: 0.0, diastolic: 0.0, mean: 0.0, interval: 0.0)
        var matched = 0
        for b in truth {
            let length = 60 / b.heartRate
            let inside = found.filter { $0.start >= b.start && $0.start < b.start + length }
            #expect(inside.count == 1 || b.start + length > found.last!.start, "beat at \(b.start) s: \(inside.count) feet")
            guard let d = inside.first, d.end < pressure.count - 1, inside.count == 1 else { continue }
            matched += 1
            worst.systolic = max(worst.systolic, abs(d.systolic - b.systolicPressure))
            worst.diastolic = max(worst.diastolic, abs(d.diastolic - b.diastolicPressure))
            worst.mean = max(worst.mean, abs(d.mean - b.meanArterialPressure))
            worst.interval = max(worst.interval, abs(d.interval - length))
        }
        print(String(format: "arterial pressure beats at %.0f Hz, noise 0.5 mmHg: %d of %d model beats, worst |Δ| systolic %.2f, diastolic %.2f, mean %.2f mmHg, interval %.1f ms",
                     rate, matched, truth.count, worst.systolic, worst.diastolic, worst.mean, worst.interval * 1000))
        #expect(matched >= truth.count - 2)
        #expect(found.allSatisfy { $0.isPlausible }, "\(found.filter { !$0.isPlausible }.map(\.start))")
        #expect(found.count <= truth.count + 1)
        #expect(worst.systolic < 1.5)
        #expect(worst.diastolic < 1.5)
        #expect(worst.mean < 1.0)
        // the foot moves a little within the cycle as contractility and pressure change: two samples and 10 ms
        #expect(worst.interval < 2 / rate + 0.01)
        // heart rate over the run from the intervals, against the model's
        let rateFound = found.map(\.heartRate).reduce(0, +) / Double(found.count)
        let rateTrue = truth.map(\.heartRate).reduce(0, +) / Double(truth.count)
        #expect(abs(rateFound - rateTrue) < 0.5, "\(rateFound) vs \(rateTrue)")
    }

    /// Breathing moves the baseline (±5 mmHg at 0.25 Hz) and the recording drops out for 3 s (a flat line at 0, as
    /// a disconnected transducer): every model beat outside the gap is still found, none inside it, and the gap
    /// gives no plausible beat of its own.
    @Test func baselineWanderAndADropout() throws {
        let rate = 250.0
        var (truth, pressure) = try Self.recording(rate: rate, noise: 0.5, seed: 3)
        for i in pressure.indices { pressure[i] += 5 * sin(2 * Double.pi * 0.25 * Double(i) / rate) }
        let gap = Int(40 * rate)..<Int(43 * rate)
        for i in gap { pressure[i] = 0 }
        let all = try ArterialPressureBeats(samplingRate: rate).beats(pressure)
        // the recording resuming is an upstroke from 0: its beat is found but flagged, as is the next (a 20 mmHg jump)
        let found = all.filter(\.isPlausible)
        #expect(all.count - found.count <= 2, "\(all.filter { !$0.isPlausible }.map(\.start))")
        #expect(found.allSatisfy { $0.end <= gap.lowerBound || $0.foot >= gap.upperBound }, "a beat spans the gap")
        #expect(found.allSatisfy { $0.interval < 1.5 })
        let outside = truth.filter { $0.start + 60 / $0.heartRate < 40 - 0.5 || $0.start > 43 + 0.5 }
        let missed = outside.filter { b in !found.contains { $0.start >= b.start && $0.start < b.start + 60 / b.heartRate } }
        print("baseline wander ±5 mmHg and a 3 s dropout: \(found.count) beats, \(missed.count) of \(outside.count) model beats outside the gap missed")
        #expect(missed.count <= 2, "\(missed.map(\.start))")
    }

    @Test func badAndEmptyInput() throws {
        let detector = ArterialPressureBeats(samplingRate: 250)
        #expect(try detector.beats([]).isEmpty)
        #expect(try detector.beats([Double](repeating: 90, count: 2500)).isEmpty)      // flat: no pulse
        #expect(try detector.beats([80, 120, 80]).isEmpty)                             // shorter than a slope window
        do { _ = try detector.beats([80, .nan, 90] + [Double](repeating: 80, count: 100)); Issue.record("accepted NaN") } catch {
            #expect(error.code == .invalidArgument); #expect(error.message.contains("sample 1"))
        }
        #expect(throws: ModelError.self) { try ArterialPressureBeats(samplingRate: 10).beats([80, 90]) }
        var odd = detector
        odd.slopeWindow = 0
        #expect(throws: ModelError.self) { try odd.beats([80, 90]) }
    }

    /// An external check of the systolic peaks: NeuroKit2's pulse-wave peak detector (`ppg_findpeaks`, Elgendi's
    /// method; NeuroKit2 has no arterial-pressure detector of its own) on the same noiseless model waveform at 250 Hz
    /// must find the same peaks, within 3 samples (12 ms), away from the recording's first and last second. Without the anchor Python (outside CI) it reports itself
    /// skipped.
    @Test(.enabled(if: SharedFolder.isCI || SharedFolder.hasAnchorPython,
                   "skipped: no anchor Python with neurokit2 (set TWINBANK_ANCHOR_PYTHON)"))
    func systolicPeaksAreNeuroKit2s() throws {
        guard let python = SharedFolder.anchorPython else {
            Issue.record("CI installs the anchors, yet the anchor Python is missing (set TWINBANK_ANCHOR_PYTHON)")
            return
        }
        let (_, pressure) = try Self.recording(rate: 250, noise: 0, seed: 0)
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("abp-\(UUID().uuidString).txt")
        try pressure.map { String($0) }.joined(separator: "\n").write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        let script = """
        import json, sys
        import numpy as np
        import neurokit2 as nk
        x = np.loadtxt(sys.argv[1])
        peaks = nk.ppg_findpeaks(x, sampling_rate=250, method="elgendi")["PPG_Peaks"]
        print("PEAKS" + json.dumps([int(p) for p in peaks]))
        """
        let (status, output) = try SharedData.run(python, ["-c", script, file.path])
        guard status == 0, let marker = output.range(of: "PEAKS") else {
            Issue.record("neurokit2 failed (\(status)): \(output.suffix(800))")
            return
        }
        let reference = try JSONDecoder().decode([Int].self, from: Data(output[marker.upperBound...].prefix { $0 != "\n" }.utf8))
        // NeuroKit2's moving averages miss a peak within their window of either end: compare away from the ends
        let found = try ArterialPressureBeats(samplingRate: 250).beats(pressure).map(\.peak).filter { $0 >= 250 && $0 < pressure.count - 250 }
        // every peak of a complete beat here is one of NeuroKit2's
        let unmatched = found.filter { p in !reference.contains { abs($0 - p) <= 3 } }
        let offsets = found.compactMap { p in reference.min { abs($0 - p) < abs($1 - p) }.map { $0 - p } }
        print("NeuroKit2 ppg_findpeaks on the model's 250 Hz waveform: \(reference.count) peaks there, \(found.count) complete beats here, \(unmatched.count) unmatched; offsets (samples) \(Set(offsets).sorted())")
        #expect(unmatched.isEmpty, "\(unmatched.prefix(10))")
        #expect(reference.count >= found.count && reference.count <= found.count + 4)
    }

    /// A second external check, on pulse waves with a diastolic (dicrotic) wave the model's lack: NeuroKit2
    /// simulates 60 s pulse waves (`ppg_simulate`, 250 Hz, 62-95 beats/min with rate variability), scaled here to
    /// 80-120 mmHg, and finds their peaks (`ppg_findpeaks`, Elgendi); the beats here must have NeuroKit2's peaks
    /// (within 3 samples, away from the first and last second), one beat per peak, and the simulated heart rate.
    @Test(.enabled(if: SharedFolder.isCI || SharedFolder.hasAnchorPython,
                   "skipped: no anchor Python with neurokit2 (set TWINBANK_ANCHOR_PYTHON)"),
          arguments: [(62.0, 1), (75.0, 7), (95.0, 42)])
    func neuroKit2PulseWaves(heartRate: Double, seed: Int) throws {
        guard let python = SharedFolder.anchorPython else {
            Issue.record("CI installs the anchors, yet the anchor Python is missing (set TWINBANK_ANCHOR_PYTHON)")
            return
        }
        let script = """
        import json, sys
        import neurokit2 as nk
        rate, seed = float(sys.argv[1]), int(sys.argv[2])
        x = nk.ppg_simulate(duration=60, sampling_rate=250, heart_rate=rate, frequency_modulation=0.1, ibi_randomness=0.05, drift=0,
                            motion_amplitude=0, powerline_amplitude=0, burst_amplitude=0, random_state=seed)
        x = 80 + 40 * (x - x.min()) / (x.max() - x.min())
        peaks = nk.ppg_findpeaks(x, sampling_rate=250, method="elgendi")["PPG_Peaks"]
        print("WAVE" + json.dumps({"signal": [float(v) for v in x], "peaks": [int(p) for p in peaks]}))
        """
        let (status, output) = try SharedData.run(python, ["-c", script, "\(heartRate)", "\(seed)"])
        guard status == 0, let marker = output.range(of: "WAVE") else {
            Issue.record("neurokit2 failed (\(status)): \(output.suffix(800))")
            return
        }
        struct Wave: Decodable { var signal: [Double], peaks: [Int] }
        let wave = try JSONDecoder().decode(Wave.self, from: Data(output[marker.upperBound...].prefix { $0 != "\n" }.utf8))
        let beats = try ArterialPressureBeats(samplingRate: 250).beats(wave.signal)
        let found = beats.map(\.peak).filter { $0 >= 250 && $0 < wave.signal.count - 250 }
        let unmatched = found.filter { p in !wave.peaks.contains { abs($0 - p) <= 3 } }
        let rate = beats.map(\.heartRate).reduce(0, +) / Double(max(beats.count, 1))
        print(String(format: "NeuroKit2 pulse wave %.0f/min (seed %d): %d peaks there, %d beats here, %d unmatched, heart rate %.1f", heartRate, seed,
                     wave.peaks.count, beats.count, unmatched.count, rate))
        #expect(unmatched.isEmpty, "\(unmatched.prefix(10))")
        #expect(abs(beats.count - wave.peaks.count) <= 2)
        #expect(abs(rate - heartRate) < 1.5)
    }
}
