import Foundation
import Testing
import TwinTesting
@testable import TwinModels

/// R peaks and heart-rate variability against NeuroKit2 (PyPI `neurokit2`, which `.ci/run` installs in the anchor
/// venv): NeuroKit2 simulates an ECG (ECGSYN, with heart-rate variability and noise), cleans it and finds its R
/// peaks; the same cleaned signal goes through `RPeakDetector` here, and the peaks and `HeartRateVariability` must
/// be NeuroKit2's. Without the anchor Python (outside CI) the comparison reports itself skipped.
@Suite struct ECGAnchorTests {
    static let script = """
    import json, sys
    import neurokit2 as nk
    sr, rate, seed, duration = int(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
    ecg = nk.ecg_simulate(duration=duration, sampling_rate=sr, heart_rate=rate, heart_rate_std=4, noise=0.05, method="ecgsyn", random_state=seed)
    clean = nk.ecg_clean(ecg, sampling_rate=sr, method="neurokit")
    _, info = nk.ecg_peaks(clean, sampling_rate=sr, method="neurokit")
    peaks = [int(p) for p in info["ECG_R_Peaks"]]
    hrv = nk.hrv_time(peaks, sampling_rate=sr)
    json.dump({"raw": [float(x) for x in ecg], "clean": [float(x) for x in clean], "peaks": peaks,
               "MeanNN": float(hrv["HRV_MeanNN"][0]), "SDNN": float(hrv["HRV_SDNN"][0]), "RMSSD": float(hrv["HRV_RMSSD"][0])}, sys.stdout)
    """

    struct Reference: Decodable {
        var raw: [Double], clean: [Double], peaks: [Int]
        var MeanNN: Double, SDNN: Double, RMSSD: Double
    }

    @Test(.enabled(if: SharedFolder.isCI || SharedFolder.hasAnchorPython,
                   "skipped: no anchor Python with neurokit2 (run ../shared/anchors/setup.sh and pip install neurokit2, or set TWINBANK_ANCHOR_PYTHON)"),
          arguments: [(250, 62.0, 1), (500, 75.0, 7), (360, 95.0, 42)])
    func peaksAndVariabilityAreNeuroKit2s(samplingRate: Int, heartRate: Double, seed: Int) throws {
        guard let python = SharedFolder.anchorPython else {
            Issue.record("CI installs the anchors, yet the anchor Python is missing (set TWINBANK_ANCHOR_PYTHON)")
            return
        }
        let (status, output) = try SharedData.run(python, ["-c", Self.script, "\(samplingRate)", "\(heartRate)", "\(seed)", "90"])
        guard status == 0, let start = output.firstIndex(of: "{") else {
            Issue.record("neurokit2 failed (\(status)); is it installed in the anchor venv? \(output.suffix(800))")
            return
        }
        let ref = try JSONDecoder().decode(Reference.self, from: Data(output[start...].utf8))
        let detector = RPeakDetector(samplingRate: Double(samplingRate))
        let peaks = try detector.peaks(ref.clean)
        #expect(peaks == ref.peaks, "\(peaks.count) peaks here, \(ref.peaks.count) in NeuroKit2; first difference at \(zip(peaks, ref.peaks).enumerated().first { $0.element.0 != $0.element.1 }?.offset ?? -1)")
        let hrv = try HeartRateVariability(peaks: peaks, samplingRate: Double(samplingRate))
        #expect(abs(hrv.meanNN - ref.MeanNN) < 1e-6 * ref.MeanNN)
        #expect(abs(hrv.sdnn - ref.SDNN) < 1e-6 * ref.SDNN)
        #expect(abs(hrv.rmssd - ref.RMSSD) < 1e-6 * ref.RMSSD)
        // the simulated rate is found within a beat per minute
        #expect(abs(hrv.heartRate - heartRate) < 1.5, "\(hrv.heartRate) vs \(heartRate)")
        // on the raw (uncleaned) signal the detector finds the same beats within a sample or two: the gradient
        // ignores slow drift
        let rawPeaks = try detector.peaks(ref.raw)
        #expect(rawPeaks.count == ref.peaks.count)
        #expect(zip(rawPeaks, ref.peaks).allSatisfy { abs($0 - $1) <= 3 }, "raw \(rawPeaks.prefix(10)) vs \(ref.peaks.prefix(10))")
        print("ECG \(samplingRate) Hz, \(heartRate)/min, seed \(seed): \(peaks.count) beats, HR \(hrv.heartRate), SDNN \(hrv.sdnn) ms, RMSSD \(hrv.rmssd) ms (NeuroKit2 \(ref.SDNN), \(ref.RMSSD))")
    }

    @Test func detectorEdgeCasesAndBadInput() throws {
        let d = RPeakDetector(samplingRate: 250)
        #expect(try d.peaks([]) == [])
        #expect(try d.peaks([Double](repeating: 0.1, count: 1000)) == [])
        #expect(throws: ModelError.self) { try d.peaks([0, .nan, 1]) }
        #expect(throws: ModelError.self) { try RPeakDetector(samplingRate: 0).peaks([0, 1, 2]) }
        #expect(throws: ModelError.self) { try HeartRateVariability(peaks: [1, 5], samplingRate: 250) }
        #expect(throws: ModelError.self) { try HeartRateVariability(peaks: [1, 5, 3], samplingRate: 250) }
        // a plain pulse train at 60/min: every pulse is found, with no variability
        var signal = [Double](repeating: 0, count: 250 * 20)
        for beat in 0..<20 { for k in -3...3 where beat * 250 + 100 + k >= 0 { signal[beat * 250 + 100 + k] = 1 - Double(abs(k)) * 0.3 } }
        let peaks = try d.peaks(signal)
        #expect(peaks == (0..<20).map { $0 * 250 + 100 }, "\(peaks)")
        let hrv = try HeartRateVariability(peaks: peaks, samplingRate: 250)
        #expect(abs(hrv.heartRate - 60) < 1e-9 && hrv.sdnn == 0 && hrv.rmssd == 0)
    }
}
