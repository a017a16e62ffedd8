/// A streaming reader of RFC 4180 CSV: the one CSV reader of Twinbank (thread import and later readers use it).
///
/// - Fields may be quoted with `"`; a quoted field may hold the separator, `""` (one quote) and line breaks.
/// - Records end with LF or CRLF (a lone CR too); a final line break is optional.
/// - A UTF-8 byte order mark at the start is skipped.
/// - The separator is `,`, `;` or tab: given, or detected from the first record (the one of the three that
///   occurs most often outside quotes there; `,` when none does).
/// - The input is read in chunks from a chunk source (TwinBank adds one over a file handle), never whole, so
///   memory stays bounded by the longest record. The reader itself does no I/O.
/// - Unquoted fields are kept verbatim (spaces included); a quote inside an unquoted field is kept as a
///   character. Text after a closing quote, an unterminated quote and bytes that are not UTF-8 are errors
///   naming the line (and the field's column number).
public final class CSVReader {
    /// One record: its fields and the line it starts on (1-based, counting the header).
    public struct Record: Sendable, Hashable {
        public var fields: [String]
        public var line: Int
        public init(fields: [String], line: Int) {
            self.fields = fields
            self.line = line
        }
        /// Whether the record is an empty line (one empty field).
        public var isBlank: Bool { fields.count == 1 && fields[0].allSatisfy { $0 == " " || $0 == "\t" } }
    }

    /// The separators that are detected.
    public static let detectedSeparators: [UInt8] = [UInt8(ascii: ","), UInt8(ascii: ";"), UInt8(ascii: "\t")]

    private let nextChunk: () throws -> [UInt8]?
    private var buffer: [UInt8] = []
    private var position = 0
    private var finished = false
    private var line = 1
    private var started = false
    /// Where the text came from, for messages (a file name).
    public let name: String
    /// The separator in use (after the first record when detected).
    public private(set) var separator: UInt8?

    /// A reader over chunks: `nextChunk` returns the next bytes, or nil at the end.
    public init(name: String, separator: UInt8? = nil, nextChunk: @escaping () throws -> [UInt8]?) {
        self.name = name
        self.separator = separator
        self.nextChunk = nextChunk
    }

    /// A reader over text in memory (tests, small inputs).
    public convenience init(text: String, name: String = "text", separator: UInt8? = nil) {
        var bytes: [UInt8]? = Array(text.utf8)
        self.init(name: name, separator: separator) { defer { bytes = nil }; return bytes }
    }

    /// Parses a `--separator` word: `,` `;` `tab` (or a tab character), `comma`, `semicolon`.
    /// - Throws: ``TwinError`` `invalidCSV` naming the text.
    public static func separator(named text: String) throws -> UInt8 {
        switch text.lowercased() {
        case ",", "comma": return UInt8(ascii: ",")
        case ";", "semicolon": return UInt8(ascii: ";")
        case "\t", "tab", "\\t": return UInt8(ascii: "\t")
        default: throw TwinError(.invalidCSV, "unknown separator '\(text)': use ',' (comma), ';' (semicolon) or tab", value: text)
        }
    }

    /// A name for a separator in messages.
    public static func describe(separator: UInt8) -> String {
        switch separator {
        case UInt8(ascii: ","): "',' (comma)"
        case UInt8(ascii: ";"): "';' (semicolon)"
        case UInt8(ascii: "\t"): "tab"
        default: "'\(Character(Unicode.Scalar(separator)))'"
        }
    }

    // MARK: Reading

    /// Makes sure at least `count` bytes are buffered from `position`, unless the input ends. Returns whether
    /// they are.
    private func fill(_ count: Int) throws -> Bool {
        while buffer.count - position < count {
            if finished { return false }
            if position > 0, position >= buffer.count / 2 {
                buffer.removeSubrange(0..<position)
                position = 0
            }
            if let chunk = try nextChunk(), !chunk.isEmpty { buffer.append(contentsOf: chunk) } else { finished = true }
        }
        return true
    }

    private func start() throws {
        started = true
        if try fill(3), buffer[position] == 0xEF, buffer[position + 1] == 0xBB, buffer[position + 2] == 0xBF { position += 3 }
        if separator == nil { separator = try detect() }
    }

    /// Counts the candidate separators outside quotes in the first record (read ahead, not consumed).
    private func detect() throws -> UInt8 {
        var counts: [UInt8: Int] = [:]
        var i = position
        var quoted = false
        while true {
            if i >= buffer.count {
                let offset = i - position
                if try !fill(offset + 1) { break }
                i = position + offset
            }
            let c = buffer[i]
            if c == UInt8(ascii: "\"") { quoted.toggle() }
            else if !quoted, c == 10 || c == 13 { break }
            else if !quoted, CSVReader.detectedSeparators.contains(c) { counts[c, default: 0] += 1 }
            i += 1
        }
        return CSVReader.detectedSeparators.max { (counts[$0] ?? 0) < (counts[$1] ?? 0) }.flatMap { (counts[$0] ?? 0) > 0 ? $0 : nil }
            ?? UInt8(ascii: ",")
    }

    private func error(_ why: String, line: Int, column: Int?) -> TwinError {
        TwinError(.invalidCSV, "\(name): line \(line)\(column.map { ", column \($0)" } ?? ""): \(why)", value: "line \(line)")
    }

    /// The next record, or nil at the end of the input.
    /// - Throws: ``TwinError`` `invalidCSV` naming the line and column.
    public func next() throws -> Record? {
        guard try advance() else { return nil }
        var fields: [String] = []
        fields.reserveCapacity(fieldCount)
        for i in 0..<fieldCount { fields.append(field(i)) }
        return Record(fields: fields, line: recordLine)
    }

    // MARK: Records without strings

    /// The fields of the current record (after ``advance()``), unquoted, back to back: `fieldCapacity` bytes
    /// allocated, `fieldLength` used.
    private var fieldStorage = UnsafeMutablePointer<UInt8>.allocate(capacity: 256)
    private var fieldCapacity = 256
    private var fieldLength = 0
    /// The end offset of each field in `fieldStorage`.
    private var fieldEnds: [Int] = []

    deinit { fieldStorage.deallocate() }

    private func appendField(_ bytes: UnsafeBufferPointer<UInt8>) {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return }
        reserveField(bytes.count)
        (fieldStorage + fieldLength).update(from: base, count: bytes.count)
        fieldLength += bytes.count
    }

    private func appendField(_ byte: UInt8) {
        reserveField(1)
        fieldStorage[fieldLength] = byte
        fieldLength += 1
    }

    private func reserveField(_ more: Int) {
        guard fieldLength + more > fieldCapacity else { return }
        var capacity = fieldCapacity * 2
        while capacity < fieldLength + more { capacity *= 2 }
        let bigger = UnsafeMutablePointer<UInt8>.allocate(capacity: capacity)
        bigger.update(from: fieldStorage, count: fieldLength)
        fieldStorage.deallocate()
        fieldStorage = bigger
        fieldCapacity = capacity
    }
    /// The line the current record starts on (1-based, counting the header).
    public private(set) var recordLine = 0
    /// The number of fields of the current record.
    public var fieldCount: Int { fieldEnds.count }

    /// Moves to the next record and keeps its fields as bytes, without making strings (the fast path of
    /// large imports; ``next()`` is this plus one string per field). Returns false at the end of the input.
    /// The record is checked as ``next()`` checks it (quotes, UTF-8), with the same errors.
    /// - Throws: ``TwinError`` `invalidCSV` naming the line and column.
    public func advance() throws -> Bool {
        if !started { try start() }
        guard try fill(1) else { return false }
        let sep = separator!
        while true {
            let atEnd = finished
            if try scan(sep, atEnd: atEnd) { return true }
            // the record runs past the buffered bytes: read more and scan it again from its start
            if position > 0 { buffer.removeSubrange(0..<position); position = 0 }
            if let chunk = try nextChunk(), !chunk.isEmpty { buffer.append(contentsOf: chunk) } else { finished = true }
        }
    }

    /// The UTF-8 bytes of field `i` (0-based) of the current record (checked UTF-8, unquoted). They stay
    /// valid until the next call of ``advance()`` or ``next()`` and while the reader lives: copy what you keep.
    public func fieldBytes(_ i: Int) -> UnsafeBufferPointer<UInt8> {
        let lo = i == 0 ? 0 : fieldEnds[i - 1], hi = fieldEnds[i]
        return UnsafeBufferPointer(start: fieldStorage + lo, count: hi - lo)
    }

    /// Field `i` (0-based) of the current record as a string.
    public func field(_ i: Int) -> String {
        String(decoding: fieldBytes(i), as: UTF8.self)
    }

    /// Scans one record from `position`. Returns false when the buffered bytes end before the record does
    /// (and the input has more); otherwise the record's fields are in `fieldStorage`/`fieldEnds`, and
    /// `position` and `line` are past it.
    private func scan(_ sep: UInt8, atEnd: Bool) throws -> Bool {
        fieldLength = 0
        fieldEnds.removeAll(keepingCapacity: true)
        let startLine = line
        var lines = 0
        let quote = UInt8(ascii: "\"")
        return try buffer.withUnsafeBufferPointer { b -> Bool in
            let n = b.count
            var p = position
            while true {
                // one field
                let fieldStart = fieldLength
                var high: UInt8 = 0 // the bytes OR-ed: bit 7 set when one is not ASCII
                var end: Int // the delimiter's index (n at the end of the input)
                if p < n, b[p] == quote {
                    p += 1
                    while true {
                        var q = p
                        while q < n, b[q] != quote { q += 1 }
                        if q > p {
                            let part = UnsafeBufferPointer(rebasing: b[p..<q])
                            appendField(part)
                            for c in part { high |= c; if c == 10 { lines += 1 } }
                        }
                        if q == n {
                            guard atEnd else { return false }
                            throw error("unterminated quote (a field opened with \" is never closed)", line: startLine, column: fieldEnds.count + 1)
                        }
                        // a quote: doubled, or the closing one
                        if q + 1 == n, !atEnd { return false }
                        if q + 1 < n, b[q + 1] == quote {
                            appendField(quote)
                            p = q + 2
                            continue
                        }
                        p = q + 1
                        break
                    }
                    if p < n {
                        let c = b[p]
                        guard c == sep || c == 10 || c == 13 else {
                            throw error("text after a closing quote (quote a quote by doubling it: \"\")", line: startLine + lines, column: fieldEnds.count + 1)
                        }
                    }
                    end = p
                } else {
                    var q = p
                    while q < n {
                        let c = b[q]
                        if c == sep || c == 10 || c == 13 { break }
                        high |= c
                        q += 1
                    }
                    if q == n, !atEnd { return false }
                    if q > p { appendField(UnsafeBufferPointer(rebasing: b[p..<q])) }
                    end = q
                }
                // UTF-8, checked only when a byte is not ASCII
                if high >= 0x80 {
                    let bytes = UnsafeBufferPointer(start: fieldStorage + fieldStart, count: fieldLength - fieldStart)
                    guard String(validating: bytes, as: UTF8.self) != nil else { throw error("the text is not UTF-8", line: startLine, column: fieldEnds.count + 1) }
                }
                fieldEnds.append(fieldLength)
                // the delimiter
                if end == n { p = n; break }
                let c = b[end]
                if c == sep { p = end + 1; continue }
                if c == 13 {
                    if end + 1 == n, !atEnd { return false }
                    p = end + 1 < n && b[end + 1] == 10 ? end + 2 : end + 1
                } else {
                    p = end + 1
                }
                lines += 1
                break
            }
            position = p
            line = startLine + lines
            recordLine = startLine
            return true
        }
    }
}
