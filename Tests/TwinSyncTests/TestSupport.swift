import Foundation
import TwinSimulation
import TwinTesting
@testable import TwinSync

/// The shared folder (`SharedFolder.root`).
func sharedFolder() -> URL { SharedFolder.root }

/// The anchor Python, when present.
func anchorPython() -> String? { SharedFolder.anchorPython }

/// Runs a Python script with the anchor interpreter and returns its standard output.
func runPython(_ python: String, script: String, arguments: [String] = []) throws -> Data {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: python)
    process.arguments = ["-c", script] + arguments
    let out = Pipe()
    process.standardOutput = out
    process.standardError = FileHandle.nullDevice
    try process.run()
    let data = out.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return data
}

/// The minimal glucose model of the data-assimilation anchor (`anchors/da_bench.py`): Bergman's three
/// states G [mg/dL], X [1/min], I [µU/mL] with meals at 7 h, 12 h and 18 h.
struct BergmanAnchorSystem: ODESystem, Sendable {
    let p1 = 0.03, p2 = 0.02, p3 = 1.3e-5, n = 0.3, gb = 90.0, ib = 10.0
    var dimension: Int { 3 }
    var variableNames: [String] { ["G", "X", "I"] }
    static func meal(_ t: Double) -> Double {
        var s = 0.0
        for m in [7.0, 12.0, 18.0] where t >= m * 60 { s += 4 * exp(-(t - m * 60) / 40) }
        return s
    }
    func derivatives(t: Double, y: UnsafeBufferPointer<Double>, dy: UnsafeMutableBufferPointer<Double>) {
        let ra = Self.meal(t)
        dy[0] = -(p1 + y[1]) * y[0] + p1 * gb + ra
        dy[1] = -p2 * y[1] + p3 * (y[2] - ib)
        dy[2] = -n * (y[2] - ib) + 0.5 * ra
    }
}

func maxAbsDifference(_ a: [Double], _ b: [Double]) -> Double {
    zip(a, b).map { abs($0 - $1) }.max() ?? 0
}
