import Foundation
import Testing
import TwinBank
import TwinCalibration
import TwinCore
@testable import TwinSync

/// The PEtab twin's forecast: Brännmark et al. 2010 (insulin signalling in adipocytes, 43 measurements in 8
/// experiments, each pre-equilibrated in `Dose_0`) imported into a twin's thread and bound to its SBML model,
/// k1a and k1b estimated from their published values, the other parameters fixed at them.
@Suite("PEtabEstimator: a PEtab twin forecasts its observables")
struct PEtabEstimatorTests {
    static var brannmark: String { sharedFolder().appendingPathComponent("data/petab/Brannmark_JBC2010/Brannmark_JBC2010.yaml").path }
    static let estimated = ["k1a", "k1b"]

    struct Fixture {
        let clock = ManualClock(try! Instant(parsing: "2026-03-05T00:00:00Z"), stepMicroseconds: 1_000_000)
        let bank: Bank
        let origin = try! Instant(parsing: "2026-03-01T08:00:00Z")
        let problem: PEtabProblem
        let binding: ThreadBinding
        init() throws {
            bank = Bank(storage: MemoryStorage(), clock: clock)
            try bank.createTwin(Twin(id: "adipocytes", kind: .cell))
            problem = try PEtabProblem.load(yaml: URL(fileURLWithPath: PEtabEstimatorTests.brannmark))
            binding = try ThreadBinding.petab(problem: problem, file: PEtabEstimatorTests.brannmark, name: "Brannmark_JBC2010", origin: origin,
                                              estimating: PEtabEstimatorTests.estimated)
            try ThreadBinding.attach(binding, to: "adipocytes", in: bank)
            try PEtabThread.importMeasurements(problem, named: "Brannmark_JBC2010", into: "adipocytes", in: bank, origin: origin)
        }
        func estimator(keeping keep: (BoundThread.Reading) -> Bool = { _ in true }) async throws -> PEtabEstimator {
            var e = try PEtabEstimator(binding: binding)
            try await e.assimilate(contentsOf: try binding.read("adipocytes", in: bank).readings.filter(keep))
            return e
        }
    }

    /// The forecast continues the latest reading's experiment (`Dose_100` after `Dose_0`, t = 30 min). At that
    /// experiment's measurement times, each observable's mean is the likelihood's own simulation at the optimum:
    /// TwinCalibration's `PEtabLikelihood` (relative tolerance 1e-10) is evaluated on those times with measurements
    /// of value 0 once simulating and once given the forecast as predictions; on a lin scale with normal noise the
    /// contribution is c₀ − y²/(2σ²), so √((c − c₀)/(c' − c₀)) is the ratio of the two predictions whatever σ is.
    /// Tolerance 3e-5 relative: the estimator simulates at relative tolerance 1e-8 and absolute 1e-6; observed at
    /// most 5e-6 (most below 1e-7).
    @Test(.enabled(if: FileManager.default.fileExists(atPath: brannmark), "skipped: ../shared/data/petab/Brannmark_JBC2010 is missing"))
    func forecastAtTheMeasurementTimesIsTheLikelihoodsSimulation() async throws {
        let f = try Fixture()
        let e = try await f.estimator()
        #expect(e.measurements.count == 43)
        // the estimate carries the fit's standard errors
        for p in e.estimate.parameters { #expect((p.standardDeviation ?? 0) > 0, "\(p.id): \(String(describing: p.standardDeviation))") }
        let experiment = e.measurements.filter { $0.simulationConditionId == "Dose_100" && $0.preequilibrationConditionId == "Dose_0" }
        let times = Array(Set(experiment.map(\.time))).sorted()
        #expect(times.count == 12)
        let forecast = try await e.forecast(at: times, level: 0.9)
        let observables = Array(Set(experiment.map(\.observableId))).sorted()
        #expect(Set(forecast.map { f.binding.outputs[$0.output].output }) == Set(observables))
        #expect(forecast.count == times.count * observables.count)
        // the likelihood of value-0 measurements of those observables at those times, parameters at the estimate
        var rows: [PEtabProblem.Measurement] = [], means: [Double] = []
        for id in observables {
            let last = try #require(experiment.last { $0.observableId == id })
            for t in times {
                rows.append(.init(observable: id, condition: "Dose_100", time: t, value: 0, observableParameters: last.observableParameters,
                                  noiseParameters: last.noiseParameters, preequilibration: "Dose_0"))
                means.append(try #require(forecast.first { f.binding.outputs[$0.output].output == id && $0.time == t }).mean)
            }
        }
        let sub = try f.problem.subproblem(measurements: rows, estimating: Self.estimated)
        let likelihood = try PEtabLikelihood(problem: sub, simulator: try SBMLModelSimulator(file: f.problem.modelFile, relativeTolerance: 1e-10,
                                                                                             absoluteTolerance: 1e-12, maxSteps: 5_000_000))
        let at = Dictionary(uniqueKeysWithValues: e.estimate.parameters.map { ($0.id, $0.value) })
        let simulated = try likelihood.evaluate(overrides: at).contributions
        let given = try likelihood.evaluate(overrides: at, predictions: means).contributions
        let zero = try likelihood.evaluate(overrides: at, predictions: [Double](repeating: 0, count: rows.count)).contributions
        for i in rows.indices {
            #expect(means[i] > 0)
            let ratio = ((simulated[i] - zero[i]) / (given[i] - zero[i])).squareRoot()
            #expect(abs(ratio - 1) < 3e-5, "\(rows[i].observableId) at \(rows[i].time): simulated/forecast \(ratio)")
        }
        // central 90 % intervals around the mean, of positive width
        for p in forecast {
            #expect(p.standardDeviation > 0 && p.lower < p.mean && p.mean < p.upper, "\(p)")
            #expect(abs((p.upper - p.mean) / p.standardDeviation - 1.6448536) < 1e-5)
        }
    }

    /// Fewer readings, more uncertainty: without the dose-response experiments' readings (the seven at t = 10 min)
    /// the standard errors of k1a and k1b grow (0.0370 → 0.0376 and 0.141 → 0.167 decades). The forecast interval
    /// need not widen with them (the estimate moves too, k1b from 0.175 to 0.143, and with it the forecast's
    /// sensitivity to it), but it stays a positive-width interval around its mean, past the data too (45 min).
    @Test(.enabled(if: FileManager.default.fileExists(atPath: brannmark), "skipped: ../shared/data/petab/Brannmark_JBC2010 is missing"))
    func fewerReadingsMoreUncertainty() async throws {
        let f = try Fixture()
        let all = try await f.estimator()
        let fewer = try await f.estimator { f.binding.outputs[$0.output].output != "IRS1_P_DosR" }
        #expect(fewer.measurements.count == 36)
        for id in Self.estimated {
            let a = try #require(all.estimate[id]?.standardDeviation), b = try #require(fewer.estimate[id]?.standardDeviation)
            #expect(b > a, "\(id): \(b) with fewer readings, \(a) with all")
        }
        let forecast = try await fewer.forecast(at: [5, 30, 45], level: 0.95)
        // IRS1_P_DosR has no reading left to give its scaling factor: not forecast
        #expect(forecast.count == 6 && !forecast.contains { f.binding.outputs[$0.output].output == "IRS1_P_DosR" })
        for p in forecast { #expect(p.standardDeviation > 0 && p.lower < p.mean && p.mean < p.upper, "\(p)") }
    }

    /// A reading naming no condition cannot be placed in a problem of eight conditions, nor a forecast made
    /// before any reading: both refused, naming the conditions.
    @Test(.enabled(if: FileManager.default.fileExists(atPath: brannmark), "skipped: ../shared/data/petab/Brannmark_JBC2010 is missing"))
    func withoutAConditionSeveralConditionsAreRefused() async throws {
        let f = try Fixture()
        var e = try PEtabEstimator(binding: f.binding)
        await #expect { try await e.forecast(at: [1], level: 0.9) } throws: { ($0 as? SyncError)?.message.contains("8 conditions (Dose_0, Dose_001") == true }
        var r = try #require(try f.binding.read("adipocytes", in: f.bank).readings.first)
        r.context = [:]
        await #expect { try await e.assimilate(r) } throws: { ($0 as? SyncError)?.message.contains("TwoSteps") == true }
    }
}
