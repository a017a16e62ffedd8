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
        if !started { try start() }
        guard try fill(1) else { return nil }
        let sep = separator!
        let startLine = line
        var fields: [String] = []
        var field: [UInt8] = []
        func finish() throws {
            guard let s = String(validating: field, as: UTF8.self) else {
                throw error("the text is not UTF-8", line: startLine, column: fields.count + 1)
            }
            fields.append(s)
            field.removeAll(keepingCapacity: true)
        }
        var quoted = false
        var fieldStart = true
        while true {
            guard try fill(1) else {
                if quoted { throw error("unterminated quote (a field opened with \" is never closed)", line: startLine, column: fields.count + 1) }
                try finish()
                return Record(fields: fields, line: startLine)
            }
            let c = buffer[position]
            position += 1
            if quoted {
                if c == UInt8(ascii: "\"") {
                    if try fill(1), buffer[position] == UInt8(ascii: "\"") {
                        field.append(c); position += 1
                    } else {
                        quoted = false
                        // after the closing quote: a separator, a line end or the end of the input
                        if try fill(1) {
                            let n = buffer[position]
                            guard n == sep || n == 10 || n == 13 else {
                                throw error("text after a closing quote (quote a quote by doubling it: \"\")", line: line, column: fields.count + 1)
                            }
                        }
                    }
                } else {
                    if c == 10 { line += 1 }
                    field.append(c)
                }
                continue
            }
            if c == UInt8(ascii: "\""), fieldStart {
                quoted = true
                fieldStart = false
                continue
            }
            if c == sep {
                try finish()
                fieldStart = true
                continue
            }
            if c == 10 || c == 13 {
                if c == 13, try fill(1), buffer[position] == 10 { position += 1 }
                line += 1
                try finish()
                return Record(fields: fields, line: startLine)
            }
            fieldStart = false
            field.append(c)
        }
    }
}
