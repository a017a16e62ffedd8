import Foundation
import TwinSimulation
import TwinSBML

/// A ``PEtabSimulator`` over an SBML model compiled by TwinSBML.
///
/// The compiled model owns working buffers and is not thread-safe, so simulations through one instance
/// are serialised by a lock; create one instance per concurrent calibration. Symbols in observable
/// formulas are reported as they appear in SBML math (species as concentrations, unless
/// `hasOnlySubstanceUnits`).
public final class SBMLModelSimulator: PEtabSimulator, @unchecked Sendable {
    private let lock = NSLock()
    private let model: CompiledModel
    private let defined: Set<String>
    /// The ids of the model's species, in document order (what a ``Dose`` may name).
    public let species: [String]
    public let relativeTolerance: Double
    public let absoluteTolerance: Double
    /// The most integrator steps one simulation may take; beyond it the simulation fails and a calibration
    /// rejects that trial point. TwinSBML integrates with an explicit Dormand–Prince method, so parameter
    /// values that make a model very stiff (fast rates at the edge of wide bounds) need many steps; the
    /// default of 5,000 keeps a multi-start calibration fast by rejecting those corners. Raise it for models
    /// that are stiff at their optimum.
    public let maxSteps: Int

    /// Reads and compiles the SBML file. The default tolerances (relative 1e-8, absolute 1e-6 in the model's
    /// amount units) keep simulated observables accurate to about 1e-7 relative, far below measurement noise.
    ///
    /// `doses` (default none) are given to the model's species as it runs (``Dose``: boluses as SBML events,
    /// infusions as constant-rate inflow reactions over their period, added to the model before it is compiled);
    /// without doses the model is compiled exactly as read.
    /// - Throws: ``CalibrationError`` `unsupported` for an SBML feature TwinSBML does not handle, `invalidPEtab`
    ///   for a file that cannot be read; for doses, what ``Dose`` says.
    public convenience init(file: URL, doses: [Dose] = [], relativeTolerance: Double = 1e-8, absoluteTolerance: Double = 1e-6, maxSteps: Int = 5_000) throws {
        let sbml: SBMLModel
        do { sbml = try SBMLReader.read(path: file.path) } catch { throw Self.loadError(error, file) }
        try self.init(sbml: sbml, file: file, doses: doses, relativeTolerance: relativeTolerance, absoluteTolerance: absoluteTolerance, maxSteps: maxSteps)
    }

    /// An SBML document given as text (a model generated in code, such as TwinModels' `CirculationSBML`), named
    /// `name` in messages; otherwise as ``init(file:doses:relativeTolerance:absoluteTolerance:maxSteps:)``.
    public convenience init(text: String, name: String, doses: [Dose] = [], relativeTolerance: Double = 1e-8, absoluteTolerance: Double = 1e-6,
                            maxSteps: Int = 5_000) throws {
        let file = URL(fileURLWithPath: name)
        let sbml: SBMLModel
        do { sbml = try SBMLReader.read(string: text) } catch { throw Self.loadError(error, file) }
        try self.init(sbml: sbml, file: file, doses: doses, relativeTolerance: relativeTolerance, absoluteTolerance: absoluteTolerance, maxSteps: maxSteps)
    }

    private init(sbml read: SBMLModel, file: URL, doses: [Dose], relativeTolerance: Double, absoluteTolerance: Double, maxSteps: Int) throws {
        var sbml = read
        species = sbml.species.map(\.id)
        if !doses.isEmpty { try Self.add(doses, to: &sbml, file: file) }
        do { model = try ModelCompiler.compile(sbml) } catch { throw Self.loadError(error, file) }
        defined = Set(model.slotOfSymbol.keys)
        self.relativeTolerance = relativeTolerance
        self.absoluteTolerance = absoluteTolerance
        self.maxSteps = maxSteps
    }

    public func defines(_ id: String) -> Bool { defined.contains(id) }

    /// A construct TwinSBML does not handle is a refusal naming the SBML feature, not a broken problem.
    private static func loadError(_ error: SBMLError, _ file: URL) -> CalibrationError {
        if error.code == .unsupported || error.code == .unknownMathML {
            return CalibrationError(.unsupported, "the SBML model \(file.lastPathComponent) uses a feature not supported: \(error)", value: error.value ?? file.path)
        }
        return CalibrationError(.invalidPEtab, "cannot load the SBML model \(file.lastPathComponent): \(error)", value: file.path)
    }

    /// The model's state variables: species that no rule sets, and the variables of rate rules.
    public var stateIds: [String]? { model.variableNames }

    /// The steady state (``PEtabSteadyStateTest``) with the model's own rates: at each test time the state
    /// (species in amounts) is put through the compiled right-hand side.
    public func steadyState(outputs: [String], overrides: [String: Double]) throws -> PEtabSteadyState {
        let ids = model.variableNames
        let times = PEtabSteadyStateTest.times
        let columns = outputs.map { OutputVariable(id: $0) } + ids.map { OutputVariable(id: $0) }
            + ids.map { OutputVariable(id: $0, concentration: false) }
        lock.lock()
        defer { lock.unlock() }
        let rows: [[Double]]
        do {
            rows = try Simulator(model: model, options: options(overrides)).simulate(outputTimes: times, outputs: columns)
        } catch {
            throw CalibrationError(.simulationFailed, "\(error)", value: error.value)
        }
        let n = ids.count, o = outputs.count
        var rates = [Double](repeating: 0, count: n)
        var last = (value: Double.infinity, worst: 0)
        for (k, row) in rows.enumerated() {
            let amounts = Array(row[(o + n)..<(o + 2 * n)])
            amounts.withUnsafeBufferPointer { y in
                rates.withUnsafeMutableBufferPointer { model.derivatives(t: times[k], y: y, dy: $0) }
            }
            last = PEtabSteadyStateTest.wrms(state: amounts, rates: rates)
            if last.value < 1 {
                var state: [String: Double] = [:]
                for (j, id) in ids.enumerated() { state[id] = row[o + j] }
                return PEtabSteadyState(outputs: Array(row[0..<o]), state: state, time: times[k], wrms: last.value)
            }
        }
        let worst = n == 0 ? "?" : ids[last.worst]
        throw CalibrationError(.simulationFailed, "no steady state by t = 1e8 (weighted RMS of the rates \(last.value), largest for '\(worst)').", value: worst)
    }

    private func options(_ overrides: [String: Double]) -> SimulationOptions {
        var options = SimulationOptions()
        options.relativeTolerance = relativeTolerance
        options.absoluteTolerance = absoluteTolerance
        options.overrides = overrides
        options.maxSteps = maxSteps
        return options
    }

    public func simulate(times: [Double], outputs: [String], overrides: [String: Double]) throws -> [[Double]] {
        var options = SimulationOptions()
        options.relativeTolerance = relativeTolerance
        options.absoluteTolerance = absoluteTolerance
        options.overrides = overrides
        options.maxSteps = maxSteps
        lock.lock()
        defer { lock.unlock() }
        let simulator = Simulator(model: model, options: options)
        do {
            return try simulator.simulate(outputTimes: times, outputs: outputs.map { OutputVariable(id: $0) })
        } catch {
            throw CalibrationError(.simulationFailed, "\(error)", value: error.value)
        }
    }
}

extension PEtabCalibration {
    /// Loads a PEtab problem and its SBML model.
    public static func load(yaml url: URL, maxSteps: Int = 5_000) throws -> PEtabCalibration {
        let problem = try PEtabProblem.load(yaml: url)
        return try PEtabCalibration(problem: problem, simulator: try SBMLModelSimulator(file: problem.modelFile, maxSteps: maxSteps))
    }

    /// Loads a PEtab problem given as the contents of its files, by name (``PEtabProblem/load(yaml:files:)``: `problem`
    /// names the YAML file among `files`), and compiles its SBML model from its text; nothing is read from disk. The
    /// same problem as ``load(yaml:maxSteps:)`` over the same files in a folder.
    public static func load(yaml problem: String, files: [String: String], maxSteps: Int = 5_000) throws -> PEtabCalibration {
        let loaded = try PEtabProblem.load(yaml: problem, files: files)
        let model = loaded.modelFile.lastPathComponent
        guard let text = files[model] else {
            throw CalibrationError(.invalidPEtab, "the SBML model '\(model)' is not among the files given.", value: model)
        }
        return try PEtabCalibration(problem: loaded, simulator: try SBMLModelSimulator(text: text, name: model, maxSteps: maxSteps))
    }
}

extension SBMLModelSimulator {
    /// An amount of a species given to the model: at once (``duration`` 0, a bolus) or spread evenly over
    /// ``duration`` (an infusion at `amount / duration` per time unit from ``time`` to `time + duration`).
    ///
    /// ``amount`` is in the model's substance (amount) units and is added to the species' **amount**: a species in
    /// concentration (not `hasOnlySubstanceUnits`) rises by `amount / size` of its compartment at that moment.
    /// A bolus is an SBML event (trigger `time ≥ t`, fired at t = 0 too, located by the simulator to about 1e-13
    /// relative; an output at the dose's time sees the dose given); an infusion is an added inflow reaction whose
    /// rate switches on and off at the period's ends (time switches the simulator stops at).
    /// Refused (``CalibrationError`` `invalidArgument`): an id that is not a species of the model (its species
    /// listed), a constant species or one a rule sets, an infusion into a boundary species, a negative or
    /// non-finite time, duration or amount; `unsupported`: a species under a conversion factor.
    public struct Dose: Sendable, Hashable {
        public var species: String
        public var time: Double
        public var duration: Double
        public var amount: Double
        public init(species: String, time: Double, duration: Double = 0, amount: Double) {
            self.species = species; self.time = time; self.duration = duration; self.amount = amount
        }
    }

    /// Adds `doses` to `sbml` as events (boluses, one per time) and inflow reactions (infusions).
    static func add(_ doses: [Dose], to sbml: inout SBMLModel, file: URL) throws {
        let name = file.lastPathComponent
        let species = Dictionary(sbml.species.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        for d in doses {
            guard let s = species[d.species] else {
                let all = sbml.species.map(\.id)
                throw CalibrationError(.invalidArgument, "'\(d.species)' is not a species of the SBML model \(name); an input names the species it doses (the model's species: \(all.isEmpty ? "none" : all.joined(separator: ", "))).",
                                       value: d.species)
            }
            guard !s.constant else { throw CalibrationError(.invalidArgument, "species '\(s.id)' of \(name) is constant; a dose cannot change it.", value: s.id) }
            if let r = sbml.rules.first(where: { $0.variable == s.id && $0.kind != .algebraic }) {
                throw CalibrationError(.invalidArgument, "species '\(s.id)' of \(name) is set by \(r.kind == .rate ? "a rate" : "an assignment") rule; a dose cannot be added to it.", value: s.id)
            }
            if d.duration > 0, s.boundaryCondition {
                throw CalibrationError(.invalidArgument, "species '\(s.id)' of \(name) is a boundary species, which reactions do not change; it cannot take an infusion.", value: s.id)
            }
            if let c = s.conversionFactor ?? sbml.conversionFactor {
                throw CalibrationError(.unsupported, "species '\(s.id)' of \(name) is under conversion factor '\(c)'; doses to it are not supported.", value: c)
            }
            for (what, v) in [("time", d.time), ("duration", d.duration), ("amount", d.amount)] where !(v >= 0 && v.isFinite) {
                throw CalibrationError(.invalidArgument, "a dose of '\(s.id)' has \(what) \(v); it must be a finite number ≥ 0.", value: String(v))
            }
        }
        func number(_ x: Double) -> String { "<cn> \(x) </cn>" }
        let time = "<csymbol encoding=\"text\" definitionURL=\"http://www.sbml.org/sbml/symbols/time\"> time </csymbol>"
        var xml = """
            <?xml version="1.0" encoding="UTF-8"?>
            <sbml xmlns="http://www.sbml.org/sbml/level3/version2/core" level="3" version="2"><model id="doses">
            """
        // boluses: one event per time, the amounts of one species summed
        let boluses = Dictionary(grouping: doses.filter { $0.duration == 0 }, by: \.time)
        xml += "<listOfEvents>"
        for (k, t) in boluses.keys.sorted().enumerated() {
            xml += """
                <event id="__twinbank_dose_\(k)" useValuesFromTriggerTime="true"><trigger initialValue="false" persistent="true">
                <math xmlns="http://www.w3.org/1998/Math/MathML"><apply><geq/>\(time)\(number(t))</apply></math></trigger><listOfEventAssignments>
                """
            let amounts = Dictionary(grouping: boluses[t]!, by: \.species).mapValues { $0.reduce(0) { $0 + $1.amount } }
            for (id, amount) in amounts.sorted(by: { $0.key < $1.key }) {
                let s = species[id]!
                let added = s.hasOnlySubstanceUnits ? number(amount) : "<apply><divide/>\(number(amount))<ci> \(s.compartment) </ci></apply>"
                xml += "<eventAssignment variable=\"\(id)\"><math xmlns=\"http://www.w3.org/1998/Math/MathML\"><apply><plus/><ci> \(id) </ci>\(added)</apply></math></eventAssignment>"
            }
            xml += "</listOfEventAssignments></event>"
        }
        xml += "</listOfEvents><listOfReactions>"
        // infusions: an inflow of amount/duration per time unit while t0 ≤ time < t1 (a reaction's rate is an amount per time)
        for (k, d) in doses.filter({ $0.duration > 0 }).enumerated() {
            xml += """
                <reaction id="__twinbank_infusion_\(k)" reversible="false"><listOfProducts>
                <speciesReference species="\(d.species)" stoichiometry="1" constant="true"/></listOfProducts>
                <kineticLaw><math xmlns="http://www.w3.org/1998/Math/MathML"><piecewise><piece>\(number(d.amount / d.duration))
                <apply><and/><apply><geq/>\(time)\(number(d.time))</apply><apply><lt/>\(time)\(number(d.time + d.duration))</apply></apply>
                </piece><otherwise>\(number(0))</otherwise></piecewise></math></kineticLaw></reaction>
                """
        }
        xml += "</listOfReactions></model></sbml>"
        let added: SBMLModel
        do { added = try SBMLReader.read(string: xml) } catch {
            throw CalibrationError(.invalidArgument, "the doses of \(name) cannot be written as SBML: \(error)", value: nil)
        }
        sbml.events += added.events
        sbml.reactions += added.reactions
    }
}
