import Foundation

/// Locates ../shared (reference data, anchors) from this file, honouring `TWINBANK_SHARED`.
enum SharedData {
    static var root: URL {
        if let env = ProcessInfo.processInfo.environment["TWINBANK_SHARED"], !env.isEmpty {
            return URL(fileURLWithPath: env)
        }
        var url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        while url.path != "/" {
            if FileManager.default.fileExists(atPath: url.appendingPathComponent("Tests").path) { break }
            url = url.deletingLastPathComponent()
        }
        return url.appendingPathComponent("../shared").standardizedFileURL
    }
    static var data: URL { root.appendingPathComponent("data") }
    static var anchors: URL { root.appendingPathComponent("anchors") }

    /// A CSV as header + rows of strings.
    static func readCSV(_ url: URL) throws -> (header: [String], rows: [[String]]) {
        let text = try String(contentsOf: url, encoding: .utf8)
        var lines = text.split(whereSeparator: \.isNewline).map(String.init)
        let header = lines.removeFirst().split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        return (header, lines.map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) })
    }

    /// The anchor Python (`TWINBANK_ANCHOR_PYTHON` or ~/.cache/twinbank-anchors/bin/python) if it exists.
    static var anchorPython: String? {
        let env = ProcessInfo.processInfo.environment
        let candidates = [env["TWINBANK_ANCHOR_PYTHON"], env["HOME"].map { $0 + "/.cache/twinbank-anchors/bin/python" }]
        return candidates.compactMap { $0 }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    static var isCI: Bool { ProcessInfo.processInfo.environment["CI"] == "true" }

    /// Runs a process and returns its exit status and combined output.
    static func run(_ executable: String, _ arguments: [String]) throws -> (status: Int32, output: String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: executable)
        p.arguments = arguments
        let pipe = Pipe()
        p.standardOutput = pipe
        p.standardError = pipe
        try p.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: data, as: UTF8.self))
    }
}
