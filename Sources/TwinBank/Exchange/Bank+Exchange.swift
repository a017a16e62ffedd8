import Foundation
import TwinCore

/// What an import did.
public struct ImportResult: Sendable, Hashable, Codable {
    /// The bundle's root hash.
    public var root: ContentHash
    public var subject: String
    public var twinsCreated: [TwinID]
    public var twinsUnchanged: [TwinID]
    public var eventsAdded: Int
    public var eventsAlreadyPresent: Int
    public var aggregates: [AggregateID]
    /// Commits of the exporting bank replayed as commits of this bank, and those replayed by an earlier import.
    public var commitsReplayed: Int = 0
    public var commitsAlreadyPresent: Int = 0
    /// The branch whose head is the replayed history's head (`imported:SUBJECT`, see ``Bank/importBundle(_:)``);
    /// nil when the bundle carries no commits.
    public var branch: String? = nil
}

/// What an export wrote.
public struct ExportResult: Sendable, Hashable, Codable {
    public var root: ContentHash
    public var subject: String
    public var twins: [TwinID]
    public var events: Int
    public var objects: Int
    public var lines: Int
}

/// The self-verifying bundle format: UTF-8 lines `<sha256 hex of JSON> <JSON>`; the JSON's `t` field says what
/// the line is (`header`, `object`, `event`, `history`, `manifest`). The last line is the manifest: the number
/// of lines before it and the root hash, SHA-256 over the 32-byte hashes of those lines in order.
/// Objects carry their canonical bytes and content hash; events carry their content hash (checked unless
/// the event was erased). Streaming: a reader needs one line at a time.
enum BundleFormat {
    static let name = "twinbank-bundle"
    static let version = 1

    struct Header: Codable { var t = "header"; var format: String; var version: Int; var subject: String; var created: Instant }
    struct ObjectLine: Codable { var t = "object"; var kind: String; var hash: ContentHash; var path: String?; var bytes: String }
    struct EventLine: Codable { var t = "event"; var event: Event }
    struct HistoryCommit: Codable { var id: ContentHash; var parents: [ContentHash]; var author: String; var time: Instant; var message: String; var threadPin: Int64; var names: [String]; var objects: [String: String] }
    struct HistoryLine: Codable { var t = "history"; var branch: String; var commits: [HistoryCommit] }
    struct Manifest: Codable { var t = "manifest"; var lines: Int; var root: ContentHash; var objects: Int; var events: Int }
    struct Kind: Codable { var t: String }
}

/// Writes bundle lines and accumulates the root.
struct BundleWriter {
    var out = Data()
    var lineHashes: [UInt8] = []
    var lines = 0
    let encoder: JSONEncoder = {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return e
    }()

    mutating func write<T: Encodable>(_ value: T) throws {
        let json = try encoder.encode(value)
        let h = EventHasher.sha256(Array(json))
        out.append(contentsOf: Array(h.hex.utf8))
        out.append(32)
        out.append(json)
        out.append(10)
        lineHashes += h.bytes
        lines += 1
    }

    /// Writes a line whose JSON is already encoded.
    mutating func writeRaw(_ json: [UInt8]) {
        let h = EventHasher.sha256(json)
        out.append(contentsOf: Array(h.hex.utf8))
        out.append(32)
        out.append(contentsOf: json)
        out.append(10)
        lineHashes += h.bytes
        lines += 1
    }

    mutating func finish(objects: Int, events: Int) throws -> ContentHash {
        let root = EventHasher.sha256(lineHashes)
        try write(BundleFormat.Manifest(lines: lines, root: root, objects: objects, events: events))
        return root
    }
}

extension Bank {
    /// Exports a twin (or fork) with its thread, its fork ancestors' threads up to the fork cut-offs, its parts
    /// (a composite twin's organ twins, recursively, each with its whole thread and its own fork ancestors), its
    /// template version, its definitions at every commit of the current branch and that history, to a bundle.
    /// Retracted and erased events are included as such (tombstones stay tombstones). The gate is asked for
    /// `export` of every twin the bundle carries.
    public func exportBundle(twin: TwinID) throws -> (data: Data, result: ExportResult) {
        try authorize(.export, twin)
        return try readAsking { tx in
            for t in try closure(of: [twin], tx) where t != twin { try authorizeInTransaction(.export, t, tx) }
            var w = BundleWriter()
            let r = try export(twins: [twin], aggregate: nil, subject: "twin:\(twin)", &w, tx)
            return (w.out, r)
        }
    }

    /// Exports an aggregate: its definition, its current members as in ``exportBundle(twin:)``, and history.
    public func exportBundle(aggregate: AggregateID) throws -> (data: Data, result: ExportResult) {
        let members = try self.members(of: aggregate).members
        try authorize(.export, nil)
        for m in members { try authorize(.export, m) }
        return try readAsking { tx in
            let memberSet = Set(members)
            for t in try closure(of: members, tx) where !memberSet.contains(t) { try authorizeInTransaction(.export, t, tx) }
            var w = BundleWriter()
            let r = try export(twins: members, aggregate: aggregate, subject: "aggregate:\(aggregate)", &w, tx)
            return (w.out, r)
        }
    }

    func export(twins: [TwinID], aggregate: AggregateID?, subject: String, _ w: inout BundleWriter, _ tx: any StorageReader) throws -> ExportResult {
        try w.write(BundleFormat.Header(format: BundleFormat.name, version: BundleFormat.version, subject: subject, created: clock.now()))
        let (order, cutoff) = try exportedTwins(twins, tx)
        var objects = 0
        var paths = Set<String>()
        for t in order {
            guard let hex = try tx.ref(Bank.twinRef(t)), let h = ContentHash(hex: hex), let bytes = try tx.object(h) else { throw BankError.unknownTwin(t) }
            try w.write(BundleFormat.ObjectLine(kind: "twin", hash: h, path: Bank.twinRef(t), bytes: String(decoding: bytes, as: UTF8.self)))
            objects += 1
            paths.insert(Bank.twinRef(t))
            let record = try ObjectCodec.decode(TwinRecord.self, from: bytes)
            if let ref = record.twin.template, let thex = try tx.ref("template/\(ref.id)@\(ref.version)"), let th = ContentHash(hex: thex), let tb = try tx.object(th) {
                try w.write(BundleFormat.ObjectLine(kind: "template", hash: th, path: "template/\(ref.id)@\(ref.version)", bytes: String(decoding: tb, as: UTF8.self)))
                objects += 1
            }
        }
        if let aggregate {
            guard let hex = try tx.ref(Bank.aggregateRef(aggregate)), let h = ContentHash(hex: hex), let bytes = try tx.object(h) else {
                throw BankError(.unknownAggregate, "unknown aggregate '\(aggregate)'", value: aggregate.rawValue)
            }
            try w.write(BundleFormat.ObjectLine(kind: "aggregate", hash: h, path: Bank.aggregateRef(aggregate), bytes: String(decoding: bytes, as: UTF8.self)))
            objects += 1
            paths.insert(Bank.aggregateRef(aggregate))
        }
        // history of the current branch, restricted to the exported paths, with their older definitions
        let branch = try headBranch(tx)
        var commits: [BundleFormat.HistoryCommit] = []
        var written = Set<String>()
        if let headHex = try tx.ref("branch/\(branch)"), let head = ContentHash(hex: headHex) {
            var frontier = [head]
            var seen = Set<ContentHash>()
            while let id = frontier.popLast() {
                guard seen.insert(id).inserted else { continue }
                let c = try loadObject(Commit.self, hex: id.hex, tx)
                let tree = try loadTree(c.tree, tx)
                var objs: [String: String] = [:]
                for p in paths { if let h = tree[p] { objs[p] = h } }
                for (p, hex) in objs {
                    // a version an erasure rewrote (its bytes no longer hash to its key) does not travel: the
                    // commit is exported without that path
                    guard let h = ContentHash(hex: hex), let b = try tx.object(h), EventHasher.sha256(b) == h else {
                        objs[p] = nil
                        continue
                    }
                    if !written.contains(hex) {
                        try w.write(BundleFormat.ObjectLine(kind: p.hasPrefix("twin/") ? "twin-version" : "aggregate-version", hash: h, path: p, bytes: String(decoding: b, as: UTF8.self)))
                        objects += 1
                    }
                    written.insert(hex)
                }
                commits.append(.init(id: id, parents: c.parents, author: c.author, time: c.time, message: c.message, threadPin: c.threadPin,
                                     names: try names(of: id, tx), objects: objs))
                frontier += c.parents
            }
        }
        commits.sort { $0.time > $1.time }
        try w.write(BundleFormat.HistoryLine(branch: branch, commits: commits))
        // events, ancestors first, in sequence order
        var count = 0
        var json = EventJSONWriter()
        for t in order {
            let max = cutoff[t] ?? nil
            for e in try tx.events(EventQuery(twin: t, maxSequence: max, visibility: .all)).sorted(by: { $0.sequence < $1.sequence }) {
                w.writeRaw(json.eventLine(e))
                count += 1
            }
        }
        let root = try w.finish(objects: objects, events: count)
        return ExportResult(root: root, subject: subject, twins: order, events: count, objects: objects, lines: w.lines)
    }

    /// The twins an export of `twins` carries, in bundle order: parts before the twin they belong to and fork
    /// ancestors before their forks, each once, with the sequence cut-off of its thread (nil = the whole
    /// thread). A fork ancestor travels up to its fork's cut-off; a part travels whole (a composite twin's
    /// parts are current twins, not frozen copies). When a twin is reached in several ways the widest
    /// cut-off wins.
    func exportedTwins(_ twins: [TwinID], _ tx: any StorageReader) throws -> (order: [TwinID], cutoff: [TwinID: Int64?]) {
        var order: [TwinID] = []
        var cutoff: [TwinID: Int64?] = [:]
        var expanded = Set<TwinID>()
        func include(_ twin: TwinID, _ maxSequence: Int64?) {
            if let existing = cutoff[twin] {
                if let e = existing, let m = maxSequence { cutoff[twin] = max(e, m) } else { cutoff[twin] = .some(nil) }
            } else {
                cutoff[twin] = maxSequence
                order.append(twin)
            }
        }
        // depth-first: a twin's parts (and theirs) first, then its fork ancestors, then the twin itself
        // (a twin is expanded once, so parts that name each other cannot loop)
        func visit(_ twin: TwinID) throws {
            for s in try lineage(twin, tx).reversed() {
                if expanded.insert(s.twin).inserted {
                    for p in try requireRecord(s.twin, tx).twin.parts where !expanded.contains(p.twin) {
                        try visit(p.twin)
                    }
                }
                include(s.twin, s.maxSequence)
            }
        }
        for t in twins { try visit(t) }
        return (order, cutoff)
    }

    /// Every twin an export of `twins` carries (see ``exportedTwins(_:_:)``).
    func closure(of twins: [TwinID], _ tx: any StorageReader) throws -> [TwinID] {
        try exportedTwins(twins, tx).order
    }

    /// Verifies and imports a bundle, all or nothing. Every line hash, the root, every object hash and every
    /// (non-erased) event hash is checked first; a mismatch is rejected naming the line, what it holds, and the
    /// expected and actual hash. Importing the same bundle again changes nothing. Imported events get new
    /// sequence numbers (in the exporting bank's order) and this bank's recorded time, and keep the exporting
    /// bank's recorded time as ``TwinCore/Provenance/sourceRecorded`` (an event that already carries one, from an
    /// earlier import, keeps it: the first system's time; the content hash does not change); fork cut-offs and
    /// retractions are remapped. The exporting bank's history is replayed as commits of this bank on the branch
    /// `imported:SUBJECT` (see ``replay(_:bundle:pins:into:_:)``): `log`, `diff`, `twin show --at` and `switch` work
    /// on it; the current branch and the working state do not move.
    /// - Throws: ``BankError`` `invalidBundle`, `bundleHashMismatch`, `duplicateTwin` (a twin with the same id
    ///   but a different definition exists here).
    @discardableResult
    public func importBundle(_ data: Data) throws -> ImportResult {
        let parsed = try BundleReader.verify(data)
        try authorize(.import, nil)
        for o in parsed.objects where o.kind == "twin" { if let p = o.path, let id = try? TwinID(String(p.dropFirst(5))) { try authorize(.import, id) } }
        return try storage.write { tx in try importInTransaction(parsed, tx) }
    }

    func importInTransaction(_ b: BundleReader.Parsed, _ tx: any StorageWriter) throws -> ImportResult {
        let decoder = JSONDecoder()
        var created: [TwinID] = [], unchanged: [TwinID] = []
        // twin records in bundle order (ancestors first)
        var records: [TwinRecord] = []
        for o in b.objects where o.kind == "twin" {
            records.append(try decoder.decode(TwinRecord.self, from: Data(o.bytes)))
        }
        // events per twin; map old sequence -> new sequence
        let lastSeq = try tx.lastSequence()
        var next = lastSeq + 1
        var seqMap: [Int64: Int64] = [:]
        var toAppend: [Event] = []
        var present = 0
        var byTwin: [TwinID: [Event]] = [:]
        for e in b.events { byTwin[e.twin, default: []].append(e) }
        var existingSeq: [TwinID: [ContentHash: Int64]] = [:]
        // (also twins not defined in the working state: the thread is shared by all branches)
        for (twin, _) in byTwin {
            var m: [ContentHash: Int64] = [:]
            for e in try tx.events(EventQuery(twin: twin, visibility: .all)) { m[e.id] = e.sequence }
            existingSeq[twin] = m
        }
        // new sequence numbers follow the exporting bank's order, so a pin there maps to a pin here
        for e in b.events.sorted(by: { $0.sequence < $1.sequence }) {
            if let s = existingSeq[e.twin]?[e.id] { seqMap[e.sequence] = s; present += 1; continue }
            seqMap[e.sequence] = next
            var n = e
            n.sequence = next
            next += 1
            toAppend.append(n)
        }
        let pins = PinMap(seqMap)
        let importSeq = next - 1
        let recorded = try nextRecorded(tx)
        for i in toAppend.indices {
            // the exporting bank's recorded time is kept as the source's (unless the event carries an earlier
            // system's already); this bank's recorded time is when it learnt it
            if toAppend[i].provenance.sourceRecorded == nil { toAppend[i].provenance.sourceRecorded = toAppend[i].recorded }
            toAppend[i].recorded = recorded
            if let r = toAppend[i].retractedAtSequence {
                toAppend[i].retractedAtSequence = Swift.max(seqMap[r] ?? importSeq, toAppend[i].sequence)
            }
        }
        // twin definitions, with fork cut-offs remapped
        for var r in records {
            if var f = r.fork {
                f.parentSequence = pins.map(f.parentSequence)
                r.fork = f
            }
            let (h, bytes) = try ObjectCodec.hashed(r)
            try refuseErased(r.id, tx)
            if let existing = try tx.ref(Bank.twinRef(r.id)) {
                if existing == h.hex { unchanged.append(r.id); continue }
                let current = try loadObject(TwinRecord.self, hex: existing, tx)
                if current.twin == r.twin && current.fork?.parent == r.fork?.parent && current.fork?.forkPoint == r.fork?.forkPoint {
                    unchanged.append(r.id); continue
                }
                throw BankError(.duplicateTwin, "cannot import twin '\(r.id)': this bank has a different twin with the same id", value: r.id.rawValue)
            }
            try tx.putObject(h, kind: "twin", bytes: bytes)
            try tx.setRef(Bank.twinRef(r.id), h.hex)
            created.append(r.id)
        }
        var aggregates: [AggregateID] = []
        for o in b.objects {
            switch o.kind {
            case "template":
                try tx.putObject(o.hash, kind: "twin", bytes: o.bytes)
                if let p = o.path, try tx.ref(p) == nil { try tx.setRef(p, o.hash.hex) }
            case "aggregate":
                let def = try decoder.decode(AggregateDefinition.self, from: Data(o.bytes))
                try tx.putObject(o.hash, kind: "aggregate", bytes: o.bytes)
                if let existing = try tx.ref(Bank.aggregateRef(def.id)), existing != o.hash.hex {
                    throw BankError(.duplicateAggregate, "cannot import aggregate '\(def.id)': this bank has a different aggregate with the same id", value: def.id.rawValue)
                }
                try tx.setRef(Bank.aggregateRef(def.id), o.hash.hex)
                aggregates.append(def.id)
            case "twin-version", "aggregate-version":
                try tx.putObject(o.hash, kind: o.kind, bytes: o.bytes)
            default: break
            }
        }
        if !toAppend.isEmpty {
            try tx.append(toAppend, batch: BatchRecord(firstSequence: lastSeq + 1, lastSequence: importSeq, recorded: recorded))
            for e in toAppend {
                if case .quantity(let q)? = e.value, try tx.unit(for: e.code.key) == nil { try tx.setUnit(q.unit, for: e.code.key) }
            }
        }
        var result = ImportResult(root: b.root, subject: b.subject, twinsCreated: created, twinsUnchanged: unchanged,
                                  eventsAdded: toAppend.count, eventsAlreadyPresent: present, aggregates: aggregates)
        if let history = b.history, !history.commits.isEmpty {
            try replay(history, bundle: b, pins: pins, into: &result, tx)
        }
        return result
    }

    /// Maps the exporting bank's sequence numbers to this bank's: a pin `p` there becomes the largest new
    /// sequence number of a bundle event numbered `<= p` there (0 if none), so reading at the mapped pin shows
    /// the imported twins' events exactly as reading at `p` did there.
    struct PinMap {
        let old: [Int64]
        let new: [Int64]
        init(_ map: [Int64: Int64]) {
            let sorted = map.sorted { $0.key < $1.key }
            old = sorted.map(\.key)
            var running: Int64 = 0
            new = sorted.map { running = Swift.max(running, $0.value); return running }
        }
        func map(_ pin: Int64) -> Int64 {
            var lo = 0, hi = old.count
            while lo < hi { let mid = (lo + hi) / 2; if old[mid] <= pin { lo = mid + 1 } else { hi = mid } }
            return lo == 0 ? 0 : new[lo - 1]
        }
    }

    /// Replays a bundle's history as commits of this bank, oldest first: each keeps its message, author and
    /// time, and records where it came from (``ImportedCommit``); its tree holds the exported definitions as
    /// they were at that commit (fork cut-offs mapped), its pin is mapped (``PinMap``), and its parents are the
    /// replayed parents. A commit already replayed with the same tree (by an earlier import) is reused, so a
    /// second import adds nothing. The replayed head becomes the branch `imported:SUBJECT`; if that branch
    /// exists on an unrelated history, `imported:SUBJECT:ROOT` (the bundle's root, 12 digits) is used instead.
    func replay(_ history: BundleFormat.HistoryLine, bundle b: BundleReader.Parsed, pins: PinMap,
                into result: inout ImportResult, _ tx: any StorageWriter) throws {
        var bytes: [ContentHash: [UInt8]] = [:]
        for o in b.objects { bytes[o.hash] = o.bytes }
        var replayed: [ContentHash: ContentHash] = [:]
        var mappedObject: [String: String] = [:]
        // parents before children (depth-first, oldest first among siblings)
        let byTime = history.commits.sorted { ($0.time, $0.id.hex) < ($1.time, $1.id.hex) }
        let byID = Dictionary(history.commits.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        var order: [BundleFormat.HistoryCommit] = []
        var placed = Set<ContentHash>(), visiting = Set<ContentHash>()
        for start in byTime where !placed.contains(start.id) {
            var stack: [(BundleFormat.HistoryCommit, Bool)] = [(start, false)]
            while let (c, expanded) = stack.popLast() {
                if placed.contains(c.id) { continue }
                if expanded { placed.insert(c.id); order.append(c); continue }
                guard visiting.insert(c.id).inserted else { continue }   // a cycle: replaying it fails below
                stack.append((c, true))
                for p in c.parents.reversed() { if let pc = byID[p], !placed.contains(p) { stack.append((pc, false)) } }
            }
        }
        for hc in order {
            var entries: [TreeEntry] = []
            for (path, hex) in hc.objects.sorted(by: { $0.key < $1.key }) {
                if let m = mappedObject[hex] { entries.append(TreeEntry(path: path, hash: m)); continue }
                guard let h = ContentHash(hex: hex), let ob = bytes[h] else {
                    throw BankError(.invalidBundle, "bundle rejected: commit \(hc.id.abbreviated()) names \(path) version \(hex.prefix(12)), which the bundle does not carry", value: hex)
                }
                var mapped = hex
                if path.hasPrefix("twin/") {
                    var r = try ObjectCodec.decode(TwinRecord.self, from: ob)
                    if var f = r.fork {
                        f.parentSequence = pins.map(f.parentSequence)
                        r.fork = f
                        mapped = try storeObject(r, kind: "twin-version", tx).hex
                    }
                }
                mappedObject[hex] = mapped
                entries.append(TreeEntry(path: path, hash: mapped))
            }
            let tree = try storeObject(entries, kind: "tree", tx)
            let key = "replayed/\(hc.id.hex):\(tree.abbreviated(16))"
            if let existing = try tx.ref(key), let id = ContentHash(hex: existing) {
                replayed[hc.id] = id
                result.commitsAlreadyPresent += 1
                continue
            }
            let parents = try hc.parents.map { p -> ContentHash in
                guard let q = replayed[p] else {
                    throw BankError(.invalidBundle, "bundle rejected: commit \(hc.id.abbreviated()) has parent \(p.abbreviated()), which the bundle's history does not carry", value: p.hex)
                }
                return q
            }
            let c = Commit(tree: tree, parents: parents, author: hc.author, time: hc.time, message: hc.message,
                           threadPin: pins.map(hc.threadPin),
                           imported: ImportedCommit(sourceCommit: hc.id, sourceBranch: history.branch, sourcePin: hc.threadPin, bundle: b.root))
            let id = try storeObject(c, kind: "commit", tx)
            try tx.setRef("commit/\(id.hex)", "")
            try tx.setRef(key, id.hex)
            replayed[hc.id] = id
            result.commitsReplayed += 1
        }
        // the head: the newest commit that no other carried commit names as a parent
        let parentIDs = Set(history.commits.flatMap(\.parents))
        guard let sourceHead = byTime.last(where: { !parentIDs.contains($0.id) }), let head = replayed[sourceHead.id] else { return }
        var name = "imported:\(b.subject)"
        if (try? Bank.checkRefName(name, what: "branch")) == nil { name = "imported:\(b.root.abbreviated(12))" }
        if let existing = try tx.ref("branch/\(name)"), let current = ContentHash(hex: existing), current != head {
            if try isAncestor(current, of: head, tx) {
                try tx.setRef("branch/\(name)", head.hex)          // fast-forward: a newer export of the same subject
            } else if try !isAncestor(head, of: current, tx) {
                name += ":\(b.root.abbreviated(12))"            // an unrelated history: keep both
                try tx.setRef("branch/\(name)", head.hex)
            }
        } else {
            try tx.setRef("branch/\(name)", head.hex)
        }
        result.branch = name
    }

    /// Whether `a` is `b` or one of its ancestors.
    func isAncestor(_ a: ContentHash, of b: ContentHash, _ tx: any StorageReader) throws -> Bool {
        var frontier = [b]
        var seen = Set<ContentHash>()
        while let id = frontier.popLast() {
            if id == a { return true }
            guard seen.insert(id).inserted else { continue }
            frontier += try loadObject(Commit.self, hex: id.hex, tx).parents
        }
        return false
    }
}

/// Reads and verifies a bundle.
enum BundleReader {
    struct Object { var kind: String; var hash: ContentHash; var path: String?; var bytes: [UInt8] }
    struct Parsed {
        var subject: String
        var root: ContentHash
        var objects: [Object] = []
        var events: [Event] = []
        var history: BundleFormat.HistoryLine?
    }

    static func verify(_ data: Data) throws -> Parsed {
        func fail(_ code: BankError.Code, _ why: String, _ value: String) -> BankError {
            BankError(code, "bundle rejected: \(why)", value: value)
        }
        func fail(_ why: String, _ value: String) -> BankError { fail(.invalidBundle, why, value) }
        let bytes = [UInt8](data)
        var lines: [ArraySlice<UInt8>] = []
        var start = 0
        for i in bytes.indices where bytes[i] == 10 { lines.append(bytes[start..<i]); start = i + 1 }
        guard start == bytes.count else { throw fail("the last line is not terminated (the file is truncated)", "line \(lines.count + 1)") }
        guard lines.count >= 2 else { throw fail("not a Twinbank bundle: too few lines", "\(lines.count) lines") }
        let decoder = JSONDecoder()
        var hashes: [UInt8] = []
        var parsed = Parsed(subject: "", root: ContentHash(w0: 0, w1: 0, w2: 0, w3: 0))
        var hasher = EventHasher()
        var eventCount = 0, objectCount = 0
        let eventPrefix = Array("{\"t\":\"event\",".utf8)
        for (index, line) in lines.enumerated() {
            let number = index + 1
            guard line.count > 65, line[line.startIndex + 64] == 32,
                  let expected = ContentHash(hex: String(decoding: line.prefix(64), as: UTF8.self)) else {
                throw fail("line \(number) is not '<sha256> <json>'", "line \(number)")
            }
            let json = Array(line.dropFirst(65))
            let actual = EventHasher.sha256(json)
            let kindName = json.starts(with: eventPrefix) ? "event" : ((try? decoder.decode(BundleFormat.Kind.self, from: Data(json)))?.t ?? "unreadable")
            guard actual == expected else {
                throw fail(.bundleHashMismatch, "line \(number) (\(kindName)) does not match its hash: expected \(expected.hex), actual \(actual.hex)", "line \(number)")
            }
            let jsonData = Data(json)
            do {
                switch kindName {
                case "header":
                    guard index == 0 else { throw fail("header on line \(number)", "line \(number)") }
                    let h = try decoder.decode(BundleFormat.Header.self, from: jsonData)
                    guard h.format == BundleFormat.name, h.version == BundleFormat.version else {
                        throw fail("unsupported bundle format \(h.format) version \(h.version)", "line 1")
                    }
                    parsed.subject = h.subject
                case "object":
                    let o = try decoder.decode(BundleFormat.ObjectLine.self, from: jsonData)
                    let ob = Array(o.bytes.utf8)
                    let oh = EventHasher.sha256(ob)
                    guard oh == o.hash else {
                        throw fail(.bundleHashMismatch, "object \(o.path ?? o.kind) on line \(number) does not match its hash: expected \(o.hash.hex), actual \(oh.hex)", o.hash.hex)
                    }
                    parsed.objects.append(Object(kind: o.kind, hash: o.hash, path: o.path, bytes: ob))
                    objectCount += 1
                case "event":
                    let e = try decoder.decode(BundleFormat.EventLine.self, from: jsonData).event
                    if e.erasure == nil {
                        let h = hasher.hash(e.draft)
                        guard h == e.id else {
                            throw fail(.bundleHashMismatch, "event \(e.id.hex) of twin '\(e.twin)' on line \(number) does not match its content: expected \(e.id.hex), actual \(h.hex)", e.id.hex)
                        }
                    }
                    parsed.events.append(e)
                    eventCount += 1
                case "history":
                    parsed.history = try decoder.decode(BundleFormat.HistoryLine.self, from: jsonData)
                case "manifest":
                    guard number == lines.count else { throw fail("manifest on line \(number) is not the last line", "line \(number)") }
                    let m = try decoder.decode(BundleFormat.Manifest.self, from: jsonData)
                    let root = EventHasher.sha256(hashes)
                    guard m.lines == index else {
                        throw fail(.bundleHashMismatch, "the manifest lists \(m.lines) lines but the bundle has \(index)", "manifest")
                    }
                    guard m.root == root else {
                        throw fail(.bundleHashMismatch, "root hash mismatch: expected \(m.root.hex), actual \(root.hex)", m.root.hex)
                    }
                    guard m.events == eventCount, m.objects == objectCount else {
                        throw fail(.bundleHashMismatch, "the manifest lists \(m.objects) objects and \(m.events) events, the bundle has \(objectCount) and \(eventCount)", "manifest")
                    }
                    parsed.root = root
                default:
                    throw fail("line \(number) has an unknown type '\(kindName)'", "line \(number)")
                }
            } catch let e as BankError { throw e } catch {
                throw fail("line \(number) (\(kindName)) cannot be read: \(error)", "line \(number)")
            }
            hashes += actual.bytes
        }
        guard (try? decoder.decode(BundleFormat.Kind.self, from: Data(lines.last!.dropFirst(65))))?.t == "manifest" else {
            throw fail("the bundle has no manifest (truncated?)", "line \(lines.count)")
        }
        guard !parsed.subject.isEmpty else { throw fail("the bundle has no header", "line 1") }
        return parsed
    }
}

extension Bank {
    /// Exports a twin or fork to a bundle file (see ``exportBundle(twin:)``), through ``OutputFile``: an existing
    /// folder is refused and never touched, an existing file is refused unless `overwrite`, and the file is written
    /// whole or not at all (a temporary file in the same folder, then an atomic rename).
    /// - Throws: ``TwinError`` `outputExists` / `cannotWrite` naming the path (checked before the export is built),
    ///   and every error of ``exportBundle(twin:)``.
    @discardableResult
    public func exportBundle(twin: TwinID, to url: URL, overwrite: Bool = false) throws -> ExportResult {
        try OutputFile.checkWritable(url.relativePath, overwrite: overwrite)
        let (data, result) = try exportBundle(twin: twin)
        try OutputFile.write([UInt8](data), to: url.relativePath, overwrite: overwrite)
        return result
    }

    /// Exports an aggregate to a bundle file (see ``exportBundle(aggregate:)`` and, for how the file is written,
    /// ``exportBundle(twin:to:overwrite:)``).
    @discardableResult
    public func exportBundle(aggregate: AggregateID, to url: URL, overwrite: Bool = false) throws -> ExportResult {
        try OutputFile.checkWritable(url.relativePath, overwrite: overwrite)
        let (data, result) = try exportBundle(aggregate: aggregate)
        try OutputFile.write([UInt8](data), to: url.relativePath, overwrite: overwrite)
        return result
    }

    /// Verifies and imports a bundle file (see ``importBundle(_:)``).
    /// - Throws: ``BankError`` `invalidBundle` if the file cannot be read, and every error of ``importBundle(_:)``.
    @discardableResult
    public func importBundle(contentsOf url: URL) throws -> ImportResult {
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw BankError(.invalidBundle, "cannot read bundle '\(url.path)': \(error.localizedDescription)", value: url.path)
        }
        return try importBundle(data)
    }
}
