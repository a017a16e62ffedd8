import Foundation
import TwinCore

/// The CSV thread format of `twinbank thread import`, read with ``TwinCore/CSVReader`` (RFC 4180: quoted fields,
/// CRLF, a BOM; separator `,` `;` or tab, detected or given).
///
/// The first line is a header naming the columns, in any order (case-insensitive):
/// - `time` (required): an ISO 8601 instant, or `START/END` period;
/// - `code` (required): `SYSTEM:CODE` (`loinc:2339-0`);
/// - `value` (required): a number (a quantity in `unit`), or text, a code, a date as `thread append` reads it;
/// - `unit` (optional): the UCUM unit of a numeric value (empty: `1`);
/// - `source` (optional): `KIND:ID` (empty or absent: the import's default source);
/// - `category` (optional): `observation` (empty or absent), `intervention` (meals, insulin), `annotation`, ...
///
/// Unknown or repeated columns are refused, naming them; so is a missing required column. Blank lines are skipped.
public struct CSVThread {
    /// The columns of the format.
    public enum Column: String, CaseIterable, Sendable {
        case time, code, value, unit, source, category
        /// Whether a file must have the column.
        public var isRequired: Bool { self == .time || self == .code || self == .value }
    }

    let reader: CSVReader
    let twin: TwinID
    let defaultSource: Source
    /// Column -> field index.
    let index: [Column: Int]
    let width: Int
    private let timeField: Int, codeField: Int, valueField: Int
    private let unitField: Int?, sourceField: Int?, categoryField: Int?
    private let codeCache = BytesCache<Concept>()
    private let unitCache = BytesCache<String>()
    private let sourceCache = BytesCache<Source>()
    private let categoryCache = BytesCache<Event.Category>()
    /// Values that are not plain decimals, read without a unit (text such as `calm`): the same text is the
    /// same value.
    private let valueCache = BytesCache<Value>()

    /// Reads and checks the header.
    /// - Throws: ``BankError`` `invalidCSV` naming the unknown, repeated or missing columns, or an empty file.
    public init(reader: CSVReader, twin: TwinID, defaultSource: Source) throws {
        self.reader = reader; self.twin = twin; self.defaultSource = defaultSource
        var header: CSVReader.Record?
        do {
            repeat { header = try reader.next() } while header?.isBlank == true
        } catch let e as TwinError { throw BankError(.invalidCSV, e.message, value: e.value) }
        guard let header else {
            throw BankError(.invalidCSV, "\(reader.name) is empty: expected a header line naming the columns (time,code,value,unit,source,category) and at least one row", value: reader.name)
        }
        var index: [Column: Int] = [:]
        var unknown: [String] = []
        let valid = Column.allCases.map(\.rawValue).joined(separator: ", ")
        for (i, raw) in header.fields.enumerated() {
            let name = raw.trimmingCharacters(in: .whitespaces).lowercased()
            guard let column = Column(rawValue: name) else { unknown.append(raw); continue }
            guard index[column] == nil else {
                throw BankError(.invalidCSV, "\(reader.name): line \(header.line): column '\(name)' appears twice in the header", value: raw)
            }
            index[column] = i
        }
        let missing = Column.allCases.filter { $0.isRequired && index[$0] == nil }
        if !unknown.isEmpty || !missing.isEmpty {
            var why: [String] = []
            if !unknown.isEmpty { why.append("unknown column\(unknown.count > 1 ? "s" : "") \(unknown.map { "'\($0)'" }.joined(separator: ", "))") }
            if !missing.isEmpty { why.append("missing required column\(missing.count > 1 ? "s" : "") \(missing.map { "'\($0.rawValue)'" }.joined(separator: ", "))") }
            let sep = reader.separator.map(CSVReader.describe(separator:)) ?? "','"
            throw BankError(.invalidCSV, "\(reader.name): line \(header.line): the header (separator \(sep)) has \(why.joined(separator: " and ")); the columns are \(valid) (time, code and value required), named in the first line",
                            value: (unknown.first ?? missing.first?.rawValue) ?? "")
        }
        self.index = index
        self.width = header.fields.count
        timeField = index[.time]!; codeField = index[.code]!; valueField = index[.value]!
        unitField = index[.unit]; sourceField = index[.source]; categoryField = index[.category]
    }

    /// The next row as a draft and its line, or nil at the end. Blank lines are skipped.
    ///
    /// Works on the reader's field bytes (``TwinCore/CSVReader/advance()``): codes, units, sources and
    /// categories are looked up by their bytes, times and plain decimal numbers are parsed from them, and a
    /// string is made only for a value that is not a number (or when a field has to be reported).
    /// - Throws: ``BankError`` `invalidCSV` naming the line, the column and the value.
    public mutating func next() throws -> (draft: EventDraft, line: Int)? {
        let reader = self.reader
        while true {
            let more: Bool
            do { more = try reader.advance() } catch let e as TwinError { throw BankError(.invalidCSV, e.message, value: e.value) }
            guard more else { return nil }
            if reader.fieldCount != 1 || !reader.fieldBytes(0).allSatisfy({ $0 == 32 || $0 == 9 }) { break }
        }
        let line = reader.recordLine
        guard reader.fieldCount == width else {
            let fields = (0..<reader.fieldCount).map { reader.field($0) }
            throw BankError(.invalidCSV, "\(reader.name): line \(line): expected \(width) fields as in the header, found \(fields.count)\(fields.count == 1 && width > 1 ? " (is the separator \(reader.separator.map(CSVReader.describe(separator:)) ?? "','")? pass --separator)" : "")",
                            value: fields.joined(separator: String(Character(Unicode.Scalar(reader.separator ?? 44)))))
        }

        // time
        let effective: EffectiveTime
        if let b = CSVThread.asciiTrimmed(reader.fieldBytes(timeField)), let t = EffectiveTime.parseInstant(utf8: b) { effective = t } else {
            let timeText = CSVThread.text(reader, timeField)
            do { effective = try EffectiveTime(parsing: timeText) } catch let e as TwinError { throw fail(.time, line, e.message, timeText) }
        }
        // code
        let code: Concept
        let codeBytes = CSVThread.asciiTrimmed(reader.fieldBytes(codeField))
        if let b = codeBytes, let cached = codeCache.lookup(b) { code = cached } else {
            let codeText = CSVThread.text(reader, codeField)
            do { code = try Concept(parsing: codeText) } catch let e as TwinError { throw fail(.code, line, e.message, codeText) }
            if let b = codeBytes { codeCache.insert(b, code) }
        }
        // unit
        var unit = ""
        if let u = unitField {
            let unitBytes = CSVThread.asciiTrimmed(reader.fieldBytes(u))
            if let b = unitBytes, let cached = unitCache.lookup(b) { unit = cached } else {
                unit = CSVThread.text(reader, u)
                if let b = unitBytes { unitCache.insert(b, unit) }
            }
        }
        // value: a plain decimal number is read from the bytes; anything else as `thread append` reads it
        let value: Value
        let valueBytes = CSVThread.asciiTrimmed(reader.fieldBytes(valueField))
        if let b = valueBytes, let v = CSVThread.decimal(b) {
            value = .quantity(Quantity(v, unit.isEmpty ? "1" : unit))
        } else if unit.isEmpty, let b = valueBytes, let cached = valueCache.lookup(b) {
            value = cached
        } else {
            let valueText = CSVThread.text(reader, valueField)
            guard !valueText.isEmpty else { throw fail(.value, line, "empty value", valueText) }
            if let v = Double(valueText), v.isFinite {
                value = .quantity(Quantity(v, unit.isEmpty ? "1" : unit))  // the unit is checked by append
            } else {
                do { value = try Value.parse(valueText, unit: unit) } catch let e as TwinError { throw fail(.value, line, e.message, valueText) }
            }
            if unit.isEmpty, let b = valueBytes { valueCache.insert(b, value) }
        }
        // source
        var source = defaultSource
        if let f = sourceField {
            let sourceBytes = CSVThread.asciiTrimmed(reader.fieldBytes(f))
            if let b = sourceBytes, let cached = sourceCache.lookup(b) { source = cached } else if sourceBytes?.isEmpty != true {
                let s = CSVThread.text(reader, f)
                if !s.isEmpty {
                    do { source = try Source(parsing: s) } catch let e as TwinError { throw fail(.source, line, e.message, s) }
                    if let b = sourceBytes { sourceCache.insert(b, source) }
                }
            }
        }
        // category
        var category = Event.Category.observation
        if let f = categoryField {
            let categoryBytes = CSVThread.asciiTrimmed(reader.fieldBytes(f))
            if let b = categoryBytes, let cached = categoryCache.lookup(b) { category = cached } else if categoryBytes?.isEmpty != true {
                let c = CSVThread.text(reader, f)
                if !c.isEmpty {
                    do { category = try Event.Category(parsing: c) } catch let e as TwinError { throw fail(.category, line, e.message, c) }
                    if let b = categoryBytes { categoryCache.insert(b, category) }
                }
            }
        }
        return (EventDraft(twin: twin, effective: effective, category: category, code: code, value: value, source: source), line)
    }

    private func fail(_ c: Column, _ line: Int, _ why: String, _ value: String) -> BankError {
        BankError(.invalidCSV, "\(reader.name): line \(line), column '\(c.rawValue)': \(why)", value: value)
    }

    /// Field `i` trimmed as the string path trims it (Foundation's `.whitespaces`).
    static func text(_ reader: CSVReader, _ i: Int) -> String {
        reader.field(i).trimmingCharacters(in: .whitespaces)
    }

    /// The bytes of a field trimmed of ASCII spaces and tabs, which is what `trimmingCharacters(in:
    /// .whitespaces)` does to it unless what is left begins or ends with a byte above ASCII (perhaps a Unicode
    /// space): then nil, and the field is read as a trimmed string (``text(_:_:)``).
    static func asciiTrimmed(_ b: UnsafeBufferPointer<UInt8>) -> UnsafeBufferPointer<UInt8>? {
        var lo = 0, hi = b.count
        while lo < hi, b[lo] == 32 || b[lo] == 9 { lo += 1 }
        while hi > lo, b[hi - 1] == 32 || b[hi - 1] == 9 { hi -= 1 }
        if lo < hi, b[lo] >= 0x80 || b[hi - 1] >= 0x80 { return nil }
        return UnsafeBufferPointer(rebasing: b[lo..<hi])
    }

    /// Powers of ten exactly representable as Double.
    private static let powersOfTen: [Double] = (0...22).map { k in (0..<k).reduce(1.0) { r, _ in r * 10 } }

    /// A plain decimal number (`-?D+(.D+)?` with at most 15 digits), exactly as `Double(String)` reads it:
    /// the digits make an integer below 2^53 and the divisor a power of ten up to 10^15, both exact, so the one
    /// division is correctly rounded. Anything else (exponents, more digits, `inf`) is nil, left to the
    /// general path.
    static func decimal(_ b: UnsafeBufferPointer<UInt8>) -> Double? {
        let n = b.count
        guard n > 0 else { return nil }
        var i = 0
        let negative = b[0] == 45
        if negative { i = 1 }
        var mantissa: UInt64 = 0
        var digits = 0, fraction = 0
        var point = false
        let first = i
        while i < n {
            let c = b[i]
            if c >= 48, c <= 57 {
                mantissa = mantissa &* 10 &+ UInt64(c - 48)
                digits += 1
                if point { fraction += 1 }
            } else if c == 46, !point, i > first, i + 1 < n {
                point = true
            } else {
                return nil
            }
            i += 1
        }
        guard digits > 0, digits <= 15 else { return nil }
        let v = Double(mantissa) / powersOfTen[fraction]
        return negative ? -v : v
    }

    /// Parses CSV text into drafts for one twin (all in memory; for small inputs and tests).
    /// - Throws: ``BankError`` `invalidCSV` naming the line number and the offending field.
    public static func parse(_ text: String, twin: TwinID, defaultSource: Source, separator: UInt8? = nil) throws -> [EventDraft] {
        var thread = try CSVThread(reader: CSVReader(text: text, separator: separator), twin: twin, defaultSource: defaultSource)
        var drafts: [EventDraft] = []
        while let (d, _) = try thread.next() { drafts.append(d) }
        return drafts
    }
}

extension CSVReader {
    /// A reader over a file handle, read in chunks of `chunkSize` bytes (64 KB by default).
    public convenience init(fileHandle: FileHandle, name: String, separator: UInt8? = nil, chunkSize: Int = 1 << 16) {
        self.init(name: name, separator: separator) {
            let data = try fileHandle.read(upToCount: chunkSize) ?? Data()
            return data.isEmpty ? nil : [UInt8](data)
        }
    }
}

/// A small cache keyed by bytes (codes, units, sources of a CSV column): the first keys are compared by
/// their bytes, without making a string; later ones go to a dictionary by string, up to a limit, so memory
/// stays bounded however many distinct values a file has.
final class BytesCache<V> {
    private var keys: [[UInt8]] = []
    private var values: [V] = []
    private var more: [String: V] = [:]
    private static var linear: Int { 16 }
    private static var limit: Int { 10_000 }

    func lookup(_ b: UnsafeBufferPointer<UInt8>) -> V? {
        for k in keys.indices where keys[k].count == b.count {
            if b.isEmpty { return values[k] }
            if keys[k].withUnsafeBufferPointer({ memcmp($0.baseAddress!, b.baseAddress!, b.count) == 0 }) { return values[k] }
        }
        return more.isEmpty ? nil : more[String(decoding: b, as: UTF8.self)]
    }

    func insert(_ b: UnsafeBufferPointer<UInt8>, _ value: V) {
        if keys.count < BytesCache.linear {
            keys.append(Array(b)); values.append(value)
        } else if more.count < BytesCache.limit {
            more[String(decoding: b, as: UTF8.self)] = value
        }
    }
}
