import Foundation
import TwinBank
import TwinCalibration
import TwinCore
import TwinModels
import TwinSimulation
import TwinSync

/// In-silico comparison of drug dosing regimens for a twin with a pharmacokinetic model: each option becomes a
/// fork of the twin at the comparison's start that records the option's doses; every option is simulated, on
/// top of the doses the thread already records, over the same seeded ensemble of plausible patients (the twin's
/// PK parameters with log-normal inter-individual variability, as ``TwinModels/PopulationPK``), ranked by how
/// long the plasma concentration stays in the twin's therapeutic window, and the comparison is recorded in the
/// twin's thread as a `recommendation` event whose provenance names the model, the parameter hash, the seed and
/// the dose events it read. The shared steps are ``ComparisonEngine``'s; ``Model`` is the PK model it runs.
///
/// Binding (the twin's attributes, numbers with UCUM units):
/// - `pk.clearance` (L/h) and `pk.volume` (L): a one-compartment model; with `pk.intercompartmentalClearance`
///   (L/h) and `pk.peripheralVolume` (L), two compartments; `pk.absorptionRate` (1/h) and `pk.bioavailability`
///   (1, default 1) for oral doses;
/// - `pk.targetLow`, `pk.targetHigh` (mg/L): the therapeutic window;
/// - `pk.code` (a code, `SYSTEM:CODE`, e.g. `rxnorm:11124`): the drug; the thread's `intervention` events with that
///   code (mg) in the ``lookback`` hours before the start are the doses already given, by `pk.route` (text:
///   `iv`, `oral` or `infusion:HOURS`; default `iv`);
/// - `pk.levelCode` (optional, a code such as `loinc:20578-1`): the measured drug levels. The thread's
///   observations with that code (mg/L or any mass concentration) in the same window calibrate the twin first
///   (``TwinCalibration/PKCalibration``: MAP Bayesian clearance and volume, the attributes as the prior); the options
///   are then simulated for the posterior's mode (member 0) and for draws from its Laplace approximation, so the
///   spread shows what the levels still leave uncertain.
public enum DoseComparison {
    /// Predicted plasma concentration (mg/L) of the twin's drug.
    public static let concentration = Concept(system: "urn:twinbank:pk", code: "plasma-concentration", display: "plasma drug concentration")
    /// How far back (hours) before the start a recorded dose still counts.
    public static let lookback = 24.0 * 14
    public static let modelID = "pk-compartmental"
    public static let modelVersion = "1"

    /// A candidate regimen from the comparison's start.
    public struct Option: ComparisonOption, Hashable {
        public var name: String
        /// Doses (hours after the comparison's start, mg, route).
        public var doses: [DosingRegimen.Dose]

        public init(name: String, doses: [DosingRegimen.Dose] = []) { self.name = name; self.doses = doses }

        /// Parses `NAME=SPEC`, SPEC comma-separated `dose=MG`, `every=HOURS` (default 24), `count=N` (default:
        /// enough to cover the horizon), `first=HOURS` (after the start; default 0) and `route=iv|oral|infusion:HOURS`
        /// (default iv), or empty for no further dose: `q12=dose=1000,every=12`, `load=dose=2000,count=1`, `hold=`.
        /// `count` is bounded by the horizon when the comparison runs.
        /// - Throws: ``RunError`` `invalidBinding` naming the offending item.
        public init(parsing text: String) throws {
            let (name, items) = try OptionSyntax.split(text, example: "q12=dose=1000,every=12")
            var amount: Double?, every = 24.0, count: Int?, first = 0.0, route = DoseRoute.intravenousBolus
            for (key, value) in items {
                switch key {
                case "dose": amount = try OptionSyntax.number(value, 0...1e6, key, in: name)
                case "every": every = try OptionSyntax.number(value, 0.25...24 * 14, key, in: name)
                case "count": count = Int(try OptionSyntax.number(value, 1...1000, key, in: name).rounded())
                case "first": first = try OptionSyntax.number(value, 0...24 * 14, key, in: name)
                case "route": route = try DoseComparison.route(value, in: "option '\(name)'")
                default:
                    throw RunError(.invalidBinding, "option '\(name)': unknown setting '\(key)' (use dose, every, count, first, route)", value: key)
                }
            }
            guard let amount else {
                guard items.isEmpty else { throw RunError(.invalidBinding, "option '\(name)': give dose=MG (or nothing, for no further dose)", value: text) }
                self.init(name: name)
                return
            }
            let n = count ?? 1000
            self.init(name: name, doses: (0..<n).map { DosingRegimen.Dose(time: first + Double($0) * every, amount: amount, route: route) })
        }
    }

    /// What the measured levels changed: prior and posterior clearance (L/h) and central volume (L), with the
    /// posterior log-normal sd of each.
    public struct Calibration: Sendable, Hashable, Codable {
        public var levels: Int
        public var priorClearance: Double, clearance: Double, clearanceSD: Double
        public var priorVolume: Double, volume: Double, volumeSD: Double
    }

    public struct Result: Sendable, Hashable, Codable {
        /// Present when the twin's measured levels calibrated the model first.
        public var calibration: Calibration?
        public var twin: TwinID
        public var start: Instant
        public var hours: Double
        public var window: ClosedRange<Double>
        /// Doses already given that the simulations start from.
        public var dosesGiven: Int
        public var ensemble: Int
        public var seed: UInt64
        public var rankedBy: [String]
        public var options: [InSilicoComparison.OptionResult]
        /// The recommendation event recorded in the twin's thread.
        public var recordedEvent: ContentHash
        /// The estimate the ensemble started from, when the caller gave one (absent: the twin's attributes,
        /// calibrated to its measured levels).
        public var startedFrom: ComparisonStart?
    }

    /// Compares the options from `start` over `hours`. Ranking: by the mean net therapeutic time, time in the
    /// window minus time above it (an hour of toxic exposure weighs as much as an hour of effect; a regimen that
    /// is toxic longer than it is therapeutic ranks after holding the drug), ties by time above the window.
    /// - Parameters:
    ///   - variation: log-normal sd of clearance, volumes and absorption across the ensemble (0.3 ≈ 30 % CV, a
    ///     typical inter-individual variability); member 0 is the twin's own parameters. With measured levels it
    ///     is also the prior sd of the calibration, member 0 is the posterior mode and clearance and central
    ///     volume are drawn from the Laplace posterior instead.
    ///   - startingFrom: the estimate the ensemble starts from instead (names `clearance` L/h, `centralVolume` L,
    ///     `intercompartmentalClearance` L/h, `peripheralVolume` L, `absorptionRate` /h, `bioavailability`; the
    ///     others keep the attributes' values); the measured levels then calibrate nothing.
    /// - Throws: ``RunError`` `missingBinding` (a PK attribute), `invalidBinding` (a bad unit, window, route,
    ///   horizon or option), `modelFailed`; bank errors. Every simulation runs before anything is written.
    ///   - knownAt: without `startingFrom`, the comparison starts from the latest PK estimate a synchronisation wrote
    ///     to the thread (``ComparisonStart/estimate(for:kind:in:at:knownAt:)``) as known then (nil: now); with none,
    ///     from the attributes calibrated to the measured levels.
    public static func compare(_ twin: TwinID, in bank: Bank, options: [Option], start: Instant, hours: Double,
                               ensemble: Int = 50, variation: Double = 0.3, seed: UInt64 = 1,
                               startingFrom: ComparisonStart? = nil, knownAt: Instant? = nil) async throws -> Result {
        // a simulation of the twin: asked as one before the estimate is read (the engine asks again before it runs)
        let estimate = try await BlockingWork.forbiddingOnTasks {
            try await bank.run { bank in
                try bank.authorize(.simulate, twin)
                return startingFrom == nil ? try ComparisonStart.estimate(for: twin, kind: .pk, in: bank, at: start, knownAt: knownAt) : nil
            }
        }
        var startingFrom = startingFrom
        var learnt: EstimateEvents.Recorded?
        if startingFrom == nil, let estimate,
           let cl = estimate["clearance"], let v = estimate["volume"], cl.value > 0, v.value > 0 {
            // start from what the two-way loop learnt (the latest estimate written back to the thread)
            startingFrom = ComparisonStart(estimate: estimate, names: ["volume": "centralVolume"], defaultLogSD: variation)
            learnt = estimate
        }
        let (o, model) = try await ComparisonEngine.compare(Model.self, twin: twin, in: bank, options: options,
                                                            settings: .init(start: start, hours: hours, ensemble: ensemble, variation: variation, seed: seed),
                                                            startingFrom: startingFrom)
        var calibration = model.calibration
        if let learnt, let start = startingFrom, let cl = learnt["clearance"], let v = learnt["volume"] {
            // the calibration is the loop's: its readings, the attributes as prior, the estimate and its uncertainty
            let sd = Dictionary(uniqueKeysWithValues: zip(start.parameters.map(\.name), start.logCovariance.indices.map { start.logCovariance[$0][$0].squareRoot() }))
            calibration = Calibration(levels: learnt.readings, priorClearance: model.binding.model.clearance, clearance: cl.value,
                                      clearanceSD: sd["clearance"] ?? variation, priorVolume: model.binding.model.centralVolume,
                                      volume: v.value, volumeSD: sd["centralVolume"] ?? variation)
        }
        return Result(calibration: calibration, twin: o.twin, start: o.start, hours: o.hours, window: model.binding.window,
                      dosesGiven: model.binding.given.count, ensemble: o.ensemble, seed: o.seed, rankedBy: o.rankedBy,
                      options: o.options, recordedEvent: o.recordedEvent, startedFrom: o.startWasGiven ? o.startedFrom : nil)
    }

    /// The compartmental PK model as a ``ComparisonModel``: bound by the twin's `pk.*` attributes and the doses and
    /// levels its thread records; an option is a regimen added to the recorded doses.
    public struct Model: ComparisonModel {
        public typealias Option = DoseComparison.Option
        public struct Plan: Sendable {
            /// The option's doses within the horizon, hours after the start.
            var doses: [DosingRegimen.Dose]
            /// The recorded and the option's doses, on the simulation's clock.
            var regimen: DosingRegimen
        }
        /// One member's concentrations at ``times``.
        public typealias Simulation = [Double]

        public static let horizonLimit = 24.0 * 28
        public static let ensembleLimit = 2000
        public static let failureContext = "PK model"

        let twin: TwinID
        let settings: ComparisonEngine.Settings
        var binding: Binding
        /// Simulation time 0: the first dose given or level measured (or the start), so the past sets the state.
        let origin: Double
        /// The recorded doses on the simulation's clock.
        let past: [DosingRegimen.Dose]
        /// The simulation's output times (hours on its clock), every `step` hours from the start to the horizon.
        let times: [Double]
        let step: Double
        /// The model of member 0.
        var centre: PKModel
        var calibration: Calibration?

        public init(twin: TwinID, in bank: Bank, settings: ComparisonEngine.Settings) throws {
            self.twin = twin; self.settings = settings
            let binding = try DoseComparison.binding(of: twin, in: bank, start: settings.start)
            let origin = min(binding.given.first?.time ?? 0, binding.levels.first?.time ?? 0, 0)
            let now = -origin, end = now + settings.hours, step = min(0.25, settings.hours / 96)
            self.binding = binding; self.origin = origin; self.step = step
            past = binding.given.map { DosingRegimen.Dose(time: $0.time - origin, amount: $0.amount, route: $0.route) }
            times = stride(from: now, through: end + 1e-9, by: step).map { $0 }
            centre = binding.model
        }

        public var measures: [OutcomeMeasure] { OutcomeMeasure.doseMeasures }

        /// Net therapeutic time (time in the window minus time above it), higher first; ties by time above, lower first.
        public var ranking: [RankingCriterion] {
            [.score([.init(.timeInWindow, 1), .init(.timeAboveWindow, -1)], .higherIsBetter), .by(.timeAboveWindow)]
        }

        public mutating func start(from given: ComparisonStart?, variation: Double) throws -> ComparisonStart {
            if let given {
                centre = try member(given.values)
                for p in given.parameters { binding.hashed["estimate.\(p.name)"] = p.value }
                return given
            }
            // calibrate to the measured levels (Bayesian; the attributes are the prior)
            var logCovariance = [variation * variation, 0, 0, variation * variation]
            if !binding.levels.isEmpty {
                let posterior: PKCalibration.Posterior
                do {
                    var fitter = PKCalibration()
                    fitter.omegaClearance = max(variation, 0.05)
                    fitter.omegaVolume = max(variation, 0.05)
                    posterior = try fitter.fit(binding.model, regimen: try DosingRegimen(past), levels: binding.levels.map { ($0.time - origin, $0.value) })
                } catch {
                    throw RunError(.modelFailed, "calibrating '\(twin)' to its \(binding.levels.count) drug levels: \(error)", value: twin.rawValue)
                }
                centre = posterior.model
                logCovariance = posterior.covariance
                let sd = posterior.standardDeviations
                calibration = Calibration(levels: posterior.levels, priorClearance: binding.model.clearance, clearance: centre.clearance, clearanceSD: sd[0],
                                          priorVolume: binding.model.centralVolume, volume: centre.centralVolume, volumeSD: sd[1])
                binding.hashed["posterior.clearance"] = centre.clearance
                binding.hashed["posterior.centralVolume"] = centre.centralVolume
            }
            // log(CL), log(V) ~ N(centre, logCovariance); the other parameters vary by `variation`, independently
            var parameters: [ComparisonStart.Parameter] = [.init("clearance", centre.clearance), .init("centralVolume", centre.centralVolume)]
            for (name, path) in Self.optionalParameters {
                if let value = centre[keyPath: path] { parameters.append(.init(name, value)) }
            }
            var covariance = (0..<parameters.count).map { i in (0..<parameters.count).map { j in i == j ? variation * variation : 0.0 } }
            covariance[0][0] = logCovariance[0]; covariance[0][1] = logCovariance[1]
            covariance[1][0] = logCovariance[2]; covariance[1][1] = logCovariance[3]
            let source = calibration.map { "pk attributes calibrated to \($0.levels) levels" } ?? "pk attributes"
            return ComparisonStart(parameters: parameters, logCovariance: covariance, source: source)
        }

        public func member(_ values: [String: Double]) throws -> PKModel {
            var m = centre
            for (name, value) in values {
                switch name {
                case "clearance": m.clearance = value
                case "centralVolume": m.centralVolume = value
                case "bioavailability":
                    guard value <= 1 else { throw RunError(.invalidBinding, "the starting estimate's bioavailability must be at most 1, not \(value)", value: "\(value)") }
                    m.bioavailability = value
                default:
                    guard let path = Self.optionalParameters.first(where: { $0.name == name })?.path else {
                        throw RunError(.invalidBinding, "'\(name)' is not a PK parameter the comparison can set (clearance, centralVolume, intercompartmentalClearance, peripheralVolume, absorptionRate, bioavailability)", value: name)
                    }
                    guard m[keyPath: path] != nil else {
                        throw RunError(.invalidBinding, "the starting estimate sets '\(name)', which twin '\(twin)' has no pk attribute for", value: name)
                    }
                    m[keyPath: path] = value
                }
            }
            return m
        }

        /// The parameters only some models have (a second compartment, oral absorption), in the order an ensemble draws them.
        static var optionalParameters: [(name: String, path: WritableKeyPath<PKModel, Double?>)] {
            [("intercompartmentalClearance", \.intercompartmentalClearance), ("peripheralVolume", \.peripheralVolume), ("absorptionRate", \.absorptionRate)]
        }

        public func plan(_ option: Option) throws -> Plan {
            let doses = option.doses.filter { $0.time < settings.hours }
            let now = -origin
            let future = doses.map { DosingRegimen.Dose(time: now + $0.time, amount: $0.amount, route: $0.route) }
            if binding.model.absorptionRate == nil, future.contains(where: { $0.route == .oral }) {
                throw RunError(.invalidBinding, "option '\(option.name)': oral doses need the twin's pk.absorptionRate", value: option.name)
            }
            do { return Plan(doses: doses, regimen: try DosingRegimen(past + future)) } catch {
                throw RunError(.invalidBinding, "option '\(option.name)': \(error)", value: option.name)
            }
        }

        /// Sequentially: a member's curve is cheap.
        public func simulate(_ runs: [(member: PKModel, plan: Plan)]) async throws -> [[Double]] {
            try runs.map { try PKSimulator.concentrations($0.member, regimen: $0.plan.regimen, at: times) }
        }

        public func outcomes(of c: [Double]) -> [OutcomeMeasure: Double] {
            let window = binding.window, span = times[times.count - 1] - times[0]
            var inside = 0.0, above = 0.0, below = 0.0, auc = 0.0
            for i in 1..<c.count {
                let dt = times[i] - times[i - 1], mid = 0.5 * (c[i] + c[i - 1])
                auc += mid * dt
                if mid > window.upperBound { above += dt } else if mid < window.lowerBound { below += dt } else { inside += dt }
            }
            return [.timeInWindow: inside / span, .timeAboveWindow: above / span, .timeBelowWindow: below / span,
                    .peak: c.max() ?? 0, .final: c[c.count - 1], .auc24: auc / span * 24]
        }

        public func interventions(for option: Option, plan: Plan, in fork: TwinID) -> [EventDraft] {
            plan.doses.map { d in
                EventDraft(twin: fork, effective: EffectiveTime(settings.start.advanced(bySeconds: d.time * 3600)), category: .intervention, code: binding.drug,
                           value: .quantity(Quantity(d.amount, "mg")), source: Source(.person, "in-silico"),
                           provenance: Provenance(notes: "route=\(routeText(d.route))"))
            }
        }

        /// The concentration every 30 minutes.
        public func predictions(of c: [Double]) -> [PredictionWriter.Series] {
            let now = -origin
            let every = max(1, Int((0.5 / step).rounded()))
            let points = stride(from: 0, to: c.count, by: every).map { (time: settings.start.advanced(bySeconds: (times[$0] - now) * 3600), value: c[$0]) }
            return [.init(code: concentration, unit: "mg/L", points: points)]
        }

        public func provenance(seed: UInt64) -> RunProvenance {
            RunProvenance(model: modelID, modelVersion: modelVersion, parametersHash: RunProvenance.hash(parameters: binding.hashed),
                          solver: "Dormand-Prince 5(4)", relativeTolerance: 1e-9, absoluteTolerance: 1e-12,
                          seed: seed, derivedFrom: binding.events.map(\.id))
        }

        public func summary(of r: InSilicoComparison.OptionResult) -> String {
            let w = r.outcomes[.timeInWindow]!, a = r.outcomes[.timeAboveWindow]!
            return "\(r.rank). \(r.name): in window \(percent(w.mean)) % (90 % band \(percent(w.p05))-\(percent(w.p95))), above \(percent(a.mean)) %"
        }

        public func notes(around common: String) -> String {
            let calibrated = calibration.map { c in
                String(format: " calibrated to %d levels: CL %.3g -> %.3g L/h (sd %.2f log), V %.3g -> %.3g L (sd %.2f log)", c.levels, c.priorClearance, c.clearance, c.clearanceSD,
                       c.priorVolume, c.volume, c.volumeSD)
            } ?? ""
            return calibrated + common + " window=\(binding.window.lowerBound)-\(binding.window.upperBound)mg/L"
        }
    }

    struct Binding {
        var model: PKModel
        var window: ClosedRange<Double>
        var drug: Concept
        /// Doses already given, hours relative to the start (negative: before it).
        var given: [DosingRegimen.Dose]
        /// Measured levels (mg/L), hours relative to the start.
        var levels: [(time: Double, value: Double)]
        var events: [Event]
        var hashed: [String: Double]
    }

    /// The twin's PK model, window, drug and the doses its thread records before `start`.
    static func binding(of twin: TwinID, in bank: Bank, start: Instant) throws -> Binding {
        let attributes = try bank.twin(twin).twin.attributes
        var hashed: [String: Double] = [:]
        func number(_ name: String, _ unit: String, required: Bool = true) throws -> Double? {
            guard let value = attributes[name] else {
                if required {
                    throw RunError(.missingBinding, "twin '\(twin)' has no attribute '\(name)' (a number in \(unit)) for its PK model", value: name)
                }
                return nil
            }
            guard let q = value.quantity, let v = try? q.converted(to: unit).value, v.isFinite else {
                throw RunError(.invalidBinding, "twin '\(twin)': attribute '\(name)' (\(value)) is not a number in \(unit)", value: "\(value)")
            }
            hashed[name] = v
            return v
        }
        let cl = try number("pk.clearance", "L/h")!, v = try number("pk.volume", "L")!
        let q = try number("pk.intercompartmentalClearance", "L/h", required: false), v2 = try number("pk.peripheralVolume", "L", required: false)
        let ka = try number("pk.absorptionRate", "/h", required: false), f = try number("pk.bioavailability", "1", required: false) ?? 1
        let low = try number("pk.targetLow", "mg/L")!, high = try number("pk.targetHigh", "mg/L")!
        guard low >= 0, high > low else {
            throw RunError(.invalidBinding, "twin '\(twin)': the therapeutic window pk.targetLow-pk.targetHigh (\(low)-\(high) mg/L) is empty", value: "\(low)-\(high)")
        }
        let model: PKModel
        do {
            if q != nil || v2 != nil {
                guard let q, let v2 else {
                    throw RunError(.missingBinding, "twin '\(twin)': a two-compartment model needs both pk.intercompartmentalClearance and pk.peripheralVolume", value: twin.rawValue)
                }
                model = try .twoCompartment(clearance: cl, centralVolume: v, intercompartmentalClearance: q, peripheralVolume: v2, absorptionRate: ka, bioavailability: f)
            } else {
                model = try .oneCompartment(clearance: cl, volume: v, absorptionRate: ka, bioavailability: f)
            }
        } catch let error as ModelError {
            throw RunError(.invalidBinding, "twin '\(twin)': \(error.message)", value: error.value)
        }
        func code(_ name: String) throws -> CodeKey? {
            switch attributes[name] {
            case nil: return nil
            case .concept(let c)?: return c.key
            case .text(let text)?:
                do { return try CodeKey(parsing: text) } catch {
                    throw RunError(.invalidBinding, "twin '\(twin)': \(name) '\(text)' is not SYSTEM:CODE (\(error))", value: text)
                }
            case let other?: throw RunError(.invalidBinding, "twin '\(twin)': \(name) (\(other)) is not a code", value: "\(other)")
            }
        }
        guard let key = try code("pk.code") else {
            throw RunError(.missingBinding, "twin '\(twin)' has no attribute 'pk.code' (the drug as SYSTEM:CODE, e.g. rxnorm:11124) naming its doses", value: "pk.code")
        }
        let codeText = key.description
        var route = DoseRoute.intravenousBolus
        if case .text(let r)? = attributes["pk.route"] { route = try self.route(r, in: "twin '\(twin)' pk.route") }
        if route == .oral, ka == nil {
            throw RunError(.invalidBinding, "twin '\(twin)': pk.route oral needs pk.absorptionRate", value: "oral")
        }
        let events = try bank.events(ThreadQuery(twin: twin, code: key, category: .intervention, from: start.advanced(bySeconds: -lookback * 3600), to: start))
            .filter { $0.effective.start < start }
        let given = try events.map { e -> DosingRegimen.Dose in
            guard let q = e.value?.quantity, let mg = try? q.converted(to: "mg").value, mg.isFinite, mg >= 0 else {
                throw RunError(.invalidBinding, "the dose of \(codeText) at \(e.effective) is not a mass (got \(e.value.map { "\($0)" } ?? "no value")); record it in mg", value: e.value.map { "\($0)" })
            }
            return DosingRegimen.Dose(time: Double(e.effective.start.microseconds - start.microseconds) / 3.6e9, amount: mg, route: route)
        }
        var levels: [(time: Double, value: Double)] = []
        var read = events
        if let levelKey = try code("pk.levelCode") {
            let observed = try bank.events(ThreadQuery(twin: twin, code: levelKey, category: .observation, from: start.advanced(bySeconds: -lookback * 3600), to: start))
            for e in observed {
                guard let q = e.value?.quantity, let c = try? q.converted(to: "mg/L", for: levelKey).value, c.isFinite, c >= 0 else {
                    throw RunError(.invalidBinding, "the drug level at \(e.effective) is not a mass concentration (got \(e.value.map { "\($0)" } ?? "no value")); record it in mg/L", value: e.value.map { "\($0)" })
                }
                levels.append((Double(e.effective.start.microseconds - start.microseconds) / 3.6e9, c))
            }
            read += observed
        }
        return Binding(model: model, window: low...high, drug: Concept(key, display: nil), given: given, levels: levels, events: read, hashed: hashed)
    }

    /// `iv`, `oral` or `infusion:HOURS`.
    static func route(_ text: String, in context: String) throws -> DoseRoute {
        switch text {
        case "iv": return .intravenousBolus
        case "oral": return .oral
        default:
            if text.hasPrefix("infusion:"), let h = Double(text.dropFirst(9)), h.isFinite, h > 0, h <= 72 { return .infusion(hours: h) }
            throw RunError(.invalidBinding, "\(context): route must be iv, oral or infusion:HOURS (0-72], not '\(text)'", value: text)
        }
    }

    static func routeText(_ route: DoseRoute) -> String {
        switch route {
        case .oral: "oral"
        case .intravenousBolus: "iv"
        case .infusion(let h): "infusion:\(h)"
        }
    }

    static func percent(_ x: Double) -> String { String(format: "%.1f", x * 100) }
}
