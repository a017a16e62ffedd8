import Foundation
import TwinCore
import TwinTesting

/// The shared folder (reference data, anchors), located by `SharedFolder`.
enum SharedData {
    static var root: URL { SharedFolder.root }
    static var data: URL { SharedFolder.data }
    static var anchors: URL { SharedFolder.anchors }

    /// A CSV as header + rows of strings.
    static func readCSV(_ url: URL) throws -> (header: [String], rows: [[String]]) {
        let table = try CSVTable(text: try String(contentsOf: url, encoding: .utf8), name: url.lastPathComponent, separator: UInt8(ascii: ","))
        return (table.header, table.rows)
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
