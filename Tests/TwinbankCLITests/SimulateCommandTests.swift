import Foundation
import Testing
import TwinTesting

/// `twinbank simulate glucose` reproduces simglucose's reference trace (the external check of issue 3).
@Suite("twinbank command: simulate")
struct SimulateCommandTests {
    static var sharedData: URL { SharedFolder.data }

    static func column(_ name: String, of text: String) -> [Double] {
        let lines = text.split(separator: "\n")
        guard let header = lines.first?.split(separator: ","), let i = header.firstIndex(where: { $0 == name }) else { return [] }
        return lines.dropFirst().compactMap { line in
            let cells = line.split(separator: ",", omittingEmptySubsequences: false)
            return i < cells.count ? Double(cells[i]) : nil
        }
    }

    @Test(.enabled(if: SharedFolder.has("data/simglucose/simglucose-adult001-24h.csv"),
                   "skipped: the simglucose trace data/simglucose/simglucose-adult001-24h.csv is missing (put ../shared beside the package or set TWINBANK_SHARED)"))
    func glucoseDayMatchesSimglucose() throws {
        let dir = try CommandRunner.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent("trace.csv").path
        let run = try CommandRunner().run(["simulate", "glucose", "--patient", "adult#001", "--meals", "7:45,12:70,18:80",
                                           "--hours", "24", "--controller", "basal-bolus", "--out", out])
        #expect(run.status == 0, "\(run.stderr)")
        let ours = try String(contentsOfFile: out, encoding: .utf8)
        let reference = try String(contentsOf: Self.sharedData.appendingPathComponent("simglucose/simglucose-adult001-24h.csv"), encoding: .utf8)
        #expect(ours.hasPrefix("Time,BG,CHO,insulin"))
        let a = Self.column("BG", of: ours), b = Self.column("BG", of: reference)
        #expect(a.count == b.count && a.count >= 1440)
        let n = min(a.count, b.count)
        let rms = (zip(a.prefix(n), b.prefix(n)).map { ($0 - $1) * ($0 - $1) }.reduce(0, +) / Double(max(n, 1))).squareRoot()
        #expect(rms < 1.0, "BG RMS vs simglucose: \(rms) mg/dL")
        let insulin = Self.column("insulin", of: ours).reduce(0, +), refInsulin = Self.column("insulin", of: reference).reduce(0, +)
        #expect(abs(insulin - refInsulin) < 1e-6)
    }

    @Test(arguments: [["--patient", "adult#099"], ["--meals", "7:abc"], ["--hours", "abc"]])
    func badInputNamesTheValue(_ bad: [String]) throws {
        let dir = try CommandRunner.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent("trace.csv").path
        var args = ["simulate", "glucose", "--patient", "adult#001", "--meals", "1:45", "--hours", "2", "--out", out]
        if let i = args.firstIndex(of: bad[0]) { args[i + 1] = bad[1] }
        let run = try CommandRunner().run(args)
        #expect(run.status != 0)
        #expect(run.stderr.contains(bad[1]), "error should name '\(bad[1])': \(run.stderr)")
        #expect(!FileManager.default.fileExists(atPath: out))
    }
}
