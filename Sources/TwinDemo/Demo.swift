import Foundation
import TwinBank
import TwinCore
import TwinFHIR
import TwinModels
import TwinPopulation
import TwinRun
import TwinSimulation
import TwinSync

/// The guided tour behind `twinbank demo`: builds a small bank that shows each capability once, narrating
/// what it does through `say`, and returns what a newcomer can look at next.
///
/// Everything is deterministic: the population comes from a seeded generator (``seed``) and the clock is
/// passed in, so two runs with the same seed and clock build the same bank.
public struct Demo: Sendable {
    /// Where external data lives (`../shared/data`): the published SBML liver model is used when present.
    public var dataDirectory: String?
    public var seed: UInt64
    /// How many person twins to generate (at least 3: the tour retracts the third person's sensor).
    public var people: Int
    /// How many Synthea patient records (FHIR R4 bundles in `synthea/` of the data directory) to import.
    public var records: Int
    /// Where the outbreak step writes its risk map (``riskMapFiles``); nil writes no file.
    public var outputDirectory: String?
    /// How many agents the outbreak step's population twin has.
    public var agents: Int

    public init(dataDirectory: String? = nil, seed: UInt64 = 2021, people: Int = 8, records: Int = 12,
                outputDirectory: String? = nil, agents: Int = 3000) {
        self.dataDirectory = dataDirectory; self.seed = seed; self.people = max(3, people); self.records = max(0, records)
        self.outputDirectory = outputDirectory; self.agents = max(100, agents)
    }

    /// The file names of the outbreak step's risk map in ``outputDirectory``: a choropleth SVG and its GeoJSON.
    public static let riskMapFiles = (svg: "twinbank-demo-risk.svg", geoJSON: "twinbank-demo-risk.geojson")
    /// The population twin the outbreak step makes.
    public static let town: TwinID = "demo-town"
    /// What marks a risk map file as the demo's own (its SVG title and a GeoJSON foreign member): only such a
    /// file is replaced by a later run.
    static let marker = "twinbank demo"

    /// What the demo built.
    public struct Summary: Sendable {
        public var twins: Int
        public var events: Int
        public var commits: [String]
        public var forkedTwin: TwinID
        public var fork: TwinID
        public var timeInRange: (original: Double, fork: Double)
        public var liverPredictions: Int
        /// Patients imported from FHIR records.
        public var importedPatients: Int
        /// The outbreak step: people ever infected and diagnosed in the population twin ``Demo/town``.
        public var outbreak: (infected: Int, diagnosed: Int, regions: Int) = (0, 0, 0)
        /// The risk map files written (paths), empty when no output directory was given or a file was left alone.
        public var riskMap: [String] = []
    }

    static let glucose = GlucoseTwin.glucose
    static let hba1c = Concept.loinc("4548-4", "Hemoglobin A1c/Hemoglobin.total in Blood")
    static let heartRate = Concept.loinc("8867-4", "Heart rate")

    /// Runs the tour against `bank` (which should be new and empty).
    public func run(in bank: Bank, say: (String) -> Void) async throws -> Summary {
        try await BlockingWork.forbiddingOnTasks { try await steps(in: bank, say: say) }
    }

    /// ``run(in:say:)``'s steps: the bank is reached through ``TwinBank/Bank/run(_:)`` only.
    private func steps(in bank: Bank, say: (String) -> Void) async throws -> Summary {
        var rng = Xoshiro256StarStar(seed: seed)
        func uniform(_ a: Double, _ b: Double) -> Double { a + (b - a) * rng.nextUniform() }
        let day0 = try Instant(parsing: "2024-01-01T00:00:00Z")
        let hour = 3600.0

        // 0. A population from health records (FHIR R4 bundles made by Synthea), when the data is there.
        var importedPatients = 0
        if let dataDirectory, records > 0 {
            let dir = (dataDirectory as NSString).appendingPathComponent("synthea")
            if let names = try? FileManager.default.contentsOfDirectory(atPath: dir) {
                let sorted = names.filter { $0.hasSuffix(".json") }.sorted()
                let shared = sorted.filter { $0.hasPrefix("hospitalInformation") || $0.hasPrefix("practitionerInformation") }
                let patients = sorted.filter { !shared.contains($0) }.prefix(records)
                if !patients.isEmpty {
                    let report: ImportReport
                    do {
                        let paths = (shared + patients).map { (dir as NSString).appendingPathComponent($0) }
                        report = try await bank.run { bank in try FHIRImporter(bank: bank).importPaths(paths) }
                    } catch {
                        throw RunError(.modelFailed, "importing the Synthea records failed: \(error)", value: dir)
                    }
                    importedPatients = report.personsCreated
                    say("0. Health records: imported \(report.personsCreated) patients from Synthea FHIR R4 bundles (\(report.eventsAppended) thread events, \(report.organisationsCreated) hospitals as organisation twins)")
                }
            }
        }

        // 1. Reference twin, people made from it, a composite twin, a hospital.
        say("1. Twins")
        try await bank.run { bank in try bank.createTemplate(Twin(id: "adult-t1d", kind: .person,
                                     attributes: ["condition": .concept(Concept.snomed("46635009", "Diabetes mellitus type 1")),
                                                  "virtualPatient": .text("adult#001")])) }
        say("   reference twin adult-t1d@1 (a template: a type 1 diabetic adult bound to the UVA/Padova model)")
        var ids: [TwinID] = []
        for i in 1...people {
            let id = try TwinID(String(format: "person-%02d", i))
            let female = i % 2 == 1
            let year = 1950 + Int(uniform(0, 50))
            let twin = Twin(id: id, kind: .person,
                            attributes: ["gender": .text(female ? "female" : "male"),
                                         "birthDate": .date(try Instant(parsing: String(format: "%04d-%02d-15", year, 1 + i % 12))),
                                         "virtualPatient": .text(String(format: "adult#%03d", 1 + (i - 1) % 10))],
                            template: Twin.TemplateReference(id: "adult-t1d", version: 1))
            try await bank.run { bank in try bank.createTwin(twin) }
            ids.append(id)
        }
        say("   \(people) person twins instantiated from adult-t1d@1, each bound to a virtual patient")
        try await bank.run { bank in try bank.createTwin(Twin(id: "person-01-liver", kind: .organ, attributes: ["birthDate": .date(try Instant(parsing: "1960-01-15"))])) }
        try await bank.run { bank in try bank.createTwin(Twin(id: "person-01-body", kind: .person, parts: [Twin.Part(role: "liver", twin: "person-01-liver")])) }
        try await bank.run { bank in try bank.createTwin(Twin(id: "st-mary", kind: .organisation,
                                 attributes: ["beds": .quantity(Quantity(420, "1")), "icuBeds": .quantity(Quantity(24, "1"))])) }
        say("   composite twin person-01-body (part: liver = person-01-liver) and organisation twin st-mary (420 beds)")

        // 2. Threads: a week of CGM, a watch, labs; meals as interventions.
        say("2. Digital threads")
        var total = 0
        for (k, id) in ids.enumerated() {
            var drafts: [EventDraft] = []
            let baseline = uniform(110, 170)
            for h in stride(from: 0.0, to: 7 * 24, by: 1) {
                let t = day0.advanced(bySeconds: h * hour)
                let bg = baseline + 35 * sin(h / 24 * 2 * .pi) + uniform(-12, 12)
                drafts.append(.observation(id, at: t, code: Self.glucose, Quantity((bg * 10).rounded() / 10, "mg/dL"),
                                           source: Source(.device, "cgm-\(id)")))
                if Int(h) % 4 == 0 {
                    drafts.append(.observation(id, at: t, code: Self.heartRate, Quantity((uniform(58, 92)).rounded(), "/min"),
                                               source: Source(.device, "watch-\(id)")))
                }
            }
            drafts.append(.observation(id, at: day0.advanced(bySeconds: 2 * 24 * hour), code: Self.hba1c,
                                       Quantity((uniform(5.8, 8.6) * 10).rounded() / 10, "%"), source: Source(.record, "lab-st-mary")))
            drafts.append(.observation(id, at: day0.advanced(bySeconds: 2 * 24 * hour), code: .bodyWeight,
                                       Quantity((uniform(55, 95) * 10).rounded() / 10, "kg"), source: Source(.record, "clinic-visit")))
            for (h, g) in [(7.0, 45.0), (12.0, 70.0), (18.0, 80.0)] {
                drafts.append(EventDraft(twin: id, effective: EffectiveTime(day0.advanced(bySeconds: (6 * 24 + h) * hour)),
                                         category: .intervention, code: GlucoseTwin.carbohydrateIntake,
                                         value: .quantity(Quantity(g + Double(k * 5), "g")), source: Source(.person, id.rawValue)))
            }
            total += try await bank.run { [drafts] bank in try bank.append(drafts) }.count
        }
        say("   \(total) events: hourly CGM glucose, heart rate, HbA1c and weight from the lab, meals on day 7")

        // 3. State as of a time, and what was known when.
        let alice = ids[0]
        let asOf = day0.advanced(bySeconds: 3 * 24 * hour)
        let state = try await bank.run { bank in try bank.state(of: alice, asOf: asOf) }
        say("3. State of \(alice) as of \(asOf): " + state.map { "\($0.code.display ?? $0.code.code) = \($0.value.map { "\($0)" } ?? "-")" }.joined(separator: "; "))

        // 4. A faulty data source is retracted; what was known before stays reproducible.
        let faulty = Source(.device, "cgm-\(ids[2])")
        let beforeRetraction = try await bank.run { bank in try bank.lastSequence() }
        let r = try await bank.run { bank in try bank.retract(source: faulty, reason: "sensor recalled by the manufacturer (calibration drift)") }
        let knownBefore = try await bank.run { [ids] bank in try bank.events(ThreadQuery(twin: ids[2], code: Self.glucose.key, knownAtSequence: beforeRetraction)) }.count
        let now = try await bank.run { [ids] bank in try bank.events(ThreadQuery(twin: ids[2], code: Self.glucose.key)) }.count
        say("4. Retracted \(r.source): \(r.eventsRetracted) events leave every current view (now \(now); replaying what was known before: \(knownBefore))")

        // 5. An aggregate by query, and version control.
        let cohort = try await bank.run { bank in try bank.createAggregate("women-a1c-over-7", where: "kind = person and sex = female and loinc:4548-4 > 7 %",
                                              description: "women with HbA1c above 7 %") }
        let members = try await bank.run { bank in try bank.members(of: cohort.id) }
        say("5. Aggregate women-a1c-over-7 (\(cohort.query ?? "")): \(members.members.map(\.rawValue).joined(separator: ", "))")
        let c1 = try await bank.run { bank in try bank.commit(message: "Demo population with a week of data", author: "twinbank demo") }
        say("   commit \(c1.id.abbreviated()): definitions and the thread pinned at sequence \(c1.commit.threadPin)")

        // 6. Simulate a day for a twin, then fork it and try a hypothetical bigger dinner.
        let day6 = day0.advanced(bySeconds: 6 * 24 * hour)
        let run = try await bank.run { bank in
            let run = try GlucoseTwin.simulate(alice, in: bank, start: day6, hours: 24)
            try GlucoseTwin.record(run, to: alice, in: bank, every: 5)
            return run
        }
        say("6. Simulated day 7 of \(alice) with the UVA/Padova model (\(run.scenario.patient.name), basal-bolus controller):")
        say("   mean BG \(fmt(run.trace.meanBG)) mg/dL, time in range 70-180 \(pct(run.trace.timeInRange)), insulin \(fmt(run.trace.totalInsulin)) U; predictions written with provenance")
        let fork: TwinID = "person-01-what-if"
        try await bank.run { bank in try bank.fork(alice, at: day6.advanced(bySeconds: 13 * hour), as: fork) }
        try await bank.run { bank in try bank.append([EventDraft(twin: fork, effective: EffectiveTime(day6.advanced(bySeconds: 18 * hour)), category: .intervention,
                                    code: GlucoseTwin.carbohydrateIntake, value: .quantity(Quantity(140, "g")),
                                    source: Source(.person, "what-if"))]) }
        let whatIf = try await bank.run { bank in
            let run = try GlucoseTwin.simulate(fork, in: bank, start: day6, hours: 24)
            try GlucoseTwin.record(run, to: fork, in: bank, every: 5)
            return run
        }
        say("   fork \(fork) at 13:00 with a 140 g dinner instead: time in range \(pct(whatIf.trace.timeInRange)), peak BG \(fmt(whatIf.trace.bg.max() ?? 0)) mg/dL (original peak \(fmt(run.trace.bg.max() ?? 0)))")

        // 7. Compare candidate treatments on forks over an ensemble of plausible patients.
        let options = try ["usual=", "cautious-bolus=bolus=0.8", "more-basal=basal=1.3"].map { try InSilicoComparison.Option(parsing: $0) }
        let comparison = try await InSilicoComparison.compare(alice, in: bank, options: options, start: day6, hours: 24, ensemble: 12, seed: seed)
        say("7. In-silico comparison for \(alice) over day 7 (12 plausible patients, one fork per option), ranked by safety (time below 70 mg/dL within 4 %), then time in range:")
        for r in comparison.options.sorted(by: { $0.rank < $1.rank }) {
            let t = r.outcomes[.timeInRange]!, b = r.outcomes[.timeBelowRange]!
            say("   \(r.rank). \(r.name): \(pct(t.mean)) in range (90 % of patients between \(pct(t.p05)) and \(pct(t.p95))), \(pct(b.mean)) below 70 mg/dL")
        }
        say("   recorded in \(alice)'s thread as a recommendation with its seed and inputs")

        // 8. The two-way link: the simulated day plays the real person. Its CGM (with sensor noise) and pump
        // deliveries flow into the thread; the synchroniser assimilates what the thread knows by noon into a twin
        // that starts from population parameters, forecasts 30 minutes ahead with an interval, and writes the
        // forecast (and any hypoglycaemia alert) back to the thread with provenance.
        var cgm: [EventDraft] = []
        let pump = Source(.device, "pump-\(alice)")
        let basal = run.trace.insulin.sorted()[run.trace.insulin.count / 2]
        for k in stride(from: 0, to: run.trace.bg.count, by: 5) {
            cgm.append(.observation(alice, at: day6.advanced(bySeconds: Double(k) * 60), code: Self.glucose,
                                    Quantity(((run.trace.bg[k] + 8 * rng.nextNormal()) * 10).rounded() / 10, "mg/dL"),
                                    source: Source(.device, "cgm-\(alice)")))
        }
        for k in 0..<run.trace.insulin.count where run.trace.insulin[k] - basal > 1e-9 {
            cgm.append(EventDraft(twin: alice, effective: EffectiveTime(day6.advanced(bySeconds: Double(k) * 60)), category: .intervention,
                                  code: GlucoseSynchroniser.insulin, value: .quantity(Quantity(run.trace.insulin[k] - basal, "[IU]")), source: pump))
        }
        cgm.append(EventDraft(twin: alice, effective: EffectiveTime(day6, end: day6.advanced(bySeconds: 24 * hour)), category: .intervention,
                              code: GlucoseSynchroniser.insulin, value: .quantity(Quantity(basal * 24 * 60, "[IU]")), source: pump))
        try await bank.run { [cgm] bank in try bank.append(cgm) }
        var syncOptions = GlucoseSynchroniser.Options()
        syncOptions.from = day6
        syncOptions.to = day6.advanced(bySeconds: 12 * hour)
        syncOptions.seed = seed
        let sync = try await GlucoseSynchroniser.synchronise(alice, in: bank, options: syncOptions)
        say("8. Synchronising \(alice) with its CGM and pump (\(sync.observationsUsed) readings, \(sync.insulinEventsUsed) insulin and \(sync.mealsUsed) meal events up to \(syncOptions.to!)):")
        if let last = sync.points.last {
            say("   glucose now \(fmt(sync.glucoseNow)) mg/dL (truth \(fmt(run.trace.bg[12 * 60]))); in \(syncOptions.horizon) min \(fmt(last.mean)) mg/dL, 95 % interval \(fmt(last.lower))-\(fmt(last.upper)) (truth \(fmt(run.trace.bg[min(run.trace.bg.count - 1, 12 * 60 + syncOptions.horizon)])))")
        }
        say("   parameters learned from population values: " + sync.parameters.keys.sorted().map { k in
            "\(k) \(String(format: "%.4g", sync.parameters[k]?["population"] ?? .nan)) -> \(String(format: "%.4g", sync.parameters[k]?["estimated"] ?? .nan))"
        }.joined(separator: ", "))
        say("   \(sync.written?.count ?? 0) forecast events written to the thread\(sync.alert.map { "; alert: \($0)" } ?? "; no alert")")

        // 9. A published SBML model bound to an organ twin.
        var liverPredictions = 0
        if let dataDirectory {
            let path = (dataDirectory as NSString).appendingPathComponent("models/apap_reddyhoff2015_reconstructed.xml")
            if FileManager.default.fileExists(atPath: path) {
                let gsh = Concept(system: "urn:twinbank:apap", code: "GSH", display: "hepatic glutathione")
                let binding = SBMLBinding(modelPath: path, modelID: "apap-reddyhoff-2015",
                                          outputs: [.init(variable: "G", code: gsh, unit: "fmol", scale: 1e15)])
                let (result, series) = try await bank.run { bank in
                    let (result, _, series) = try binding.run(for: "person-01-liver", in: bank, start: day6, hours: 24, points: 96)
                    return (result, series)
                }
                liverPredictions = result.count
                let nadir = series[0].points.min { $0.value < $1.value }!
                say("9. SBML model (Reddyhoff 2015 acetaminophen liver, BIOMD0000000609) on person-01-liver after a dose:")
                say("   glutathione falls to \(pct(nadir.value / series[0].points[0].value)) of baseline at \(nadir.time); \(result.count) predictions written")
            }
        }
        if liverPredictions == 0 { say("9. (SBML step skipped: no data directory with models/ was found; pass --data ../shared/data)") }

        // 10. A drug twin: theophylline by mouth twice a day, one measured level; the level calibrates the twin
        // (this person clears the drug faster than the usual adult value the twin starts from), then three
        // regimens are compared on forks. The "real" person is simulated with its own clearance.
        let theo = try TwinID("person-01-theophylline")
        let theophylline = Concept(system: "http://www.nlm.nih.gov/research/umls/rxnorm", code: "10438", display: "theophylline")
        let level = Concept.loinc("4049-3", "Theophylline [Mass/volume] in Serum or Plasma")
        try await bank.run { bank in try bank.createTwin(Twin(id: theo, kind: .person, attributes: [
            "pk.clearance": .quantity(Quantity(2.8, "L/h")), "pk.volume": .quantity(Quantity(35, "L")),
            "pk.absorptionRate": .quantity(Quantity(1.5, "/h")), "pk.targetLow": .quantity(Quantity(10, "mg/L")),
            "pk.targetHigh": .quantity(Quantity(20, "mg/L")), "pk.code": .concept(theophylline), "pk.route": .text("oral"),
            "pk.levelCode": .concept(level)])) }
        let doses = (0..<4).map { day6.advanced(bySeconds: (-48 + 12 * Double($0)) * hour) }
        let person = try PKModel.oneCompartment(clearance: 4.2, volume: 35, absorptionRate: 1.5)
        let measuredAt = 47.0                                  // hours after the first dose: just before the next one
        let measured = try PKSimulator.concentrations(person, regimen: try .repeated(amount: 400, every: 12, count: 4, route: .oral), at: [measuredAt])[0]
        try await bank.run { bank in try bank.append(doses.map { EventDraft(twin: theo, effective: EffectiveTime($0), category: .intervention, code: theophylline,
                                               value: .quantity(Quantity(400, "mg")), source: Source(.record, "mar-\(theo)")) }
                        + [.observation(theo, at: doses[0].advanced(bySeconds: measuredAt * hour), code: level, Quantity((measured * 10).rounded() / 10, "mg/L"),
                                        source: Source(.device, "lab"))]) }
        let regimens = try ["usual=dose=400,every=12,route=oral", "more=dose=500,every=12,route=oral", "q8=dose=300,every=8,route=oral"]
            .map { try DoseComparison.Option(parsing: $0) }
        let dosing = try await DoseComparison.compare(theo, in: bank, options: regimens, start: day6, hours: 48, ensemble: 30, seed: seed)
        say("10. Drug twin \(theo): theophylline 400 mg twice a day, one level of \(fmt(measured)) mg/L before the 5th dose (target 10-20 mg/L)")
        if let c = dosing.calibration {
            say("   the level calibrates the twin: clearance \(fmt(c.priorClearance)) -> \(fmt(c.clearance)) L/h (±\(pct(c.clearanceSD))), volume \(fmt(c.priorVolume)) -> \(fmt(c.volume)) L")
        }
        for r in dosing.options.sorted(by: { $0.rank < $1.rank }) {
            let w = r.outcomes[.timeInWindow]!, a = r.outcomes[.timeAboveWindow]!
            say("   \(r.rank). \(r.name): \(pct(w.mean)) of the next 48 h in the window (90 % of patients \(pct(w.p05))-\(pct(w.p95))), \(pct(a.mean)) above it")
        }

        let c2 = try await bank.run { bank in try bank.commit(message: "Simulated day 7 and a what-if dinner", author: "twinbank demo") }
        say("   commit \(c2.id.abbreviated())")
        // the outbreak step writes the town's thread as it goes: on the storage's threads, its lines said after
        let demo = self
        let (outbreak, lines) = try await bank.run { bank in
            var lines: [String] = []
            let step = try demo.outbreakStep(in: bank, start: day0) { lines.append($0) }
            return (step, lines)
        }
        lines.forEach(say)
        let cardiac = try await bank.run { bank in try demo.cardiacStep(in: bank, start: day6) }
        cardiac.forEach(say)
        let prognostic = try await bank.run { bank in try demo.prognosticStep(in: bank, start: day0.advanced(bySeconds: -4.5 * 365.25 * 86_400)) }
        prognostic.forEach(say)
        let allTwins = try await bank.run { bank in try bank.twinIDs() }
        let events = try await bank.run { bank in try bank.lastSequence() }
        var summary = Summary(twins: allTwins.count, events: Int(events), commits: [c1.id.hex, c2.id.hex], forkedTwin: alice, fork: fork,
                              timeInRange: (run.trace.timeInRange, whatIf.trace.timeInRange), liverPredictions: liverPredictions,
                              importedPatients: importedPatients)
        summary.outbreak = (outbreak.infected, outbreak.diagnosed, outbreak.regions)
        summary.riskMap = outbreak.files
        return summary
    }

    /// 11. An outbreak on a population twin and its risk map: a synthetic town of ``agents`` people, 60 days of
    /// the default scenario (testing, tracing, quarantine) seeded with ``seed``, written to the twin's thread as
    /// `twinbank outbreak --bank --population` writes it; its diagnoses counted per region (the real Montreal
    /// districts from `geo/` of the data directory, else a 4 km grid over Montreal), households placed as
    /// ``OutbreakRegions`` documents, assessed on the last day and drawn as a map.
    func outbreakStep(in bank: Bank, start: Instant, say: (String) -> Void) throws -> (infected: Int, diagnosed: Int, regions: Int, files: [String]) {
        let days = 60
        let population = try PopulationTwin.synthesize(in: bank, id: Self.town, size: agents, seed: seed, marginals: .covasimHybrid)
        let scenario = OutbreakScenario.covasimFull
        let (run, outcomes) = try OutbreakModel.runWithOutcomes(population: population, scenario: scenario, days: days,
                                                               seed: OutbreakModel.runSeed(seed, index: 0), runIndex: 0)
        let written = try OutbreakThread.write(OutbreakEnsemble(runs: [run]), agents: population.count, seed: seed, scenarioName: "default",
                                               scenarioJSON: nil, to: Self.town, start: start, in: bank)
        let infected = (0..<population.count).reduce(0) { $0 + (outcomes.everInfected($1) ? 1 : 0) }
        let diagnosed = outcomes.dayDiagnosed.reduce(0) { $0 + ($1 >= 0 ? 1 : 0) }
        say("11. Outbreak: population twin \(Self.town) (\(population.count) synthetic people in households, schools and workplaces), \(days) days with testing, tracing and quarantine:")
        say("   \(infected) people infected, \(diagnosed) diagnosed, peak \(run.headline.peakDailyInfections) new infections on day \(run.headline.peakDay); \(written.count) daily predictions written to \(Self.town)'s thread")
        var regions: GeoRegions
        var districts = false
        if let dataDirectory, case let path = (dataDirectory as NSString).appendingPathComponent("geo/montreal-districts.geojson"),
           FileManager.default.fileExists(atPath: path) {
            regions = try GeoRegions(contentsOf: path)
            districts = true
        } else {
            regions = try GeoRegions.grid(west: -73.98, south: 45.41, east: -73.47, north: 45.71, cellMeters: 4000)
        }
        let counts = try OutbreakRegions.counts(population, outcomes: outcomes, days: days, regions: regions, start: start, seed: seed)
        let risks = RegionalRisk.assess(counts, day: days)
        let daily = (0...days).map { RegionalRisk.assess(counts, day: $0) }
        var levels: [String: Int] = [:]
        for r in risks { levels[r.level?.rawValue ?? "no data", default: 0] += 1 }
        say("   diagnoses per region (households placed at random by area in \(regions.regions.count) \(districts ? "Montreal districts" : "grid cells over Montreal")), risk on \(counts.date(days)): "
            + (RiskLevel.allCases.map(\.rawValue) + ["no data"]).compactMap { l in levels[l].map { "\(l) \($0)" } }.joined(separator: ", "))
        var files: [String] = []
        if let outputDirectory {
            let svg = RiskMap.svg(regions: regions, risks: risks, title: "Risk level by region, 7 days to \(counts.date(days)) (\(Self.marker): \(Self.town))")
            var geoJSON = RiskMap.geoJSON(regions: regions, counts: counts, risks: risks, daily: daily)
            if geoJSON.hasPrefix("{") { geoJSON = "{\"generator\":\"\(Self.marker)\"," + geoJSON.dropFirst() }
            for (name, text) in [(Self.riskMapFiles.svg, svg), (Self.riskMapFiles.geoJSON, geoJSON)] {
                let path = (outputDirectory as NSString).appendingPathComponent(name)
                if let old = FileManager.default.contents(atPath: path), !String(decoding: old, as: UTF8.self).contains(Self.marker) {
                    say("   \(path) exists and is not the demo's: left alone")
                    continue
                }
                do { try Data(text.utf8).write(to: URL(fileURLWithPath: path), options: .atomic) } catch {
                    throw RunError(.modelFailed, "cannot write the risk map: \(error.localizedDescription)", value: path)
                }
                files.append(path)
            }
            if let svgPath = files.first(where: { $0.hasSuffix(".svg") }) {
                say("   risk map: open \(svgPath) in a browser (hover a region for its figures); the figures per region are in \(Self.riskMapFiles.geoJSON) beside it")
            }
        }
        return (infected, diagnosed, regions.regions.count, files)
    }

    /// 12. A cardiac twin: a 60 s ECG strip (synthetic, ``TwinModels/SyntheticECG``) enters its thread and gives
    /// heart rate and variability (``TwinRun/ECGDerivation``), an arterial line's waveform gives its beats' pressures
    /// (``TwinRun/ArterialPressureDerivation``); its two-circuit circulation with the arterial baroreflex predicts
    /// the response to losing 375 mL over 6.4 min, written as predictions (mean arterial pressure and heart rate
    /// each minute), beside the same loss without the reflex.
    func cardiacStep(in bank: Bank, start: Instant) throws -> [String] {
        var rng = Xoshiro256StarStar(seed: seed &+ 12)  // its own stream: the steps before keep theirs
        let heart: TwinID = "person-01-heart"
        try bank.createTwin(Twin(id: heart, kind: .organ, attributes: ["birthDate": .date(try Instant(parsing: "1960-01-15"))]))
        let ecg = SyntheticECG()
        let (signal, _) = ecg.generate(seconds: 60, using: &rng)
        let lead = Concept(system: "urn:oid:2.16.840.1.113883.6.24", code: "131329", display: "MDC_ECG_ELEC_POTL_I")
        let stripStart = start.advanced(bySeconds: 8 * 3600)
        try bank.append([EventDraft(twin: heart, effective: EffectiveTime(stripStart, end: stripStart.advanced(bySeconds: 60)), category: .observation,
                                    code: lead, value: .vector(Vector(signal, unit: "mV")), source: Source(.device, "holter-demo"))])
        let derived = try ECGDerivation.derive(heart, in: bank)
        var lines = ["12. Cardiac twin \(heart):"]
        if let d = derived.derived.first {
            lines.append(String(format: "   a 60 s ECG strip (synthetic, %.0f Hz): %d beats, heart rate %.1f /min, SDNN %.0f ms, RMSSD %.0f ms (twinbank cardiac derive)",
                                d.samplingRate, d.beats, d.variability.heartRate, d.variability.sdnn, d.variability.rmssd))
        }
        // an arterial line's 30 s waveform (the circulation's own aortic pressure at 125 Hz, with 0.5 mmHg noise)
        let person = CirculationModel.Parameters.withPulmonaryCirculation
        var (_, waveform) = try CirculationSimulator.runWithPressureWaveform(CirculationScenario(parameters: person, seconds: 30, baroreflex: Baroreflex(),
                                                                                                sampleInterval: 1 / 125))
        for i in waveform.indices { waveform[i] += 0.5 * rng.nextNormal() }
        let lineStart = stripStart.advanced(bySeconds: 120)
        let abp = Concept(system: "urn:oid:2.16.840.1.113883.6.24", code: "150016", display: "MDC_PRESS_BLD_ART")
        try bank.append([EventDraft(twin: heart, effective: EffectiveTime(lineStart, end: lineStart.advanced(bySeconds: Double(waveform.count) / 125)),
                                    category: .observation, code: abp, value: .vector(Vector(waveform, unit: "mm[Hg]")), source: Source(.device, "arterial-line-demo"))])
        if let b = try ArterialPressureDerivation.derive(heart, in: bank).derived.first {
            lines.append(String(format: "   a 30 s arterial pressure waveform (125 Hz): %d beats, %.0f/%.0f mmHg, mean %.0f mmHg, heart rate %.0f /min (twinbank cardiac derive)",
                                b.plausibleBeats, b.systolic, b.diastolic, b.mean, b.heartRate))
        }
        // the two-circuit circulation (checked against Leonetti et al. 2004's phlebotomy), with and without the reflex
        let bleed = [(start: 60.0, duration: 384.0, volume: 375.0)]
        let closed = try CirculationSimulator.run(CirculationScenario(parameters: person, seconds: 560, haemorrhages: bleed, baroreflex: Baroreflex(), sampleInterval: 0.005))
        let open = try CirculationSimulator.run(CirculationScenario(parameters: person, seconds: 560, haemorrhages: bleed, sampleInterval: 0.005))
        func minute(_ beats: [BeatSummary], _ value: (BeatSummary) -> Double) -> [(time: Instant, value: Double)] {
            stride(from: 0.0, to: 540, by: 60).compactMap { m in
                let inside = beats.filter { $0.start >= m && $0.start < m + 60 }
                guard !inside.isEmpty else { return nil }
                return (stripStart.advanced(bySeconds: 3600 + m + 30), inside.map(value).reduce(0, +) / Double(inside.count))
            }
        }
        let map = Concept.loinc("8478-0", "Mean blood pressure")
        let pressure = minute(closed, \.meanArterialPressure), rate = minute(closed, \.heartRate), unreflexed = minute(open, \.meanArterialPressure)
        let model = CirculationModel(parameters: person, baroreflex: Baroreflex()).modelDescription
        let run = RunProvenance(model: model.id, modelVersion: model.version, parametersHash: RunProvenance.hash(parameters: Dictionary(
            uniqueKeysWithValues: model.parameters.map { ($0.name, $0.value) })), solver: "dopri5", relativeTolerance: 1e-7, absoluteTolerance: 1e-6,
            derivedFrom: derived.derived.flatMap(\.appended))
        try PredictionWriter.write([.init(code: map, unit: "mm[Hg]", points: pressure), .init(code: Self.heartRate, unit: "/min", points: rate)],
                                   to: heart, run: run, in: bank)
        if let p0 = pressure.first, let p1 = pressure.last, let r0 = rate.first, let r1 = rate.last, let u1 = unreflexed.last {
            lines.append(String(format: "   its circulation (two circuits, with the arterial baroreflex of Ursino 1998) predicts losing 375 mL over 6.4 min: mean pressure %.0f -> %.0f mmHg, heart rate %.0f -> %.0f /min (without the reflex: %.0f mmHg); %d predictions written",
                                p0.value, p1.value, r0.value, r1.value, u1.value, pressure.count + rate.count))
        }
        return lines
    }

    func fmt(_ x: Double) -> String { String(format: "%.1f", x) }
    func pct(_ x: Double) -> String { String(format: "%.1f %%", x * 100) }
}
