import Foundation
import TwinCore
import TwinSimulation

/// A tab-separated table with a header row, as PEtab's condition, measurement, observable and parameter
/// files, read through TwinCore's ``CSVTable`` (RFC 4180 quoting with a tab separator, as pandas reads them:
/// a quoted cell may hold tabs and line breaks). Cells are trimmed; missing trailing cells are empty; blank
/// lines are skipped.
public struct TSVTable: Sendable {
    public let name: String
    public let columns: [String]
    public let rows: [[String]]

    /// Reads a table from its text.
    /// - Throws: ``CalibrationError`` `invalidPEtab` naming the table and the line (an empty table, a row
    ///   with more cells than the header, a quote that is not closed).
    public init(name: String, text: String) throws {
        let table: CSVTable
        do { table = try CSVTable(text: text, name: name, separator: UInt8(ascii: "\t")) } catch let e as TwinError {
            throw CalibrationError(.invalidPEtab, "table \(e.message)", value: name)
        }
        guard !table.header.isEmpty else { throw CalibrationError(.invalidPEtab, "table '\(name)' is empty.", value: name) }
        let cols = table.header.map { $0.trimmingCharacters(in: .whitespaces) }
        var rows: [[String]] = []
        for record in table.records {
            var cells = record.fields.map { $0.trimmingCharacters(in: .whitespaces) }
            if cells.count > cols.count {
                guard cells[cols.count...].allSatisfy(\.isEmpty) else {
                    throw CalibrationError(.invalidPEtab, "line \(record.line) of '\(name)' has \(cells.count) cells but the header has \(cols.count).",
                                           value: record.fields.joined(separator: "\t"))
                }
                cells = Array(cells.prefix(cols.count))
            }
            while cells.count < cols.count { cells.append("") }
            rows.append(cells)
        }
        self.name = name
        self.columns = cols
        self.rows = rows
    }

    public init(contentsOf url: URL) throws {
        let text: String
        do { text = try String(contentsOf: url, encoding: .utf8) } catch {
            throw CalibrationError(.invalidPEtab, "cannot read table file \(url.path).", value: url.path)
        }
        try self.init(name: url.lastPathComponent, text: text)
    }

    public func index(of column: String) -> Int? { columns.firstIndex(of: column) }

    /// The index of a required column, or an error naming it.
    public func require(_ column: String) throws -> Int {
        guard let i = index(of: column) else {
            throw CalibrationError(.invalidPEtab, "table '\(name)' has no '\(column)' column (it has \(columns.joined(separator: ", "))).", value: column)
        }
        return i
    }

    /// A number cell, or an error naming table, row and column.
    public func number(_ row: Int, _ column: Int) throws -> Double {
        let s = rows[row][column]
        guard let v = parseNumber(s) else {
            throw CalibrationError(.invalidPEtab, "'\(columns[column])' in row \(row + 2) of '\(name)' is not a number.", value: s)
        }
        return v
    }
}

/// Parses a decimal or PEtab special number (`inf`, `-inf`, `nan`).
func parseNumber(_ s: String) -> Double? {
    switch s.lowercased() {
    case "inf", "+inf", "infinity": return .infinity
    case "-inf", "-infinity": return -.infinity
    case "nan": return .nan
    default: return Double(s)
    }
}
