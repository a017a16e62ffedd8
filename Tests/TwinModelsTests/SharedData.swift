import Foundation
import TwinTesting

/// The shared folder (reference data, anchors), located by `SharedFolder`.
enum SharedData {
    static var root: URL { SharedFolder.root }
    static var data: URL { SharedFolder.data }
    static var anchors: URL { SharedFolder.anchors }

    /// A CSV as header + rows of strings.
    static func readCSV(_ url: URL) throws -> (header: [String], rows: [[String]]) {
        let text = try String(contentsOf: url, encoding: .utf8)
        var lines = text.split(whereSeparator: \.isNewline).map(String.init)
        let header = lines.removeFirst().split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        return (header, lines.map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) })
    }

    /// The anchor Python (`TWINBANK_ANCHOR_PYTHON` or ~/.cache/twinbank-anchors/bin/python) if it exists.
    static var anchorPython: String? { SharedFolder.anchorPython }

    static var isCI: Bool { SharedFolder.isCI }

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
