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
        return try storage.read { tx in
            for t in try closure(of: [twin], tx) where t != twin { try authorize(.export, t) }
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
        return try storage.read { tx in
            let memberSet = Set(members)
            for t in try closure(of: members, tx) where !memberSet.contains(t) { try authorize(.export, t) }
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
                for (p, hex) in objs where !written.contains(hex) {
                    if let h = ContentHash(hex: hex), let b = try tx.object(h) {
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
    /// sequence numbers and this bank's recorded time; fork cut-offs and retractions are remapped.
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
        for (twin, _) in byTwin where try tx.ref(Bank.twinRef(twin)) != nil {
            var m: [ContentHash: Int64] = [:]
            for e in try tx.events(EventQuery(twin: twin, visibility: .all)) { m[e.id] = e.sequence }
            existingSeq[twin] = m
        }
        for e in b.events {
            if let s = existingSeq[e.twin]?[e.id] { seqMap[e.sequence] = s; present += 1; continue }
            seqMap[e.sequence] = next
            var n = e
            n.sequence = next
            next += 1
            toAppend.append(n)
        }
        let importSeq = next - 1
        let recorded = try nextRecorded(tx)
        for i in toAppend.indices {
            toAppend[i].recorded = recorded
            if let r = toAppend[i].retractedAtSequence {
                toAppend[i].retractedAtSequence = Swift.max(seqMap[r] ?? importSeq, toAppend[i].sequence)
            }
        }
        // twin definitions, with fork cut-offs remapped
        for var r in records {
            if var f = r.fork {
                let parentEvents = byTwin[f.parent] ?? []
                f.parentSequence = parentEvents.compactMap { seqMap[$0.sequence] }.max() ?? 0
                r.fork = f
            }
            let (h, bytes) = try ObjectCodec.hashed(r)
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
        if let history = b.history {
            let (h, bytes) = try ObjectCodec.hashed(history)
            try tx.putObject(h, kind: "history", bytes: bytes)
            try tx.setRef("import/\(b.root.abbreviated(16))", h.hex)
        }
        return ImportResult(root: b.root, subject: b.subject, twinsCreated: created, twinsUnchanged: unchanged,
                            eventsAdded: toAppend.count, eventsAlreadyPresent: present, aggregates: aggregates)
    }

    /// The commit history carried by an imported bundle (stored under `import/<root>`), newest first.
    public func importedHistories() throws -> [(root: String, branch: String, commits: [(id: ContentHash, message: String, time: Instant)])] {
        try storage.read { tx in
            try tx.refs(prefix: "import/").map { r in
                let h = try loadObject(BundleFormat.HistoryLine.self, hex: r.value, tx)
                return (String(r.name.dropFirst(7)), h.branch, h.commits.map { ($0.id, $0.message, $0.time) })
            }
        }
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
