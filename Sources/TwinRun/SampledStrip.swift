import Foundation
import TwinCore

/// A strip of samples in a thread (an ECG lead, an arterial pressure waveform): an observation whose value is a vector
/// spanning its effective period, as FHIR `valueSampledData` imports (n samples over n x period), so its sampling
/// rate is n over the span. The one reading of a strip that ``ECGDerivation`` and ``ArterialPressureDerivation``
/// share.
struct SampledStrip {
    var event: Event
    var values: [Double]
    var unit: String
    var seconds: Double
    var samplingRate: Double

    /// The strip of `event`, or why it cannot be read: no vector value, no span (its rate unknown), or shorter than
    /// `minimumSeconds` (`purpose` says what for: "a variability").
    static func read(_ event: Event, minimumSeconds: Double, purpose: String) -> Result<SampledStrip, Unreadable> {
        guard case .vector(let v)? = event.value else { return .failure(Unreadable(reason: "not a vector of samples")) }
        guard let end = event.effective.end, end > event.effective.start else {
            return .failure(Unreadable(reason: "no span: its sampling rate is unknown (import it as FHIR sampled data with a period, or give it an effective period)"))
        }
        let seconds = Double(end.microseconds - event.effective.start.microseconds) / 1e6
        guard seconds >= minimumSeconds else {
            return .failure(Unreadable(reason: String(format: "%.1f s long, under the %.0f s %@ needs", seconds, minimumSeconds, purpose)))
        }
        return .success(SampledStrip(event: event, values: v.values, unit: v.unit, seconds: seconds, samplingRate: Double(v.values.count) / seconds))
    }

    struct Unreadable: Error { var reason: String }
}
