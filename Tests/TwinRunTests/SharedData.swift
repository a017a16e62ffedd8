import Foundation

/// The external reference data (`../shared/data` beside the package, or `$TWINBANK_SHARED/data`).
enum SharedData {
    static var root: URL {
        if let env = ProcessInfo.processInfo.environment["TWINBANK_SHARED"], !env.isEmpty {
            return URL(fileURLWithPath: env).appendingPathComponent("data")
        }
        var dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        while dir.path != "/" && !FileManager.default.fileExists(atPath: dir.appendingPathComponent("Tests").path) {
            dir.deleteLastPathComponent()
        }
        return dir.deletingLastPathComponent().appendingPathComponent("shared/data")
    }
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
