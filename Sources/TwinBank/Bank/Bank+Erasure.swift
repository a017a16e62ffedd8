import Foundation
import TwinCore

/// What an erasure (the right to erasure, ``Bank/erase(twin:reason:dryRun:)``) removed, or with a dry run would
/// remove. It holds no health data: ids, counts and the reason.
public struct ErasureReport: Sendable, Hashable, Codable {
    /// One twin the erasure took: the one asked for, its forks (transitively) and its parts.
    public struct ErasedTwin: Sendable, Hashable, Codable {
        public var twin: TwinID
        /// Why it was taken: `requested`, `fork of ID`, `part ROLE of ID`.
        public var why: String
        /// Rows of its own thread turned into tombstones.
        public var eventsPurged: Int
        /// Stored versions of its definition (current, committed, imported, superseded) rewritten to tombstones.
        public var definitionVersionsRewritten: Int
    }
    /// The twin asked for.
    public var twin: TwinID
    public var reason: String
    /// True: nothing was changed; the counts say what an erasure would do now.
    public var dryRun: Bool
    public var time: Instant
    public var twins: [ErasedTwin]
    /// Events of other twins (aggregates, populations, predictions) derived, transitively, from purged events,
    /// purged the same way, per twin id.
    public var derivedEventsPurged: [String: Int]
    /// Aggregates whose explicit member list named an erased twin: every stored version was rewritten without it.
    public var aggregatesChanged: [AggregateID]
    /// Stored versions of those aggregates rewritten.
    public var aggregateVersionsRewritten: Int
    /// Twins outside the erasure whose definitions listed an erased twin as a part (an organ twin erased alone, a
    /// ward listing patients): every stored version was rewritten without it, the current one stored anew.
    public var partsUnlinked: [TwinID]
    /// Records kept in the bank for the twins (FHIR resources such as a Device that refer to the patient) removed,
    /// by name.
    public var recordsRemoved: [String]
    /// Index rows removed (the (twin, code) and (source, twin) pairs of the bank's thread index).
    public var indexRowsRemoved: Int
    /// Dictionary entries (codes, sources, units, first units of codes) no row uses any more, dropped.
    public var dictionaryEntriesDropped: Int
    /// What was done to the bytes on disk (nil for a dry run).
    public var physical: PhysicalErasure?

    /// Every event purged: the twins' own and the derived ones.
    public var eventsPurged: Int { twins.reduce(0) { $0 + $1.eventsPurged } + derivedEventsPurged.values.reduce(0, +) }
    /// Whether the write-ahead log was emptied (nil: no log, or a dry run).
    public var walTruncated: Bool? { physical?.walTruncated }
}

/// The object an erased twin's `erased/ID` reference points to: what was erased, when, why and by whom, with the
/// counts. No health data. It keeps the id reserved.
public struct ErasureRecord: Sendable, Hashable, Codable {
    public var twin: TwinID
    /// Every twin erased together (the twin asked for, its forks and parts).
    public var twins: [TwinID]
    public var reason: String
    public var time: Instant
    public var actor: String
    public var eventsPurged: Int
    public var derivedEventsPurged: Int
    public var definitionVersionsRewritten: Int
    public var aggregatesChanged: Int
    public var recordsRemoved: Int
}

extension Bank {
    static func erasedRef(_ id: String) -> String { "erased/\(id)" }

    /// Throws ``BankError`` `erasedTwin` naming the erasure if `id` was erased (its id stays reserved).
    func refuseErased(_ id: TwinID, _ tx: any StorageReader) throws {
        guard let hex = try tx.ref(Bank.erasedRef(id.rawValue)) else { return }
        let record = try? loadObject(ErasureRecord.self, hex: hex, tx)
        let when = record.map { " on \($0.time) (\($0.reason))" } ?? ""
        throw BankError(.erasedTwin, "twin '\(id)' was erased\(when): its data is gone and its id stays reserved; use another id", value: id.rawValue)
    }

    /// The erasure of a twin's id, if it was erased.
    public func erasure(of id: TwinID) throws -> ErasureRecord? {
        try authorize(.read, id)
        return try storage.read { tx in
            guard let hex = try tx.ref(Bank.erasedRef(id.rawValue)) else { return nil }
            return try loadObject(ErasureRecord.self, hex: hex, tx)
        }
    }

    /// The ids of erased twins, sorted.
    public func erasedTwinIDs() throws -> [TwinID] {
        try authorize(.read, nil)
        return try storage.read { tx in
            try tx.refs(prefix: "erased/").compactMap { try? TwinID(String($0.name.dropFirst("erased/".count))) }
        }
    }

    /// Erases a person's twin: the right to erasure. (Correcting known-wrong data is a retraction,
    /// ``retract(source:reason:erase:)``, which keeps what was measured and when.)
    ///
    /// Scope: the twin, every fork descending from it (transitively), and the twins listed as its parts (organs of the
    /// same person) that no twin outside the scope lists as a part (a fork's parts are its parent's, so erasing a
    /// fork does not take the person's organs), with their forks. The gate is asked for `erase` on every twin taken,
    /// so each is audited; a deny changes nothing.
    ///
    /// In one storage write (all or nothing):
    /// - every row of those twins becomes a tombstone (``Erasure/tombstone(_:reason:)``): value, unit, provenance,
    ///   code, source and effective time are purged; sequence, twin, recorded time and retraction state stay, with the
    ///   reason;
    /// - events of other twins whose provenance is derived (transitively) from a purged event are purged the same way;
    /// - every stored version of the twins' definitions (current, in commits, imported, superseded) is rewritten in
    ///   place to a tombstone (``TwinRecord/erased``: id, kind, creation time), so old commits still resolve; the
    ///   `twin/ID` reference is removed and `erased/ID` points to an ``ErasureRecord``: the id stays reserved
    ///   (creating, forking to, importing or writing it is refused with ``BankError`` `erasedTwin`), and listings,
    ///   aggregates and exports no longer see it;
    /// - every stored version of an aggregate whose explicit members name one of the twins, and of another twin whose
    ///   parts name one, is rewritten without it (the current one is also stored anew under its own hash, so exports
    ///   stay verifiable);
    /// - records kept for the twins (FHIR resources that refer to the patient) are removed;
    /// - the thread index and the dictionaries keep nothing that only the purged rows used.
    /// Not erased: the twins' consent (a governance record) and the audit log (which holds no health data).
    ///
    /// Then the storage removes the freed bytes from its files (``BankStorage/eraseFreedSpace()``: SQLite rebuilds
    /// the file and empties the write-ahead log); ``ErasureReport/physical`` says what was done.
    ///
    /// - Parameter dryRun: compute the report inside a transaction that is rolled back: nothing changes (the gate is
    ///   still asked, and audits it).
    /// - Throws: ``BankError`` `notErasable` (empty reason, a template), `unknownTwin`, `erasedTwin` (already erased),
    ///   `accessDenied`.
    @discardableResult
    public func erase(twin: TwinID, reason: String, dryRun: Bool = false) throws -> ErasureReport {
        let reasonText = reason.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !reasonText.isEmpty else {
            throw BankError(.notErasable, "an erasure needs a reason (--reason): it is kept in the erasure record", value: reason)
        }
        try authorize(.erase, twin)
        var report: ErasureReport
        do {
            report = try writeAsking { tx in
                let r = try eraseInTransaction(twin, reason: reasonText, tx)
                if dryRun { throw DryRunRollback(report: r) }
                return r
            }
        } catch let rollback as DryRunRollback {
            var r = rollback.report
            r.dryRun = true
            return r
        }
        do {
            report.physical = try storage.eraseFreedSpace()
        } catch {
            report.physical = PhysicalErasure(applies: true, rebuilt: false, walTruncated: nil, advice: "\(error)")
        }
        return report
    }

    /// Carries a dry run's report out of the transaction it rolls back.
    private struct DryRunRollback: Error { var report: ErasureReport }

    func eraseInTransaction(_ twin: TwinID, reason: String, _ tx: any StorageWriter) throws -> ErasureReport {
        try refuseErased(twin, tx)
        let requested = try requireRecord(twin, tx)
        guard !requested.twin.isTemplate else {
            throw BankError(.notErasable, "twin '\(twin)' is a template (a reference twin): it holds no person's data and twins were instantiated from it; erase the person's twin instead", value: twin.rawValue)
        }
        let now = clock.now()

        // every current twin, to find forks and who lists a part
        let refs = try tx.refs(prefix: "twin/")
        let hashes = refs.compactMap { ContentHash(hex: $0.value) }
        let bytes = try tx.objects(hashes)
        var records: [TwinID: TwinRecord] = [:]
        for h in hashes {
            guard let b = bytes[h], let r = try? ObjectCodec.decode(TwinRecord.self, from: b) else { continue }
            records[r.id] = r
        }
        var forks: [TwinID: [TwinID]] = [:]
        var listers: [TwinID: [TwinID]] = [:]
        for r in records.values {
            if let p = r.fork?.parent { forks[p, default: []].append(r.id) }
            for part in r.twin.parts { listers[part.twin, default: []].append(r.id) }
        }

        // the scope: forks (transitively), then parts listed only by twins in the scope, until nothing is added
        var why: [TwinID: String] = [twin: "requested"]
        var order: [TwinID] = [twin]
        var changed = true
        while changed {
            changed = false
            var i = 0
            while i < order.count {
                for f in (forks[order[i]] ?? []).sorted() where why[f] == nil {
                    why[f] = "fork of \(order[i])"; order.append(f)
                }
                i += 1
            }
            for t in order {
                for part in records[t]?.twin.parts ?? [] where why[part.twin] == nil {
                    guard let pr = records[part.twin], !pr.twin.isTemplate,
                          (listers[part.twin] ?? []).allSatisfy({ why[$0] != nil }) else { continue }
                    why[part.twin] = "part \(part.role) of \(t)"; order.append(part.twin); changed = true
                }
            }
        }
        let scope = Set(order)
        for t in order where t != twin { try authorizeInTransaction(.erase, t, tx) }

        // the rows: the twins' own, then those of other twins derived from them
        var ownSequences: [TwinID: [Int64]] = [:]
        var purgedIDs = Set<ContentHash>()
        for t in order {
            let rows = try tx.events(EventQuery(twin: t, visibility: .all))
            ownSequences[t] = rows.map(\.sequence)
            for e in rows { purgedIDs.insert(e.id) }
        }
        var derived: [Int64: TwinID] = [:]
        let last = try tx.lastSequence()
        var grew = true
        while grew && last > 0 {
            grew = false
            var next: Int64 = 1
            while next <= last {
                let page = try tx.events(sequences: next...last, limit: 10_000)
                guard let end = page.last else { break }
                for e in page where !scope.contains(e.twin) && derived[e.sequence] == nil
                    && e.provenance.derivedFrom.contains(where: purgedIDs.contains) {
                    derived[e.sequence] = e.twin
                    purgedIDs.insert(e.id)
                    grew = true
                }
                next = end.sequence + 1
            }
        }
        let erased = try tx.erase(sequences: order.flatMap { ownSequences[$0] ?? [] } + derived.keys.sorted(), reason: reason)

        // every stored version of the twins' definitions, in place; other twins' versions that list one of them as a
        // part, in place without it (the current one also stored anew, so exports stay verifiable)
        var versions: [TwinID: Int] = [:]
        var unlinked = Set<TwinID>()
        var rewrittenTwins = Set<String>()
        for kind in ["twin", "twin-version"] {
            try Bank.forEachObject(kind: kind, tx) { h, b in
                guard var r = try? ObjectCodec.decode(TwinRecord.self, from: b), r.erased == nil else { return }
                if scope.contains(r.id) {
                    let tomb = TwinRecord(twin: Twin(id: r.id, kind: r.twin.kind), fork: nil, created: r.created, erased: now)
                    try tx.replaceObject(h, kind: kind, bytes: try ObjectCodec.encode(tomb))
                    versions[r.id, default: 0] += 1
                } else if r.twin.parts.contains(where: { scope.contains($0.twin) }) {
                    r.twin.parts.removeAll { scope.contains($0.twin) }
                    try tx.replaceObject(h, kind: kind, bytes: try ObjectCodec.encode(r))
                    unlinked.insert(r.id)
                    rewrittenTwins.insert(h.hex)
                }
            }
        }
        for (name, hex) in try refs + tx.refs(prefix: "template/") where rewrittenTwins.contains(hex) {
            let r = try loadObject(TwinRecord.self, hex: hex, tx)
            guard !scope.contains(r.id) else { continue }
            try tx.setRef(name, try storeObject(r, kind: "twin", tx).hex)
        }

        // aggregates whose explicit members name them: every version in place, the current one also stored anew
        var aggregates = Set<AggregateID>()
        var aggregateVersions = 0
        var rewritten = Set<String>()
        for kind in ["aggregate", "aggregate-version"] {
            try Bank.forEachObject(kind: kind, tx) { h, b in
                guard var def = try? ObjectCodec.decode(AggregateDefinition.self, from: b),
                      let members = def.members, members.contains(where: scope.contains) else { return }
                def.members = members.filter { !scope.contains($0) }
                try tx.replaceObject(h, kind: kind, bytes: try ObjectCodec.encode(def))
                aggregates.insert(def.id)
                aggregateVersions += 1
                rewritten.insert(h.hex)
            }
        }
        for (name, hex) in try tx.refs(prefix: "aggregate/") where rewritten.contains(hex) {
            let def = try loadObject(AggregateDefinition.self, hex: hex, tx)
            try tx.setRef(name, try storeObject(def, kind: "aggregate", tx).hex)
        }

        // records kept for the twins: FHIR resources that refer to one of them
        var removedRecords: [String] = []
        for (name, hex) in try tx.refs(prefix: Bank.recordPrefix) {
            guard let h = ContentHash(hex: hex), let b = try tx.object(h),
                  Bank.refersToTwin(b, scope) else { continue }
            try tx.setRef(name, nil)
            try tx.deleteObject(h)
            removedRecords.append(String(name.dropFirst(Bank.recordPrefix.count)))
        }

        // the references: the twins leave every listing; their ids stay reserved
        var derivedByTwin: [String: Int] = [:]
        for t in derived.values { derivedByTwin[t.rawValue, default: 0] += 1 }
        let record = ErasureRecord(twin: twin, twins: order, reason: reason, time: now, actor: actor,
                                   eventsPurged: order.reduce(0) { $0 + (ownSequences[$1]?.count ?? 0) },
                                   derivedEventsPurged: derived.count, definitionVersionsRewritten: versions.values.reduce(0, +),
                                   aggregatesChanged: aggregates.count, recordsRemoved: removedRecords.count)
        let recordHash = try storeObject(record, kind: "erasure", tx)
        for t in order {
            try tx.setRef(Bank.twinRef(t), nil)
            try tx.setRef(Bank.erasedRef(t.rawValue), recordHash.hex)
        }
        return ErasureReport(
            twin: twin, reason: reason, dryRun: false, time: now,
            twins: order.map { ErasureReport.ErasedTwin(twin: $0, why: why[$0] ?? "", eventsPurged: ownSequences[$0]?.count ?? 0,
                                                       definitionVersionsRewritten: versions[$0] ?? 0) },
            derivedEventsPurged: derivedByTwin, aggregatesChanged: aggregates.sorted { $0.rawValue < $1.rawValue },
            aggregateVersionsRewritten: aggregateVersions, partsUnlinked: unlinked.sorted { $0.rawValue < $1.rawValue },
            recordsRemoved: removedRecords.sorted(),
            indexRowsRemoved: erased.indexRowsRemoved, dictionaryEntriesDropped: erased.dictionaryEntriesDropped, physical: nil)
    }

    /// Calls `body` with every object of a kind, reading a chunk of hashes at a time (memory bounded by a chunk, not
    /// by the bank).
    static func forEachObject(kind: String, _ tx: any StorageReader, chunk: Int = 2_000,
                              _ body: (ContentHash, [UInt8]) throws -> Void) throws {
        let hashes = try tx.objectHashes(kind: kind)
        var start = 0
        while start < hashes.count {
            let end = Swift.min(start + chunk, hashes.count)
            let slice = Array(hashes[start ..< end])
            let found = try tx.objects(slice)
            for h in slice { if let b = found[h] { try body(h, b) } }
            start = end
        }
    }

    /// Whether a stored record (JSON, a FHIR resource) refers to one of the twins: a `reference` `Patient/ID` (also
    /// after a base URL) or `urn:uuid:ID` whose id is a twin's, as the FHIR import makes a patient's twin id from its
    /// resource id.
    static func refersToTwin(_ bytes: [UInt8], _ twins: Set<TwinID>) -> Bool {
        guard let json = try? JSONSerialization.jsonObject(with: Data(bytes), options: [.fragmentsAllowed]) else { return false }
        let ids = Set(twins.map(\.rawValue))
        func visit(_ v: Any) -> Bool {
            if let d = v as? [String: Any] {
                if let ref = d["reference"] as? String {
                    // `Patient/ID` (also after a base URL) or `urn:uuid:ID`; another type's id is not the patient's
                    let parts = ref.split(separator: "/")
                    let id = ref.hasPrefix("urn:uuid:") ? String(ref.dropFirst("urn:uuid:".count))
                        : parts.count >= 2 && parts[parts.count - 2] == "Patient" ? String(parts[parts.count - 1]) : nil
                    if let id, ids.contains(id) { return true }
                }
                return d.values.contains(where: visit)
            }
            if let a = v as? [Any] { return a.contains(where: visit) }
            return false
        }
        return visit(json)
    }
}
