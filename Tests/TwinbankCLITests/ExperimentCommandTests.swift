import Foundation
import Testing
import TwinTesting

/// `twinbank experiment glucose-sync` with the particle posterior: the shared simglucose trace plays the person,
/// the other nine adults are the prior; the JSON says which estimator held the twin's belief, that its particles
/// were resampled and moved, and scores the forecast. Options that do not fit together are refused by name.
@Suite("twinbank experiment")
struct ExperimentCommandTests {
    let cli = CommandRunner()
    var trace: String { SimulateCommandTests.sharedData.appendingPathComponent("simglucose/simglucose-adult001-24h.csv").path }

    @Test(.enabled(if: SharedFolder.has("data/simglucose/simglucose-adult001-24h.csv"),
                   "skipped: the simglucose trace data/simglucose/simglucose-adult001-24h.csv is missing (put ../shared beside the package or set TWINBANK_SHARED)"))
    func particlePosteriorOnTheSharedTrace() throws {
        let out = try cli.ok(["experiment", "glucose-sync", "--truth", trace, "--cohort-without", "adult#001", "--particles", "24", "--moves", "1", "--json"])
        let report = try #require(try JSONSerialization.jsonObject(with: Data(out.utf8)) as? [String: Any])
        #expect((report["estimator"] as? String)?.hasPrefix("SMC parameter posterior of 24 particles") == true, "\(report["estimator"] ?? "")")
        #expect(((report["resamplings"] as? Int) ?? 0) > 0)
        let rmse = try #require(report["forecastRMSE"] as? Double), persistence = try #require(report["persistenceRMSE"] as? Double)
        #expect(rmse.isFinite && rmse < persistence, "forecast \(rmse) vs last reading \(persistence)")
        #expect(((report["forecasts"] as? Int) ?? 0) > 250)
    }

    /// The command reads the truth trace before it checks the options, so these need the trace too.
    @Test(.enabled(if: SharedFolder.has("data/simglucose/simglucose-adult001-24h.csv"),
                   "skipped: the simglucose trace data/simglucose/simglucose-adult001-24h.csv is missing (put ../shared beside the package or set TWINBANK_SHARED)"),
          arguments: [
        (["--particles", "24", "--prior", "mean"], "--prior cohort"),
        (["--prior", "mean", "--cohort"], "contradict"),
        (["--blend", "sometimes"], "sometimes"),
        (["--gut-noise", "-5"], "--gut-noise"),
        (["--particles", "24", "--cohort-without", "adult#001", "--recalibrate", "60"], "--recalibrate"),
        (["--particles", "3", "--cohort-without", "adult#001"], "at least 10"),
        (["--particles", "24", "--cohort-without", "adult#001", "--moves", "0"], "--moves"),
    ])
    func optionsThatDoNotFitAreRefused(_ extra: [String], _ named: String) throws {
        let out = try cli.run(["experiment", "glucose-sync", "--truth", trace] + extra)
        #expect(out.status != 0)
        #expect(out.stderr.contains(named), "\(out.stderr)")
    }

    /// No leakage: --truth-patient names the person the trace is; a name that is not a cohort patient, or one of
    /// another group than --group, is an error naming it; --oracle needs the patient and says it is an oracle.
    @Test(.enabled(if: SharedFolder.has("data/simglucose/simglucose-adult001-24h.csv"),
                   "skipped: the simglucose trace data/simglucose/simglucose-adult001-24h.csv is missing (put ../shared beside the package or set TWINBANK_SHARED)"),
          arguments: [
        (["--truth-patient", "adult#011"], "'adult#011'"),
        (["--truth-patient", "Adult#001"], "'Adult#001'"),
        (["--cohort-without", "adult#000"], "'adult#000'"),
        (["--truth-patient", "adult#001", "--group", "child"], "child"),
        (["--truth-patient", "adult#001", "--cohort-without", "adult#002"], "different"),
        (["--oracle"], "--truth-patient"),
        (["--truth-patient", "adult#001", "--level", "1.5"], "--level"),
    ])
    func truthPatientErrors(_ extra: [String], _ named: String) throws {
        let out = try cli.run(["experiment", "glucose-sync", "--truth", trace] + extra)
        #expect(out.status != 0)
        #expect(out.stderr.contains(named), "\(out.stderr)")
    }

    @Test(.enabled(if: SharedFolder.has("data/simglucose/simglucose-adult001-24h.csv"),
                   "skipped: the simglucose trace data/simglucose/simglucose-adult001-24h.csv is missing (put ../shared beside the package or set TWINBANK_SHARED)"))
    func truthPatientIsLeftOutAndTheOracleIsNamed() throws {
        // the default prior (chosen on the tuning people of issue 26): the bank of the group without the person
        let out = try cli.ok(["experiment", "glucose-sync", "--truth", trace, "--truth-patient", "adult#001", "--level", "0.9"])
        #expect(out.contains("prior: bank of 9 candidates (adult#002,") && !out.contains("adult#001,"), "\(out)")
        #expect(out.contains("model health: the model did not explain the readings at "), "\(out)")
        let mean = try cli.ok(["experiment", "glucose-sync", "--truth", trace, "--truth-patient", "adult#001", "--prior", "mean", "--blend", "none"])
        #expect(mean.contains("prior: adult population mean without adult#001"), "\(mean)")
        #expect(out.contains("90% prediction interval coverage"), "\(out)")
        #expect(!out.contains("ORACLE"))
        let oracle = try cli.ok(["experiment", "glucose-sync", "--truth", trace, "--truth-patient", "adult#001", "--oracle"])
        #expect(oracle.contains("ORACLE: the twin was given adult#001's own parameters"), "\(oracle)")
        let help = try cli.ok(["experiment", "--help"])
        #expect(help.contains("--truth-patient") && help.contains("ORACLE"))
    }
}
