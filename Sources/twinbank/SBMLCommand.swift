import ArgumentParser
import TwinCore
import TwinSimulation
import TwinSBML

/// `twinbank sbml`: run SBML models the way the SBML Test Suite expects.
struct SBMLCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sbml",
        abstract: "Run SBML models (Level 2 and 3 core, comp flattened) with SBML Test Suite settings.",
        subcommands: [Run.self, Suite.self]
    )

    /// `twinbank sbml run MODEL.xml --settings SETTINGS.txt --out RESULT.csv`
    struct Run: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Simulate one model with a test-suite settings file and write the suite's CSV (time, then the variables).")

        @Argument(help: "The SBML file.")
        var model: String

        @Option(help: "An SBML Test Suite settings file (start, duration, steps, variables, absolute, relative, amount, concentration).")
        var settings: String

        @Option(help: "Where to write the result CSV (a new file; an existing file only with --force, never a folder).")
        var out: String

        @Flag(help: "Replace an existing file at --out.")
        var force = false

        @Option(help: "The integrator: auto (explicit Dormand-Prince, switching to Rodas5P when the model is stiff), rodas5P or rodas5 (stiff from the start, as libRoadRunner's CVODE BDF), dormandPrince (explicit only).")
        var method: SolverMethod = .auto

        func run() throws {
            // SBMLError prints as "Error: <code>: <message> (line N)" and exits non-zero; a refused --out is
            // reported as every other writer reports it (OutputFile).
            try OutputFile.checkWritable(out, overwrite: force)
            Interruption.install(Interruption.nothingWritten)
            let s = try TestSuiteSettings.parse(try TestSuiteRunner.readFile(settings))
            let table = try TestSuiteRunner.run(modelPath: model, settings: s, method: method)
            try TestSuiteRunner.write(table.csv, to: out, overwrite: force)
            print("wrote \(table.rows.count) rows x \(table.columns.count) columns to \(out)")
        }
    }

    /// `twinbank sbml suite CASES_DIR --out SUMMARY.csv`
    struct Suite: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run every SBML Test Suite case folder in a directory; write case,status,seconds,message.")

        @Argument(help: "A directory of case folders (NNNNN/ with NNNNN-settings.txt, NNNNN-results.csv and NNNNN-sbml-lXvY.xml).")
        var cases: String

        @Option(help: "Where to write the summary CSV (a new file; an existing file only with --force, never a folder).")
        var out: String

        @Flag(help: "Replace an existing file at --out.")
        var force = false

        @Option(help: "Cases run at once.")
        var jobs = 2

        func run() async throws {
            try OutputFile.checkWritable(out, overwrite: force)
            do {
                Interruption.install(Interruption.nothingWritten)
                let start = TestSuiteRunner.monotonicSeconds()
                let progress = TerminalProgress.make("sbml suite", json: false)
                let outcomes = try await TestSuiteRunner.runSuite(directory: cases, concurrency: jobs, progress: progress)
                try TestSuiteRunner.write(TestSuiteRunner.summaryCSV(outcomes), to: out, overwrite: force)
                var counts: [String: Int] = [:]
                for o in outcomes { counts[o.status.rawValue, default: 0] += 1 }
                let timeCourse = outcomes.count - (counts["skipped"] ?? 0)
                print("cases \(outcomes.count): pass \(counts["pass"] ?? 0) of \(timeCourse) time-course, fail \(counts["fail"] ?? 0), unsupported \(counts["unsupported"] ?? 0), skipped (not time-course) \(counts["skipped"] ?? 0)")
                print("wall \(TestSuiteRunner.monotonicSeconds() - start) s; summary in \(out)")
            } catch {
                throw ValidationError(error.description)
            }
        }
    }
}
