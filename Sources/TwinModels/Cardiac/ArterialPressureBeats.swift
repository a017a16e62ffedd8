import Foundation

/// Finds the beats of a measured arterial blood pressure waveform (an arterial line or a finger cuff, sampled at
/// 50-5000 Hz, in mmHg) and gives each beat's systolic, diastolic and mean pressure and its interval.
///
/// Onsets are found as in W. Zong, T. Heldt, G. B. Moody and R. G. Mark, "An open-source algorithm to detect onset
/// of arterial blood pressure pulses", Computers in Cardiology 30 (2003) 259-262 (PhysioNet's `wabp`): the
/// signal is low-pass filtered (here a centred moving average over ``smoothingWindow``, 40 ms, whose first zero
/// is at 25 Hz), and its slope sum function `SSF(i) = Σ max(Δx, 0)` over the last ``slopeWindow`` (128 ms) rises
/// steeply on each upstroke. A pulse is where the SSF crosses ``thresholdFraction`` (60 %) of its expected pulse
/// height (initially three times its mean over the first 10 s, then the mean of the last three pulses' SSF maxima),
/// at least ``refractoryPeriod`` (250 ms) after the previous pulse. Each pulse's foot, the beat's onset, is the
/// minimum of the filtered signal in the ``footSearchWindow`` (300 ms) before the crossing (not before the previous
/// systolic peak).
///
/// The foot is then refined to the minimum of a lightly filtered signal (16 ms moving average) within the first
/// filter's half-width, since the 40 ms filter rounds the sharp corner where the upstroke starts.
///
/// A beat runs from one foot to the next: its diastolic pressure is the lightly filtered pressure at its foot, its systolic
/// pressure the filtered maximum before the next foot, its mean the area under the (unfiltered) pressure over the
/// beat divided by the beat's duration (trapezoids), and its interval the time between the two feet. The last foot
/// only ends the beat before it; two feet further apart than ``maximumInterval`` (a gap) make no beat. Each beat is
/// also checked for plausibility (``Beat/isPlausible``, Sun et al. 2006). When no pulse has crossed the threshold
/// for ``maximumInterval``, the expected height is halved (the pulses have shrunk, or the recording paused).
public struct ArterialPressureBeats: Sendable, Hashable {
    /// One beat, foot to foot.
    public struct Beat: Sendable, Hashable {
        /// Sample indices of the foot (onset), the systolic peak, and the next beat's foot (the end of this one).
        public var foot: Int, peak: Int, end: Int
        /// Time of the foot from the first sample, s.
        public var start: Double
        /// Systolic (peak), diastolic (at the foot) and mean (area / duration) pressure, in the signal's unit (mmHg).
        public var systolic: Double, diastolic: Double, mean: Double
        /// Foot-to-foot interval, s.
        public var interval: Double
        /// Whether the beat passes the abnormality criteria of J. X. Sun, A. T. Reisner and R. G. Mark, "A signal
        /// abnormality index for arterial blood pressure waveforms", Computers in Cardiology 33 (2006) 13-16 (for a
        /// signal in mmHg): systolic at most 300, diastolic at least 20, mean 30-200, heart rate 20-200 /min, pulse
        /// pressure at least 20, and against the previous beat systolic and diastolic within 20 mmHg and interval
        /// within 2/3 s. An implausible beat is kept (with its values) so a caller can see it; averages should
        /// leave it out.
        public var isPlausible = true
        /// Heart rate of this beat, beats/min (60 / interval).
        public var heartRate: Double { 60 / interval }
        /// Pulse pressure, systolic - diastolic.
        public var pulsePressure: Double { systolic - diastolic }
    }

    /// Sampling rate of the waveform, Hz.
    public var samplingRate: Double
    /// Low-pass filter window (s), slope-sum window (s), threshold as a fraction of the expected pulse's SSF height,
    /// shortest time between pulses (s), and how far before the threshold crossing the foot is sought (s).
    public var smoothingWindow = 0.04, slopeWindow = 0.128, thresholdFraction = 0.6, refractoryPeriod = 0.25, footSearchWindow = 0.3
    /// The longest foot-to-foot interval taken as a beat, s (2.5 s, 24 beats/min): a longer one is a gap in the
    /// recording (a dropout, a cuff recalibration) and gives no beat.
    public var maximumInterval = 2.5

    public init(samplingRate: Double) { self.samplingRate = samplingRate }

    /// The beats of `pressure`, in order. Empty when the signal has fewer than two pulses (flat, too short, or no
    /// upstroke above the threshold). Throws `invalidArgument` for a sampling rate outside 50-5000 Hz, a window that
    /// is not positive, or a sample that is not finite (naming its index).
    public func beats(_ pressure: [Double]) throws(ModelError) -> [Beat] {
        guard samplingRate.isFinite, samplingRate >= 50, samplingRate <= 5000 else {
            throw ModelError(.invalidArgument, "arterial pressure: sampling rate must be 50-5000 Hz, got \(samplingRate)", value: "\(samplingRate)")
        }
        for (name, value) in [("smoothingWindow", smoothingWindow), ("slopeWindow", slopeWindow), ("thresholdFraction", thresholdFraction),
                              ("refractoryPeriod", refractoryPeriod), ("footSearchWindow", footSearchWindow),
                              ("maximumInterval", maximumInterval)]
        where !(value.isFinite && value > 0) {
            throw ModelError(.invalidArgument, "arterial pressure: \(name) must be positive, got \(value)", value: "\(value)")
        }
        if let bad = pressure.firstIndex(where: { !$0.isFinite }) {
            throw ModelError(.invalidArgument, "arterial pressure: sample \(bad) is not a number (\(pressure[bad]))", value: "\(pressure[bad])")
        }
        let n = pressure.count
        let slope = max(Int((slopeWindow * samplingRate).rounded()), 1)
        guard n > 2 * slope else { return [] }
        let x = Self.movingAverage(pressure, half: max(Int((smoothingWindow * samplingRate / 2).rounded()), 0))
        // the slope sum function over the last `slope` samples
        var ssf = [Double](repeating: 0, count: n)
        var sum = 0.0
        for i in 1..<n {
            sum += max(x[i] - x[i - 1], 0)
            if i - slope >= 1 { sum -= max(x[i - slope] - x[i - slope - 1], 0) }
            ssf[i] = max(sum, 0)
        }
        let firstSeconds = min(n, Int(10 * samplingRate))
        var expected = 3 * ssf[0..<firstSeconds].reduce(0, +) / Double(firstSeconds)
        guard expected > 0 else { return [] }
        var recent: [Double] = []
        let patience = Int((maximumInterval * samplingRate).rounded())
        var lastPulse = 0
        let refractory = Int((refractoryPeriod * samplingRate).rounded()), search = Int((footSearchWindow * samplingRate).rounded())
        let peakSearch = Int((0.15 * samplingRate).rounded())
        var feet: [Int] = []
        var lastPeak = -1, i = 1
        while i < n {
            // no pulse for longer than a beat can last: the pulses have shrunk (or the signal stopped); halve the
            // expected height, as wabp lowers its threshold
            if i - lastPulse > patience {
                expected /= 2
                recent = recent.map { $0 / 2 }
                lastPulse = i
            }
            guard ssf[i] > thresholdFraction * expected, ssf[i - 1] <= thresholdFraction * expected else { i += 1; continue }
            if let last = feet.last, i - last < refractory { i += 1; continue }
            // the pulse's SSF maximum updates the expected height: the median of the last three, so one step (a
            // recording resuming after a dropout) does not raise the threshold above the next pulses
            let top = ssf[i..<min(i + peakSearch, n)].max() ?? ssf[i]
            recent.append(top)
            if recent.count > 3 { recent.removeFirst() }
            expected = recent.sorted()[recent.count / 2]
            lastPulse = i
            let from = max(i - search, lastPeak + 1, feet.last.map { $0 + 1 } ?? 0)
            var foot = i
            for k in stride(from: i, through: from, by: -1) where x[k] < x[foot] { foot = k }
            feet.append(foot)
            // the systolic peak follows the crossing; the next foot is sought after it
            let peakEnd = min(i + peakSearch + slope, n)
            lastPeak = x[i..<peakEnd].indices.max { x[$0] < x[$1] } ?? i
            i = max(i + 1, foot + refractory)
        }
        guard feet.count >= 2 else { return [] }
        // the filter rounds the sharp corner at the foot: refine it on a lightly filtered signal (16 ms), within the
        // filter's half-width
        let fine = Self.movingAverage(pressure, half: max(Int((0.008 * samplingRate).rounded()), 1))
        let width = max(Int((smoothingWindow * samplingRate / 2).rounded()), 1)
        for k in feet.indices {
            let lo = max(feet[k] - width, k > 0 ? feet[k - 1] + 1 : 0), hi = min(feet[k] + width, n - 1)
            if lo <= hi { feet[k] = (lo...hi).min { fine[$0] < fine[$1] } ?? feet[k] }
        }
        var beats: [Beat] = []
        for k in 0..<(feet.count - 1) {
            let a = feet[k], b = feet[k + 1]
            guard b > a, Double(b - a) <= maximumInterval * samplingRate else { continue }
            let peak = x[a..<b].indices.max { x[$0] < x[$1] } ?? a
            var area = 0.0
            for j in a..<b { area += (pressure[j] + pressure[j + 1]) / 2 }
            let duration = Double(b - a) / samplingRate
            var beat = Beat(foot: a, peak: peak, end: b, start: Double(a) / samplingRate, systolic: x[peak], diastolic: fine[a],
                            mean: area / Double(b - a), interval: duration)
            beat.isPlausible = beat.systolic <= 300 && beat.diastolic >= 20 && (30...200).contains(beat.mean)
                && (20...200).contains(beat.heartRate) && beat.pulsePressure >= 20
            if let previous = beats.last, previous.end == a {
                beat.isPlausible = beat.isPlausible && abs(beat.systolic - previous.systolic) <= 20
                    && abs(beat.diastolic - previous.diastolic) <= 20 && abs(beat.interval - previous.interval) <= 2.0 / 3
            }
            beats.append(beat)
        }
        return beats
    }

    /// Centred moving average over `2·half + 1` samples (shorter at the ends).
    static func movingAverage(_ v: [Double], half: Int) -> [Double] {
        guard half > 0 else { return v }
        let n = v.count
        var prefix = [Double](repeating: 0, count: n + 1)
        for i in 0..<n { prefix[i + 1] = prefix[i] + v[i] }
        return (0..<n).map { i in
            let lo = max(i - half, 0), hi = min(i + half, n - 1)
            return (prefix[hi + 1] - prefix[lo]) / Double(hi - lo + 1)
        }
    }
}
