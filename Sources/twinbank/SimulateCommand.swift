import ArgumentParser
import Foundation
import TwinCore
import TwinModels

/// `twinbank simulate MODEL ...`: runs a model of the library and writes its trace as CSV.
/// Wiring only: parsing, then `TwinModels`.
struct SimulateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "simulate",
        abstract: "Run a physiology model and write its trace as CSV.",
        discussion: """
        Models:
          glucose  UVA/Padova type 1 diabetes model as simglucose 0.2.11 runs it (1-minute rows: Time,BG,CHO,insulin).
          liver    APAP metabolism and glutathione depletion (Reddyhoff 2015) with optional NAC doses (--nac).
        Example:
          twinbank simulate glucose --patient adult#001 --meals 7:45,12:70,18:80 --hours 24 --controller basal-bolus --out trace.csv
        """
    )

    @Argument(help: "The model to run.")
    var model: SimulatedModel

    @Option(help: "Virtual patient: adolescent#001..010, adult#001..010, child#001..010.")
    var patient: String = "adult#001"

    @Option(help: "Announced meals after the start, comma-separated: HOUR:GRAMS (7:45 is 45 g at hour 7; 7.5:30 is 30 g at 07:30) or HH:MM=GRAMS (07:30=30). A zero-padded 07:30 is refused as ambiguous; meals must fall within --hours.")
    var meals: String = ""

    @Option(help: "Length of the run in hours.")
    var hours: Double = 24

    @Option(help: "Therapy: basal-bolus (simglucose's controller), basal (no boluses) or none (no insulin).")
    var controller: GlucoseTherapy = .basalBolus

    @Option(help: "Insulin pump: Insulet or Cozmo.")
    var pump: InsulinPump = .insulet

    @Option(help: "Multiplier of the controller's basal rate (an alternative insulin plan).")
    var basalScale: Double = 1

    @Option(help: "Multiplier of the controller's boluses.")
    var bolusScale: Double = 1

    @Option(parsing: .unconditional, help: "Start of the run, labelling the Time column (UTC), in the time grammar of every command: ISO 8601 (2024-01-01, 2024-01-01T06:00Z), now, today, -1d, ...")
    var start: String = "2024-01-01T00:00:00Z"

    @Option(help: "Integration: simglucose (a fresh DOPRI5 run every minute, as simglucose) or continuous (faster, within ~1e-3 mg/dL).")
    var integration: GlucoseIntegration = .simglucose

    @Flag(help: "Also write the 13 model states (x1..x13).")
    var states = false

    @Option(help: "liver: N-acetylcysteine doses as HOUR[:AMOUNT] (1 = one standard dose), comma-separated.")
    var nac: String = ""

    @Option(help: "liver: number of evenly spaced output points.")
    var points = 1000

    @Option(help: "Output CSV file (a new file, written whole or not at all; an existing file only with --force, never a folder); standard output if omitted.")
    var out: String?

    @Flag(help: "Replace an existing file at --out.")
    var force = false

    func run() async throws {
        if let out {
            try OutputFile.checkWritable(out, overwrite: force)
            Interruption.install(Interruption.nothingWritten)
        }
        switch model {
        case .glucose:
            let therapy: BasalBolusController?
            do { therapy = try controller.controller(basalScale: basalScale, bolusScale: bolusScale) } catch {
                throw ValidationError("--basal-scale and --bolus-scale must be >= 0 (got \(basalScale), \(bolusScale))")
            }
            let plan = try MealPlan(parsing: meals)
            try plan.check(withinHours: hours)
            let startInstant = try parseInstant(start, option: "--start", bound: .lower)
            let scenario = GlucoseScenario(patient: try VirtualPatient.named(patient),
                                           meals: plan, hours: hours, controller: therapy,
                                           pump: pump, recordStates: states, integration: integration)
            let startTime = CivilDateTime(year: 1970, month: 1, day: 1).adding(seconds: Int(startInstant.microseconds.quotientAndRemainder(dividingBy: 1_000_000).quotient))
            let trace = try GlucoseSimulator.run(scenario, progress: TerminalProgress.make("simulate glucose", json: false))
            try emit(trace.csv(start: startTime))
        case .liver:
            let doses: [TimedDose]
            do { doses = try TimedDose.list(parsing: nac) } catch { throw ValidationError("--nac: \(error.message)") }
            let solution = try LiverSimulator.run(LiverScenario(nacDoses: doses, hours: hours, points: points))
            try emit(SolutionCSV.render(solution, timeColumn: "hours"))
        }
    }

    private func emit(_ text: String) throws {
        if let out {
            try OutputFile.write(text, to: out, overwrite: force)
        } else {
            print(text, terminator: "")
        }
    }
}

/// The models `simulate` runs.
enum SimulatedModel: String, CaseIterable, ExpressibleByArgument {
    case glucose, liver
}
