import Foundation
import Testing
import TwinTesting

/// `twinbank twin bind` and `twinbank sync` through a thread binding: the theophylline PK twin against the
/// closed form, and Schwen's insulin-binding model (PEtab) against its published optimum.
@Suite("twinbank twin bind + sync: the two-way loop for any model")
struct BindingCommandTests {
    let cli = CommandRunner()
    static var schwen: String { SharedFolder.root.appendingPathComponent("data/petab/Schwen_PONE2014/Schwen_PONE2014.yaml").path }
    static var brannmark: String { SharedFolder.root.appendingPathComponent("data/petab/Brannmark_JBC2010/Brannmark_JBC2010.yaml").path }

    func json(_ text: String) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any], "\(text)")
    }

    func estimates(_ doc: [String: Any]) throws -> [String: [String: Any]] {
        let estimate = try #require(doc["estimate"] as? [String: Any])
        let parameters = try #require(estimate["parameters"] as? [[String: Any]])
        return Dictionary(uniqueKeysWithValues: parameters.map { ($0["id"] as? String ?? "", $0) })
    }

    /// The demo's theophylline twin (prior CL 2.8 L/h, V 35 L, ka 1.5 /h, 400 mg by mouth every 12 h) with four
    /// levels of a person who clears 4.2 L/h: sync moves clearance to the person's (MAP with the preset's assay error
    /// 0.5 mg/L + 10 % and prior sd 0.3, so within 10 %), the forecast is the closed form at the estimate.
    @Test func pkTwinSynchronisesThroughItsBinding() throws {
        let (dir, bank) = try CommandRunner.temporaryBank()
        defer { try? FileManager.default.removeItem(at: dir) }
        try cli.ok(["init", "--bank", bank])
        try cli.ok(["twin", "create", "--bank", bank, "--id", "theo", "--kind", "person",
                    "--attr", "pk.clearance=2.8 L/h", "--attr", "pk.volume=35 L", "--attr", "pk.absorptionRate=1.5 /h",
                    "--attr", "pk.code=http://www.nlm.nih.gov/research/umls/rxnorm|10438", "--attr", "pk.levelCode=loinc:4049-3", "--attr", "pk.route=oral"])
        let bound = try cli.ok(["twin", "bind", "--bank", bank, "--twin", "theo", "--preset", "pk"])
        #expect(bound.contains("binding 'pk'"))
        let start = 1_767_254_400.0   // 2026-01-01T08:00:00Z
        func iso(_ hours: Double) -> String {
            let f = ISO8601DateFormatter()
            return f.string(from: Date(timeIntervalSince1970: start + hours * 3600))
        }
        let doses = (0..<4).map { (12 * Double($0), 400.0) }
        for (h, mg) in doses {
            try cli.ok(["thread", "append", "--bank", bank, "--twin", "theo", "--code", "http://www.nlm.nih.gov/research/umls/rxnorm|10438", "--value", String(mg), "--unit", "mg",
                        "--at", iso(h), "--category", "intervention", "--source", "record:mar"])
        }
        func closed(_ t: Double, cl: Double, v: Double) -> Double {
            let k = cl / v, ka = 1.5
            return doses.filter { $0.0 <= t }.reduce(0) { $0 + $1.1 * ka / (v * (ka - k)) * (exp(-k * (t - $1.0)) - exp(-ka * (t - $1.0))) }
        }
        for h in [2.0, 11, 26, 47] {
            try cli.ok(["thread", "append", "--bank", bank, "--twin", "theo", "--code", "loinc:4049-3", "--value", String(format: "%.4f", closed(h, cl: 4.2, v: 35)),
                        "--unit", "mg/L", "--at", iso(h), "--source", "device:lab"])
        }
        let doc = try json(try cli.ok(["sync", "--bank", bank, "--twin", "theo", "--to", iso(47.5), "--horizon", "12h", "--json"]))
        let e = try estimates(doc)
        let cl = try #require(e["clearance"]?["value"] as? Double), v = try #require(e["volume"]?["value"] as? Double)
        #expect(abs(cl / 4.2 - 1) < 0.1, "clearance \(cl)")
        #expect(doc["estimator"] as? String == "PK-MAP" && doc["readingsUsed"] as? Int == 4 && doc["inputsUsed"] as? Int == 4)
        let forecast = try #require(doc["forecast"] as? [[String: Any]])
        #expect(forecast.count == 12)
        for p in forecast {
            let mean = try #require(p["mean"] as? Double)
            let hours = 47.5 + Double(forecast.firstIndex { ($0["time"] as? String) == (p["time"] as? String) }! + 1)
            #expect(abs(mean - closed(hours, cl: cl, v: v)) < 1e-5 * mean + 1e-6, "\(hours) h")
        }
        // the glucose twin's options do not apply to a PK binding
        let wrong = try cli.run(["sync", "--bank", bank, "--twin", "theo", "--prior", "cohort"])
        #expect(wrong.status != 0 && wrong.stderr.contains("--prior"), "\(wrong.stderr)")
        // again: nothing new
        let again = try json(try cli.ok(["sync", "--bank", bank, "--twin", "theo", "--to", iso(47.5), "--horizon", "12h", "--json"]))
        #expect(again["written"] == nil && (again["alreadyInThread"] as? Int ?? 0) == 14)
        // the watch keeps the estimate current: one estimate per update that brought a level (4), each with its marker;
        // a second pass writes nothing
        let code = "urn:twinbank:estimate|pk/clearance"
        let before = try #require(try JSONSerialization.jsonObject(with: Data(try cli.ok(["thread", "query", "--bank", bank, "--twin", "theo", "--code", code, "--json"]).utf8)) as? [[String: Any]])
        try cli.ok(["watch", "--bank", bank, "--twin", "theo", "--watcher", "binding", "--once", "--quiet", "30min", "--interval", "2s"])
        try cli.ok(["watch", "--bank", bank, "--twin", "theo", "--watcher", "binding", "--once"])
        let badDuration = try cli.run(["watch", "--bank", bank, "--twin", "theo", "--watcher", "binding", "--once", "--quiet", "soon"])
        #expect(badDuration.status != 0 && badDuration.stderr.contains("soon"), "\(badDuration.stderr)")
        let after = try #require(try JSONSerialization.jsonObject(with: Data(try cli.ok(["thread", "query", "--bank", bank, "--twin", "theo", "--code", code, "--json"]).utf8)) as? [[String: Any]])
        #expect(after.count == before.count + 4, "\(before.count) -> \(after.count)")
        let notes = after.compactMap { ($0["provenance"] as? [String: Any])?["notes"] as? String }
        #expect(notes.filter { $0.contains("watch=binding-pk") }.count == 4)
        let glucoseOnly = try cli.run(["watch", "--bank", bank, "--twin", "theo", "--watcher", "binding", "--prior", "cohort", "--once"])
        #expect(glucoseOnly.status != 0 && glucoseOnly.stderr.contains("--prior"), "\(glucoseOnly.stderr)")
    }

    /// Schwen et al. 2014 (insulin binding to hepatocytes, 286 measurements in 19 experiments) imported into a twin's
    /// thread and bound to its SBML model; `sync` fits kin and kout from starts about 0.2 decades away, the other 28
    /// parameters fixed at the published optimum. With the others at their optimum, the conditional optimum of
    /// these two is the published one; what separates them is the two ODE solvers' tolerances (D2D's and ours,
    /// relative 1e-8) and the optimiser's stopping rule (cost tolerance 1e-8): 0.0006 and 0.0016 decades here,
    /// against standard errors of 0.15 and 0.35 decades. Tolerance: 0.01 decades (2.3 %), and a quarter of the
    /// reported standard error. A second sync over the same data writes nothing.
    @Test(.enabled(if: FileManager.default.fileExists(atPath: schwen), "skipped: ../shared/data/petab/Schwen_PONE2014 is missing"))
    func petabTwinSynchronisesToThePublishedOptimum() throws {
        let (dir, bank) = try CommandRunner.temporaryBank()
        defer { try? FileManager.default.removeItem(at: dir) }
        try cli.ok(["init", "--bank", bank])
        try cli.ok(["twin", "create", "--bank", bank, "--id", "hepatocytes", "--kind", "cell"])
        let bound = try cli.ok(["twin", "bind", "--bank", bank, "--twin", "hepatocytes", "--preset", "petab", "--petab", Self.schwen,
                                "--origin", "2026-01-01T00:00:00Z", "--import-measurements", "--estimate", "kin,kout", "--start", "kin=0.6", "--start", "kout=0.03"])
        #expect(bound.contains("imported 286 measurements"), "\(bound)")
        let doc = try json(try cli.ok(["sync", "--bank", bank, "--twin", "hepatocytes", "--json"]))
        #expect(doc["readingsUsed"] as? Int == 286)
        let e = try estimates(doc)
        for (id, nominal) in [("kin", 0.371867742056691), ("kout", 0.045075006384889)] {
            let value = try #require(e[id]?["value"] as? Double)
            let distance = abs(log10(value / nominal))
            #expect(distance < 0.01, "\(id): \(value) vs \(nominal)")
            if let se = e[id]?["standardDeviation"] as? Double { #expect(distance < 0.25 * se + 1e-3, "\(id): \(distance) decades, SE \(se)") }
        }
        let again = try json(try cli.ok(["sync", "--bank", bank, "--twin", "hepatocytes", "--json"]))
        #expect(again["written"] == nil && again["alreadyInThread"] as? Int == 2)
        // a replay as of before the import sees no readings
        let replay = try cli.run(["sync", "--bank", bank, "--twin", "hepatocytes", "--known-at", "2026-01-01T00:00:00Z", "--dry-run"])
        #expect(replay.status != 0 && replay.stderr.contains("no readings"), "\(replay.stderr)")
    }

    /// Brännmark et al. 2010 bound with its measurements, k1a and k1b estimated: `sync --horizon 15min` forecasts the
    /// experiment of the latest reading (`Dose_100` at 30 min) 15 minutes on, its three observables at 12 points, and
    /// writes each point as a `prediction` event coded as the observable's readings, its interval in the notes;
    /// a second sync writes nothing.
    @Test(.enabled(if: FileManager.default.fileExists(atPath: brannmark), "skipped: ../shared/data/petab/Brannmark_JBC2010 is missing"))
    func petabTwinForecastsItsObservables() throws {
        let (dir, bank) = try CommandRunner.temporaryBank()
        defer { try? FileManager.default.removeItem(at: dir) }
        try cli.ok(["init", "--bank", bank])
        try cli.ok(["twin", "create", "--bank", bank, "--id", "adipocytes", "--kind", "cell"])
        let bound = try cli.ok(["twin", "bind", "--bank", bank, "--twin", "adipocytes", "--preset", "petab", "--petab", Self.brannmark,
                                "--origin", "2026-01-01T00:00:00Z", "--import-measurements", "--estimate", "k1a,k1b"])
        #expect(bound.contains("imported 43 measurements"), "\(bound)")
        let doc = try json(try cli.ok(["sync", "--bank", bank, "--twin", "adipocytes", "--horizon", "15min", "--json"]))
        #expect(doc["readingsUsed"] as? Int == 43)
        let forecast = try #require(doc["forecast"] as? [[String: Any]])
        #expect(forecast.count == 36)
        #expect(Set(forecast.compactMap { $0["output"] as? String }) == ["IR1_P", "IRS1_P", "IRS1_P_DosR"])
        #expect(forecast.last?["time"] as? String == "2026-01-01T00:45:00Z", "\(String(describing: forecast.last))")
        for p in forecast {
            let mean = try #require(p["mean"] as? Double), lower = try #require(p["lower"] as? Double), upper = try #require(p["upper"] as? Double)
            #expect(lower < mean && mean < upper && mean > 0, "\(p)")
        }
        let events = try #require(try JSONSerialization.jsonObject(with: Data(try cli.ok(["thread", "query", "--bank", bank, "--twin", "adipocytes",
                                                                                          "--code", "urn:twinbank:petab:Brannmark_JBC2010|IR1_P", "--json"]).utf8)) as? [[String: Any]])
        let predictions = events.filter { $0["category"] as? String == "prediction" }
        #expect(predictions.count == 12)
        #expect(predictions.allSatisfy { (($0["provenance"] as? [String: Any])?["notes"] as? String)?.contains("forecast binding=petab:Brannmark_JBC2010 output=IR1_P") == true })
        let again = try json(try cli.ok(["sync", "--bank", bank, "--twin", "adipocytes", "--horizon", "15min", "--json"]))
        #expect(again["written"] == nil && again["alreadyInThread"] as? Int == 38)
    }

    /// Any SBML model takes a twin's doses through its binding (`--binding FILE`, kind `sbml`): `dA/dt = −k·A` in a
    /// 2 L compartment, a 100 mg bolus at 0 h and an 80 mg infusion from 10 h to 14 h (`thread append --at START/END`),
    /// levels of a person with k = 0.25 /h: `sync` finds k within 1e-4 and its forecast is the closed form.
    @Test func anSBMLTwinTakesDosesThroughItsBinding() throws {
        let (dir, bank) = try CommandRunner.temporaryBank()
        defer { try? FileManager.default.removeItem(at: dir) }
        let model = dir.appendingPathComponent("elimination.xml")
        try """
            <?xml version="1.0" encoding="UTF-8"?>
            <sbml xmlns="http://www.sbml.org/sbml/level3/version2/core" level="3" version="2"><model id="elimination">
            <listOfCompartments><compartment id="central" size="2" constant="true"/></listOfCompartments>
            <listOfSpecies><species id="A" compartment="central" initialAmount="0" hasOnlySubstanceUnits="false" boundaryCondition="false" constant="false"/></listOfSpecies>
            <listOfParameters><parameter id="k" value="0.1" constant="true"/></listOfParameters>
            <listOfReactions><reaction id="elimination" reversible="false">
            <listOfReactants><speciesReference species="A" stoichiometry="1" constant="true"/></listOfReactants>
            <kineticLaw><math xmlns="http://www.w3.org/1998/Math/MathML"><apply><times/><ci> k </ci><ci> A </ci><ci> central </ci></apply></math></kineticLaw>
            </reaction></listOfReactions></model></sbml>
            """.write(to: model, atomically: true, encoding: .utf8)
        let binding = dir.appendingPathComponent("binding.json")
        try """
            {"name": "elimination", "timeUnit": "h", "model": {"kind": "sbml", "file": "\(model.path)", "id": "elimination"},
             "outputs": [{"code": {"system": "urn:twinbank:test", "code": "level"}, "output": "A", "unit": "mg/L", "noise": {"additive": 0.001, "proportional": 0}}],
             "inputs": [{"code": {"system": "urn:twinbank:test", "code": "bolus"}, "input": "A", "kind": "bolus", "unit": "mg"},
                        {"code": {"system": "urn:twinbank:test", "code": "infusion"}, "input": "A", "kind": "infusion", "unit": "mg"}],
             "parameters": [], "estimated": [{"parameter": "k", "scale": "log", "lower": 0.001, "upper": 10, "start": 0.1}]}
            """.write(to: binding, atomically: true, encoding: .utf8)
        try cli.ok(["init", "--bank", bank])
        try cli.ok(["twin", "create", "--bank", bank, "--id", "patient", "--kind", "person"])
        try cli.ok(["twin", "bind", "--bank", bank, "--twin", "patient", "--binding", binding.path])
        let start = 1_767_254_400.0   // 2026-01-01T08:00:00Z
        func iso(_ hours: Double) -> String { ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: start + hours * 3600)) }
        try cli.ok(["thread", "append", "--bank", bank, "--twin", "patient", "--code", "urn:twinbank:test|bolus", "--value", "100", "--unit", "mg",
                    "--at", iso(0), "--category", "intervention", "--source", "record:mar"])
        try cli.ok(["thread", "append", "--bank", bank, "--twin", "patient", "--code", "urn:twinbank:test|infusion", "--value", "80", "--unit", "mg",
                    "--at", "\(iso(10))/\(iso(14))", "--category", "intervention", "--source", "record:mar"])
        func closed(_ t: Double, k: Double) -> Double {
            var c = 50 * exp(-k * t)
            if t > 10 { let end = min(t, 14); c += 10 / k * (1 - exp(-k * (end - 10))) * exp(-k * (t - end)) }
            return c
        }
        for h in [1.0, 4, 8, 11, 13, 15, 18] {
            try cli.ok(["thread", "append", "--bank", bank, "--twin", "patient", "--code", "urn:twinbank:test|level", "--value", String(format: "%.8f", closed(h, k: 0.25)),
                        "--unit", "mg/L", "--at", iso(h), "--source", "device:lab"])
        }
        let doc = try json(try cli.ok(["sync", "--bank", bank, "--twin", "patient", "--horizon", "6h", "--json"]))
        let k = try #require(try estimates(doc)["k"]?["value"] as? Double)
        #expect(abs(k / 0.25 - 1) < 1e-4, "k \(k)")
        #expect(doc["estimator"] as? String == "SBML-MAP" && doc["readingsUsed"] as? Int == 7 && doc["inputsUsed"] as? Int == 2)
        let forecast = try #require(doc["forecast"] as? [[String: Any]])
        #expect(forecast.count == 12)
        let last = try #require(forecast.last?["mean"] as? Double)
        #expect(abs(last / closed(24, k: k) - 1) < 1e-6, "\(last) vs \(closed(24, k: k))")
    }

    /// The cardiac twin from the command: `twin bind --preset circulation` (the built-in beat-averaged circulation,
    /// no file), resting pressure readings of 88 mmHg (the prior person's rest is 100), a recorded 600 mL blood loss
    /// over 30 min from minute 35, and `sync --horizon 30min`: blood volume is estimated below the prior and the
    /// forecast predicts hypotension before any reading is low.
    @Test func aCirculationTwinPredictsHypotensionFromTheCommand() throws {
        let (dir, bank) = try CommandRunner.temporaryBank()
        defer { try? FileManager.default.removeItem(at: dir) }
        try cli.ok(["init", "--bank", bank])
        try cli.ok(["twin", "create", "--bank", bank, "--id", "heart", "--kind", "person"])
        let tooSmall = try cli.run(["twin", "bind", "--bank", bank, "--twin", "heart", "--preset", "circulation", "--blood-volume", "3000"])
        #expect(tooSmall.status != 0 && tooSmall.stderr.contains("3000"), "\(tooSmall.stderr)")
        let elsewhere = try cli.run(["twin", "bind", "--bank", bank, "--twin", "heart", "--preset", "glucose", "--blood-volume", "5000"])
        #expect(elsewhere.status != 0 && elsewhere.stderr.contains("--blood-volume"), "\(elsewhere.stderr)")
        let bound = try cli.ok(["twin", "bind", "--bank", bank, "--twin", "heart", "--preset", "circulation"])
        #expect(bound.contains("binding 'circulation'") && bound.contains("Vblood, Rp"), "\(bound)")
        let start = 1_767_254_400.0   // 2026-01-01T08:00:00Z
        func iso(_ minutes: Double) -> String { ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: start + minutes * 60)) }
        for m in stride(from: 0.0, through: 35, by: 5) {
            try cli.ok(["thread", "append", "--bank", bank, "--twin", "heart", "--code", "loinc:8478-0", "--value", "88", "--unit", "mm[Hg]", "--at", iso(m), "--source", "device:arterial-line"])
            try cli.ok(["thread", "append", "--bank", bank, "--twin", "heart", "--code", "loinc:8867-4", "--value", "75", "--unit", "/min", "--at", iso(m), "--source", "device:monitor"])
        }
        try cli.ok(["thread", "append", "--bank", bank, "--twin", "heart", "--code", "urn:twinbank:circulation|blood-loss", "--value", "600", "--unit", "mL",
                    "--at", "\(iso(35))/\(iso(65))", "--category", "intervention", "--source", "record:anaesthetic-chart"])
        let doc = try json(try cli.ok(["sync", "--bank", bank, "--twin", "heart", "--horizon", "30min", "--json"]))
        let e = try estimates(doc)
        let volume = try #require(e["Vblood"]?["value"] as? Double)
        #expect(volume < 5000 && volume > 4800, "Vblood \(volume)")
        #expect(doc["readingsUsed"] as? Int == 16 && doc["inputsUsed"] as? Int == 1, "\(doc["readingsUsed"] ?? "?") \(doc["inputsUsed"] ?? "?")")
        let alerts = try cli.ok(["thread", "query", "--bank", bank, "--twin", "heart", "--category", "alert", "--json"])
        #expect(alerts.contains("hypotension-predicted") && !alerts.contains("hypotension-reading"), "\(alerts)")
    }

    /// `--layout two-circuit` binds the two-circuit person (its unstressed volumes are smaller: 4000 mL is a blood
    /// volume it can have, the one-reservoir layout cannot); `--layout` is refused with another preset.
    @Test func theCirculationPresetTakesALayout() throws {
        let (dir, bank) = try CommandRunner.temporaryBank()
        defer { try? FileManager.default.removeItem(at: dir) }
        try cli.ok(["init", "--bank", bank])
        try cli.ok(["twin", "create", "--bank", bank, "--id", "heart", "--kind", "person"])
        let oneReservoir = try cli.run(["twin", "bind", "--bank", bank, "--twin", "heart", "--preset", "circulation", "--blood-volume", "4000"])
        #expect(oneReservoir.status != 0 && oneReservoir.stderr.contains("4000"), "\(oneReservoir.stderr)")
        let elsewhere = try cli.run(["twin", "bind", "--bank", bank, "--twin", "heart", "--preset", "glucose", "--layout", "two-circuit"])
        #expect(elsewhere.status != 0 && elsewhere.stderr.contains("--layout"), "\(elsewhere.stderr)")
        let bound = try cli.ok(["twin", "bind", "--bank", bank, "--twin", "heart", "--preset", "circulation", "--layout", "two-circuit", "--blood-volume", "4000"])
        #expect(bound.contains("binding 'circulation'") && bound.contains("Vblood, Rp"), "\(bound)")
    }
}
