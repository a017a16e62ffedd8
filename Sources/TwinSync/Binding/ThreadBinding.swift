import Foundation
import TwinBank
import TwinCore
import TwinModels

/// How a twin's thread feeds a model, written down as data: which coded observations are the model's measured
/// outputs (with their unit and noise model), which coded events are its inputs (bolus doses, infusions, meals),
/// which attributes or recorded values set its parameters, which parameters are estimated (prior, scale,
/// bounds), and the model's time unit.
///
/// A binding is model-agnostic: the same reading (``read(_:in:window:)``) serves every model, and the
/// ``BindingSynchroniser`` runs the one two-way loop for any binding. It is stored as JSON in the twin's
/// ``TwinCore/Twin/ModelBinding/specification`` (``modelBinding()``, ``bindings(of:)``); ``ThreadBinding/glucose``,
/// ``ThreadBinding/pk(drug:level:)`` and ``ThreadBinding/petab(problem:)`` are the presets.
///
/// Units are never guessed: a value whose unit does not convert to the unit the binding names is an error
/// naming the event, the value and both units.
public struct ThreadBinding: Sendable, Hashable, Codable {
    /// A short name (`pk`, `glucose`, `petab:Brannmark_JBC2010`), unique among a twin's bindings.
    public var name: String
    /// The model the thread feeds.
    public var model: ModelReference
    /// The unit of the model's time axis.
    public var timeUnit: ModelTimeUnit
    /// The model's time zero. When nil, the start of the data window.
    public var origin: Instant?
    /// Observations that are the model's measured outputs.
    public var outputs: [MeasuredOutput]
    /// Events that are the model's inputs.
    public var inputs: [Input]
    /// Parameters set from the twin's attributes, from recorded values or fixed.
    public var parameters: [ParameterSetting]
    /// Parameters to estimate.
    public var estimated: [EstimatedParameter]
    /// What the synchroniser checks before it writes a forecast back, and the clinical alerts it raises (nil:
    /// none; the forecast is written as computed). See ``Safety``.
    public var safety: Safety?

    public init(name: String, model: ModelReference, timeUnit: ModelTimeUnit, origin: Instant? = nil, outputs: [MeasuredOutput],
                inputs: [Input] = [], parameters: [ParameterSetting] = [], estimated: [EstimatedParameter] = [], safety: Safety? = nil) {
        self.name = name; self.model = model; self.timeUnit = timeUnit; self.origin = origin; self.outputs = outputs
        self.inputs = inputs; self.parameters = parameters; self.estimated = estimated; self.safety = safety
    }

    /// The model a binding feeds.
    public struct ModelReference: Sendable, Hashable, Codable {
        /// The kinds of model the synchroniser can run.
        public enum Kind: String, Sendable, Hashable, Codable, CaseIterable {
            /// The UVA/Padova type 1 diabetes model of ``GlucoseSynchroniser`` (its filters, prior and safety checks).
            case glucose
            /// A one- (or two-) compartment pharmacokinetic model (TwinModels' `PKModel`, closed form), estimated by
            /// MAP Bayesian fitting (``PKCalibration``).
            case pk
            /// The SBML model of a PEtab problem (``file``: the problem's YAML), simulated by TwinCalibration's
            /// `SBMLModelSimulator`; the problem's conditions, observables and noise models apply.
            case petab
            /// Any SBML model (``file``: the model), simulated by TwinCalibration's `SBMLModelSimulator` from the
            /// binding's origin; its parameters estimated by ``SBMLEstimator``; its inputs are doses into species.
            case sbml
            /// The beat-averaged circulation with the arterial baroreflex (TwinModels' `CirculationSBML`), built in:
            /// its SBML is generated from the code of the version the binding names (no file), run as an ``sbml``
            /// model by ``SBMLEstimator``; the person's own values are the binding's parameters. See
            /// ``ThreadBinding/circulation(parameters:bloodVolumeSD:resistanceSD:)``.
            case circulation
        }
        public var kind: Kind
        /// The model's file, when it has one (PEtab: the problem's YAML, absolute or relative to the working directory).
        public var file: String?
        /// The model's id and version, recorded in provenance.
        public var id: String
        public var version: String?
        public init(kind: Kind, file: String? = nil, id: String, version: String? = nil) {
            self.kind = kind; self.file = file; self.id = id; self.version = version
        }
    }

    /// A coded observation that is one of the model's outputs.
    public struct MeasuredOutput: Sendable, Hashable, Codable {
        /// The observations' code.
        public var code: Concept
        /// The model output's id (a PK model's `concentration`, a PEtab observable id).
        public var output: String
        /// The unit the model output is in; every reading is converted to it (refused when it does not convert).
        public var unit: String
        /// The measurement noise; nil when the model defines it (a PEtab observable's noise formula).
        public var noise: NoiseModel?
        /// When set, each forecast point's interval ends are also written as `prediction` events with these codes
        /// (so a reader of the thread sees the interval without parsing notes); the interval is in the mean's
        /// notes either way.
        public var lowerCode: Concept?
        public var upperCode: Concept?
        public init(code: Concept, output: String, unit: String, noise: NoiseModel? = nil, lowerCode: Concept? = nil, upperCode: Concept? = nil) {
            self.code = code; self.output = output; self.unit = unit; self.noise = noise; self.lowerCode = lowerCode; self.upperCode = upperCode
        }
    }

    /// A combined additive and proportional measurement error: `sd = √(additive² + (proportional · y)²)`, in
    /// the output's unit.
    public struct NoiseModel: Sendable, Hashable, Codable {
        public var additive: Double
        public var proportional: Double
        public init(additive: Double, proportional: Double = 0) { self.additive = additive; self.proportional = proportional }
        /// Either part may be left out of the JSON (0).
        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            additive = try c.decodeIfPresent(Double.self, forKey: .additive) ?? 0
            proportional = try c.decodeIfPresent(Double.self, forKey: .proportional) ?? 0
        }
        /// The standard deviation at value `y`.
        public func standardDeviation(at y: Double) -> Double { (additive * additive + proportional * proportional * y * y).squareRoot() }
    }

    /// A coded event that is one of the model's inputs.
    public struct Input: Sendable, Hashable, Codable {
        /// What kind of input: how an event's value enters the model.
        public enum Kind: String, Sendable, Hashable, Codable, CaseIterable {
            /// An amount given at an instant (an event with a period is given at its start).
            case bolus
            /// An amount spread evenly over the event's period, or a rate (the unit per the model's time unit) over it.
            case infusion
            /// A meal: an amount eaten at an instant or over the event's period.
            case meal
        }
        /// The events' code (their category is `intervention`).
        public var code: Concept
        /// The model input's id (`dose`, `carbohydrate`).
        public var input: String
        public var kind: Kind
        /// The amount's unit in the model (`mg`, `g`, `[IU]`).
        public var unit: String
        /// A pharmacokinetic model's route for these doses (`iv`, `oral`); nil for other models.
        public var route: String?
        public init(code: Concept, input: String, kind: Kind, unit: String, route: String? = nil) {
            self.code = code; self.input = input; self.kind = kind; self.unit = unit; self.route = route
        }
    }

    /// Where a model parameter's value comes from: exactly one of ``attribute``, ``code`` and ``value``.
    public struct ParameterSetting: Sendable, Hashable, Codable {
        /// The model parameter's id.
        public var parameter: String
        /// A twin attribute holding a quantity (`pk.clearance`).
        public var attribute: String?
        /// A recorded value: the latest observation with this code effective at or before the window's end.
        public var code: Concept?
        /// A fixed value, in ``unit``.
        public var value: Double?
        /// The parameter's unit in the model; the attribute or recorded value is converted to it.
        public var unit: String
        public init(parameter: String, attribute: String? = nil, code: Concept? = nil, value: Double? = nil, unit: String) {
            self.parameter = parameter; self.attribute = attribute; self.code = code; self.value = value; self.unit = unit
        }
    }

    /// A parameter the synchroniser estimates.
    public struct EstimatedParameter: Sendable, Hashable, Codable {
        /// The scale the estimator works on.
        public enum Scale: String, Sendable, Hashable, Codable, CaseIterable {
            case lin, log, log10
            /// `x` on this scale.
            public func toScale(_ x: Double) -> Double {
                switch self { case .lin: x; case .log: Foundation.log(x); case .log10: Foundation.log10(x) }
            }
            /// The natural value of `v` on this scale.
            public func fromScale(_ v: Double) -> Double {
                switch self { case .lin: v; case .log: exp(v); case .log10: pow(10, v) }
            }
        }
        public var parameter: String
        public var scale: Scale
        /// The prior's mean in natural units; nil: the parameter's set value (``ParameterSetting``) or the model's own.
        public var priorMean: Double?
        /// The prior's standard deviation on ``scale``; nil: a flat prior within the bounds.
        public var priorStandardDeviation: Double?
        /// Bounds in natural units; nil: the model's own (PEtab's parameter table) or unbounded.
        public var lower: Double?
        public var upper: Double?
        /// Where the fit starts, in natural units; nil: the prior's mean.
        public var start: Double?
        public init(parameter: String, scale: Scale = .log, priorMean: Double? = nil, priorStandardDeviation: Double? = nil,
                    lower: Double? = nil, upper: Double? = nil, start: Double? = nil) {
            self.parameter = parameter; self.scale = scale; self.priorMean = priorMean
            self.priorStandardDeviation = priorStandardDeviation; self.lower = lower; self.upper = upper; self.start = start
        }
    }

    /// Checks that the binding is complete and consistent (units parse, each parameter has one source, ...).
    /// - Throws: ``SyncError`` `invalidBinding` naming the offending item.
    public func validate() throws {
        func fail(_ message: String, _ value: String) -> SyncError { SyncError(.invalidBinding, "binding '\(name)': \(message)", value: value) }
        guard !name.isEmpty, !name.contains(where: \.isWhitespace) else { throw fail("the name must be non-empty and without spaces.", name) }
        guard !outputs.isEmpty || model.kind == .glucose else { throw fail("it binds no measured output.", name) }
        if model.kind == .petab, model.file == nil { throw fail("a petab model needs 'file': the PEtab problem's YAML.", model.id) }
        if model.kind == .sbml, model.file == nil { throw fail("an sbml model needs 'file': the SBML model.", model.id) }
        if model.kind == .circulation {
            guard model.file == nil else { throw fail("the circulation model is built in; it takes no 'file'.", model.file!) }
            guard CirculationSBML.parameters(forModel: model.id) != nil, model.version == CirculationSBML.modelVersion else {
                throw fail("the built-in circulation models are '\(CirculationSBML.modelID)' and '\(CirculationSBML.twoCircuitModelID)' version \(CirculationSBML.modelVersion); this binding names '\(model.id)' version \(model.version ?? "none").",
                           "\(model.id)@\(model.version ?? "")")
            }
        }
        var codes = Set<CodeKey>()
        for o in outputs {
            guard codes.insert(o.code.key).inserted else { throw fail("code \(o.code.key) is bound twice.", o.code.key.description) }
            do { _ = try UCUMUnit(parsing: o.unit) } catch { throw fail("output '\(o.output)' has unit '\(o.unit)', which is not a UCUM unit.", o.unit) }
            if let n = o.noise, !(n.additive >= 0 && n.proportional >= 0 && n.additive + n.proportional > 0 && n.additive.isFinite && n.proportional.isFinite) {
                throw fail("output '\(o.output)' has a noise model that is not positive (additive \(n.additive), proportional \(n.proportional)).", o.output)
            }
        }
        for i in inputs {
            guard codes.insert(i.code.key).inserted else { throw fail("code \(i.code.key) is bound twice.", i.code.key.description) }
            do { _ = try UCUMUnit(parsing: i.unit) } catch { throw fail("input '\(i.input)' has unit '\(i.unit)', which is not a UCUM unit.", i.unit) }
            if model.kind == .pk, let r = i.route { _ = try PKBinding.route(r, binding: name) }
        }
        var set = Set<String>()
        for p in parameters {
            guard set.insert(p.parameter).inserted else { throw fail("parameter '\(p.parameter)' is set twice.", p.parameter) }
            let sources = [p.attribute != nil, p.code != nil, p.value != nil].filter { $0 }.count
            guard sources == 1 else { throw fail("parameter '\(p.parameter)' needs exactly one of attribute, code and value (it has \(sources)).", p.parameter) }
            if let v = p.value, !v.isFinite { throw fail("parameter '\(p.parameter)' has a value that is not finite.", String(v)) }
            do { _ = try UCUMUnit(parsing: p.unit) } catch { throw fail("parameter '\(p.parameter)' has unit '\(p.unit)', which is not a UCUM unit.", p.unit) }
        }
        if let safety { try safety.validate(in: self) }
        var estimatedIDs = Set<String>()
        for e in estimated {
            guard estimatedIDs.insert(e.parameter).inserted else { throw fail("parameter '\(e.parameter)' is estimated twice.", e.parameter) }
            if let sd = e.priorStandardDeviation, !(sd > 0 && sd.isFinite) { throw fail("the prior sd of '\(e.parameter)' must be positive.", String(sd)) }
            for (what, v) in [("prior mean", e.priorMean), ("lower bound", e.lower), ("upper bound", e.upper), ("start", e.start)] {
                guard let v else { continue }
                guard e.scale.toScale(v).isFinite else { throw fail("the \(what) of '\(e.parameter)' (\(v)) is not finite on its \(e.scale.rawValue) scale.", String(v)) }
            }
            if let lo = e.lower, let hi = e.upper, !(lo < hi) { throw fail("the bounds of '\(e.parameter)' are empty ([\(lo), \(hi)]).", "\(lo)..\(hi)") }
        }
    }

    // MARK: - Stored in the twin's model bindings

    /// The binding as one of a twin's model bindings: model id and version, and this binding as canonical JSON.
    public func modelBinding() throws -> Twin.ModelBinding {
        Twin.ModelBinding(model: model.id, version: model.version, validation: nil, specification: try canonicalJSON())
    }

    /// This binding as JSON with sorted keys (equal bindings give equal text).
    public func canonicalJSON() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: try encoder.encode(self), as: UTF8.self)
    }

    /// Decodes a binding from JSON (a file written by hand, or a stored specification) and validates it.
    /// - Throws: ``SyncError`` `invalidBinding` naming what is wrong.
    public init(json: Data) throws {
        do {
            self = try JSONDecoder().decode(ThreadBinding.self, from: json)
        } catch let error as DecodingError {
            throw SyncError(.invalidBinding, "the binding is not valid JSON for a thread binding: \(Self.describe(error))", value: nil)
        }
        try validate()
    }

    static func describe(_ error: DecodingError) -> String {
        switch error {
        case .keyNotFound(let key, let c): "missing key '\((c.codingPath + [key]).map(\.stringValue).joined(separator: "."))'"
        case .typeMismatch(_, let c), .valueNotFound(_, let c): "wrong type at '\(c.codingPath.map(\.stringValue).joined(separator: "."))': \(c.debugDescription)"
        case .dataCorrupted(let c): "\(c.debugDescription) at '\(c.codingPath.map(\.stringValue).joined(separator: "."))'"
        @unknown default: "\(error)"
        }
    }

    /// The thread bindings among a twin's model bindings (those with a specification), in order.
    /// - Throws: ``SyncError`` `invalidBinding` when a stored specification does not decode.
    public static func bindings(of twin: Twin) throws -> [ThreadBinding] {
        try twin.models.compactMap { m in try m.specification.map { try ThreadBinding(json: Data($0.utf8)) } }
    }

    /// The twin's binding named `name`, or its only binding when `name` is nil.
    /// - Throws: ``SyncError`` `invalidBinding` when there is none, several (and no name) or no such name.
    public static func binding(of twin: Twin, named name: String? = nil) throws -> ThreadBinding {
        let all = try bindings(of: twin)
        if let name {
            guard let b = all.first(where: { $0.name == name }) else {
                throw SyncError(.invalidBinding, "twin '\(twin.id)' has no binding named '\(name)' (it has: \(all.isEmpty ? "none" : all.map(\.name).joined(separator: ", "))).", value: name)
            }
            return b
        }
        guard all.count == 1 else {
            throw SyncError(.invalidBinding, all.isEmpty ? "twin '\(twin.id)' has no thread binding; attach one with `twinbank twin bind`."
                            : "twin '\(twin.id)' has \(all.count) bindings (\(all.map(\.name).joined(separator: ", "))); name one.", value: twin.id.rawValue)
        }
        return all[0]
    }

    /// Attaches `binding` to the twin (replacing a binding of the same name) and saves the twin.
    /// - Throws: ``SyncError`` `invalidBinding` when the binding is not valid; bank errors.
    @discardableResult
    public static func attach(_ binding: ThreadBinding, to twin: TwinID, in bank: Bank) throws -> TwinRecord {
        try binding.validate()
        var t = try bank.twin(twin).twin
        let stored = try binding.modelBinding()
        var replaced = false
        for (i, m) in t.models.enumerated() {
            guard let s = m.specification, let old = try? ThreadBinding(json: Data(s.utf8)), old.name == binding.name else { continue }
            t.models[i] = stored
            replaced = true
        }
        if !replaced { t.models.append(stored) }
        return try bank.updateTwin(t)
    }
}

/// The unit of a model's time axis.
public enum ModelTimeUnit: String, Sendable, Hashable, Codable, CaseIterable {
    case s, min, h, d
    /// Seconds per unit.
    public var seconds: Double {
        switch self { case .s: 1; case .min: 60; case .h: 3600; case .d: 86_400 }
    }
    /// `instant - origin` in this unit.
    public func time(of instant: Instant, from origin: Instant) -> Double {
        Double(instant.microseconds - origin.microseconds) / 1e6 / seconds
    }
    /// The instant `t` of this unit after `origin` (rounded to the microsecond).
    public func instant(_ t: Double, from origin: Instant) -> Instant {
        origin.advanced(byMicroseconds: Int64((t * seconds * 1e6).rounded()))
    }
}
