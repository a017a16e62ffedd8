import TwinCalibration
import Foundation
import TwinBank
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
/// the dose events it read.
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
///   (``TwinSync/PKCalibration``: MAP Bayesian clearance and volume, the attributes as the prior); the options
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
    public struct Option: Sendable, Hashable {
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
            let (name, items) = try InSilicoComparison.Option.split(text, example: "q12=dose=1000,every=12")
            var amount: Double?, every = 24.0, count: Int?, first = 0.0, route = DoseRoute.intravenousBolus
            for (key, value) in items {
                switch key {
                case "dose": amount = try InSilicoComparison.Option.number(value, 0...1e6, key, in: name)
                case "every": every = try InSilicoComparison.Option.number(value, 0.25...24 * 14, key, in: name)
                case "count": count = Int(try InSilicoComparison.Option.number(value, 1...1000, key, in: name).rounded())
                case "first": first = try InSilicoComparison.Option.number(value, 0...24 * 14, key, in: name)
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

    /// An outcome measure over the horizon.
    public enum Measure: String, Sendable, CaseIterable, Codable {
        /// Fraction of the horizon with the concentration inside the window (higher is better).
        case timeInWindow
        /// Fraction of the horizon above the window (toxicity; lower is better).
        case timeAboveWindow
        /// Fraction of the horizon below the window (lower is better).
        case timeBelowWindow
        /// Highest concentration, mg/L.
        case peak
        /// Concentration at the end of the horizon, mg/L.
        case final
        /// Area under the concentration curve per 24 h, mg·h/L.
        case auc24
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
    }

    /// Compares the options from `start` over `hours`. Ranking: by the mean net therapeutic time, time in the
    /// window minus time above it (an hour of toxic exposure weighs as much as an hour of effect; a regimen that
    /// is toxic longer than it is therapeutic ranks after holding the drug), ties by time above the window.
    /// - Parameters:
    ///   - variation: log-normal sd of clearance, volumes and absorption across the ensemble (0.3 ≈ 30 % CV, a
    ///     typical inter-individual variability); member 0 is the twin's own parameters. With measured levels it
    ///     is also the prior sd of the calibration, member 0 is the posterior mode and clearance and central
    ///     volume are drawn from the Laplace posterior instead.
    /// - Throws: ``RunError`` `missingBinding` (a PK attribute), `invalidBinding` (a bad unit, window, route,
    ///   horizon or option), `modelFailed`; bank errors. Every simulation runs before anything is written.
    ///   - knownAt: read the two-way loop's estimates (``ComparisonStart``: the comparison starts from the latest one) as known then (nil: now).
    public static func compare(_ twin: TwinID, in bank: Bank, options: [Option], start: Instant, hours: Double,
                               ensemble: Int = 50, variation: Double = 0.3, seed: UInt64 = 1, knownAt: Instant? = nil) async throws -> Result {
        guard !options.isEmpty else { throw RunError(.invalidBinding, "give at least one option to compare", value: nil) }
        guard Set(options.map(\.name)).count == options.count else {
            throw RunError(.invalidBinding, "option names must differ", value: options.map(\.name).joined(separator: ","))
        }
        guard hours.isFinite, hours > 0, hours <= 24 * 28 else { throw RunError(.invalidBinding, "horizon must be in (0, 672] hours", value: "\(hours)") }
        guard variation.isFinite, variation >= 0, variation <= 2 else {
            throw RunError(.invalidBinding, "the ensemble's variation must be a log-normal sd in [0, 2]", value: "\(variation)")
        }
        var binding = try self.binding(of: twin, in: bank, start: start)
        // simulation time 0 = the first dose given or level measured (or the start), so the past sets the state
        let origin = min(binding.given.first?.time ?? 0, binding.levels.first?.time ?? 0, 0)
        let now = -origin, end = now + hours
        let past = binding.given.map { DosingRegimen.Dose(time: $0.time - origin, amount: $0.amount, route: $0.route) }
        // calibrate to the measured levels (Bayesian; the attributes are the prior)
        var calibration: Calibration?
        var centre = binding.model, logCovariance = [variation * variation, 0, 0, variation * variation]
        if let estimate = try ComparisonStart.estimate(for: twin, kind: .pk, in: bank, at: start, knownAt: knownAt),
           let cl = estimate["clearance"], let v = estimate["volume"], cl.value > 0, v.value > 0 {
            // start from what the two-way loop learnt (the latest estimate written back to the thread)
            centre.clearance = cl.value
            centre.centralVolume = v.value
            let sdCL = cl.standardDeviation ?? variation, sdV = v.standardDeviation ?? variation
            logCovariance = [sdCL * sdCL, 0, 0, sdV * sdV]
            calibration = Calibration(levels: estimate.readings, priorClearance: binding.model.clearance, clearance: cl.value, clearanceSD: sdCL,
                                      priorVolume: binding.model.centralVolume, volume: v.value, volumeSD: sdV)
            binding.hashed["estimate.clearance"] = cl.value
            binding.hashed["estimate.centralVolume"] = v.value
        } else if !binding.levels.isEmpty {
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
        let members = max(1, min(ensemble, 2000))
        var rng = Xoshiro256StarStar(seed: seed)
        // log(CL), log(V) ~ N(centre, logCovariance) by its Cholesky factor; the other parameters vary by `variation`
        let l00 = logCovariance[0].squareRoot(), l10 = l00 > 0 ? logCovariance[2] / l00 : 0
        let l11 = max(logCovariance[3] - l10 * l10, 0).squareRoot()
        var patients = [centre]
        while patients.count < members {
            var m = centre
            let z0 = rng.nextNormal(), z1 = rng.nextNormal()
            m.clearance *= exp(l00 * z0)
            m.centralVolume *= exp(l10 * z0 + l11 * z1)
            if let q = m.intercompartmentalClearance { m.intercompartmentalClearance = q * rng.nextLogNormal(sigma: variation) }
            if let v = m.peripheralVolume { m.peripheralVolume = v * rng.nextLogNormal(sigma: variation) }
            if let ka = m.absorptionRate { m.absorptionRate = ka * rng.nextLogNormal(sigma: variation) }
            patients.append(m)
        }
        let step = min(0.25, hours / 96)
        let times = stride(from: now, through: end + 1e-9, by: step).map { $0 }
        // each option's doses within the horizon, hours after the start
        let planned = options.map { o in o.doses.filter { $0.time < hours } }
        var regimens: [DosingRegimen] = []
        for (o, doses) in zip(options, planned) {
            let future = doses.map { DosingRegimen.Dose(time: now + $0.time, amount: $0.amount, route: $0.route) }
            if binding.model.absorptionRate == nil, future.contains(where: { $0.route == .oral }) {
                throw RunError(.invalidBinding, "option '\(o.name)': oral doses need the twin's pk.absorptionRate", value: o.name)
            }
            do { regimens.append(try DosingRegimen(past + future)) } catch {
                throw RunError(.invalidBinding, "option '\(o.name)': \(error)", value: o.name)
            }
        }
        var curves: [[Double]] = []
        do {
            for r in regimens { for m in patients { curves.append(try PKSimulator.concentrations(m, regimen: r, at: times)) } }
        } catch {
            throw RunError(.modelFailed, "PK model for '\(twin)': \(error)", value: twin.rawValue)
        }
        let window = binding.window, span = times[times.count - 1] - times[0]
        var results: [InSilicoComparison.OptionResult] = []
        for (k, o) in options.enumerated() {
            var values: [Measure: [Double]] = [:]
            for j in 0..<members {
                let c = curves[k * members + j]
                var inside = 0.0, above = 0.0, below = 0.0, auc = 0.0
                for i in 1..<c.count {
                    let dt = times[i] - times[i - 1], mid = 0.5 * (c[i] + c[i - 1])
                    auc += mid * dt
                    if mid > window.upperBound { above += dt } else if mid < window.lowerBound { below += dt } else { inside += dt }
                }
                values[.timeInWindow, default: []].append(inside / span)
                values[.timeAboveWindow, default: []].append(above / span)
                values[.timeBelowWindow, default: []].append(below / span)
                values[.peak, default: []].append(c.max() ?? 0)
                values[.final, default: []].append(c[c.count - 1])
                values[.auc24, default: []].append(auc / span * 24)
            }
            var outcomes: [String: InSilicoComparison.Spread] = [:]
            for m in Measure.allCases { outcomes[m.rawValue] = InSilicoComparison.Spread(values[m]!) }
            results.append(InSilicoComparison.OptionResult(name: o.name, fork: twin, outcomes: outcomes, rank: 0))
        }
        let order = results.indices.sorted { a, b in
            func mean(_ i: Int, _ m: Measure) -> Double { results[i].outcomes[m.rawValue]!.mean }
            let netA = mean(a, .timeInWindow) - mean(a, .timeAboveWindow), netB = mean(b, .timeInWindow) - mean(b, .timeAboveWindow)
            if abs(netA - netB) > 1e-9 { return netA > netB }
            if abs(mean(a, .timeAboveWindow) - mean(b, .timeAboveWindow)) > 1e-9 { return mean(a, .timeAboveWindow) < mean(b, .timeAboveWindow) }
            return a < b
        }
        for (r, i) in order.enumerated() { results[i].rank = r + 1 }

        // Record: a fork per option with its doses and the twin's own predicted concentrations, then the comparison.
        let provenance = RunProvenance(model: modelID, modelVersion: modelVersion, parametersHash: RunProvenance.hash(parameters: binding.hashed),
                                       solver: "Dormand-Prince 5(4)", relativeTolerance: 1e-9, absoluteTolerance: 1e-12,
                                       seed: seed, derivedFrom: binding.events.map(\.id))
        let tag = try bank.lastSequence()
        for (k, o) in options.enumerated() {
            let forkID = try TwinID("\(twin.rawValue).cmp\(tag).\(o.name)")
            try bank.fork(twin, at: start, as: forkID)
            results[k].fork = forkID
            let drafts = planned[k].map { d in
                EventDraft(twin: forkID, effective: EffectiveTime(start.advanced(bySeconds: d.time * 3600)), category: .intervention, code: binding.drug,
                           value: .quantity(Quantity(d.amount, "mg")), source: Source(.person, "in-silico"),
                           provenance: Provenance(notes: "route=\(routeText(d.route))"))
            }
            if !drafts.isEmpty { try bank.append(drafts) }
            let c = curves[k * members]
            let every = max(1, Int((0.5 / step).rounded()))         // every 30 minutes
            let points = stride(from: 0, to: c.count, by: every).map { (time: start.advanced(bySeconds: (times[$0] - now) * 3600), value: c[$0]) }
            try PredictionWriter.write([.init(code: concentration, unit: "mg/L", points: points)], to: forkID, run: provenance, in: bank)
        }
        let ranking = order.map { i -> String in
            let r = results[i], w = r.outcomes[Measure.timeInWindow.rawValue]!, a = r.outcomes[Measure.timeAboveWindow.rawValue]!
            return "\(r.rank). \(r.name): in window \(percent(w.mean)) % (90 % band \(percent(w.p05))-\(percent(w.p95))), above \(percent(a.mean)) %"
        }.joined(separator: "; ")
        var p = provenance.provenance
        let calibrated = calibration.map { c in
            String(format: " calibrated to %d levels: CL %.3g -> %.3g L/h (sd %.2f log), V %.3g -> %.3g L (sd %.2f log)", c.levels, c.priorClearance, c.clearance, c.clearanceSD,
                   c.priorVolume, c.volume, c.volumeSD)
        } ?? ""
        p.notes = (p.notes ?? "") + calibrated + " ensemble=\(members) variation=\(variation) horizon=\(hours)h window=\(window.lowerBound)-\(window.upperBound)mg/L forks="
            + results.map(\.fork.rawValue).joined(separator: ",")
        let appended = try bank.append([EventDraft(twin: twin, effective: EffectiveTime(start), category: .recommendation, code: InSilicoComparison.comparisonCode,
                                                   value: .text(ranking), source: provenance.source, provenance: p)])
        return Result(calibration: calibration, twin: twin, start: start, hours: hours, window: window, dosesGiven: binding.given.count, ensemble: members, seed: seed,
                      rankedBy: ["timeInWindow - timeAboveWindow", "timeAboveWindow"],
                      options: results, recordedEvent: appended.ids[0])
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
