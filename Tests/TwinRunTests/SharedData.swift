import Foundation
import TwinCore
import TwinTesting

/// The external reference data (`shared/data`, located by `SharedFolder`).
enum SharedData {
    static var root: URL { SharedFolder.data }
    static func path(_ relative: String) -> String { root.appendingPathComponent(relative).path }

    /// Reads a CSV with a header into columns by name (numeric columns only).
    static func columns(_ relative: String) throws -> [String: [Double]] {
        let table = try CSVTable(text: try String(contentsOfFile: path(relative), encoding: .utf8), name: relative, separator: UInt8(ascii: ","))
        var out: [String: [Double]] = [:]
        for (i, name) in table.header.enumerated() { out[name] = table.numbers(i) }
        return out
    }
}
