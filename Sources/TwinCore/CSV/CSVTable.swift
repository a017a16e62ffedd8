/// A small CSV or TSV text read whole through ``CSVReader``: its header and the records after it.
///
/// For the tables Twinbank reads in one piece (PEtab tables, reference traces, SBML test-suite results,
/// benchmark outputs); large inputs go through ``CSVReader`` record by record. Quoting, line ends and errors
/// are the reader's (RFC 4180: quoted separators, quotes and line breaks; LF, CRLF or CR).
public struct CSVTable: Sendable, Hashable {
    /// The first record's fields (empty when the text has no record).
    public var header: [String]
    /// The records after the header, each with the line it starts on. Blank records are left out when the
    /// table was read with `skippingBlankLines` (the default).
    public var records: [CSVReader.Record]

    /// The records' fields.
    public var rows: [[String]] { records.map(\.fields) }

    /// Reads a whole text.
    /// - Parameters:
    ///   - name: where the text came from (a file name), for messages.
    ///   - separator: the field separator, or nil to detect it as ``CSVReader`` does.
    ///   - skippingBlankLines: leave out records whose fields are all empty or spaces and tabs (a blank line,
    ///     or a line of separators only).
    /// - Throws: ``TwinError`` `invalidCSV` naming `name`, the line and the column (an unterminated quote,
    ///   text after a closing quote, bytes that are not UTF-8).
    public init(text: String, name: String = "text", separator: UInt8? = nil, skippingBlankLines: Bool = true) throws {
        let reader = CSVReader(text: text, name: name, separator: separator)
        var header: [String]?
        var records: [CSVReader.Record] = []
        while let record = try reader.next() {
            if skippingBlankLines, record.fields.allSatisfy({ $0.allSatisfy { $0 == " " || $0 == "\t" } }) { continue }
            if header == nil { header = record.fields } else { records.append(record) }
        }
        self.header = header ?? []
        self.records = records
    }

    /// The index of the column named `name` in the header, if any.
    public func column(_ name: String) -> Int? { header.firstIndex(of: name) }

    /// The numbers of one column, from the rows that have a number there (others are left out).
    public func numbers(_ column: Int) -> [Double] {
        records.compactMap { column < $0.fields.count ? Double($0.fields[column].trimmingSpaces) : nil }
    }
}
