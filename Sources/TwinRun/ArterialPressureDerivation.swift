import Foundation
import TwinBank
import TwinCore
import TwinModels

/// Beat-by-beat blood pressure derived from the arterial pressure waveforms in a twin's thread (an arterial line, a
/// finger cuff: FHIR `valueSampledData` in mmHg), written back with the waveform as provenance.
///
/// A waveform is an observation whose value is a vector of samples in a pressure unit spanning its effective period
/// (n samples over the span give its sampling rate), of `code` when one is given. For each waveform of at least
/// ``minimumSeconds`` not yet derived, the beats are found (``TwinModels/ArterialPressureBeats``: Zong et al. 2003's
/// onsets, Sun et al. 2006's plausibility) and, over its plausible beats, four observations appended at the
/// waveform's span: systolic (LOINC 8480-6), diastolic (8462-4) and mean arterial pressure (8478-0) in mm[Hg], each
/// the mean of the beats' values, and the heart rate (8867-4, /min) from their mean interval. With `perBeat`, each
/// plausible beat's systolic, diastolic and mean pressure are also appended at its foot's time (one reading per
/// beat: what the loop's readings of blood pressure can be, minute by minute or beat by beat). Deriving again appends
/// nothing for a waveform already derived (its derived mean pressure names it).
public enum ArterialPressureDerivation {
    public static let systolic = Concept(system: "http://loinc.org", code: "8480-6", display: "Systolic blood pressure")
    public static let diastolic = Concept(system: "http://loinc.org", code: "8462-4", display: "Diastolic blood pressure")
    public static let meanPressure = Concept(system: "http://loinc.org", code: "8478-0", display: "Mean blood pressure")
    public static let heartRate = ECGDerivation.heartRate
    /// The shortest waveform read, s.
    public static let minimumSeconds = 5.0
    /// The fewest plausible beats a waveform must hold to be summarised.
    public static let minimumBeats = 3
    /// The detector's name and version in the derived events' provenance.
    public static let model = (name: "abp-beats-wabp", version: "1")

    /// What one waveform gave.
    public struct Derived: Sendable, Hashable, Codable {
        public var waveform: ContentHash
        public var code: String
        public var start: Instant
        public var seconds: Double
        public var samplingRate: Double
        /// Beats found, and those plausible (averaged).
        public var beats: Int
        public var plausibleBeats: Int
        public var systolic: Double, diastolic: Double, mean: Double, heartRate: Double
        /// The appended events (the four summaries, then the per-beat readings), or empty when derived before.
        public var appended: [ContentHash]
    }

    /// What a derivation did: the waveforms derived and those left alone, each with why.
    public struct Report: Sendable, Hashable, Codable {
        public var derived: [Derived] = []
        public var skipped: [ECGDerivation.Report.Skipped] = []
    }

    /// Whether `unit` is a pressure (commensurable with mm[Hg]).
    static func isPressure(_ unit: String) -> Bool {
        guard let u = try? UCUMUnit(parsing: unit), let mmHg = try? UCUMUnit(parsing: "mm[Hg]") else { return false }
        return u.isCommensurable(with: mmHg)
    }

    /// Derives the twin's arterial pressure waveforms (vector observations in a pressure unit, of `code` when given)
    /// effective in [from, to]. Waveforms already derived are listed with `appended` empty; those too short, without
    /// a span, or with too few plausible beats are listed in ``Report/skipped`` with the reason. Appends in one batch.
    public static func derive(_ twin: TwinID, in bank: Bank, code: CodeKey? = nil, from: Instant? = nil, to: Instant? = nil,
                              perBeat: Bool = false) throws -> Report {
        let observations = try bank.events(ThreadQuery(twin: twin, code: code, category: .observation, from: from, to: to))
        let waveforms = observations.filter { e in
            guard case .vector(let v)? = e.value else { return false }
            return isPressure(v.unit)
        }
        var done = Set<ContentHash>()
        if !waveforms.isEmpty {
            for e in try bank.events(ThreadQuery(twin: twin, code: meanPressure.key, category: .observation)) where e.provenance.model == model.name {
                done.formUnion(e.provenance.derivedFrom)
            }
        }
        var report = Report()
        var drafts: [EventDraft] = []
        var pending: [(index: Int, count: Int)] = []
        let source = Source(.model, "\(model.name)@\(model.version)")
        for waveform in waveforms {
            let label = waveform.code.key.description
            let sampled: SampledStrip
            switch SampledStrip.read(waveform, minimumSeconds: minimumSeconds, purpose: "a summary of beats") {
            case .success(let s): sampled = s
            case .failure(let u): report.skipped.append(.init(strip: waveform.id, code: label, reason: u.reason)); continue
            }
            let seconds = sampled.seconds, rate = sampled.samplingRate
            // the waveform in mm[Hg]
            var values = sampled.values
            if sampled.unit != "mm[Hg]" {
                guard let factor = try? Quantity(1, sampled.unit).converted(to: "mm[Hg]").value else {
                    report.skipped.append(.init(strip: waveform.id, code: label, reason: "its unit \(sampled.unit) does not convert to mm[Hg]"))
                    continue
                }
                values = values.map { $0 * factor }
            }
            let beats: [ArterialPressureBeats.Beat]
            do { beats = try ArterialPressureBeats(samplingRate: rate).beats(values) } catch {
                report.skipped.append(.init(strip: waveform.id, code: label, reason: error.message))
                continue
            }
            let plausible = beats.filter(\.isPlausible)
            guard plausible.count >= minimumBeats else {
                report.skipped.append(.init(strip: waveform.id, code: label, reason: "\(plausible.count) plausible beat(s) of \(beats.count) found, under the \(minimumBeats) a summary needs"))
                continue
            }
            let n = Double(plausible.count)
            func average(_ f: (ArterialPressureBeats.Beat) -> Double) -> Double { plausible.reduce(0) { $0 + f($1) } / n }
            let sbp = average(\.systolic), dbp = average(\.diastolic), map = average(\.mean)
            let hr = 60 / average(\.interval)
            let derived = Derived(waveform: waveform.id, code: label, start: waveform.effective.start, seconds: seconds, samplingRate: rate,
                                  beats: beats.count, plausibleBeats: plausible.count, systolic: sbp, diastolic: dbp, mean: map, heartRate: hr, appended: [])
            if !done.contains(waveform.id) {
                let provenance = Provenance(derivedFrom: [waveform.id], model: model.name, modelVersion: model.version,
                                            notes: String(format: "%d plausible beats of %d in %.1f s at %.4g Hz (Zong et al. 2003 onsets, Sun et al. 2006 plausibility)",
                                                          plausible.count, beats.count, seconds, rate))
                let before = drafts.count
                for (concept, value, unit) in [(systolic, sbp, "mm[Hg]"), (diastolic, dbp, "mm[Hg]"), (meanPressure, map, "mm[Hg]"), (heartRate, hr, "/min")] {
                    drafts.append(EventDraft(twin: twin, effective: waveform.effective, category: .observation, code: concept,
                                             value: .quantity(Quantity(value, unit)), source: source, provenance: provenance))
                }
                if perBeat {
                    let beatProvenance = Provenance(derivedFrom: [waveform.id], model: model.name, modelVersion: model.version, notes: "one beat")
                    for b in plausible {
                        let at = waveform.effective.start.advanced(bySeconds: b.start)
                        for (concept, value) in [(systolic, b.systolic), (diastolic, b.diastolic), (meanPressure, b.mean)] {
                            drafts.append(EventDraft(twin: twin, effective: EffectiveTime(at), category: .observation, code: concept,
                                                     value: .quantity(Quantity(value, "mm[Hg]")), source: source, provenance: beatProvenance))
                        }
                    }
                }
                pending.append((report.derived.count, drafts.count - before))
                done.insert(waveform.id)
            }
            report.derived.append(derived)
        }
        if !drafts.isEmpty {
            let ids = try bank.append(drafts).ids
            var offset = 0
            for p in pending {
                report.derived[p.index].appended = Array(ids[offset..<(offset + p.count)])
                offset += p.count
            }
        }
        return report
    }
}
