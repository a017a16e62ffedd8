import Foundation

/// Finds the R peaks of an electrocardiogram: NeuroKit2's default detector (D. Makowski et al., "NeuroKit2: A
/// Python toolbox for neurophysiological signal processing", Behavior Research Methods 53 (2021) 1689-1696;
/// `ecg_findpeaks(method="neurokit")`), step for step, so its peaks are NeuroKit2's on the same signal.
///
/// The absolute gradient is smoothed with a 100 ms boxcar; QRS complexes are where it exceeds 1.5 times its own
/// 750 ms average; complexes shorter than 0.4 times the mean complex length are dropped; in each, the R peak is the
/// local maximum of the signal with the greatest topographic prominence; a peak within 300 ms of the previous one
/// is dropped. The signal should be high-pass filtered (0.5 Hz) first, as NeuroKit2's `ecg_clean` does; the
/// gradient makes the detection itself insensitive to slow baseline drift.
public struct RPeakDetector: Sendable, Hashable {
    /// Sampling rate of the signal, Hz.
    public var samplingRate: Double
    public var smoothingWindow = 0.1, averagingWindow = 0.75, thresholdWeight = 1.5, minimumLengthWeight = 0.4, minimumDelay = 0.3

    public init(samplingRate: Double) { self.samplingRate = samplingRate }

    /// The sample indices of the R peaks, ascending. Empty for a signal with no complex (flat, or shorter than a
    /// complex). Throws `invalidArgument` for a sampling rate that is not positive and finite, or a value that is
    /// not finite (naming its index).
    public func peaks(_ signal: [Double]) throws(ModelError) -> [Int] {
        guard samplingRate.isFinite, samplingRate > 0 else {
            throw ModelError(.invalidArgument, "ECG: sampling rate must be positive, got \(samplingRate) Hz", value: "\(samplingRate)")
        }
        if let bad = signal.firstIndex(where: { !$0.isFinite }) {
            throw ModelError(.invalidArgument, "ECG: sample \(bad) is not a number (\(signal[bad]))", value: "\(signal[bad])")
        }
        let n = signal.count
        guard n >= 3 else { return [] }
        var gradient = [Double](repeating: 0, count: n)
        gradient[0] = abs(signal[1] - signal[0])
        gradient[n - 1] = abs(signal[n - 1] - signal[n - 2])
        for i in 1..<(n - 1) { gradient[i] = abs((signal[i + 1] - signal[i - 1]) / 2) }
        let smooth = Self.boxcar(gradient, size: Int((smoothingWindow * samplingRate).rounded(.toNearestOrEven)))
        let average = Self.boxcar(smooth, size: Int((averagingWindow * samplingRate).rounded(.toNearestOrEven)))
        let delay = Int((samplingRate * minimumDelay).rounded(.toNearestOrEven))
        var begins: [Int] = [], ends: [Int] = []
        var above = smooth[0] > thresholdWeight * average[0]
        for i in 1..<n {
            let now = smooth[i] > thresholdWeight * average[i]
            if now && !above { begins.append(i - 1) }
            if !now && above { ends.append(i - 1) }
            above = now
        }
        guard let first = begins.first else { return [] }
        ends.removeAll { $0 <= first }
        let count = min(begins.count, ends.count)
        guard count > 0 else { return [] }
        var total = 0.0
        for i in 0..<count { total += Double(ends[i] - begins[i]) }
        let minimumLength = total / Double(count) * minimumLengthWeight
        var peaks: [Int] = []
        var last = 0
        for i in 0..<count {
            let begin = begins[i], end = ends[i]
            guard Double(end - begin) >= minimumLength, end > begin else { continue }
            guard let local = Self.mostProminentMaximum(signal, begin, end) else { continue }
            let peak = begin + local
            if peak - last > delay {
                peaks.append(peak)
                last = peak
            }
        }
        return peaks
    }

    /// A moving average over `size` samples with the ends held (NumPy's `convolve(mode="same")` over the signal
    /// padded with its first and last values, as NeuroKit2's `signal_smooth(kernel="boxcar")`).
    static func boxcar(_ x: [Double], size: Int) -> [Double] {
        let n = x.count
        guard size > 1, n > 0 else { return x }
        // smoothed[i] = mean of x[clamp(j)] for j in i - (size - 1) + (size - 1) / 2 ... i + (size - 1) / 2
        let ahead = (size - 1) / 2, behind = size - 1 - ahead
        var prefix = [Double](repeating: 0, count: n + 1)
        for i in 0..<n { prefix[i + 1] = prefix[i] + x[i] }
        func sum(_ from: Int, _ to: Int) -> Double {  // inclusive, clamped indices count the held ends
            var s = 0.0
            if from < 0 { s += Double(-from) * x[0] }
            if to > n - 1 { s += Double(to - (n - 1)) * x[n - 1] }
            let a = max(from, 0), b = min(to, n - 1)
            if b >= a { s += prefix[b + 1] - prefix[a] }
            return s
        }
        return (0..<n).map { sum($0 - behind, $0 + ahead) / Double(size) }
    }

    /// The index (from `begin`) of the local maximum of `x[begin..<end]` with the greatest prominence, as SciPy's
    /// `find_peaks(prominence=(None, None))` on that slice: a local maximum is a sample above its left neighbour and
    /// above the first differing sample on its right (a plateau counts once, at its middle); its prominence is its
    /// height above the higher of the lowest points between it and a higher sample (or the slice's end) on each
    /// side. The first of equal prominences wins, as `argmax` does.
    static func mostProminentMaximum(_ x: [Double], _ begin: Int, _ end: Int) -> Int? {
        let m = end - begin
        guard m >= 3 else { return nil }
        var best: (index: Int, prominence: Double)? = nil
        var i = 1
        while i < m - 1 {
            let v = x[begin + i]
            if x[begin + i - 1] < v {
                var ahead = i + 1
                while ahead < m - 1 && x[begin + ahead] == v { ahead += 1 }
                if x[begin + ahead] < v {
                    let peak = (i + ahead - 1) / 2
                    var leftMin = v, j = peak
                    while j >= 0 && x[begin + j] <= v { leftMin = min(leftMin, x[begin + j]); j -= 1 }
                    var rightMin = v
                    j = peak
                    while j < m && x[begin + j] <= v { rightMin = min(rightMin, x[begin + j]); j += 1 }
                    let prominence = v - max(leftMin, rightMin)
                    if best == nil || prominence > best!.prominence { best = (peak, prominence) }
                    i = ahead
                    continue
                }
                i = ahead
                continue
            }
            i += 1
        }
        return best?.index
    }
}
