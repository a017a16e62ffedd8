import ArgumentParser
import Foundation
import TwinBank
import TwinCalibration
import TwinCore
import TwinModels
import TwinSync

extension TwinCommand {
    /// `twinbank twin bind`: attaches a thread binding (how the twin's thread feeds a model) to a twin, as data in
    /// its model bindings. Wiring only: parsing, then `TwinSync.ThreadBinding`.
    struct Bind: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Bind a model to a twin's thread (a binding file or a preset), so `sync` and `watch` run its two-way loop.",
            discussion: """
            A binding says which coded observations are the model's outputs (unit, noise), which events its inputs, which
            attributes set its parameters and which parameters are estimated. Give a JSON file (--binding) or a preset:
              glucose  the UVA/Padova glucose twin (CGM glucose, meals, insulin);
              pk       a drug twin from its pk.* attributes (pk.code the drug, pk.levelCode the measured level, pk.route,
                       pk.clearance, pk.volume, pk.absorptionRate);
              petab    a PEtab problem's SBML model (--petab PROBLEM.yaml), its experiments starting at --origin; with
                       --import-measurements the problem's measurements are written into the thread first;
              circulation  the cardiac twin: the built-in beat-averaged circulation with the baroreflex (mean arterial
                       pressure loinc:8478-0 and heart rate loinc:8867-4 readings; blood loss and fluid given,
                       urn:twinbank:circulation|blood-loss and |fluid, mL over a period), estimating blood volume
                       (prior --blood-volume, default 5000 mL) and peripheral resistance; the hypotension rule.
                       --layout two-circuit: the two-circuit person (right heart, pulmonary circulation,
                       transcapillary refill; default blood volume 5300 mL).
            A binding with the same name replaces the twin's earlier one.
            Example:
              twinbank twin bind --bank b --twin liver-1 --preset petab --petab Schwen_PONE2014.yaml --origin 2026-01-01 --import-measurements --estimate kin,kout
            """)
        @OptionGroup var bankOptions: BankOptions
        @Option(help: "The twin.") var twin: String
        @Option(help: "A binding JSON file (see the README's \"Two-way loop for any model\").") var binding: String?
        @Option(help: "A preset binding: glucose, pk, petab or circulation.") var preset: Preset?
        @Option(help: "With --preset petab: the PEtab problem's YAML file.") var petab: String?
        @Option(parsing: .unconditional, help: "With --preset petab: the instant the problem's experiments start (its time zero).") var origin: String?
        @Option(name: .customLong("time-unit"), help: "With --preset petab: the problem's time unit: s, min, h or d.") var timeUnit: ModelTimeUnit = .min
        @Option(help: "With --preset petab: the parameters to estimate (comma-separated; default all the problem estimates; the others stay at their nominal values).") var estimate: String?
        @Option(help: "With --preset petab: where the fit of a parameter starts, ID=VALUE (repeatable; default its nominal value).") var start: [String] = []
        @Flag(name: .customLong("import-measurements"), help: "With --preset petab: write the problem's measurements into the twin's thread.") var importMeasurements = false
        @Option(name: .customLong("blood-volume"), help: "With --preset circulation: the prior blood volume, mL (default 5000; 5300 with --layout two-circuit).") var bloodVolume: Double?
        @Option(help: "With --preset circulation: the circulation's layout: one-reservoir (default) or two-circuit (a right heart, the pulmonary circulation and transcapillary refill; blood volume 5300 mL).")
        var layout: Layout?
        @OptionGroup var output: OutputOptions

        enum Layout: String, ExpressibleByArgument, CaseIterable { case oneReservoir = "one-reservoir", twoCircuit = "two-circuit" }

        enum Preset: String, ExpressibleByArgument, CaseIterable { case glucose, pk, petab, circulation }

        /// The circulation preset's person for `--layout`, before `--blood-volume`.
        var person: CirculationModel.Parameters { layout == .twoCircuit ? .withPulmonaryCirculation : .init() }

        func validate() throws {
            guard (binding == nil) != (preset == nil) else { throw ValidationError("give either --binding FILE or --preset glucose|pk|petab|circulation.") }
            if preset != .circulation, bloodVolume != nil { throw ValidationError("--blood-volume: applies to --preset circulation only.") }
            if preset != .circulation, layout != nil { throw ValidationError("--layout: applies to --preset circulation only.") }
            if let v = bloodVolume {
                let least = person.unstressedVolume
                guard v.isFinite, v > least + 100, v <= 20_000 else {
                    throw ValidationError("--blood-volume: \(v) mL is not a blood volume this circulation can have (more than \(Int(least + 100)) mL, at most 20000).")
                }
            }
            if preset != .petab {
                for (given, name) in [(petab != nil, "--petab"), (origin != nil, "--origin"), (estimate != nil, "--estimate"), (!start.isEmpty, "--start"), (importMeasurements, "--import-measurements")] where given {
                    throw ValidationError("\(name): applies to --preset petab only.")
                }
            } else {
                guard petab != nil else { throw ValidationError("--preset petab: give the problem with --petab PROBLEM.yaml.") }
                guard origin != nil else { throw ValidationError("--preset petab: give the experiments' start with --origin TIME.") }
            }
        }

        func run() throws {
            let bank = try bankOptions.open()
            let id = try TwinID(twin)
            let record = try bank.twin(id)
            let chosen: ThreadBinding
            var imported: AppendResult?
            if let binding {
                guard let data = FileManager.default.contents(atPath: binding) else { throw ValidationError("--binding: cannot read '\(binding)'.") }
                chosen = try ThreadBinding(json: data)
            } else {
                switch preset! {
                case .glucose: chosen = .glucose
                case .pk: chosen = try ThreadBinding.pk(for: record.twin)
                case .circulation:
                    var person = self.person
                    if let bloodVolume { person.bloodVolume = bloodVolume }
                    chosen = ThreadBinding.circulation(parameters: person)
                case .petab:
                    let url = URL(fileURLWithPath: petab!)
                    let problem: PEtabProblem
                    do { problem = try PEtabProblem.load(yaml: url) } catch let e as CalibrationError { throw ValidationError("--petab: \(e.message)") }
                    let at = try parseInstant(origin!, option: "--origin", bound: .instant)
                    var starts: [String: Double] = [:]
                    for item in start {
                        let parts = item.split(separator: "=", maxSplits: 1).map(String.init)
                        guard parts.count == 2, let v = Double(parts[1]), v.isFinite else { throw ValidationError("--start: expected ID=VALUE (got '\(item)').") }
                        starts[parts[0]] = v
                    }
                    let name = url.deletingPathExtension().lastPathComponent
                    let ids = estimate.map { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty } }
                    chosen = try ThreadBinding.petab(problem: problem, file: url.standardizedFileURL.path, name: name, origin: at, timeUnit: timeUnit,
                                                     estimating: ids, start: starts)
                    try chosen.validate()
                    if importMeasurements { imported = try PEtabThread.importMeasurements(problem, named: name, into: id, in: bank, origin: at, timeUnit: timeUnit) }
                }
            }
            let saved = try ThreadBinding.attach(chosen, to: id, in: bank)
            if output.json {
                struct Out: Encodable { var twin: TwinID; var binding: ThreadBinding; var measurementsImported: Int? }
                try printJSON(Out(twin: saved.id, binding: chosen, measurementsImported: imported?.count))
                return
            }
            print("bound \(chosen.model.kind.rawValue) model \(chosen.model.id) to \(saved.id) as binding '\(chosen.name)': \(chosen.outputs.count) outputs, \(chosen.inputs.count) inputs, estimating \(chosen.estimated.map(\.parameter).joined(separator: ", "))")
            if let imported { print("imported \(imported.count) measurements into \(saved.id)'s thread (sequences \(imported.firstSequence)-\(imported.lastSequence))") }
        }
    }
}

extension ModelTimeUnit: ExpressibleByArgument {}
