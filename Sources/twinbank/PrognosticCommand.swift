import ArgumentParser
import Foundation
import TwinBank
import TwinCore
import TwinPrognostic

/// `twinbank prognostic fit|predict`: prognostic twins learned from an aggregate (logic in TwinPrognostic).
struct PrognosticCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "prognostic",
        abstract: "Fit a prognostic model of an outcome a horizon ahead from an aggregate's threads, and predict for a twin.",
        discussion: """
            fit: ridge regression, ridge with a random intercept per person, and gradient-boosted trees, chosen on \
            validation people; a 90 % split-conformal interval; error and coverage on test people not used in \
            fitting. The model is stored in the bank as a content-addressed object (its hash names it). predict: \
            writes the prediction a horizon after the twin's latest outcome value to its thread, with the model's \
            provenance; refuses a twin outside the training cohort's feature ranges unless --allow-outside.
            """,
        subcommands: [Fit.self, Predict.self])

    struct Fit: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Fit and store a prognostic model over an aggregate.")
        @OptionGroup var bankOptions: BankOptions
        @Option(help: "The training aggregate.") var aggregate: String
        @Option(help: "The outcome code (e.g. loinc:8480-6 systolic pressure, loinc:4548-4 HbA1c).") var outcome: String
        @Option(help: "How far ahead (e.g. 365d).") var horizon: String
        @Option(help: "A target counts within this span either side of index + horizon (default: a quarter of the horizon).") var window: String?
        @Option(help: "Covariate codes, comma-separated (default: a few for the outcome: diastolic pressure, BMI, HbA1c or glucose).") var covariates: String?
        @Option(help: "The seed of the person split and the trees.") var seed: UInt64 = 1
        @OptionGroup var output: OutputOptions

        func run() throws {
            let bank = try bankOptions.open()
            let outcomeKey = try CodeKey(parsing: outcome)
            let h = try TimeSpan(parsing: horizon)
            let w = try window.map { try TimeSpan(parsing: $0) }
            let cov = try covariates.map { try $0.split(separator: ",").map { try CodeKey(parsing: $0.trimmingCharacters(in: .whitespaces)) } }
                ?? PrognosticSpec.defaultCovariates(for: outcomeKey)
            let spec = try PrognosticSpec(outcome: outcomeKey, horizonSeconds: Double(h.microseconds) / 1e6,
                                          windowSeconds: w.map { Double($0.microseconds) / 1e6 }, covariates: cov)
            let (hash, model) = try Prognostic.fit(bank: bank, aggregate: try AggregateID(aggregate), spec: spec, seed: seed)
            if output.json {
                // the model's description and figures; its parameters (hundreds of trees) stay in the bank
                struct Out: Encodable {
                    var hash: String, kind: String, spec: PrognosticSpec, units: [String: String], features: [String]
                    var ranges: [PrognosticModel.FeatureRange], intervalLevel: Double, intervalHalfWidth: Double, intervalSDMultiple: Double?
                    var cohort: PrognosticModel.TrainingCohort, codeVersion: String, seed: UInt64, generator: String
                    var metrics: [PrognosticModel.Metrics]
                }
                try printJSON(Out(hash: hash.hex, kind: model.kind.rawValue, spec: model.spec, units: model.units, features: model.features,
                                  ranges: model.ranges, intervalLevel: model.intervalLevel, intervalHalfWidth: model.intervalHalfWidth, intervalSDMultiple: model.intervalSDMultiple,
                                  cohort: model.cohort, codeVersion: model.codeVersion, seed: model.seed, generator: model.generator,
                                  metrics: model.metrics))
                return
            }
            print("model \(hash.hex)")
            print("outcome \(outcomeKey) in \(model.units[outcomeKey.description] ?? "?") at \(h) (± \(Int(model.spec.windowSeconds / 86_400))d), chosen: \(model.kind.rawValue)")
            print("people: \(model.cohort.fitting.count) fitting, \(model.cohort.validation.count) validation, \(model.cohort.calibration?.count ?? 0) calibration, \(model.cohort.test.count) test (of \(model.cohort.members.count) members); seed \(seed)")
            print("model        split       people examples    MAE   RMSE  coverage")
            for m in model.metrics {
                print("\(m.model.padding(toLength: 12, withPad: " ", startingAt: 0)) \(m.split.padding(toLength: 10, withPad: " ", startingAt: 0)) \(String(format: "%7d %8d %6.2f %6.2f", m.people, m.examples, m.meanAbsoluteError, m.rootMeanSquaredError))  \(m.coverage.map { String(format: "%.2f", $0) } ?? "-")")
            }
            if let m = model.intervalSDMultiple {
                print("interval: ± \(String(format: "%.4g", m)) x the person's predictive sd (\(Int(model.intervalLevel * 100)) % normalised split-conformal on the calibration people)")
            } else {
                print("interval: ± \(String(format: "%.4g", model.intervalHalfWidth)) \(model.units[outcomeKey.description] ?? "") (\(Int(model.intervalLevel * 100)) % split-conformal on the calibration people)")
            }
        }
    }

    struct Predict: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Predict a twin's outcome a horizon ahead and write it to its thread.")
        @OptionGroup var bankOptions: BankOptions
        @Option(help: "The twin.") var twin: String
        @Option(help: "The model's hash (or its first 8+ hex digits).") var model: String
        @Flag(help: "Predict even when the twin is outside the training cohort's ranges (warns, and records the warning).") var allowOutside = false
        @OptionGroup var output: OutputOptions

        func run() throws {
            let bank = try bankOptions.open()
            let p = try Prognostic.predict(bank: bank, twin: try TwinID(twin), model: model, allowOutside: allowOutside)
            for w in p.outsideTrainingRange {
                FileHandle.standardError.write(Data("WARNING: \(twin) is outside the training cohort: \(w); the prediction was written with this warning in its provenance\n".utf8))
            }
            if output.json { try printJSON(p); return }
            print("\(twin): \(p.outcome) at \(p.time.iso8601): \(String(format: "%.4g", p.value)) \(p.unit), \(Int(p.intervalLevel * 100)) % interval [\(String(format: "%.4g", p.lower)), \(String(format: "%.4g", p.upper))]")
            print("from \(p.index.iso8601) with model \(p.model.prefix(12)); event \(p.event?.hex ?? "-")")
        }
    }
}

/// `twinbank trial analyze`: a trial's treatment effect adjusted for a prognostic score (PROCOVA; logic in
/// TwinPrognostic's `TrialAnalysis`).
struct TrialCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "trial",
        abstract: "Analyse a randomised trial in an aggregate, adjusted for a prognostic score (PROCOVA).",
        subcommands: [Analyze.self])

    struct Analyze: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "The treatment effect, unadjusted (Welch) and adjusted for a prognostic model's score (ANCOVA, Schuler et al. 2022).",
            discussion: """
                Each member's arm is the attribute --arm (two values; the treated one is --treated, or the one that is \
                not control, placebo, standard or false), its outcome the latest value of --outcome, and its score the \
                model's prediction from its history up to its outcome value a horizon earlier.
                """)
        @OptionGroup var bankOptions: BankOptions
        @Option(help: "The trial's aggregate.") var aggregate: String
        @Option(help: "The attribute holding each member's arm.") var arm: String
        @Option(help: "The arm value of the treated.") var treated: String?
        @Option(help: "The outcome code (must be the model's outcome).") var outcome: String
        @Option(help: "The prognostic model's hash (or its first 8+ hex digits).") var prognostic: String
        @OptionGroup var output: OutputOptions

        func run() throws {
            let bank = try bankOptions.open()
            let model = try PrognosticStore(bank: bank).load(prognostic).model
            let outcomeKey = try CodeKey(parsing: outcome)
            guard outcomeKey == model.spec.outcome else {
                throw ValidationError("--outcome \(outcome) is not the outcome of model \(prognostic) (\(model.spec.outcome))")
            }
            let r = try Prognostic.analyzeTrial(bank: bank, aggregate: try AggregateID(aggregate), arm: arm, treatedValue: treated, model: prognostic)
            if output.json { try printJSON(r); return }
            let a = r.analysis
            func line(_ name: String, _ e: TrialAnalysis.Estimate) -> String {
                "\(name) \(String(format: "%8.3f  SE %.3f  95%% CI [%.3f, %.3f]  p %.4g  df %.1f", e.effect, e.standardError, e.lower, e.upper, e.pValue, e.degreesOfFreedom))"
            }
            print("\(r.aggregate): \(r.arm) = \(r.treatedValue) (\(a.treated)) vs \(r.controlValue) (\(a.control)); outcome \(r.outcome); model \(r.model.prefix(12))")
            print(line("unadjusted (Welch)  ", a.unadjusted))
            if let adj = a.adjusted { print(line("adjusted (PROCOVA)  ", adj)) }
            if let rho = a.scoreOutcomeCorrelation, let v = a.varianceRatio {
                print(String(format: "score-outcome correlation %.3f; variance ratio adjusted/unadjusted %.3f", rho, v))
            }
            if !r.leftOut.isEmpty { print("left out: \(r.leftOut.count) (\(r.leftOut.sorted { $0.key < $1.key }.prefix(5).map { "\($0.key): \($0.value)" }.joined(separator: "; ")))") }
            if !r.outsideTrainingRange.isEmpty { print("WARNING: \(r.outsideTrainingRange.count) member(s) outside the model's training ranges (analysed; the adjustment stays valid)") }
        }
    }
}
