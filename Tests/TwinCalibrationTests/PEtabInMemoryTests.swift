import Foundation
import Testing
@testable import TwinCalibration
import TwinTesting

/// A PEtab problem given as its files' contents (what the server's calibration route receives): the same problem and
/// the same fit as from the folder; a file the YAML names that is not given is an error naming it.
@Suite("PEtab problems from memory")
struct PEtabInMemoryTests {
    static let folder = SharedFolder.root.appendingPathComponent("data/petab/Perelson_Science1996")

    static func files() throws -> [String: String] {
        let names = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".tsv") || $0.hasSuffix(".xml") || $0.hasSuffix(".yaml") }
        return Dictionary(uniqueKeysWithValues: try names.map { ($0, try String(contentsOf: folder.appendingPathComponent($0), encoding: .utf8)) })
    }

    @Test(.enabled(if: SharedFolder.has("data/petab/Perelson_Science1996/Perelson_Science1996.yaml"), "skipped: data/petab/Perelson_Science1996 is missing (put ../shared beside the package or set TWINBANK_SHARED)"))
    func aProblemFromItsFilesContentsFitsAsFromItsFolder() throws {
        let files = try Self.files()
        let memory = try PEtabCalibration.load(yaml: "Perelson_Science1996.yaml", files: files)
        let disk = try PEtabCalibration.load(yaml: Self.folder.appendingPathComponent("Perelson_Science1996.yaml"))
        #expect(memory.problem.modelFile.lastPathComponent == "model_Perelson_Science1996.xml")
        #expect(memory.problem.directory == PEtabProblem.inMemoryDirectory)
        #expect(memory.problem.measurements == disk.problem.measurements)
        #expect(memory.fittedParameterIds == disk.fittedParameterIds)
        var options = PEtabCalibration.Options()
        options.starts = 2
        options.seed = 3
        let calls = Calls()
        options.progress = { done, total in calls.record(done, total); return true }
        let a = try memory.fit(options: options), b = try disk.fit(options: options)
        #expect(a.sumOfSquares == b.sumOfSquares)
        #expect(a.parameters == b.parameters)
        // once per start, for each of the two fits
        let once = (1...a.startsRun).map { "\($0)/\(a.startsRun)" }
        #expect(calls.seen == once + once)
        // a progress that says stop ends the fit there
        options.progress = { _, _ in false }
        #expect(throws: CancellationError.self) { _ = try memory.fit(options: options) }
    }

    @Test(.enabled(if: SharedFolder.has("data/petab/Perelson_Science1996/Perelson_Science1996.yaml"), "skipped: data/petab/Perelson_Science1996 is missing (put ../shared beside the package or set TWINBANK_SHARED)"))
    func aFileTheProblemNamesThatIsNotGivenIsNamed() throws {
        let files = try Self.files()
        for (missing, says) in [("Perelson_Science1996.yaml", "problem file 'Perelson_Science1996.yaml'"),
                                ("measurementData_Perelson_Science1996.tsv", "table 'measurementData_Perelson_Science1996.tsv'"),
                                ("model_Perelson_Science1996.xml", "SBML model 'model_Perelson_Science1996.xml'")] {
            var some = files
            some[missing] = nil
            let error = #expect(throws: CalibrationError.self) { _ = try PEtabCalibration.load(yaml: "Perelson_Science1996.yaml", files: some) }
            #expect(error?.code == .invalidPEtab)
            #expect(error?.message.contains(says) == true, "\(error?.message ?? "")")
            #expect(error?.value == missing)
        }
        // a model named by a path is not looked up
        var nested = files
        nested["Perelson_Science1996.yaml"] = files["Perelson_Science1996.yaml"]!.replacingOccurrences(of: "- model_Perelson", with: "- sub/model_Perelson")
        nested["sub/model_Perelson_Science1996.xml"] = files["model_Perelson_Science1996.xml"]
        let error = #expect(throws: CalibrationError.self) { _ = try PEtabCalibration.load(yaml: "Perelson_Science1996.yaml", files: nested) }
        #expect(error?.message.contains("sub/model_Perelson_Science1996.xml") == true, "\(error?.message ?? "")")
    }
}

/// The progress calls a fit made (from its thread).
private final class Calls: @unchecked Sendable {
    private let lock = NSLock()
    private var calls: [String] = []
    func record(_ done: Int, _ total: Int) { lock.lock(); calls.append("\(done)/\(total)"); lock.unlock() }
    var seen: [String] { lock.lock(); defer { lock.unlock() }; return calls }
}
