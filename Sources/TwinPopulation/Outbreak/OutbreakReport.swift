import Foundation

/// What `twinbank outbreak` prints: the headline numbers, the daily counts per state (the median over runs,
/// with the 5-95 % band in JSON) and the compartmental estimate beside them.
public struct OutbreakReport: Sendable {
    public let ensemble: OutbreakEnsemble
    public let population: SyntheticPopulation
    public let seed: UInt64
    public let days: Int
    /// The scenario file, or nil for the default scenario.
    public let scenarioFile: String?
    public let shard: OutbreakShard?
    public let totalRuns: Int
    /// The SEIR estimate (R0 and the attack rate its final size gives).
    public let seir: (r0: Double, attackRate: Double)?
    /// Where the run was written, if it was: the population twin and the number of prediction events.
    public var written: (twin: String, events: Int)? = nil
    /// The calibration the run used, if any: the counts file, the series fitted, and the fit.
    public var calibration: (file: String, series: OutbreakSeries, fit: OutbreakCalibration.Fit)? = nil
    /// The contacts observed in the members' pings that the runs used, if any.
    public var observed: Observed? = nil

    /// What a run took from the members' pings (``ObservedCommunity``).
    public struct Observed: Sendable, Hashable {
        /// Observed (day, pair) contacts on the ping days the simulated days used, and those ping days.
        public var pairs: Int
        public var pingDays: Int
        /// Simulated days whose community layer was observed (out of days + 1).
        public var simulatedDays: Int
        /// The pings read, the people who have them, every ping day and the UTC date of simulated day 0.
        public var pings: Int
        public var people: Int
        public var allPingDays: Int
        public var allPairs: Int
        public var start: String

        public init(_ o: ObservedCommunity, days: Int) {
            let used = o.used(days: days)
            pairs = used.pairs; pingDays = used.observedDays; simulatedDays = used.simulatedDays
            pings = o.contacts.pings; people = o.contacts.people
            allPingDays = o.contacts.days.count; allPairs = o.contacts.pairCount
            let day0 = Int64(o.startDay) * 86_400
            start = String(ISO8601DateFormatter.string(from: Date(timeIntervalSince1970: TimeInterval(day0)), timeZone: TimeZone(identifier: "UTC")!,
                                                       formatOptions: [.withFullDate]))
        }

        /// One line: what was used, from what.
        public var summary: String {
            "\(pairs) observed contact pairs over \(pingDays) ping days used on \(simulatedDays) simulated days (day 0 = \(start)); "
                + "\(pings) pings of \(people) members, \(allPairs) pairs over \(allPingDays) ping days in all"
        }
    }

    public init(ensemble: OutbreakEnsemble, population: SyntheticPopulation, seed: UInt64, days: Int, scenarioFile: String?,
                shard: OutbreakShard?, totalRuns: Int, seir: (r0: Double, attackRate: Double)?) {
        self.ensemble = ensemble; self.population = population; self.seed = seed; self.days = days
        self.scenarioFile = scenarioFile; self.shard = shard; self.totalRuns = totalRuns; self.seir = seir
    }

    static let tableSeries: [OutbreakSeries] = OutbreakSeries.states + [.newInfections, .newDiagnoses, .quarantined, .vaccinated]

    private func format(_ x: Double) -> String {
        x == x.rounded() ? String(Int(x)) : String(format: "%.1f", x)
    }

    /// A plain-text report: the headline lines, then one row per day.
    public var text: String {
        var lines: [String] = []
        let runs = ensemble.runs
        let range = runs.isEmpty ? "none" : "\(runs.first!.runIndex)...\(runs.last!.runIndex)"
        lines.append("outbreak: \(population.count) agents, \(days) days, seed \(seed), scenario \(scenarioFile ?? "default (bench_covasim.py --full)"), "
                     + "runs \(range) of \(totalRuns)" + (shard.map { " (shard \($0))" } ?? ""))
        func band(_ name: String, _ v: (median: Double, low: Double, high: Double), percent: Bool = false) -> String {
            let f: (Double) -> String = percent ? { String(format: "%.2f %%", $0 * 100) } : { self.format($0) }
            return runs.count > 1 ? "\(name) \(f(v.median)) (5-95 %: \(f(v.low))-\(f(v.high)))" : "\(name) \(f(v.median))"
        }
        if !runs.isEmpty {
            lines.append([band("attack rate", ensemble.headlineBand { $0.attackRate }, percent: true),
                          band("infections", ensemble.headlineBand { Double($0.cumulativeInfections) }),
                          band("peak daily infections", ensemble.headlineBand { Double($0.peakDailyInfections) }),
                          band("on day", ensemble.headlineBand { Double($0.peakDay) }),
                          band("deaths", ensemble.headlineBand { Double($0.deaths) })].joined(separator: "; "))
        }
        if let seir {
            lines.append(String(format: "SEIR estimate: R0 %.2f, final size %.2f %% (homogeneous mixing, no interventions)", seir.r0, seir.attackRate * 100))
        }
        if let c = calibration {
            lines.append(String(format: "calibrated beta %.5f to %@ (%@, sum of squares %.1f, %d simulations)", c.fit.beta, c.file, c.series.name, c.fit.sumOfSquares, c.fit.simulations))
        }
        if let written { lines.append("wrote \(written.events) predictions to the thread of population twin \(written.twin)") }
        lines.append((["day"] + Self.tableSeries.map(\.name)).joined(separator: "\t"))
        let bands = Self.tableSeries.map { ensemble.band($0).median }
        if !runs.isEmpty {
            for d in 0...days { lines.append(([String(d)] + bands.map { format($0[d]) }).joined(separator: "\t")) }
        }
        return lines.joined(separator: "\n")
    }

    /// The JSON report: settings, headline numbers (median, p5, p95 and per run), the daily median and band
    /// of every series, and the SEIR estimate.
    public var json: String {
        func b(_ v: (median: Double, low: Double, high: Double)) -> [String: Any] { ["median": v.median, "p5": v.low, "p95": v.high] }
        var daily: [String: Any] = ["day": Array(0...days)]
        for s in OutbreakSeries.allCases {
            let band = ensemble.band(s)
            daily[s.name] = ["median": band.median, "p5": band.low, "p95": band.high]
        }
        var root: [String: Any] = [
            "agents": population.count, "days": days, "seed": seed, "scenario": scenarioFile ?? "default",
            "total_runs": totalRuns, "runs": ensemble.runs.map(\.runIndex),
            "headline": [
                "attack_rate": b(ensemble.headlineBand { $0.attackRate }),
                "cumulative_infections": b(ensemble.headlineBand { Double($0.cumulativeInfections) }),
                "peak_daily_infections": b(ensemble.headlineBand { Double($0.peakDailyInfections) }),
                "peak_day": b(ensemble.headlineBand { Double($0.peakDay) }),
                "deaths": b(ensemble.headlineBand { Double($0.deaths) }),
            ],
            "run_headlines": ensemble.runs.map { r -> [String: Any] in
                let h = r.headline
                return ["run": r.runIndex, "seed": r.seed, "attack_rate": h.attackRate, "cumulative_infections": h.cumulativeInfections,
                        "peak_daily_infections": h.peakDailyInfections, "peak_day": h.peakDay, "deaths": h.deaths, "diagnoses": h.diagnoses]
            },
            "daily": daily,
            "population": ["households": Int(population.household.last ?? -1) + 1,
                           "contacts_per_person": Dictionary(uniqueKeysWithValues: population.layers.map { ($0.kind.key, $0.meanDegree) })],
        ]
        if let shard { root["shard"] = shard.description }
        if let c = calibration {
            root["calibration"] = ["file": c.file, "series": c.series.name, "beta": c.fit.beta, "sum_of_squares": c.fit.sumOfSquares, "simulations": c.fit.simulations]
        }
        if let written { root["written"] = ["twin": written.twin, "events": written.events] }
        if let o = observed {
            root["observed"] = ["pairs": o.pairs, "ping_days": o.pingDays, "simulated_days": o.simulatedDays, "pings": o.pings,
                                "people": o.people, "all_pairs": o.allPairs, "all_ping_days": o.allPingDays, "start": o.start]
        }
        if let seir { root["seir"] = ["r0": seir.r0, "final_size": seir.attackRate] }
        let data = (try? JSONSerialization.data(withJSONObject: root, options: [.sortedKeys])) ?? Data("{}".utf8)
        return String(decoding: data, as: UTF8.self)
    }

    /// An epidemic curve as SVG: daily new infections (median and 5-95 % band) and people infectious.
    public var svg: String {
        let w = 720.0, h = 360.0, left = 60.0, bottom = 40.0, top = 30.0, right = 20.0
        let new = ensemble.band(.newInfections)
        var infectious = [Double](repeating: 0, count: days + 1)
        for s in [OutbreakSeries.asymptomatic, .presymptomatic, .mild, .severe, .critical] {
            let m = ensemble.band(s).median
            for d in 0...days { infectious[d] += m[d] }
        }
        let ymax = max(1, (new.high + infectious).max() ?? 1)
        func x(_ d: Int) -> Double { left + (w - left - right) * Double(d) / Double(max(days, 1)) }
        func y(_ v: Double) -> Double { h - bottom - (h - bottom - top) * v / ymax }
        func path(_ v: [Double]) -> String {
            v.enumerated().map { String(format: "%@%.1f,%.1f", $0.offset == 0 ? "M" : "L", x($0.offset), y($0.element)) }.joined(separator: " ")
        }
        let bandPath = path(new.high) + " " + new.low.enumerated().reversed().map { String(format: "L%.1f,%.1f", x($0.offset), y($0.element)) }.joined(separator: " ") + " Z"
        var s = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(w))\" height=\"\(Int(h))\" font-family=\"sans-serif\" font-size=\"12\">\n"
        s += "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
        s += "<text x=\"\(Int(left))\" y=\"18\">Outbreak, \(population.count) agents, \(ensemble.runs.count) run(s): new infections a day (median, 5-95 %) and people infectious</text>\n"
        s += String(format: "<line x1=\"%.0f\" y1=\"%.0f\" x2=\"%.0f\" y2=\"%.0f\" stroke=\"black\"/>\n", left, h - bottom, w - right, h - bottom)
        s += String(format: "<line x1=\"%.0f\" y1=\"%.0f\" x2=\"%.0f\" y2=\"%.0f\" stroke=\"black\"/>\n", left, top, left, h - bottom)
        for k in 0...4 {
            let v = ymax * Double(k) / 4
            s += String(format: "<text x=\"%.0f\" y=\"%.0f\" text-anchor=\"end\">%.0f</text>\n", left - 4, y(v) + 4, v)
            let d = days * k / 4
            s += String(format: "<text x=\"%.0f\" y=\"%.0f\" text-anchor=\"middle\">day %d</text>\n", x(d), h - bottom + 16, d)
        }
        s += "<path d=\"\(bandPath)\" fill=\"#d62728\" fill-opacity=\"0.2\" stroke=\"none\"/>\n"
        s += "<path d=\"\(path(new.median))\" fill=\"none\" stroke=\"#d62728\" stroke-width=\"1.5\"/>\n"
        s += "<path d=\"\(path(infectious))\" fill=\"none\" stroke=\"#1f77b4\" stroke-width=\"1.5\"/>\n"
        s += String(format: "<text x=\"%.0f\" y=\"%.0f\" fill=\"#d62728\">new infections</text>\n", w - 200, top + 14)
        s += String(format: "<text x=\"%.0f\" y=\"%.0f\" fill=\"#1f77b4\">infectious</text>\n", w - 200, top + 30)
        s += "</svg>\n"
        return s
    }
}
