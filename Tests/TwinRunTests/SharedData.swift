import Foundation
import TwinTesting

/// The external reference data (`shared/data`, located by `SharedFolder`).
enum SharedData {
    static var root: URL { SharedFolder.data }
    static func path(_ relative: String) -> String { root.appendingPathComponent(relative).path }

    /// Reads a CSV with a header into columns by name (numeric columns only).
    static func columns(_ relative: String) throws -> [String: [Double]] {
        let text = try String(contentsOfFile: path(relative), encoding: .utf8)
        var lines = text.split(separator: "\n").map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
        let header = lines.removeFirst()
        var out: [String: [Double]] = [:]
        for (i, name) in header.enumerated() {
            out[name] = lines.compactMap { i < $0.count ? Double($0[i]) : nil }
        }
        return out
    }
}
