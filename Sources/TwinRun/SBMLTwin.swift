import Foundation
import TwinBank
import TwinCore
import TwinSBML

/// An SBML model bound to a twin as one of its models: which model file, which of the twin's attributes set
/// which model parameters, and which model variables become which thread codes.
///
/// Running it reads the twin's attributes (current definition), overrides the bound parameters, simulates
/// from the given start over a horizon, and writes the mapped outputs to the thread as predictions whose
/// provenance names the model file's SHA-256, the solver and its tolerances.
public struct SBMLBinding: Sendable {
    /// One model variable written to the thread.
    public struct Output: Sendable {
        public var variable: String
        public var code: Concept
        public var unit: String
        /// Multiplies the model's value into `unit` (e.g. model amounts in mol to the thread's umol: 1e6).
        public var scale: Double
        public init(variable: String, code: Concept, unit: String, scale: Double = 1) {
            self.variable = variable; self.code = code; self.unit = unit; self.scale = scale
        }
    }

    public var modelPath: String
    /// Model id used in provenance (`apap-reddyhoff-2015`).
    public var modelID: String
    /// Twin attribute -> model parameter id; the attribute must be a number (quantity), converted to `unit`
    /// when one is given.
    public var parameters: [(attribute: String, parameter: String, unit: String?)]
    public var outputs: [Output]
    /// Thread code -> model variable (species, compartment or parameter) whose initial value is the twin's
    /// latest value of that code as of the run's start (as known now), converted to `unit` and divided by
    /// `scale` (the inverse of ``Output/scale``). This is how a run starts from the person's current state.
    public var initialValues: [(code: CodeKey, variable: String, unit: String, scale: Double)] = []
    /// Model time units per hour (3600 for models in seconds, 1 for hours).
    public var modelTimePerHour: Double
    public var relativeTolerance: Double
    public var absoluteTolerance: Double

    public init(modelPath: String, modelID: String, parameters: [(attribute: String, parameter: String, unit: String?)] = [],
                outputs: [Output], modelTimePerHour: Double = 1, relativeTolerance: Double = 1e-8, absoluteTolerance: Double = 1e-20) {
        self.modelPath = modelPath; self.modelID = modelID; self.parameters = parameters; self.outputs = outputs
        self.modelTimePerHour = modelTimePerHour; self.relativeTolerance = relativeTolerance; self.absoluteTolerance = absoluteTolerance
    }

    /// Simulates the model for the twin and writes its outputs as predictions, `points` + 1 evenly spaced
    /// times from `start` over `hours`. The bank's gate is asked first, with the action `simulate` on the twin.
    /// - Throws: ``RunError`` (`unreadableModel`, `missingBinding`, `invalidBinding`, `modelFailed`) or a bank
    ///   error (`accessDenied` ...); nothing is written then.
    @discardableResult
    public func run(for twin: TwinID, in bank: Bank, start: Instant, hours: Double, points: Int = 96) throws -> (result: AppendResult, provenance: RunProvenance, series: [PredictionWriter.Series]) {
        try bank.authorize(.simulate, twin)
        guard let data = FileManager.default.contents(atPath: modelPath) else {
            throw RunError(.unreadableModel, "cannot read the SBML model '\(modelPath)'", value: modelPath)
        }
        let bytes = [UInt8](data)
        let record = try bank.twin(twin)
        var options = SimulationOptions()
        options.relativeTolerance = relativeTolerance
        options.absoluteTolerance = absoluteTolerance
        var used: [String: Double] = [:]
        for p in parameters {
            guard let q = record.twin.attributes[p.attribute]?.quantity else {
                throw RunError(.missingBinding, "twin '\(twin)' has no numeric attribute '\(p.attribute)' for model parameter '\(p.parameter)'", value: p.attribute)
            }
            let v = try p.unit.map { try q.converted(to: $0).value } ?? q.value
            options.overrides[p.parameter] = v
            used[p.parameter] = v
        }
        var derivedFrom: [ContentHash] = []
        for iv in initialValues {
            guard let e = try bank.state(of: twin, asOf: start, code: iv.code, category: .observation).first, let q = e.value?.quantity else {
                throw RunError(.missingBinding, "twin '\(twin)' has no value of \(iv.code) at or before \(start) for the initial value of '\(iv.variable)'", value: iv.code.description)
            }
            let v: Double
            do { v = try q.converted(to: iv.unit, for: iv.code).value / iv.scale } catch {
                throw RunError(.invalidBinding, "the latest \(iv.code) of '\(twin)' (\(q)) cannot be converted to \(iv.unit) for '\(iv.variable)'", value: "\(q)")
            }
            options.overrides[iv.variable] = v
            used["initial:" + iv.variable] = v
            derivedFrom.append(e.id)
        }
        let n = max(1, points)
        let times = (0...n).map { Double($0) * hours * modelTimePerHour / Double(n) }
        let rows: [[Double]]
        do {
            let model = try ModelCompiler.compile(try SBMLReader.read(bytes: bytes, baseDirectory: (modelPath as NSString).deletingLastPathComponent))
            rows = try Simulator(model: model, options: options).simulate(outputTimes: times, outputs: outputs.map { OutputVariable(id: $0.variable) })
        } catch {
            throw RunError(.modelFailed, "SBML model \(modelID) for '\(twin)': \(error)", value: modelPath)
        }
        let series = outputs.enumerated().map { (k, o) in
            PredictionWriter.Series(code: o.code, unit: o.unit, points: rows.enumerated().map { (i, row) in
                (time: start.advanced(bySeconds: times[i] / modelTimePerHour * 3600), value: row[k] * o.scale)
            })
        }
        var hashInput = bytes
        hashInput += Array(RunProvenance.hash(parameters: used).utf8)
        let provenance = RunProvenance(model: modelID, modelVersion: String(RunProvenance.hash(bytes: bytes).prefix(12)),
                                       parametersHash: RunProvenance.hash(bytes: hashInput), solver: "TwinSBML (Rodas/DOPRI auto)",
                                       relativeTolerance: relativeTolerance, absoluteTolerance: absoluteTolerance,
                                       derivedFrom: derivedFrom)
        let result = try PredictionWriter.write(series, to: twin, run: provenance, in: bank)
        return (result, provenance, series)
    }
}
