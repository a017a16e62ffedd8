import Foundation

/// Heart rate and its time-domain variability from successive beats (R peaks of an ECG, or the pulses of a
/// beat-by-beat pressure signal), as NeuroKit2's `hrv_time` computes them (Task Force of the European Society of
/// Cardiology and the North American Society of Pacing and Electrophysiology, "Heart rate variability: standards
/// of measurement", Circulation 93 (1996) 1043-1065).
public struct HeartRateVariability: Sendable, Hashable, Codable {
    /// Number of beat-to-beat intervals.
    public var intervals: Int
    /// Mean interval (ms) and the mean heart rate it gives, `60000 / meanNN` (beats/min).
    public var meanNN: Double, heartRate: Double
    /// Standard deviation of the intervals (ms, with n - 1), and the root mean square of successive differences (ms).
    public var sdnn: Double, rmssd: Double

    /// From beat positions `peaks` (sample indices, ascending) at `samplingRate` Hz. Throws `invalidArgument`
    /// with fewer than three beats (two intervals are the least a standard deviation needs) or peaks that do not
    /// ascend.
    public init(peaks: [Int], samplingRate: Double) throws(ModelError) {
        guard samplingRate.isFinite, samplingRate > 0 else {
            throw ModelError(.invalidArgument, "heart rate variability: sampling rate must be positive, got \(samplingRate) Hz", value: "\(samplingRate)")
        }
        guard peaks.count >= 3 else {
            throw ModelError(.invalidArgument, "heart rate variability needs at least 3 beats, got \(peaks.count)", value: "\(peaks.count)")
        }
        var nn: [Double] = []
        for k in 1..<peaks.count {
            guard peaks[k] > peaks[k - 1] else {
                throw ModelError(.invalidArgument, "heart rate variability: beat \(k) (sample \(peaks[k])) does not follow beat \(k - 1) (sample \(peaks[k - 1]))",
                                 value: "\(peaks[k])")
            }
            nn.append(Double(peaks[k] - peaks[k - 1]) / samplingRate * 1000)
        }
        try self.init(intervals: nn)
    }

    /// From beat-to-beat intervals in ms (at least two, each positive).
    public init(intervals nn: [Double]) throws(ModelError) {
        guard nn.count >= 2 else {
            throw ModelError(.invalidArgument, "heart rate variability needs at least 2 intervals, got \(nn.count)", value: "\(nn.count)")
        }
        if let bad = nn.first(where: { !($0 > 0) || !$0.isFinite }) {
            throw ModelError(.invalidArgument, "heart rate variability: interval \(bad) ms is not positive", value: "\(bad)")
        }
        let mean = nn.reduce(0, +) / Double(nn.count)
        var squares = 0.0
        for x in nn { squares += (x - mean) * (x - mean) }
        var successive = 0.0
        for k in 1..<nn.count { successive += (nn[k] - nn[k - 1]) * (nn[k] - nn[k - 1]) }
        intervals = nn.count
        meanNN = mean
        heartRate = 60_000 / mean
        sdnn = (squares / Double(nn.count - 1)).squareRoot()
        rmssd = (successive / Double(nn.count - 1)).squareRoot()
    }
}
