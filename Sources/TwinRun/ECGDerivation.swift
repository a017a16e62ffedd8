import Foundation
import TwinBank
import TwinCore
import TwinModels

/// Heart rate and heart-rate variability derived from the ECG strips in a twin's thread, written back to the thread
/// with the strip they came from as provenance.
///
/// A strip is an observation whose value is a vector of samples spanning its effective period (as FHIR
/// `valueSampledData` is imported: n samples over `n x period`), so its sampling rate is n over the span. Strips of
/// `code` are read when one is given (other than a pressure waveform's, ``ArterialPressureDerivation``), else every
/// vector observation in a voltage unit (mV, uV, V). For each strip
/// of at least ``minimumSeconds`` not yet derived, R peaks are found (``TwinModels/RPeakDetector``, NeuroKit2's
/// detector) and three observations appended at the strip's span: heart rate (LOINC 8867-4, /min), SDNN (LOINC
/// 80404-7, ms) and RMSSD (``rmssd``, ms), each derived from the strip. Deriving again appends nothing for a strip
/// already derived (the derived heart rate names it).
public enum ECGDerivation {
    public static let heartRate = Concept(system: "http://loinc.org", code: "8867-4", display: "Heart rate")
    public static let sdnn = Concept(system: "http://loinc.org", code: "80404-7", display: "R-R interval.standard deviation (Heart rate variability)")
    public static let rmssd = Concept(system: "urn:twinbank:hrv", code: "rmssd", display: "Root mean square of successive R-R interval differences")
    /// The shortest strip read, s: shorter ones hold too few beats for a variability.
    public static let minimumSeconds = 5.0
    /// The detector's name and version in the derived events' provenance.
    public static let model = (name: "rpeaks-neurokit2", version: "1")

    /// What one strip gave.
    public struct Derived: Sendable, Hashable, Codable {
        public var strip: ContentHash
        public var code: String
        public var start: Instant
        public var seconds: Double
        public var samplingRate: Double
        public var beats: Int
        public var variability: HeartRateVariability
        /// The appended events (heart rate, SDNN, RMSSD), or empty when the strip had been derived before.
        public var appended: [ContentHash]
    }

    /// What a derivation did: the strips derived and those left alone, each with why.
    public struct Report: Sendable, Hashable, Codable {
        public var derived: [Derived] = []
        public var skipped: [Skipped] = []
        public struct Skipped: Sendable, Hashable, Codable {
            public var strip: ContentHash
            public var code: String
            public var reason: String
        }
    }

    /// Derives the twin's strips (of `code`, or every voltage vector) effective in [from, to]. Strips already
    /// derived are listed with `appended` empty; strips too short, without a span, or with too few beats are
    /// listed in ``Report/skipped`` with the reason. Appends in one batch.
    public static func derive(_ twin: TwinID, in bank: Bank, code: CodeKey? = nil, from: Instant? = nil, to: Instant? = nil) throws -> Report {
        let observations = try bank.events(ThreadQuery(twin: twin, code: code, category: .observation, from: from, to: to))
        let millivolt = try UCUMUnit(parsing: "mV")
        let strips = observations.filter { e in
            guard case .vector(let v)? = e.value else { return false }
            // a pressure waveform is ArterialPressureDerivation's, whatever its code
            if code != nil { return !ArterialPressureDerivation.isPressure(v.unit) }
            return (try? UCUMUnit(parsing: v.unit))?.isCommensurable(with: millivolt) ?? false
        }
        var done = Set<ContentHash>()
        if !strips.isEmpty {
            for e in try bank.events(ThreadQuery(twin: twin, code: heartRate.key, category: .observation)) where e.provenance.model == model.name {
                done.formUnion(e.provenance.derivedFrom)
            }
        }
        var report = Report()
        var drafts: [EventDraft] = []
        var pending: [Int] = []
        for strip in strips {
            let label = strip.code.key.description
            let sampled: SampledStrip
            switch SampledStrip.read(strip, minimumSeconds: minimumSeconds, purpose: "a variability") {
            case .success(let s): sampled = s
            case .failure(let u): report.skipped.append(.init(strip: strip.id, code: label, reason: u.reason)); continue
            }
            let seconds = sampled.seconds, rate = sampled.samplingRate
            let peaks: [Int]
            let variability: HeartRateVariability
            do {
                peaks = try RPeakDetector(samplingRate: rate).peaks(sampled.values)
                variability = try HeartRateVariability(peaks: peaks, samplingRate: rate)
            } catch {
                report.skipped.append(.init(strip: strip.id, code: label, reason: error.message))
                continue
            }
            let derived = Derived(strip: strip.id, code: label, start: strip.effective.start, seconds: seconds, samplingRate: rate,
                                  beats: peaks.count, variability: variability, appended: [])
            if !done.contains(strip.id) {
                let provenance = Provenance(derivedFrom: [strip.id], model: model.name, modelVersion: model.version,
                                            notes: String(format: "%d R peaks in %.1f s at %.4g Hz (NeuroKit2's detector)", peaks.count, seconds, rate))
                let source = Source(.model, "\(model.name)@\(model.version)")
                for (concept, value, unit) in [(heartRate, variability.heartRate, "/min"), (sdnn, variability.sdnn, "ms"), (rmssd, variability.rmssd, "ms")] {
                    drafts.append(EventDraft(twin: twin, effective: strip.effective, category: .observation, code: concept,
                                             value: .quantity(Quantity(value, unit)), source: source, provenance: provenance))
                }
                pending.append(report.derived.count)
                done.insert(strip.id)
            }
            report.derived.append(derived)
        }
        if !drafts.isEmpty {
            let ids = try bank.append(drafts).ids
            for (k, index) in pending.enumerated() { report.derived[index].appended = Array(ids[(3 * k)..<(3 * k + 3)]) }
        }
        return report
    }
}
