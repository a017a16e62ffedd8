import Foundation
import TwinFHIR

/// A city scenario: exposure layers over regions and periods, the health outcomes to count, and the changes to
/// try (for example 20 % less NO2 in one district), read from JSON:
///
/// ```json
/// {"period": "2025",
///  "regions":  [{"name": "Ville-Marie", "population": 90000}, {"name": "Verdun", "population": 69000}],
///  "layers":   [{"exposure": "no2", "unit": "ug/m3", "period": "2025", "values": {"Ville-Marie": 30, "Verdun": 18}}],
///  "outcomes": [{"function": "no2-mortality", "incidence_per_100k": 750},
///               {"name": "heat deaths", "exposure": "heat", "rr": 1.03, "rr_lower": 1.02, "rr_upper": 1.04,
///                "increment": 1, "counterfactual": 25, "incidence_per_100k": 750}],
///  "changes":  [{"exposure": "no2", "region": "Ville-Marie", "percent": -20}]}
/// ```
///
/// - `regions`: every region's name and population (whole, at least 0).
/// - `layers`: one object per exposure and period; `values` holds a finite number per region (every region). An
///   exposure is a pollutant (`pm25`, `no2`, in µg/m³), `heat` (°C), `noise` (dB) or any name an outcome uses.
/// - `period`: which period the scenario uses; it may be left out when every exposure has one period.
/// - `outcomes`: a built-in function by name (``ConcentrationResponse/builtIn``: `pm25-mortality`,
///   `no2-mortality`) or one given in full (`name`, `exposure`, `rr`, `rr_lower`, `rr_upper`, `increment`,
///   `counterfactual`); each with the baseline incidence per 100,000 per period (`incidence_per_100k`), and
///   optionally `rr`, `rr_lower`, `rr_upper`, `increment`, `counterfactual` overriding the built-in ones.
/// - `changes`: what the scenario changes, each for one exposure in one region (or all, without `region`): by
///   `percent` (-20: 20 % less), by `delta` (in the layer's unit) or to a `value`; a change may not make a value
///   negative.
///
/// Unknown keys, regions, exposures or functions, missing values and numbers out of range are refused with
/// ``PopulationError/Code/invalidScenario`` naming the key and the value.
public struct ExposureScenario: Sendable, Hashable {
    public struct Outcome: Sendable, Hashable {
        public var function: ConcentrationResponse
        public var incidencePer100k: Double
    }
    public enum Change: Sendable, Hashable {
        case percent(Double), delta(Double), value(Double)
    }

    public var regions: [String]
    public var population: [Double]
    /// Exposure -> value per region (in `regions` order), for the scenario's period.
    public var layers: [String: [Double]]
    public var units: [String: String]
    public var period: String?
    public var outcomes: [Outcome]
    /// (exposure, region index or nil for all, change).
    public var changes: [(exposure: String, region: Int?, change: Change)]

    public static func == (a: ExposureScenario, b: ExposureScenario) -> Bool {
        a.regions == b.regions && a.population == b.population && a.layers == b.layers && a.outcomes == b.outcomes
            && a.changes.map { "\($0.exposure) \(String(describing: $0.region)) \($0.change)" } == b.changes.map { "\($0.exposure) \(String(describing: $0.region)) \($0.change)" }
    }
    public func hash(into h: inout Hasher) { h.combine(regions); h.combine(layers) }

    /// Reads a scenario (see the type's format).
    public init(json bytes: [UInt8]) throws(PopulationError) {
        let root: JSONValue
        do { root = try JSONReader().read(bytes) } catch {
            throw PopulationError(.invalidScenario, "the scenario is not valid JSON: \(error.message)", value: nil)
        }
        guard let top = root.objectValue else { throw PopulationError(.invalidScenario, "the scenario must be a JSON object", value: root.kindName) }
        try Self.keys(top, ["period", "regions", "layers", "outcomes", "changes"], "the scenario")
        period = try top["period"].map { v throws(PopulationError) in try Self.string(v, "period") }

        guard let rs = top["regions"]?.arrayValue, !rs.isEmpty else { throw PopulationError(.invalidScenario, "the scenario needs regions: [{\"name\", \"population\"}]", value: nil) }
        regions = []; population = []
        for (i, r) in rs.enumerated() {
            let o = try Self.object(r, "regions[\(i)]")
            try Self.keys(o, ["name", "population"], "regions[\(i)]")
            let name = try Self.string(o["name"], "regions[\(i)].name")
            guard !regions.contains(name) else { throw PopulationError(.invalidScenario, "regions[\(i)]: the region '\(name)' is named twice", value: name) }
            let p = try Self.number(o["population"], "regions[\(i)].population")
            guard p >= 0, p == p.rounded(), p <= 1e10 else { throw PopulationError(.invalidScenario, "regions[\(i)].population = \(p) is not a whole number of at least 0", value: "\(p)") }
            regions.append(name); population.append(p)
        }
        let index = Dictionary(uniqueKeysWithValues: regions.enumerated().map { ($0.element, $0.offset) })

        var byExposure: [String: [(period: String?, values: [Double], unit: String?)]] = [:]
        for (i, l) in (top["layers"]?.arrayValue ?? []).enumerated() {
            let o = try Self.object(l, "layers[\(i)]")
            try Self.keys(o, ["exposure", "unit", "period", "values"], "layers[\(i)]")
            let exposure = try Self.string(o["exposure"], "layers[\(i)].exposure")
            let p = try o["period"].map { v throws(PopulationError) in try Self.string(v, "layers[\(i)].period") }
            let unit = try o["unit"].map { v throws(PopulationError) in try Self.string(v, "layers[\(i)].unit") }
            let vs = try Self.object(o["values"] ?? .null, "layers[\(i)].values")
            var values = [Double](repeating: .nan, count: regions.count)
            for m in vs.members {
                guard let r = index[m.key] else { throw PopulationError(.invalidScenario, "layers[\(i)].values names the region '\(m.key)', which is not in regions", value: m.key) }
                let v = try Self.number(m.value, "layers[\(i)].values.\(m.key)")
                guard v >= 0 || exposure == "heat" else { throw PopulationError(.invalidScenario, "layers[\(i)].values.\(m.key) = \(v) is negative", value: "\(v)") }
                values[r] = v
            }
            if let missing = values.indices.first(where: { values[$0].isNaN }) {
                throw PopulationError(.invalidScenario, "layers[\(i)] (\(exposure)) has no value for the region '\(regions[missing])'", value: regions[missing])
            }
            byExposure[exposure, default: []].append((p, values, unit))
        }
        layers = [:]; units = [:]
        for (exposure, list) in byExposure {
            let chosen: (period: String?, values: [Double], unit: String?)
            if let period {
                guard let match = list.first(where: { $0.period == period }) else {
                    throw PopulationError(.invalidScenario, "the layer \(exposure) has no period '\(period)' (it has \(list.map { $0.period ?? "none" }.joined(separator: ", ")))", value: period)
                }
                chosen = match
            } else {
                guard list.count == 1 else {
                    throw PopulationError(.invalidScenario, "the layer \(exposure) has \(list.count) periods: choose one with \"period\"", value: exposure)
                }
                chosen = list[0]
            }
            layers[exposure] = chosen.values
            units[exposure] = chosen.unit
        }

        outcomes = []
        guard let os = top["outcomes"]?.arrayValue, !os.isEmpty else { throw PopulationError(.invalidScenario, "the scenario needs outcomes: [{\"function\": \"no2-mortality\", \"incidence_per_100k\": ...}]", value: nil) }
        for (i, v) in os.enumerated() {
            let o = try Self.object(v, "outcomes[\(i)]")
            try Self.keys(o, ["function", "name", "exposure", "rr", "rr_lower", "rr_upper", "increment", "counterfactual", "incidence_per_100k"], "outcomes[\(i)]")
            var f: ConcentrationResponse
            if let name = o["function"] {
                let n = try Self.string(name, "outcomes[\(i)].function")
                guard let b = ConcentrationResponse.builtIn[n] else {
                    throw PopulationError(.invalidScenario, "outcomes[\(i)].function '\(n)' is unknown: use \(ConcentrationResponse.builtIn.keys.sorted().joined(separator: ", ")), or give name, exposure, rr, rr_lower, rr_upper", value: n)
                }
                f = b
                if o["exposure"] != nil { f.pollutant = try Self.string(o["exposure"], "outcomes[\(i)].exposure") }
            } else {
                f = ConcentrationResponse(outcome: try Self.string(o["name"], "outcomes[\(i)].name"), pollutant: try Self.string(o["exposure"], "outcomes[\(i)].exposure"),
                                          rr: try Self.number(o["rr"], "outcomes[\(i)].rr"), rrLower: try Self.number(o["rr_lower"], "outcomes[\(i)].rr_lower"),
                                          rrUpper: try Self.number(o["rr_upper"], "outcomes[\(i)].rr_upper"), source: "the scenario")
            }
            if o["function"] != nil {
                if o["rr"] != nil { f.rr = try Self.number(o["rr"], "outcomes[\(i)].rr"); f.source = "the scenario" }
                if o["rr_lower"] != nil { f.rrLower = try Self.number(o["rr_lower"], "outcomes[\(i)].rr_lower"); f.source = "the scenario" }
                if o["rr_upper"] != nil { f.rrUpper = try Self.number(o["rr_upper"], "outcomes[\(i)].rr_upper"); f.source = "the scenario" }
                if o["name"] != nil { f.outcome = try Self.string(o["name"], "outcomes[\(i)].name") }
            }
            if o["increment"] != nil { f.increment = try Self.number(o["increment"], "outcomes[\(i)].increment") }
            if o["counterfactual"] != nil { f.counterfactual = try Self.number(o["counterfactual"], "outcomes[\(i)].counterfactual") }
            try f.validate("outcomes[\(i)]")
            guard layers[f.pollutant] != nil else {
                throw PopulationError(.invalidScenario, "outcomes[\(i)] needs the exposure layer '\(f.pollutant)', which the scenario does not give (it has \(layers.keys.sorted().joined(separator: ", ")))", value: f.pollutant)
            }
            let incidence = try Self.number(o["incidence_per_100k"], "outcomes[\(i)].incidence_per_100k")
            guard incidence >= 0, incidence <= 100_000 else {
                throw PopulationError(.invalidScenario, "outcomes[\(i)].incidence_per_100k = \(incidence) is not in 0...100000", value: "\(incidence)")
            }
            outcomes.append(Outcome(function: f, incidencePer100k: incidence))
        }

        changes = []
        for (i, v) in (top["changes"]?.arrayValue ?? []).enumerated() {
            let o = try Self.object(v, "changes[\(i)]")
            try Self.keys(o, ["exposure", "region", "percent", "delta", "value"], "changes[\(i)]")
            let exposure = try Self.string(o["exposure"], "changes[\(i)].exposure")
            guard layers[exposure] != nil else {
                throw PopulationError(.invalidScenario, "changes[\(i)] changes the exposure '\(exposure)', which has no layer (layers: \(layers.keys.sorted().joined(separator: ", ")))", value: exposure)
            }
            var region: Int?
            if let r = o["region"] {
                let name = try Self.string(r, "changes[\(i)].region")
                guard let k = index[name] else { throw PopulationError(.invalidScenario, "changes[\(i)].region '\(name)' is not in regions", value: name) }
                region = k
            }
            let given = ["percent", "delta", "value"].filter { o[$0] != nil }
            guard given.count == 1 else {
                throw PopulationError(.invalidScenario, "changes[\(i)] must give exactly one of percent, delta or value (it gives \(given.isEmpty ? "none" : given.joined(separator: ", ")))", value: nil)
            }
            let amount = try Self.number(o[given[0]], "changes[\(i)].\(given[0])")
            let change: Change = given[0] == "percent" ? .percent(amount) : given[0] == "delta" ? .delta(amount) : .value(amount)
            if case .percent(let p) = change, p < -100 {
                throw PopulationError(.invalidScenario, "changes[\(i)].percent = \(p) would make the exposure negative: give -100 or more", value: "\(p)")
            }
            changes.append((exposure, region, change))
        }
        // a change may not make a value negative (heat excepted)
        for (exposure, values) in scenarioLayers() where exposure != "heat" {
            if let r = values.indices.first(where: { values[$0] < 0 }) {
                throw PopulationError(.invalidScenario, "the changes make \(exposure) in '\(regions[r])' negative (\(values[r]))", value: "\(values[r])")
            }
        }
    }

    /// Reads a scenario file.
    public init(contentsOf path: String) throws(PopulationError) {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw PopulationError(.invalidArgument, "cannot read the scenario file '\(path)'", value: path)
        }
        try self.init(json: [UInt8](data))
    }

    /// The layers after the scenario's changes (in order; several changes to one value apply one after another).
    public func scenarioLayers() -> [String: [Double]] {
        var out = layers
        for c in changes {
            guard var values = out[c.exposure] else { continue }
            for r in values.indices where c.region == nil || c.region == r {
                switch c.change {
                case .percent(let p): values[r] *= 1 + p / 100
                case .delta(let d): values[r] += d
                case .value(let v): values[r] = v
                }
            }
            out[c.exposure] = values
        }
        return out
    }

    /// One outcome in one region: attributable cases now and under the scenario, and the cases the scenario avoids.
    public struct RegionResult: Sendable, Hashable {
        public var region: String
        public var outcome: String
        public var exposure: String
        public var population: Double
        public var baselineConcentration: Double, scenarioConcentration: Double
        public var baseline: ConcentrationResponse.Estimate
        public var scenario: ConcentrationResponse.Estimate
        /// `baseline - scenario`: positive when the scenario avoids cases.
        public var avoided: ConcentrationResponse.Estimate
    }

    /// Attributable cases per region and outcome (``ConcentrationResponse/attributable(concentration:incidencePer100k:population:)``),
    /// outcomes in order, regions in order within each.
    public func evaluate() -> [RegionResult] {
        let after = scenarioLayers()
        var out: [RegionResult] = []
        for o in outcomes {
            let f = o.function
            for (r, name) in regions.enumerated() {
                let c0 = layers[f.pollutant]![r], c1 = after[f.pollutant]![r]
                let b = f.attributable(concentration: c0, incidencePer100k: o.incidencePer100k, population: population[r])
                let s = f.attributable(concentration: c1, incidencePer100k: o.incidencePer100k, population: population[r])
                out.append(RegionResult(region: name, outcome: f.outcome, exposure: f.pollutant, population: population[r],
                                        baselineConcentration: c0, scenarioConcentration: c1, baseline: b, scenario: s, avoided: b - s))
            }
        }
        return out
    }

    /// Each person's exposure: the value of `exposure`'s layer (before the scenario's changes, or after them with
    /// `afterChanges`) in the region of `regions` that holds their location (nil outside all regions, or when the
    /// region is not among the scenario's). The scenario's region names join the regions file's names.
    public func exposures(of people: [(id: String, latitude: Double, longitude: Double)], regions geo: GeoRegions, locator: RegionLocator,
                          exposure: String, afterChanges: Bool = false) -> [(id: String, region: String?, value: Double?)] {
        let values = (afterChanges ? scenarioLayers() : layers)[exposure]
        let index = Dictionary(regions.enumerated().map { ($0.element, $0.offset) }, uniquingKeysWith: { a, _ in a })
        return people.map { p in
            guard let r = locator.region(lon: p.longitude, lat: p.latitude) else { return (p.id, nil, nil) }
            let name = geo.regions[r].name
            return (p.id, name, index[name].flatMap { k in values.map { $0[k] } })
        }
    }

    // MARK: strict reading

    static func keys(_ o: JSONObject, _ allowed: [String], _ path: String) throws(PopulationError) {
        for k in o.keys where !allowed.contains(k) {
            throw PopulationError(.invalidScenario, "\(path) has the unknown key '\(k)' (known: \(allowed.joined(separator: ", ")))", value: k)
        }
    }
    static func object(_ v: JSONValue, _ path: String) throws(PopulationError) -> JSONObject {
        guard let o = v.objectValue else { throw PopulationError(.invalidScenario, "\(path) must be an object, not a \(v.kindName)", value: v.kindName) }
        return o
    }
    static func string(_ v: JSONValue?, _ path: String) throws(PopulationError) -> String {
        guard let v else { throw PopulationError(.invalidScenario, "\(path) is missing", value: nil) }
        guard let s = v.stringValue, !s.isEmpty else { throw PopulationError(.invalidScenario, "\(path) must be a non-empty string, not a \(v.kindName)", value: v.kindName) }
        return s
    }
    static func number(_ v: JSONValue?, _ path: String) throws(PopulationError) -> Double {
        guard let v else { throw PopulationError(.invalidScenario, "\(path) is missing", value: nil) }
        guard let d = v.doubleValue, d.isFinite else {
            throw PopulationError(.invalidScenario, "\(path) must be a finite number, not \(v.numberText ?? v.kindName)", value: v.numberText ?? v.kindName)
        }
        return d
    }
}

extension ExposureScenario {
    /// The scenario with each region's population replaced by the number of people living there (`residents`,
    /// by region name, e.g. ``RegionalCounts/population`` of the bank's person twins located in the regions
    /// file): the exposure layers joined to the person twins by their location.
    /// - Throws: ``PopulationError/Code/invalidScenario`` naming a scenario region that `residents` does not have.
    public func withResidents(_ residents: [String: Int]) throws(PopulationError) -> ExposureScenario {
        var copy = self
        for (i, name) in regions.enumerated() {
            guard let n = residents[name] else {
                throw PopulationError(.invalidScenario, "the scenario's region '\(name)' is not in the regions file, so nobody can live there", value: name)
            }
            copy.population[i] = Double(n)
        }
        return copy
    }
}

extension ExposureScenario {
    /// The attributable cases of one outcome summed over the regions.
    public struct OutcomeTotal: Sendable, Hashable {
        public var outcome: String
        public var exposure: String
        public var baseline: ConcentrationResponse.Estimate
        public var scenario: ConcentrationResponse.Estimate
        /// `baseline - scenario`.
        public var avoided: ConcentrationResponse.Estimate
    }

    /// Each outcome's results (``evaluate()``'s, outcomes in order, regions in order within each) summed over the
    /// regions, in the order of ``outcomes``.
    public func totals(_ rows: [RegionResult]) -> [OutcomeTotal] {
        outcomes.enumerated().map { i, o in
            let part = rows[(i * regions.count)..<min(rows.count, (i + 1) * regions.count)]
            let b = part.reduce(ConcentrationResponse.Estimate.zero) { $0 + $1.baseline }
            let s = part.reduce(ConcentrationResponse.Estimate.zero) { $0 + $1.scenario }
            return OutcomeTotal(outcome: o.function.outcome, exposure: o.function.pollutant, baseline: b, scenario: s, avoided: b - s)
        }
    }
}
