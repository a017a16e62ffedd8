import Crypto
import Foundation
import TwinCore

/// What a backup carries besides the storage's own content: a log the bank keeps beside its storage and writes
/// outside the storage's transactions (the audit log, through TwinGovernance's `AuditLogBackup`). Its records are
/// opaque to the backup: text the attachment writes and reads back itself.
public protocol BackupAttachment: AnyObject {
    /// The name its records carry in a backup (`audit`); one attachment per name.
    var name: String { get }
    /// Whether it holds nothing (a restore needs an empty target).
    func isEmpty() throws -> Bool
    /// Writes every record, in order, through `emit`, reading in bounded pieces (never the whole log at once).
    func exportRecords(_ emit: (String) throws -> Void) throws
    /// Takes one record, in the order ``exportRecords(_:)`` wrote them (it may store records in groups).
    func restoreRecord(_ record: String) throws
    /// After the last record: stores what is still held, and checks that nothing is missing.
    func finishRestore() throws
}

/// What a backup holds, from its header and trailer (``BankBackup``).
public struct BackupSummary: Sendable, Hashable, Codable {
    /// ``BankBackup/format``.
    public var format: String
    /// ``BankBackup/version``.
    public var version: Int
    /// The source bank's last sequence number when the backup was read.
    public var lastSequence: Int64
    /// Where the backup was read from, when the writer said (a bank path or URL without credentials).
    public var source: String?
    /// When the backup was written.
    public var created: Instant
    public var counts: BackupCounts
    /// SHA-256 (hex) of every line before the trailer.
    public var sha256: String
}

/// How many records of each kind a backup holds (its trailer repeats them; a restore checks them).
public struct BackupCounts: Sendable, Hashable, Codable {
    public var objects = 0, refs = 0, units = 0, batches = 0, events = 0
    /// Records per attachment name (`audit`: entries, nodes and heads of the audit log).
    public var attachments: [String: Int] = [:]
    public init() {}
}

/// A consistent backup of a whole bank, from any ``BankStorage`` into any other, streamed (a bank of tens of
/// millions of events is never held in memory).
///
/// The file is JSON lines, each `{"t":"<kind>",...}` and ending in a newline:
/// - `header`: ``format``, ``version``, the source's last sequence, its source and the time written;
/// - `object` (hash, kind, bytes in base64), `ref` (name, value), `unit` (the first unit of a code);
/// - `batch` (first and last sequence, recorded time), followed by its `event` lines: every field of every event as
///   stored (sequence, recorded time, retraction, erasure and tombstones), so as-of and known-at answers, commits,
///   forks and aggregates are the same after a restore;
/// - `attachment` (a name and an opaque record: the audit log's entries, nodes and signed heads);
/// - `end`: the counts of each kind and the SHA-256 of every byte before it.
///
/// Everything of the storage is read in **one** read transaction (a consistent snapshot), in pages (batches,
/// events and objects thousands at a time). A restore checks the whole file (hash, counts, that it ends with its
/// trailer) before it writes anything, refuses a target that holds anything, writes the storage's content in one
/// write transaction, and the attachments after it.
public enum BankBackup {
    /// The format name in every backup's header.
    public static let format = "twinbank-backup"
    /// The format version this code writes and reads.
    public static let version = 1
    /// Records per storage read (batches, events) and objects per read.
    static let page = 5_000
    static let objectPage = 1_000
    /// Bytes buffered before they are written.
    static let flushBytes = 1 << 20

    // MARK: Records

    struct Header: Codable {
        var format: String
        var version: Int
        var lastSequence: Int64
        var source: String?
        var created: Instant
    }
    struct ObjectLine: Codable { var hash: String; var kind: String; var bytes: String }
    struct RefLine: Codable { var name: String; var value: String }
    struct UnitLine: Codable { var system: String; var code: String; var unit: String }
    /// A batch record; `key` and `digest` (hex) only for a batch appended with an idempotency key.
    struct BatchLine: Codable { var first: Int64; var last: Int64; var recorded: Int64; var key: String?; var digest: String? }
    struct AttachmentLine: Codable { var name: String; var record: String }
    struct Trailer: Codable { var counts: BackupCounts; var sha256: String }
    struct Envelope<P: Codable>: Codable { var t: String; var r: P }
    struct EventEnvelope: Codable { var t: String; var event: Event }

    static func line<P: Codable>(_ kind: String, _ payload: P, _ encoder: JSONEncoder) throws -> [UInt8] {
        // the kind first, written here (an encoder may order keys as it likes)
        var out = Array("{\"t\":\"\(kind)\",\"r\":".utf8)
        out.append(contentsOf: try encoder.encode(payload))
        out.append(contentsOf: [UInt8(ascii: "}"), 10])
        return out
    }

    /// The kind of a line: the text between `{"t":"` and the next quote.
    static func kind(of line: [UInt8]) -> String? {
        let prefix = Array("{\"t\":\"".utf8)
        guard line.count > prefix.count, Array(line[0..<prefix.count]) == prefix else { return nil }
        guard let end = line[prefix.count...].firstIndex(of: UInt8(ascii: "\"")) else { return nil }
        return String(decoding: line[prefix.count..<end], as: UTF8.self)
    }

    static func hex(_ digest: some Sequence<UInt8>) -> String { digest.map { String(format: "%02x", $0) }.joined() }

    // MARK: Writing

    /// Writes a backup of everything in `storage`, and the records of `attachments`, through `emit` (pieces of
    /// whole lines, about a megabyte each).
    /// - Parameter source: what the header names as the source (a bank path; never a credential).
    /// - Throws: the storage's errors, and ``BankError`` `storageFailure` when an event belongs to no batch.
    @discardableResult
    public static func write(from storage: any BankStorage, attachments: [any BackupAttachment] = [], source: String? = nil,
                             progress: any ProgressReporter = SilentProgress(), clock: any Clock = SystemClock(),
                             _ emit: ([UInt8]) throws -> Void) throws -> BackupSummary {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]  // the same bank gives the same bytes
        var hasher = SHA256()
        var buffer: [UInt8] = []
        buffer.reserveCapacity(flushBytes + 65_536)
        var counts = BackupCounts()
        func put(_ line: [UInt8]) throws {
            hasher.update(data: line)
            buffer.append(contentsOf: line)
            if buffer.count >= flushBytes { try emit(buffer); buffer.removeAll(keepingCapacity: true) }
        }
        defer { progress.finish() }
        var header = Header(format: format, version: version, lastSequence: 0, source: source, created: clock.now())
        try storage.read { tx in
            header.lastSequence = try tx.lastSequence()
            try put(line("header", header, encoder))
            var after: ContentHash? = nil
            while true {
                let objects = try tx.objects(after: after, limit: objectPage)
                for o in objects {
                    try put(line("object", ObjectLine(hash: o.hash.hex, kind: o.kind, bytes: Data(o.bytes).base64EncodedString()), encoder))
                }
                counts.objects += objects.count
                guard objects.count == objectPage, let last = objects.last else { break }
                after = last.hash
            }
            for r in try tx.refs(prefix: "") { try put(line("ref", RefLine(name: r.name, value: r.value), encoder)) ; counts.refs += 1 }
            for (code, unit) in try tx.units().sorted(by: { $0.key < $1.key }) {
                try put(line("unit", UnitLine(system: code.system, code: code.code, unit: unit), encoder)); counts.units += 1
            }
            // batches in order of their last sequence, each followed by the events up to it
            var writer = EventJSONWriter()
            var events: [Event] = [], next = 0
            var nextSequence: Int64 = Int64.min
            var exhausted = false
            func peek() throws -> Event? {
                if next == events.count && !exhausted {
                    events = try tx.events(sequences: nextSequence...Int64.max, limit: page)
                    next = 0
                    // a short page was the last (the snapshot does not change)
                    exhausted = events.count < page
                }
                return next < events.count ? events[next] : nil
            }
            var afterBatch = Int64.min
            while true {
                let batches = try tx.batches(after: afterBatch, limit: page)
                for b in batches {
                    try put(line("batch", BatchLine(first: b.firstSequence, last: b.lastSequence, recorded: b.recorded.microseconds,
                                                         key: b.idempotency?.key, digest: b.idempotency?.digest.hex), encoder))
                    counts.batches += 1
                    while let e = try peek(), e.sequence <= b.lastSequence {
                        var l = writer.eventLine(e)
                        l.append(10)
                        try put(l)
                        counts.events += 1
                        next += 1
                        nextSequence = e.sequence + 1
                    }
                    progress.update(done: Int(clamping: b.lastSequence), of: Int(clamping: header.lastSequence), unit: "sequences")
                }
                guard batches.count == page, let last = batches.last else { break }
                afterBatch = last.lastSequence
            }
            // one more look past the last event written (a storage that gave a short page before its end is caught here)
            if let orphan = try peek() ?? tx.events(sequences: nextSequence...Int64.max, limit: 1).first {
                throw BankError(.storageFailure, "event \(orphan.sequence) belongs to no batch: the storage's batch records do not cover its events", value: "\(orphan.sequence)")
            }
        }
        for a in attachments {
            var n = 0
            try a.exportRecords { record in
                try put(line("attachment", AttachmentLine(name: a.name, record: record), encoder))
                n += 1
            }
            // an attachment with no record is not counted (a reader counts the records it finds: none, no name)
            if n > 0 { counts.attachments[a.name, default: 0] += n }
        }
        let sha = hex(hasher.finalize())
        buffer.append(contentsOf: try line("end", Trailer(counts: counts, sha256: sha), encoder))
        try emit(buffer)
        return BackupSummary(format: format, version: version, lastSequence: header.lastSequence, source: source, created: header.created,
                             counts: counts, sha256: sha)
    }

    /// Writes a backup (see ``write(from:attachments:source:progress:clock:_:)``) to a new file at `path`, through a
    /// temporary file beside it that takes the name only when complete (``TwinCore/OutputFile/Stream``): an
    /// existing file or folder at `path` is refused, and a failure leaves no file.
    /// - Throws: ``TwinCore/TwinError`` `outputExists` or `cannotWrite` naming the path, and the storage's errors.
    @discardableResult
    public static func write(from storage: any BankStorage, to path: String, attachments: [any BackupAttachment] = [], source: String? = nil,
                             progress: any ProgressReporter = SilentProgress(), clock: any Clock = SystemClock()) throws -> BackupSummary {
        let out: OutputFile.Stream
        do { out = try OutputFile.Stream(path: path, overwrite: false) } catch { throw newFile(error, path) }
        do {
            let summary = try write(from: storage, attachments: attachments, source: source, progress: progress, clock: clock) { bytes in
                try out.write(bytes)
            }
            try out.commit()
            return summary
        } catch let e as TwinError {
            out.discard()
            throw newFile(e, path)
        } catch {
            out.discard()
            throw error
        }
    }

    /// Checks, before any reading, that a backup can be written to `path`: nothing is there (a backup never
    /// replaces a file or folder) and its folder exists.
    /// - Throws: ``TwinCore/TwinError`` `outputExists` or `cannotWrite` naming the path.
    public static func checkNewFile(_ path: String) throws {
        do { try OutputFile.checkWritable(path, overwrite: false) } catch { throw newFile(error, path) }
    }

    /// ``TwinCore/OutputFile``'s refusal of an existing file, without its advice to replace it (a backup never does).
    static func newFile(_ e: TwinError, _ path: String) -> TwinError {
        guard e.code == .outputExists, e.message.contains("--force") else { return e }
        return TwinError(.outputExists, "'\(path)' exists: a backup is written only to a new file; give a new path (nothing was written)", value: path)
    }

    // MARK: Reading

    /// Reads a file line by line (without the newline), a megabyte at a time.
    final class LineReader {
        let handle: FileHandle
        let path: String
        var buffer: [UInt8] = []
        var start = 0
        var atEnd = false

        init(path: String) throws {
            guard let h = FileHandle(forReadingAtPath: path) else {
                throw BankError(.invalidBackup, "cannot read the backup '\(path)': no such file, or not readable", value: path)
            }
            handle = h
            self.path = path
        }
        deinit { try? handle.close() }

        /// The next line; nil at the end of the file. A last line without its newline is refused (a cut file).
        func next() throws -> [UInt8]? {
            while true {
                if let nl = buffer[start...].firstIndex(of: 10) {
                    let l = Array(buffer[start..<nl])
                    start = nl + 1
                    return l
                }
                if atEnd {
                    if start < buffer.count {
                        throw BankError(.invalidBackup, "the backup '\(path)' is truncated: its last line is cut off (nothing was restored)", value: path)
                    }
                    return nil
                }
                buffer.removeFirst(start)
                start = 0
                let chunk = try handle.read(upToCount: BankBackup.flushBytes) ?? Data()
                if chunk.isEmpty { atEnd = true } else { buffer.append(contentsOf: chunk) }
            }
        }
    }

    static func invalid(_ path: String, _ problem: String) -> BankError {
        BankError(.invalidBackup, "the backup '\(path)' \(problem) (nothing was restored)", value: path)
    }

    static func decode<T: Decodable>(_ type: T.Type, _ line: [UInt8], _ path: String, _ what: String) throws -> T {
        do { return try JSONDecoder().decode(type, from: Data(line)) } catch {
            throw invalid(path, "has a malformed \(what) line")
        }
    }

    /// The header, and its line with its newline (the hash covers it).
    static func header(_ reader: LineReader, _ path: String) throws -> (Header, [UInt8]) {
        guard let first = try reader.next() else { throw invalid(path, "is empty: it is not a Twinbank backup") }
        guard kind(of: first) == "header", let h = try? JSONDecoder().decode(Envelope<Header>.self, from: Data(first)).r, h.format == format else {
            throw invalid(path, "is not a Twinbank backup: it does not start with a \(format) header")
        }
        guard h.version == version else {
            throw invalid(path, "has format version \(h.version); this Twinbank reads version \(version)")
        }
        return (h, first + [10])
    }

    static func checkEnd(_ line: [UInt8], _ reader: LineReader, _ counts: BackupCounts, _ sha: String, _ path: String) throws -> Trailer {
        let trailer = try decode(Envelope<Trailer>.self, line, path, "trailer").r
        guard trailer.sha256 == sha else {
            throw invalid(path, "was altered: its content's SHA-256 is \(sha), its trailer says \(trailer.sha256)")
        }
        guard trailer.counts == counts else {
            throw invalid(path, "does not hold what its trailer counts (objects \(counts.objects)/\(trailer.counts.objects), refs \(counts.refs)/\(trailer.counts.refs), units \(counts.units)/\(trailer.counts.units), batches \(counts.batches)/\(trailer.counts.batches), events \(counts.events)/\(trailer.counts.events), attachments \(counts.attachments)/\(trailer.counts.attachments))")
        }
        if try reader.next() != nil { throw invalid(path, "has data after its trailer") }
        return trailer
    }

    static func count(_ kind: String, _ line: [UInt8], _ counts: inout BackupCounts, _ path: String) throws {
        switch kind {
        case "object": counts.objects += 1
        case "ref": counts.refs += 1
        case "unit": counts.units += 1
        case "batch": counts.batches += 1
        case "event": counts.events += 1
        case "attachment":
            let name = try decode(Envelope<AttachmentLine>.self, line, path, "attachment").r.name
            counts.attachments[name, default: 0] += 1
        default: throw invalid(path, "has a line of unknown kind '\(kind)'")
        }
    }

    /// Checks a backup file without writing anything: its header, that it ends with its trailer, that every line
    /// is of a known kind, and that the counts and the SHA-256 of its content match the trailer.
    /// - Throws: ``BankError`` `invalidBackup` naming the file and the problem (not a backup, another version,
    ///   truncated, altered).
    public static func verify(path: String) throws -> BackupSummary {
        let reader = try LineReader(path: path)
        let (h, headerLine) = try header(reader, path)
        var hasher = SHA256()
        var counts = BackupCounts()
        hasher.update(data: headerLine)
        while let l = try reader.next() {
            guard let k = kind(of: l) else { throw invalid(path, "has a line that is not a backup record") }
            if k == "end" {
                let sha = hex(hasher.finalize())
                let trailer = try checkEnd(l, reader, counts, sha, path)
                return BackupSummary(format: h.format, version: h.version, lastSequence: h.lastSequence, source: h.source, created: h.created,
                                     counts: trailer.counts, sha256: sha)
            }
            try count(k, l, &counts, path)
            hasher.update(data: l); hasher.update(data: [10])
        }
        throw invalid(path, "is truncated: it ends before its trailer")
    }

    /// Restores a backup into `storage`, which must be empty, and the backup's attachments into `attachments`
    /// (which must be empty too, one per attachment name the backup holds).
    ///
    /// First the whole file is checked (``verify(path:)``): nothing is written from a truncated or altered file.
    /// Then the storage's content is written in **one** write transaction (objects, refs, units, then every batch
    /// with its events exactly as stored), which reads on to the trailer and checks the whole file's hash and counts
    /// again before it commits; then the attachments' records, from a second read of the file. Holds one batch's events in memory at a time (as many as the source bank wrote in
    /// one append).
    /// - Throws: ``BankError`` `invalidBackup` (see ``verify(path:)``; also a backup holding an attachment no
    ///   `attachments` takes), `bankNotEmpty` (the storage or an attachment holds something; nothing changed), and
    ///   the storage's errors (the transaction is rolled back).
    @discardableResult
    public static func restore(from path: String, into storage: any BankStorage, attachments: [any BackupAttachment] = [],
                               progress: any ProgressReporter = SilentProgress()) throws -> BackupSummary {
        let summary = try verify(path: path)
        let byName = Dictionary(attachments.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        for (name, n) in summary.counts.attachments where n > 0 && byName[name] == nil {
            throw invalid(path, "holds \(n) record(s) of the \(name) log, and the target has no \(name) log to restore them into")
        }
        for a in attachments where try !a.isEmpty() {
            throw BankError(.bankNotEmpty, "the target's \(a.name) log is not empty: a backup is restored only into a new, empty bank (nothing changed)", value: a.name)
        }
        defer { progress.finish() }
        let reader = try LineReader(path: path)
        let headerLine = try header(reader, path).1
        var hasher = SHA256()
        hasher.update(data: headerLine)
        var counts = BackupCounts()
        var attachmentsFollow = false
        try storage.write { tx in
            guard try tx.lastSequence() == 0, try tx.batches(after: Int64.min, limit: 1).isEmpty,
                  try tx.objects(after: nil, limit: 1).isEmpty, try tx.refs(prefix: "").isEmpty, try tx.units().isEmpty else {
                throw BankError(.bankNotEmpty, "the target bank is not empty: a backup is restored only into a new, empty bank (nothing changed)")
            }
            var pending: BatchRecord? = nil
            var events: [Event] = []
            func flush() throws {
                if let b = pending { try tx.append(events, batch: b) }
                pending = nil
                events.removeAll(keepingCapacity: true)
            }
            while let l = try reader.next() {
                guard let k = kind(of: l) else { throw invalid(path, "has a line that is not a backup record") }
                if k == "end" {
                    try flush()
                    _ = try checkEnd(l, reader, counts, hex(hasher.finalize()), path)
                    return
                }
                if k == "attachment" {
                    // the attachments are restored after the storage commits: read on to the trailer first, so the
                    // whole file's hash and counts are checked again before this transaction commits
                    try flush()
                    attachmentsFollow = true
                    var next: [UInt8]? = l
                    while let a = next {
                        guard let ak = kind(of: a) else { throw invalid(path, "has a line that is not a backup record") }
                        if ak == "end" { _ = try checkEnd(a, reader, counts, hex(hasher.finalize()), path); return }
                        guard ak == "attachment" else { throw invalid(path, "has a \(ak) line after the attachments") }
                        try count(ak, a, &counts, path)
                        hasher.update(data: a); hasher.update(data: [10])
                        next = try reader.next()
                    }
                    throw invalid(path, "is truncated: it ends before its trailer")
                }
                try count(k, l, &counts, path)
                hasher.update(data: l); hasher.update(data: [10])
                switch k {
                case "event":
                    guard pending != nil else { throw invalid(path, "has an event before any batch") }
                    events.append(try decode(EventEnvelope.self, l, path, "event").event)
                case "batch":
                    try flush()
                    let b = try decode(Envelope<BatchLine>.self, l, path, "batch").r
                    var idempotency: BatchRecord.Idempotency?
                    if let key = b.key {
                        guard let hex = b.digest, let digest = ContentHash(hex: hex) else { throw invalid(path, "has a batch with the idempotency key '\(key)' but no digest") }
                        idempotency = BatchRecord.Idempotency(key: key, digest: digest)
                    }
                    pending = BatchRecord(firstSequence: b.first, lastSequence: b.last, recorded: Instant(microseconds: b.recorded), idempotency: idempotency)
                    progress.update(done: Int(clamping: b.last), of: Int(clamping: summary.lastSequence), unit: "sequences")
                case "object":
                    try flush()
                    let o = try decode(Envelope<ObjectLine>.self, l, path, "object").r
                    guard let h = ContentHash(hex: o.hash), let bytes = Data(base64Encoded: o.bytes) else {
                        throw invalid(path, "has an object with a malformed hash or bytes ('\(o.hash)')")
                    }
                    // replaceObject keeps the bytes as stored (an erased twin's tombstone is not the hash of its bytes)
                    try tx.replaceObject(h, kind: o.kind, bytes: Array(bytes))
                case "ref":
                    try flush()
                    let r = try decode(Envelope<RefLine>.self, l, path, "ref").r
                    try tx.setRef(r.name, r.value)
                case "unit":
                    try flush()
                    let u = try decode(Envelope<UnitLine>.self, l, path, "unit").r
                    try tx.setUnit(u.unit, for: CodeKey(system: u.system, code: u.code))
                default: break
                }
            }
            throw invalid(path, "is truncated: it ends before its trailer")
        }
        if attachmentsFollow {
            // a second read for the attachments' records, hashed again whole (the file must not change meanwhile)
            let again = try LineReader(path: path)
            var rehash = SHA256()
            var ended = false
            while let l = try again.next() {
                guard let k = kind(of: l) else { throw invalid(path, "has a line that is not a backup record") }
                if k == "end" {
                    guard hex(rehash.finalize()) == summary.sha256 else { throw invalid(path, "changed while it was restored") }
                    ended = true
                    break
                }
                rehash.update(data: l); rehash.update(data: [10])
                guard k == "attachment" else { continue }
                let a = try decode(Envelope<AttachmentLine>.self, l, path, "attachment").r
                guard let target = byName[a.name] else { throw invalid(path, "holds records of the \(a.name) log, which the target has not") }
                try target.restoreRecord(a.record)
            }
            guard ended else { throw invalid(path, "changed while it was restored") }
        }
        for a in attachments { try a.finishRestore() }
        return summary
    }
}
