import TwinBank
import TwinCore

/// Which events a writer's drafts would add to a twin's thread: the duplicate check the ``WatchService`` and
/// the ``GlucoseSynchroniser`` share, so that running the same computation again writes nothing new.
///
/// A draft is **held** when the thread (retracted events included) already has an event with
/// - the same content hash, or
/// - when the draft's provenance notes carry an `inputs=KEY` word (``inputsWord(_:)``): the same category, code,
///   effective time and source and the same `inputs=KEY` word. The key names what the event was computed from
///   (see ``GlucoseSynchroniser``: the events used and the settings, not the time the thread was read), so a
///   forecast computed again from the same readings is held even though it was read at another time.
public enum HeldEvents {
    /// The indices of `drafts` (all for `twin`) whose events the thread does not hold yet, without repeats
    /// (of two identical drafts, the first).
    public static func unheld(_ drafts: [EventDraft], twin: TwinID, in thread: any ThreadReading) throws -> [Int] {
        var hasher = EventHasher()
        let ids = drafts.map { hasher.hash($0) }
        struct Key: Hashable { var category: Event.Category; var code: CodeKey }
        struct Keyed: Hashable { var category: Event.Category; var code: CodeKey; var effective: Instant; var source: Source; var inputs: Substring }
        var ranges: [Key: (Instant, Instant)] = [:]
        for d in drafts {
            let k = Key(category: d.category, code: d.code.key), t = d.effective.start
            ranges[k] = ranges[k].map { (min($0.0, t), max($0.1, t)) } ?? (t, t)
        }
        var held = Set<ContentHash>()
        var heldInputs = Set<Keyed>()
        for (k, r) in ranges {
            for e in try thread.events(ThreadQuery(twin: twin, code: k.code, category: k.category, from: r.0, to: r.1, includeRetracted: true)) {
                held.insert(e.id)
                if let inputs = inputsWord(e.provenance.notes) {
                    heldInputs.insert(Keyed(category: e.category, code: e.code.key, effective: e.effective.start, source: e.source, inputs: inputs))
                }
            }
        }
        var seen = Set<ContentHash>()
        var fresh: [Int] = []
        for (i, d) in drafts.enumerated() where !held.contains(ids[i]) && seen.insert(ids[i]).inserted {
            if let inputs = inputsWord(d.provenance.notes),
               heldInputs.contains(Keyed(category: d.category, code: d.code.key, effective: d.effective.start, source: d.source, inputs: inputs)) { continue }
            fresh.append(i)
        }
        return fresh
    }

    /// The `inputs=KEY` word of provenance notes, if any.
    public static func inputsWord(_ notes: String?) -> Substring? {
        guard let notes else { return nil }
        for word in notes.split(separator: " ") where word.hasPrefix("inputs=") { return word }
        return nil
    }
}
