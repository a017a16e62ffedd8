import TwinCore

/// One version of a FHIR resource the export writes for a twin: the resource as it was from `lastUpdated` on (with
/// `meta.versionId` and `meta.lastUpdated` set), or its deletion (`resource` nil).
public struct FHIRVersion: Sendable, Hashable {
    public var type: String
    public var id: String
    /// 1 for the first version, then 2, 3, ... in the order they were recorded.
    public var versionId: Int
    /// When the bank recorded this version; nil for a twin definition not committed yet (the bank keeps no time for it).
    public var lastUpdated: Instant?
    /// The resource; nil when this version is a deletion.
    public var resource: JSONValue?
    /// The twin whose export holds the resource.
    public var twin: TwinID

    public var isDeletion: Bool { resource == nil }
}

/// The version history of the resources ``FHIRExporter`` writes, from the bank's two time axes.
///
/// A record's versions come from the bitemporal thread: replaying the events of one resource
/// (``FHIRExporter/recordKey(of:)``) as the bank knew them at each recorded time where they changed, each distinct
/// mapping is a version: the first when its events were recorded, another when an event of the same record was
/// added later (a correction, such as an updated resource imported again), a deletion when its events were
/// retracted. A Patient's versions come from its definition in the commits of the current branch (oldest first),
/// then the definition now if it differs from the last commit's. Versions never change once recorded: the thread is
/// append-only and commits are immutable (an erased event's payload is gone from every version, as from the thread).
public enum FHIRHistory {
    /// The versions of every resource of `twin`'s records, in order of recorded time (then type and id). `events`:
    /// the twin's thread with retracted events and the retraction events themselves (`includeRetracted`).
    public static func recordVersions(twin: Twin, events: [Event]) -> [FHIRVersion] {
        let retractions = events.filter { $0.category == .retraction }.sorted { $0.sequence < $1.sequence }
        /// When an event left the current view: its twin's retraction event of the batch that retracted it (a
        /// bank-wide retraction marks every event with the batch's first sequence; each twin's retraction event has
        /// a sequence at or after it, the same recorded time).
        func removal(_ e: Event) -> Instant? {
            guard let s = e.retractedAtSequence else { return nil }
            return retractions.first { $0.sequence >= s }?.recorded ?? e.recorded
        }
        var order: [String] = []
        var groups: [String: [Event]] = [:]
        for e in events where e.category != .retraction {
            let key = FHIRExporter.recordKey(of: e)
            if groups[key] == nil { order.append(key) }
            groups[key, default: []].append(e)
        }
        var out: [FHIRVersion] = []
        for key in order {
            let group = groups[key]!
            let removals = group.map(removal)
            let points = Set(group.map(\.recorded) + removals.compactMap { $0 }).sorted()
            var last: [(key: String, resource: JSONValue)] = []
            var versions: [String: Int] = [:]
            for t in points {
                let current = zip(group, removals).filter { e, r in e.recorded <= t && (r.map { $0 > t } ?? true) }.map(\.0)
                let mapped: [JSONValue] = current.isEmpty ? [] : Array(FHIRExporter.resources(twin: twin, events: current).dropFirst())
                let now = mapped.map { r in (key: "\(r["resourceType"]?.stringValue ?? "")/\(r["id"]?.stringValue ?? "")", resource: r) }
                for (k, r) in now where last.first(where: { $0.key == k })?.resource != r {
                    let v = (versions[k] ?? 0) + 1
                    versions[k] = v
                    out.append(version(k, v, t, stamped(r, v, t), twin.id))
                }
                for (k, _) in last where !now.contains(where: { $0.key == k }) {
                    let v = (versions[k] ?? 0) + 1
                    versions[k] = v
                    out.append(version(k, v, t, nil, twin.id))
                }
                last = now
            }
        }
        return out.sorted { a, b in
            a.lastUpdated != b.lastUpdated ? (a.lastUpdated?.microseconds ?? .max) < (b.lastUpdated?.microseconds ?? .max)
                : (a.type, a.id, a.versionId) < (b.type, b.id, b.versionId)
        }
    }

    /// The versions of a person, organisation or population twin's own resource (Patient, Organization, Group):
    /// `definitions` are its definition in each commit, oldest first (nil where the commit does not hold the twin),
    /// with the commit's time, then the definition now (time nil), if any.
    public static func definitionVersions(_ definitions: [(twin: Twin?, time: Instant?)], id: TwinID) -> [FHIRVersion] {
        var out: [FHIRVersion] = []
        var last: JSONValue?
        var type = "Patient", resourceID = id.rawValue
        for (twin, time) in definitions {
            let r = twin.flatMap { FHIRExporter.resources(twin: $0, events: []).first }
            if let r {
                type = r["resourceType"]?.stringValue ?? type
                resourceID = r["id"]?.stringValue ?? resourceID
            }
            guard r != last else { continue }
            if r == nil && last == nil { continue }
            let v = out.count + 1
            out.append(FHIRVersion(type: type, id: resourceID, versionId: v, lastUpdated: time, resource: r.map { stamped($0, v, time) }, twin: id))
            last = r
        }
        return out
    }

    static func version(_ key: String, _ v: Int, _ t: Instant, _ r: JSONValue?, _ twin: TwinID) -> FHIRVersion {
        let slash = key.firstIndex(of: "/") ?? key.endIndex
        return FHIRVersion(type: String(key[..<slash]), id: slash < key.endIndex ? String(key[key.index(after: slash)...]) : "",
                           versionId: v, lastUpdated: t, resource: r, twin: twin)
    }

    /// The resource with `meta.versionId` and `meta.lastUpdated` (the version's recorded time, which replaces the
    /// source's recorded time the export keeps there for types without an element of their own for it).
    static func stamped(_ r: JSONValue, _ v: Int, _ t: Instant?) -> JSONValue {
        guard var o = r.objectValue else { return r }
        var m = o["meta"]?.objectValue ?? JSONObject()
        m["versionId"] = .string(String(v))
        m["lastUpdated"] = t.map { .string(FHIRTime.text($0)) }
        // meta first, after resourceType and id, as FHIR's examples order it
        o["meta"] = nil
        var members = o.members
        members.insert(JSONObject.Member("meta", .object(m)), at: min(2, members.count))
        return .object(JSONObject(members))
    }
}
