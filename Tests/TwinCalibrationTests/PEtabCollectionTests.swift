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

    /// Blasi_CellSystems2016 (steady-state measurements only, 8 rate parameters and a profiled σ) is
    /// calibrated at the steady state the likelihood uses. The reference is the published optimum's rate
    /// parameters (the nominal values) with σ at its maximum-likelihood value there (σ̂² = SSR / m; the
    /// table's nominal σ = 0.1 is not that value: 642.83 against about 1090.6). From the nominal start the fit
    /// stays within 0.5 of it; from a start with two parameters moved to 1.5 × nominal (0.18 decades, where
    /// the log-likelihood is worse than the reference by more than 0.5) it reaches it again within 0.5.
    @Test(.enabled(if: AMICIReferences.available, "skipped: ../shared/data/petab-benchmark-collection is missing"))
    func steadyStateCalibrationStaysAtAndReturnsToTheOptimum() throws {
        let file = AMICIReferences.folder.appendingPathComponent("Blasi_CellSystems2016/Blasi_CellSystems2016.yaml")
        let calibration = try PEtabCalibration.load(yaml: file, maxSteps: 100_000)
        #expect(calibration.fittedParameterIds.count == 8)
        let likelihood = try PEtabLikelihood.load(yaml: file)
        func profiled(_ overrides: [String: Double]) throws -> Double {
            let at = try likelihood.parameterValues(overrides: overrides)
            let values = calibration.problem.parameters.map { at[$0.id]! }
            let raw = calibration.rawResiduals(try calibration.predict(values: values).h)
            let sigma = (raw.reduce(0) { $0 + $1 * $1 } / Double(raw.count)).squareRoot()
            return try likelihood.evaluate(overrides: overrides.merging(["sigma": sigma]) { $1 }).logLikelihood
        }
        let reference = try profiled([:])
        #expect(reference > 1000, "reference \(reference)")
        var options = PEtabCalibration.Options()
        options.starts = 0
        let fromNominal = try calibration.fit(options: options)
        #expect(abs(-fromNominal.negativeLogLikelihood - reference) <= 0.5, "from nominal \(-fromNominal.negativeLogLikelihood), reference \(reference)")
        let nominal = Dictionary(uniqueKeysWithValues: calibration.problem.parameters.map { ($0.id, $0.nominal) })
        let moved = ["a_k8": 1.5 * nominal["a_k8"]!, "a_k12_k5k12": 1.5 * nominal["a_k12_k5k12"]!]
        #expect(try profiled(moved) < reference - 0.5, "the perturbed start must be away from the optimum")
        options.includeNominalStart = false
        options.additionalStarts = [try calibration.start(from: moved)]
        let fromPerturbed = try calibration.fit(options: options)
        #expect(fromPerturbed.startsRun == 1)
        #expect(-fromPerturbed.negativeLogLikelihood >= reference - 0.5, "from the perturbed start \(-fromPerturbed.negativeLogLikelihood), reference \(reference)")
    }
}
