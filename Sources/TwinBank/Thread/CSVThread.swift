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
    private var codeCache: [String: Concept] = [:]
    private var sourceCache: [String: Source] = [:]

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
    }

    /// The next row as a draft and its line, or nil at the end. Blank lines are skipped.
    /// - Throws: ``BankError`` `invalidCSV` naming the line, the column and the value.
    public mutating func next() throws -> (draft: EventDraft, line: Int)? {
        var record: CSVReader.Record?
        do {
            repeat { record = try reader.next() } while record?.isBlank == true
        } catch let e as TwinError { throw BankError(.invalidCSV, e.message, value: e.value) }
        guard let record else { return nil }
        let line = record.line
        guard record.fields.count == width else {
            throw BankError(.invalidCSV, "\(reader.name): line \(line): expected \(width) fields as in the header, found \(record.fields.count)\(record.fields.count == 1 && width > 1 ? " (is the separator \(reader.separator.map(CSVReader.describe(separator:)) ?? "','")? pass --separator)" : "")",
                            value: record.fields.joined(separator: String(Character(Unicode.Scalar(reader.separator ?? 44)))))
        }
        func field(_ c: Column) -> String? { index[c].map { record.fields[$0].trimmingCharacters(in: .whitespaces) } }
        func fail(_ c: Column, _ why: String, _ value: String) -> BankError {
            BankError(.invalidCSV, "\(reader.name): line \(line), column '\(c.rawValue)': \(why)", value: value)
        }
        let timeText = field(.time)!
        let effective: EffectiveTime
        do { effective = try EffectiveTime(parsing: timeText) } catch let e as TwinError { throw fail(.time, e.message, timeText) }
        let codeText = field(.code)!
        let code: Concept
        if let c = codeCache[codeText] { code = c } else {
            do { code = try Concept(parsing: codeText) } catch let e as TwinError { throw fail(.code, e.message, codeText) }
            codeCache[codeText] = code
        }
        let valueText = field(.value)!
        let unit = field(.unit) ?? ""
        guard !valueText.isEmpty else { throw fail(.value, "empty value", valueText) }
        let value: Value
        if let v = Double(valueText), v.isFinite {
            value = .quantity(Quantity(v, unit.isEmpty ? "1" : unit))  // the fast path; the unit is checked by append
        } else {
            do { value = try Value.parse(valueText, unit: unit) } catch let e as TwinError { throw fail(.value, e.message, valueText) }
        }
        var source = defaultSource
        if let s = field(.source), !s.isEmpty {
            if let cached = sourceCache[s] { source = cached } else {
                do { source = try Source(parsing: s) } catch let e as TwinError { throw fail(.source, e.message, s) }
                sourceCache[s] = source
            }
        }
        var category = Event.Category.observation
        if let c = field(.category), !c.isEmpty {
            do { category = try Event.Category(parsing: c) } catch let e as TwinError { throw fail(.category, e.message, c) }
        }
        return (EventDraft(twin: twin, effective: effective, category: category, code: code, value: value, source: source), line)
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
