import Foundation
import TwinBank
import TwinCalibration
import TwinCore
import TwinModels

extension ThreadBinding {
    /// The glucose twin: CGM glucose (LOINC 2339-0, mg/dL, CGM noise sd 8 mg/dL; interval ends written as
    /// ``GlucoseSynchroniser/lowerBound`` and ``GlucoseSynchroniser/upperBound``), meals (LOINC 9059-7, g) and
    /// insulin (SNOMED CT 67866001, `[IU]` or a rate over a period) feeding the UVA/Padova model
    /// (``GlucoseEstimator``), which estimates `Vmx`, `kp3` and `kabs` as log-multipliers of the prior; its safety
    /// section is the hypoglycaemia rule (below 70 mg/dL within 30 min, probability 0.5) and the default model
    /// health thresholds (plausible glucose 10-600 mg/dL).
    public static let glucose = ThreadBinding(
        name: "glucose",
        model: ModelReference(kind: .glucose, id: GlucoseSynchroniser.modelID, version: GlucoseSynchroniser.modelVersion),
        timeUnit: .min,
        outputs: [MeasuredOutput(code: GlucoseSynchroniser.glucose, output: "glucose", unit: "mg/dL", noise: NoiseModel(additive: 8),
                                 lowerCode: GlucoseSynchroniser.lowerBound, upperCode: GlucoseSynchroniser.upperBound)],
        inputs: [Input(code: GlucoseSynchroniser.carbohydrate, input: "carbohydrate", kind: .meal, unit: "g"),
                 Input(code: GlucoseSynchroniser.insulin, input: "insulin", kind: .infusion, unit: "[IU]")],
        estimated: ["Vmx", "kp3", "kabs"].map { EstimatedParameter(parameter: $0, scale: .log) },
        safety: Safety(output: "glucose", health: ModelHealth.Settings(), rule: .hypoglycaemia, threshold: 70, horizon: 30, probability: 0.5))

    /// Codes of the circulation twin's inputs, in Twinbank's own system (no standard code says "blood lost over
    /// this period, mL" or "fluid given over this period, mL" as an input): `intervention` events with a period,
    /// the volume in mL (or a rate in mL/min over the period).
    public static let bloodLossCode = Concept(system: "urn:twinbank:circulation", code: "blood-loss", display: "Blood loss")
    public static let fluidCode = Concept(system: "urn:twinbank:circulation", code: "fluid", display: "Intravenous fluid given")

    /// The cardiac twin in the loop: the beat-averaged circulation with the arterial baroreflex (TwinModels'
    /// `CirculationSBML`, built in, minutes) for a person with `parameters` (defaults: `CirculationModel`'s). Outputs:
    /// mean arterial pressure (LOINC 8478-0, mm[Hg], reading noise sd 3 mmHg), heart rate (LOINC 8867-4, /min, sd
    /// 2 /min) and, when measured, cardiac output (LOINC 8741-1; the model's mL/s, readings in L/min convert; sd 3 mL/s
    /// + 10 %: it separates resistance from blood volume, which pressure and heart rate alone barely do); inputs: blood lost and fluid given (``bloodLossCode``, ``fluidCode``, mL, infusions over the event's
    /// period); estimated: the blood volume `Vblood` (log scale, prior the person's value with sd `bloodVolumeSD`,
    /// bounded below by the unstressed volumes plus 100 mL) and the peripheral resistance `Rp` (log, prior sd
    /// `resistanceSD`, within a factor 4 of the prior); the other parameters fixed at the person's values (those
    /// differing from the defaults written into the binding, so it stays data); safety: the hypotension rule
    /// (readings below 65 mmHg, and the forecast below 65 mmHg within 30 min with probability 0.5; plausible MAP
    /// 20-200 mmHg).
    public static func circulation(parameters: CirculationModel.Parameters = .init(), bloodVolumeSD: Double = 0.1, resistanceSD: Double = 0.3) -> ThreadBinding {
        let twoCircuit = parameters.pulmonary != nil
        let layout = twoCircuit ? CirculationModel.Parameters.withPulmonaryCirculation : CirculationModel.Parameters()
        let defaults = Dictionary(layout.described.map { ($0.name, $0.value) }, uniquingKeysWith: { $1 })
        var settings = parameters.described.compactMap { mine -> ParameterSetting? in
            // Rav and Rpv (the aortic and pulmonary valves) are not parameters of the averaged model
            guard !["Rav", "Rpv", "Vblood", "Rp"].contains(mine.name), mine.value != defaults[mine.name] else { return nil }
            return ParameterSetting(parameter: mine.name, value: mine.value, unit: mine.unit)
        }
        // a two-circuit person without refill: no filtration
        if twoCircuit, parameters.refill == nil { settings.append(ParameterSetting(parameter: "Kf", value: 0, unit: "mL/s/mm[Hg]")) }
        let unstressed = parameters.unstressedVolume
        return ThreadBinding(
            name: "circulation",
            model: ModelReference(kind: .circulation, id: twoCircuit ? CirculationSBML.twoCircuitModelID : CirculationSBML.modelID,
                                  version: CirculationSBML.modelVersion),
            timeUnit: .min,
            outputs: [MeasuredOutput(code: Concept(system: "http://loinc.org", code: "8478-0", display: "Mean blood pressure"), output: CirculationSBML.meanArterialPressure,
                                     unit: "mm[Hg]", noise: NoiseModel(additive: 3)),
                      MeasuredOutput(code: Concept(system: "http://loinc.org", code: "8867-4", display: "Heart rate"), output: CirculationSBML.heartRate,
                                     unit: "/min", noise: NoiseModel(additive: 2)),
                      MeasuredOutput(code: Concept(system: "http://loinc.org", code: "8741-1", display: "Left ventricular cardiac output"), output: CirculationSBML.cardiacOutput,
                                     unit: "mL/s", noise: NoiseModel(additive: 3, proportional: 0.1))],
            inputs: [Input(code: bloodLossCode, input: CirculationSBML.bloodLoss, kind: .infusion, unit: "mL"),
                     Input(code: fluidCode, input: CirculationSBML.fluidGiven, kind: .infusion, unit: "mL")],
            parameters: settings,
            estimated: [EstimatedParameter(parameter: "Vblood", scale: .log, priorMean: parameters.bloodVolume, priorStandardDeviation: bloodVolumeSD,
                                           lower: unstressed + 100, upper: 2 * parameters.bloodVolume),
                        EstimatedParameter(parameter: "Rp", scale: .log, priorMean: parameters.peripheralResistance, priorStandardDeviation: resistanceSD,
                                           lower: parameters.peripheralResistance / 4, upper: parameters.peripheralResistance * 4)],
            safety: Safety(output: CirculationSBML.meanArterialPressure, health: ModelHealth.Settings(plausibleRange: 20...200), rule: .hypotension,
                           threshold: LowPressureReading.level1, horizon: 30, probability: 0.5))
    }

    /// A drug twin's pharmacokinetic binding: `level` observations (mg/L; assay error 0.5 mg/L + 10 %) are the
    /// model's plasma concentration, `drug` interventions (mg) its doses by `route` (`oral`, `iv` or
    /// `infusion:HOURS`); clearance (L/h), volume (L) and, for oral doses, the absorption rate (1/h) come from
    /// the twin's `pk.clearance`, `pk.volume` and `pk.absorptionRate` attributes; clearance and volume are
    /// estimated on the log scale with a prior sd of `variability` (inter-individual variability) around them.
    public static func pk(drug: Concept, level: Concept, route: String = "iv", variability: Double = 0.3) -> ThreadBinding {
        var parameters = [ParameterSetting(parameter: "clearance", attribute: "pk.clearance", unit: "L/h"),
                          ParameterSetting(parameter: "volume", attribute: "pk.volume", unit: "L")]
        if route == "oral" { parameters.append(ParameterSetting(parameter: "absorptionRate", attribute: "pk.absorptionRate", unit: "/h")) }
        return ThreadBinding(
            name: "pk",
            model: ModelReference(kind: .pk, id: PKBinding.modelID, version: PKBinding.modelVersion),
            timeUnit: .h,
            outputs: [MeasuredOutput(code: level, output: "concentration", unit: "mg/L", noise: NoiseModel(additive: 0.5, proportional: 0.1))],
            inputs: [Input(code: drug, input: "dose", kind: .bolus, unit: "mg", route: route)],
            parameters: parameters,
            estimated: [EstimatedParameter(parameter: "clearance", scale: .log, priorStandardDeviation: variability),
                        EstimatedParameter(parameter: "volume", scale: .log, priorStandardDeviation: variability)])
    }

    /// The PK binding a twin's `pk.*` attributes describe (as `twinbank compare` reads them): the drug `pk.code`,
    /// the measured level `pk.levelCode`, the route `pk.route` (default iv).
    /// - Throws: ``SyncError`` `invalidBinding` when `pk.code` or `pk.levelCode` is missing or not a code.
    public static func pk(for twin: Twin) throws -> ThreadBinding {
        func code(_ key: String) throws -> Concept {
            guard case .concept(let c)? = twin.attributes[key] else {
                throw SyncError(.invalidBinding, "twin '\(twin.id)' has no '\(key)' attribute holding a code (e.g. \(key)=loinc:4049-3), which the pk preset needs.", value: key)
            }
            return c
        }
        var route = "iv"
        if let r = twin.attributes["pk.route"] {
            guard case .text(let t) = r else { throw SyncError(.invalidBinding, "twin '\(twin.id)' has a pk.route that is not text (\(r)).", value: "\(r)") }
            route = t
        }
        return pk(drug: try code("pk.code"), level: try code("pk.levelCode"), route: route)
    }

    /// A PEtab problem's SBML model bound to a twin whose thread holds the problem's measurements (as
    /// ``PEtabThread/importMeasurements(_:named:into:in:origin:timeUnit:)`` writes them): one output per
    /// observable (code `urn:twinbank:petab:NAME|OBSERVABLE`, unitless as PEtab is), the problem's conditions,
    /// observables and noise models; `estimating` (default: every estimated parameter of the table) estimated
    /// from `start` (natural values; default: the table's bounds' geometric or arithmetic midpoint is not used,
    /// the nominal value is) within the table's bounds; the others fixed at their nominal values.
    /// - Throws: ``SyncError`` `invalidBinding` for an id that is not an estimated parameter of the problem.
    public static func petab(problem: PEtabProblem, file: String, name: String, origin: Instant, timeUnit: ModelTimeUnit = .min,
                             estimating: [String]? = nil, start: [String: Double] = [:]) throws -> ThreadBinding {
        let ids = estimating ?? problem.estimated.map(\.id)
        var estimated: [EstimatedParameter] = []
        for id in ids {
            guard let p = problem.estimated.first(where: { $0.id == id }) else {
                throw SyncError(.invalidBinding, "'\(id)' is not an estimated parameter of PEtab problem '\(name)' (estimated: \(problem.estimated.map(\.id).joined(separator: ", "))).", value: id)
            }
            let scale = EstimatedParameter.Scale(rawValue: p.scale.rawValue) ?? .lin
            estimated.append(EstimatedParameter(parameter: id, scale: scale, lower: p.lower, upper: p.upper, start: start[id]))
        }
        return ThreadBinding(
            name: "petab:\(name)",
            model: ModelReference(kind: .petab, file: file, id: "petab:\(name)", version: "petab-v1"),
            timeUnit: timeUnit, origin: origin,
            outputs: problem.observables.keys.sorted().map { MeasuredOutput(code: PEtabThread.code(problem: name, observable: $0), output: $0, unit: "1") },
            estimated: estimated)
    }
}

/// The pharmacokinetic model behind a ``ThreadBinding/ModelReference/Kind/pk`` binding.
public enum PKBinding {
    public static let modelID = "pk-compartmental"
    public static let modelVersion = "1"

    /// Parses a route: `iv`, `oral` or `infusion:HOURS`.
    /// - Throws: ``SyncError`` `invalidBinding` naming the text.
    public static func route(_ text: String, binding: String) throws -> DoseRoute {
        switch text {
        case "iv": return .intravenousBolus
        case "oral": return .oral
        default:
            if text.hasPrefix("infusion:"), let h = Double(text.dropFirst("infusion:".count)), h > 0, h.isFinite { return .infusion(hours: h) }
            throw SyncError(.invalidBinding, "binding '\(binding)': route '\(text)' is not iv, oral or infusion:HOURS.", value: text)
        }
    }
}

/// A PEtab problem's measurements as a twin's thread: the import (``importMeasurements(_:named:into:in:origin:timeUnit:)``)
/// and the coding it uses.
///
/// Each measurement row becomes an `observation` event coded `urn:twinbank:petab:NAME|OBSERVABLE`, its value
/// unitless (PEtab has no units), effective at `origin` plus its time (in `timeUnit`), source `record:petab:NAME`,
/// and its provenance notes carry the row's settings as words: `petab-measurement row=N condition=C
/// [preequilibration=P] [observableParameters=a;b] [noiseParameters=c]`. Each of a PEtab problem's experiments
/// starts at the model's time zero under its condition; on the twin's timeline they all start at `origin`, told
/// apart by their condition.
public enum PEtabThread {
    /// The code of an observable's readings.
    public static func code(problem: String, observable: String) -> Concept {
        Concept(system: "urn:twinbank:petab:\(problem)", code: observable)
    }

    /// Writes the problem's measurements into the twin's thread as one append batch.
    /// - Throws: ``SyncError`` `unsupported` for a steady-state measurement (time inf), `invalidTime` when a
    ///   measurement would lie after the bank clock's now; bank errors. Nothing is written on error.
    @discardableResult
    public static func importMeasurements(_ problem: PEtabProblem, named name: String, into twin: TwinID, in bank: Bank,
                                          origin: Instant, timeUnit: ModelTimeUnit = .min) throws -> AppendResult {
        _ = try bank.twin(twin)
        let now = bank.clock.now()
        var drafts: [EventDraft] = []
        for (row, m) in problem.measurements.enumerated() {
            guard m.time.isFinite else {
                throw SyncError(.unsupported, "measurement row \(row + 2) of '\(name)' is at steady state (time inf), which a thread cannot date.", value: "inf")
            }
            let at = timeUnit.instant(m.time, from: origin)
            guard at <= now else {
                throw SyncError(.invalidTime, "measurement row \(row + 2) of '\(name)' (time \(m.time) \(timeUnit.rawValue)) would be dated \(at), after now (\(now)); choose an earlier origin.", value: at.iso8601)
            }
            var notes = "petab-measurement row=\(row + 2) condition=\(m.simulationConditionId)"
            if let p = m.preequilibrationConditionId { notes += " preequilibration=\(p)" }
            if !m.observableParameters.isEmpty { notes += " observableParameters=\(m.observableParameters.joined(separator: ";"))" }
            if !m.noiseParameters.isEmpty { notes += " noiseParameters=\(m.noiseParameters.joined(separator: ";"))" }
            drafts.append(EventDraft(twin: twin, effective: EffectiveTime(at), category: .observation, code: code(problem: name, observable: m.observableId),
                                     value: .quantity(Quantity(m.value, "1")), source: Source(.record, "petab:\(name)"),
                                     provenance: Provenance(notes: notes)))
        }
        return try bank.append(drafts)
    }

    /// The settings an imported measurement carries (`condition`, `preequilibration`, `observableParameters`,
    /// `noiseParameters`, `row`); empty for an event the import did not write.
    public static func context(of event: Event) -> [String: String] {
        guard let notes = event.provenance.notes, notes.hasPrefix("petab-measurement ") else { return [:] }
        var out: [String: String] = [:]
        for word in notes.split(separator: " ").dropFirst() {
            guard let eq = word.firstIndex(of: "=") else { continue }
            out[String(word[..<eq])] = String(word[word.index(after: eq)...])
        }
        return out
    }

    /// The problem's measurement for a reading of the thread (its value and time from the thread, the rest from
    /// the reading's context).
    /// - Throws: ``SyncError`` `invalidArgument` when the reading carries no condition (it was not imported
    ///   from a PEtab problem).
    static func measurement(_ r: BoundThread.Reading, observable: String) throws -> PEtabProblem.Measurement {
        guard let condition = r.context["condition"] else {
            throw SyncError(.invalidArgument, "reading \(r.event.abbreviated()) of '\(observable)' at \(r.effective) names no PEtab condition; import the problem's measurements with `twinbank twin bind --preset petab --import-measurements`.", value: r.event.description)
        }
        func list(_ key: String) -> [String] { r.context[key].map { $0.split(separator: ";").map(String.init) } ?? [] }
        return PEtabProblem.Measurement(observable: observable, condition: condition, time: r.time, value: r.value,
                                        observableParameters: list("observableParameters"), noiseParameters: list("noiseParameters"),
                                        preequilibration: r.context["preequilibration"])
    }
}
