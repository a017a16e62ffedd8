import ArgumentParser
import Foundation
import TwinBank
import TwinCore
import TwinPopulation

struct AssignCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "assign",
        abstract: "Assign patients to hospital wards at least total cost (an exact min-cost flow); unplaced patients are reported.",
        discussion: """
        Reads the files ../shared/anchors/hospital_alloc_baseline.py writes with --save-hospitals and --save-patients. \
        A patient of severity s needs ward s of the model (general, icu, icu_vent); sending them costs km x the \
        severity's weight, leaving them unplaced the severity's penalty (costs in exact cents). Prints the optimal \
        cost, the solver's time (solve_seconds, without reading the files) and the unplaced patients by severity; \
        --out writes the assignment in the anchor's --save-solution format.

        With --bank and --aggregate, the hospitals are the aggregate's organisation twins as of --at (default now): \
        location from their attributes x_km and y_km, capacity from the latest local:capacity.WARD observations, or from \
        local:beds, local:icuBeds, local:ventilators, local:nurses and local:doctors (staffed as the anchor does), \
        at or before that time in their threads (else attributes of those names).
        """)

    @Option(help: "The hospitals file (H.json).") var hospitals: String?
    @OptionGroup var bankOptions: BankOptions
    @Option(help: "Instead of --hospitals: the aggregate of the bank's hospital (organisation) twins.") var aggregate: String?
    @Option(parsing: .unconditional, help: "With --aggregate: the capacities as of this time (ISO 8601, now, -2h, ...; default now).") var at: String?
    @Option(help: "The patients file (P.json).") var patients: String
    @Option(help: "Write the assignment here, as --save-solution does (an existing file is refused unless --force).") var out: String?
    @Flag(help: "Replace the --out file if it exists.") var force = false
    @OptionGroup var output: OutputOptions

    struct Report: Encodable {
        var cost: Double
        var solve_seconds: Double
        var patients: Int
        var hospitals: Int
        var placed: Int
        var overflow: Int
        var overflow_by_severity: [String: Int]
        var overflow_patients: [InstanceID]
    }

    func run() throws {
        let network: HospitalNetwork
        switch (hospitals, aggregate) {
        case (let file?, nil):
            guard at == nil, bankOptions.bank == nil else {
                throw ValidationError("\(at != nil ? "--at" : "--bank") goes with --aggregate (the bank's hospital twins), not with --hospitals")
            }
            if let out { try OutputFile.checkWritable(out, overwrite: force) }
            network = try HospitalNetwork(contentsOf: file)
        case (nil, let id?):
            if let out { try OutputFile.checkWritable(out, overwrite: force) }
            let bank = try bankOptions.open()
            let asOf = try at.map { try parseInstant($0, option: "--at", bound: .instant) }
            network = try HospitalTwins.network(bank: bank, aggregate: try AggregateID(id), asOf: asOf)
        case (.some, .some):
            throw ValidationError("give --hospitals FILE or --aggregate ID (with --bank), not both")
        case (nil, nil):
            throw ValidationError("give the hospitals: --hospitals H.json, or --aggregate ID with --bank")
        }
        let list = try network.patients(contentsOf: patients)
        let start = ContinuousClock.now
        let result = try AssignmentSolver.solve(network, patients: list)
        let elapsed = ContinuousClock.now - start
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
        if let out { try OutputFile.write(result.solutionJSON, to: out, overwrite: force) }
        let overflow = result.overflow, bySeverity = result.overflowBySeverity
        if output.json {
            try printJSON(Report(cost: result.cost, solve_seconds: seconds, patients: list.count, hospitals: network.hospitals.count,
                                 placed: list.count - overflow.count, overflow: overflow.count,
                                 overflow_by_severity: Dictionary(uniqueKeysWithValues: bySeverity.enumerated().map { (String($0.offset + 1), $0.element) }),
                                 overflow_patients: overflow.map { list[$0].id }))
            return
        }
        print("cost \(result.costText)")
        print(String(format: "solve_seconds %.6f", seconds))
        print("placed \(list.count - overflow.count) of \(list.count) patients in \(network.hospitals.count) hospitals")
        let counts = bySeverity.enumerated().map { "severity \($0.offset + 1) (\(network.model.wards[$0.offset])): \($0.element)" }
        print("overflow \(overflow.count) (\(counts.joined(separator: ", ")))")
        if !overflow.isEmpty {
            let shown = overflow.prefix(20).map { list[$0].id.description }.joined(separator: ", ")
            print("unplaced patients: \(shown)\(overflow.count > 20 ? ", ... (\(overflow.count - 20) more; --json or --out lists all)" : "")")
        }
        if let out { print("wrote \(out)") }
    }
}
