import TwinBank
import TwinCore

/// Writes a model's predicted time series to a twin's thread: one `prediction` event per point, all with the
/// run's provenance, as one all-or-nothing batch.
public enum PredictionWriter {
    /// A predicted series for one code.
    public struct Series: Sendable {
        public var code: Concept
        public var unit: String
        public var points: [(time: Instant, value: Double)]
        public init(code: Concept, unit: String, points: [(time: Instant, value: Double)]) {
            self.code = code; self.unit = unit; self.points = points
        }
    }

    /// Appends every point of every series as predictions.
    /// - Throws: ``RunError`` `modelFailed` if a value is not finite (naming code and time), or any bank error
    ///   (unknown twin, unit that does not fit the code); nothing is written then.
    @discardableResult
    public static func write(_ series: [Series], to twin: TwinID, run: RunProvenance, in bank: Bank) throws -> AppendResult {
        var drafts: [EventDraft] = []
        let provenance = run.provenance
        for s in series {
            for p in s.points {
                guard p.value.isFinite else {
                    throw RunError(.modelFailed, "model \(run.model) predicted a non-finite \(s.code.key) at \(p.time)", value: "\(p.value)")
                }
                drafts.append(EventDraft(twin: twin, effective: EffectiveTime(p.time), category: .prediction, code: s.code,
                                         value: .quantity(Quantity(p.value, s.unit)), source: run.source, provenance: provenance))
            }
        }
        return try bank.append(drafts)
    }
}
