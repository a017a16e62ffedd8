import ArgumentParser
import Foundation
import TwinBank
import TwinCore
import TwinPopulation

struct ExposureCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "exposure",
        abstract: "Health outcomes attributable to exposure layers per region, now and under a city scenario (the AirQ+ log-linear method).",
        discussion: """
        The scenario file (JSON, README ### exposure) gives regions with populations, exposure layers (PM2.5, NO2, \
        heat, noise... per region and period), outcomes (built-in pm25-mortality or no2-mortality, or a relative risk \
        per increment with its 95 % confidence interval) with their baseline incidence, and changes (percent, delta \
        or value, per region or everywhere). Per region and outcome: RR = exp(ln(RR per increment) / increment x \
        max(0, c - counterfactual)), AF = (RR - 1) / RR, attributable cases = AF x incidence x population, for the \
        layers as they are and after the changes; the difference is what the scenario avoids. Lower and upper come \
        from the RR's confidence interval. With --bank, --aggregate and --regions, each region's population is the \
        number of the aggregate's person twins living there (home_lat/home_lon, else their latest ping).
        """)

    @Option(help: "The scenario file (JSON).") var scenario: String
    @OptionGroup var bankOptions: BankOptions
    @Option(help: "Populations from this aggregate's person twins (with --bank and --regions), by where they live.") var aggregate: String?
    @Option(help: "With --aggregate: the regions (GeoJSON) the scenario's region names refer to.") var regions: String?
    @Option(help: "The property that names a region (default: the first string property).") var nameProperty: String?
    @OptionGroup var output: OutputOptions

    struct Report: Encodable {
        struct Estimate: Encodable { var central: Double; var lower: Double; var upper: Double }
        struct Row: Encodable {
            var region: String, outcome: String, exposure: String, population: Double
            var baseline_concentration: Double, scenario_concentration: Double
            var attributable_baseline: Estimate, attributable_scenario: Estimate, avoided: Estimate
        }
        struct Total: Encodable { var outcome: String; var exposure: String; var attributable_baseline: Estimate; var attributable_scenario: Estimate; var avoided: Estimate }
        var regions: [Row]
        var totals: [Total]
    }

    func run() throws {
        var s = try ExposureScenario(contentsOf: scenario)
        switch (aggregate, regions) {
        case (let id?, let file?):
            let set = try GeoRegions(contentsOf: file, nameProperty: nameProperty)
            let (scenario, input) = try s.withResidents(of: try AggregateID(id), in: try bankOptions.open(), regions: set)
            s = scenario
            if !output.json { print("populations: \(input.persons) people of \(id) by where they live\(input.unlocated.isEmpty ? "" : " (\(input.unlocated.count) without a location, not counted)")") }
        case (nil, nil): guard bankOptions.bank == nil else { throw ValidationError("--bank goes with --aggregate and --regions") }
        default: throw ValidationError("--aggregate and --regions go together (the people, and the regions they live in)")
        }
        let rows = s.evaluate()
        func e(_ x: ConcentrationResponse.Estimate) -> Report.Estimate { .init(central: x.central, lower: x.lower, upper: x.upper) }
        let totals = s.totals(rows).map { (outcome: $0.outcome, exposure: $0.exposure, b: $0.baseline, s: $0.scenario) }
        if output.json {
            try printJSON(Report(
                regions: rows.map { .init(region: $0.region, outcome: $0.outcome, exposure: $0.exposure, population: $0.population,
                                          baseline_concentration: $0.baselineConcentration, scenario_concentration: $0.scenarioConcentration,
                                          attributable_baseline: e($0.baseline), attributable_scenario: e($0.scenario), avoided: e($0.avoided)) },
                totals: totals.map { .init(outcome: $0.outcome, exposure: $0.exposure, attributable_baseline: e($0.b), attributable_scenario: e($0.s), avoided: e($0.b - $0.s)) }))
            return
        }
        func f(_ v: Double) -> String { String(format: "%.2f", v) }
        func range(_ x: ConcentrationResponse.Estimate) -> String { "\(f(x.central)) (\(f(x.lower))-\(f(x.upper)))" }
        for (i, o) in s.outcomes.enumerated() {
            let fn = o.function
            print("\(fn.outcome), \(fn.pollutant): RR \(Value.format(fn.rr)) (\(Value.format(fn.rrLower))-\(Value.format(fn.rrUpper))) per \(Value.format(fn.increment)) above \(Value.format(fn.counterfactual)); incidence \(Value.format(o.incidencePer100k)) per 100,000")
            if !fn.source.isEmpty { print("  source: \(fn.source)") }
            for r in rows[(i * s.regions.count)..<((i + 1) * s.regions.count)] {
                let change = r.baselineConcentration == r.scenarioConcentration ? "\(Value.format(r.baselineConcentration))" : "\(Value.format(r.baselineConcentration)) -> \(Value.format(r.scenarioConcentration))"
                print("  \(r.region): \(fn.pollutant) \(change); attributable \(range(r.baseline)) -> \(range(r.scenario)); avoided \(range(r.avoided))")
            }
            let t = totals[i]
            print("  total: attributable \(range(t.b)) -> \(range(t.s)); avoided \(range(t.b - t.s))")
        }
    }
}
