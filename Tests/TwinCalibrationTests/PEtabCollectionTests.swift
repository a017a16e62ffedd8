import Foundation
import Testing
@testable import TwinCalibration

/// The benchmark collection as a whole: its problem files, and calibration of a small problem from
/// Latin-hypercube starts (no nominal start) back to the published optimum.
@Suite("PEtab benchmark collection: survey and calibration")
struct PEtabCollectionTests {
    static var collection: PEtabCollection { PEtabCollection(directory: AMICIReferences.folder) }

    /// 34 problem folders, Zhao_QuantBiol2020 with two problem files; 18 AMICI references.
    @Test(.enabled(if: AMICIReferences.available, "skipped: ../shared/data/petab-benchmark-collection is missing"))
    func listsEveryProblemFile() throws {
        let files = try Self.collection.problemFiles()
        #expect(files.count == 35)
        #expect(Set(files.map { $0.deletingLastPathComponent().lastPathComponent }).count == 34)
        #expect(files.filter { $0.path.contains("Zhao_QuantBiol2020") }.count == 2)
        #expect(Self.collection.amiciReferences().count == 18)
        let missing = #expect(throws: CalibrationError.self) {
            _ = try PEtabCollection(directory: URL(fileURLWithPath: "/no/such/collection")).problemFiles()
        }
        #expect(missing?.message.contains("/no/such/collection") == true)
    }

    /// Blasi_CellSystems2016 has only steady-state measurements (time inf; it used to be refused): its
    /// likelihood agrees with the collection's simulatedData (642.8268936, summed by hand) to 1e-6.
    @Test(.enabled(if: AMICIReferences.available, "skipped: ../shared/data/petab-benchmark-collection is missing"))
    func steadyStateProblemAgreesWithSimulatedData() throws {
        let file = AMICIReferences.folder.appendingPathComponent("Blasi_CellSystems2016/Blasi_CellSystems2016.yaml")
        let entry = PEtabCollection.evaluate(file: file, name: "Blasi_CellSystems2016", reference: nil, repetitions: 0)
        guard case .evaluated(let sim?) = entry.outcome else {
            Issue.record("Blasi: \(entry.outcome)")
            return
        }
        #expect(abs(sim - 642.8268936157374) < 1e-6)
        let llh = try #require(entry.logLikelihood)
        #expect(abs(llh - sim) < 1e-6 * abs(sim))
    }

    /// A problem file naming a model the folder does not hold is an error naming the file, not a refusal.
    @Test(.enabled(if: AMICIReferences.available, "skipped: ../shared/data/petab-benchmark-collection is missing"))
    func brokenProblemFileIsAnErrorNamingTheFile() throws {
        let file = AMICIReferences.folder.appendingPathComponent("Zhao_QuantBiol2020/petab_test_Zhao_QuantBiol2020.yaml")
        try #require(FileManager.default.fileExists(atPath: file.path))
        let entry = PEtabCollection.evaluate(file: file, name: "Zhao_QuantBiol2020", reference: nil, repetitions: 0)
        guard case .error(let message) = entry.outcome else {
            Issue.record("Zhao test problem: \(entry.outcome)")
            return
        }
        #expect(message.contains("SBML_Zhao_QuantBiol2020.xml"))
        #expect(!entry.outcome.acceptable)
    }

    /// Bruno_JExpBot2016 (13 estimated parameters, 6 conditions): three Latin-hypercube starts, without the
    /// nominal one, reach the log-likelihood of the published optimum (AMICI: 46.688177).
    @Test(.enabled(if: AMICIReferences.available, "skipped: ../shared/data/petab-benchmark-collection is missing"))
    func calibrationReachesThePublishedOptimum() throws {
        let file = AMICIReferences.folder.appendingPathComponent("Bruno_JExpBot2016/Bruno_JExpBot2016.yaml")
        let calibration = try PEtabCalibration.load(yaml: file, maxSteps: 100_000)
        var options = PEtabCalibration.Options()
        options.starts = 3
        options.includeNominalStart = false
        let r = try calibration.fit(options: options)
        let llh = -r.negativeLogLikelihood
        #expect(llh >= 46.688177 - 0.05, "best log-likelihood \(llh)")
        #expect(r.startsRun == 3)
    }
}
