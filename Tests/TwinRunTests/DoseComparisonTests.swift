import Foundation
import Testing
import TwinBank
import TwinCore
import TwinModels
@testable import TwinRun

@Suite("In-silico comparison of dosing regimens on forks")
struct DoseComparisonTests {
    let start = try! Instant(parsing: "2024-01-02T00:00:00Z")
    static let drug = Concept(system: "http://www.nlm.nih.gov/research/umls/rxnorm", code: "11124", display: "vancomycin")

    /// One compartment, CL 4 L/h, V 50 L (k = 0.08 /h), window 10-20 mg/L; `given` doses (hours before the
    /// start, mg) by intravenous bolus.
    func bank(given: [(hours: Double, mg: Double)] = [], attributes extra: [String: Value] = [:], drop: String? = nil) throws -> Bank {
        let bank = Bank(storage: MemoryStorage())
        var attributes: [String: Value] = [
            "pk.clearance": .quantity(Quantity(4, "L/h")), "pk.volume": .quantity(Quantity(50_000, "mL")),
            "pk.targetLow": .quantity(Quantity(10, "mg/L")), "pk.targetHigh": .quantity(Quantity(20, "mg/L")),
            "pk.code": .concept(Self.drug),
        ]
        attributes.merge(extra) { $1 }
        if let drop { attributes[drop] = nil }
        try bank.createTwin(Twin(id: "pat", kind: .person, attributes: attributes))
        if !given.isEmpty {
            try bank.append(given.map { d in
                EventDraft(twin: "pat", effective: EffectiveTime(start.advanced(bySeconds: -d.hours * 3600)), category: .intervention,
                           code: Self.drug, value: .quantity(Quantity(d.mg, "mg")), source: Source(.record, "mar"))
            })
        }
        return bank
    }

    /// Against the closed form: a 1500 mg bolus now gives C(t) = 30 e^(-0.08 t) mg/L, above 20 mg/L until
    /// ln(1.5)/0.08 = 5.07 h and in the window until ln(3)/0.08 = 13.73 h.
    @Test func oneBolusMatchesTheClosedForm() async throws {
        let bank = try bank()
        let result = try await DoseComparison.compare("pat", in: bank, options: [try .init(parsing: "once=dose=1500,count=1")], start: start,
                                                      hours: 24, ensemble: 1)
        let o = result.options[0].outcomes
        let k = 0.08, above = log(1.5) / k, inside = log(3) / k - above
        #expect(abs(o[.timeAboveWindow]!.mean * 24 - above) <= 0.25)
        #expect(abs(o[.timeInWindow]!.mean * 24 - inside) <= 0.25)
        #expect(abs(o[.peak]!.mean - 30) < 1e-6)
        #expect(abs(o[.final]!.mean - 30 * exp(-k * 24)) < 1e-6)
        // AUC over 24 h: 30 (1 - e^(-1.92)) / 0.08
        #expect(abs(o[.auc24]!.mean - 30 * (1 - exp(-k * 24)) / k) / o[.auc24]!.mean < 1e-3)
    }

    /// Doses the thread records before the start set the state the options start from.
    @Test func recordedDosesCarryIntoEveryOption() async throws {
        let bank = try bank(given: [(6, 1000), (18, 1000)])
        let result = try await DoseComparison.compare("pat", in: bank, options: [try .init(parsing: "hold=")], start: start, hours: 12, ensemble: 1)
        #expect(result.dosesGiven == 2)
        let expected = 20 * (exp(-0.08 * 18) + exp(-0.08 * 30))
        #expect(abs(result.options[0].outcomes[.final]!.mean - expected) / expected < 1e-6)
        #expect(abs(result.options[0].outcomes[.peak]!.mean - 20 * (exp(-0.08 * 6) + exp(-0.08 * 18))) < 1e-6)
    }

    @Test func ranksByToxicityThenTimeInWindowAndRecords() async throws {
        let bank = try bank(given: [(12, 1000)])
        let options = try ["q12=dose=1000,every=12", "q8=dose=1000,every=8", "q12low=dose=500,every=12", "hold="].map { try DoseComparison.Option(parsing: $0) }
        let result = try await DoseComparison.compare("pat", in: bank, options: options, start: start, hours: 48, ensemble: 8, seed: 5)
        let byName = Dictionary(uniqueKeysWithValues: result.options.map { ($0.name, $0) })
        func mean(_ o: String, _ m: OutcomeMeasure) -> Double { byName[o]!.outcomes[m]!.mean }
        // More often is more drug: q8 spends more time above the window than q12.
        #expect(mean("q8", .timeAboveWindow) > mean("q12", .timeAboveWindow))
        // Linear kinetics superpose, and every option sees the same patients: what the future doses add to the
        // recorded dose's exposure doubles with the dose.
        let added = mean("q12", .auc24) - mean("hold", .auc24), addedHalf = mean("q12low", .auc24) - mean("hold", .auc24)
        #expect(abs(added / addedHalf - 2) < 1e-6)
        // Ranks follow the rule: net therapeutic time (in the window minus above it), higher first.
        let sorted = result.options.sorted { $0.rank < $1.rank }
        func net(_ o: InSilicoComparison.OptionResult) -> Double { o.outcomes[.timeInWindow]!.mean - o.outcomes[.timeAboveWindow]!.mean }
        for (a, b) in zip(sorted, sorted.dropFirst()) { #expect(net(a) >= net(b)) }
        #expect(Set(sorted.map(\.rank)) == [1, 2, 3, 4])
        for o in result.options {
            let w = o.outcomes[.timeInWindow]!
            #expect(w.p05 <= w.mean && w.mean <= w.p95)
            #expect(try bank.twin(o.fork).fork?.parent == "pat")
            // every 30 minutes over 48 h, and the option's doses in the horizon as interventions in the fork only
            #expect(try bank.events(ThreadQuery(twin: o.fork, category: .prediction)).count == 97)
        }
        #expect(try bank.events(ThreadQuery(twin: byName["q8"]!.fork, code: Self.drug.key, category: .intervention, from: start)).count == 6)
        #expect(try bank.events(ThreadQuery(twin: byName["hold"]!.fork, code: Self.drug.key, category: .intervention, from: start)).isEmpty)
        let recs = try bank.events(ThreadQuery(twin: "pat", category: .recommendation))
        #expect(recs.count == 1)
        #expect(recs.first?.provenance.seed == 5)
        #expect(recs.first?.provenance.derivedFrom.count == 1)
        #expect(try bank.events(ThreadQuery(twin: "pat", category: .prediction)).isEmpty)
        let again = try await DoseComparison.compare("pat", in: bank, options: options, start: start, hours: 48, ensemble: 8, seed: 5)
        #expect(again.options.map(\.outcomes) == result.options.map(\.outcomes))
    }

    /// Levels measured after the recorded doses calibrate the twin before the options run: a person who clears
    /// the drug faster (CL 6 L/h, V 40 L, in closed form) than the attributes say (CL 4 L/h, V 50 L).
    @Test func measuredLevelsCalibrateFirst() async throws {
        let level = Concept.loinc("20578-1", "Vancomycin [Mass/volume] in Serum or Plasma")
        let bank = try bank(given: [(24, 1000), (12, 1000)], attributes: ["pk.levelCode": .concept(level)])
        func truth(_ hoursBeforeStart: Double) -> Double {
            [24.0, 12].filter { $0 >= hoursBeforeStart }.reduce(0) { $0 + 1000 / 40 * exp(-6.0 / 40 * ($1 - hoursBeforeStart)) }
        }
        let measured = [(23.0, "mg/L"), (12.5, "ug/mL"), (1.0, "mg/L")]
        try bank.append(measured.map { h, unit in
            EventDraft.observation("pat", at: start.advanced(bySeconds: -h * 3600), code: level, Quantity((truth(h) * 100).rounded() / 100, unit), source: Source(.device, "lab"))
        })
        let result = try await DoseComparison.compare("pat", in: bank, options: [try .init(parsing: "hold=")], start: start, hours: 12, ensemble: 20, seed: 2)
        let c = try #require(result.calibration)
        #expect(c.levels == 3)
        #expect(abs(c.priorClearance - 4) < 1e-9 && abs(c.priorVolume - 50) < 1e-9)
        #expect(abs(c.clearance - 6) < 0.5, "CL \(c.clearance)")
        #expect(abs(c.volume - 40) < 5, "V \(c.volume)")
        #expect(c.clearanceSD < 0.3)
        // the twin's own (member 0) forecast now follows the person: the level 12 h after the start
        let truthAtEnd = [24.0, 12].reduce(0) { $0 + 1000 / 40 * exp(-6.0 / 40 * ($1 + 12)) }
        let fork = result.options[0].fork
        let last = try #require(try bank.events(ThreadQuery(twin: fork, category: .prediction)).last?.value?.quantity?.value)
        let uncalibrated = [24.0, 12].reduce(0) { $0 + 1000 / 50 * exp(-4.0 / 50 * ($1 + 12)) }
        #expect(abs(last - truthAtEnd) < 0.25 * abs(uncalibrated - truthAtEnd))
        let rec = try #require(try bank.events(ThreadQuery(twin: "pat", category: .recommendation)).first)
        #expect(rec.provenance.derivedFrom.count == 5)
        #expect(rec.provenance.notes?.contains("calibrated to 3 levels") == true)
    }

    @Test func oralAndInfusionRoutes() async throws {
        let bank = try bank(attributes: ["pk.absorptionRate": .quantity(Quantity(1, "/h")), "pk.bioavailability": .quantity(Quantity(0.5, "1"))])
        let options = try ["oral=dose=1000,count=1,route=oral", "drip=dose=1000,count=1,route=infusion:2", "bolus=dose=1000,count=1"].map { try DoseComparison.Option(parsing: $0) }
        let result = try await DoseComparison.compare("pat", in: bank, options: options, start: start, hours: 24, ensemble: 1)
        let byName = Dictionary(uniqueKeysWithValues: result.options.map { ($0.name, $0) })
        // half the oral dose is absorbed; infusion and bolus deliver the same amount (equal AUC, lower peak)
        let auc = { (o: String) in byName[o]!.outcomes[.auc24]!.mean }
        #expect(abs(auc("oral") / auc("bolus") - 0.5) < 0.03)
        #expect(abs(auc("drip") / auc("bolus") - 1) < 0.03)
        #expect(byName["drip"]!.outcomes[.peak]!.mean < byName["bolus"]!.outcomes[.peak]!.mean)
    }

    @Test(arguments: ["nameonly", "x=dose=abc", "x=dose=-5", "x=every=0", "x=route=nasal", "x=route=infusion:0", "x=shoes=2", "x=every=12", "bad name=dose=1"])
    func badOptionsNameTheProblem(_ spec: String) {
        #expect(throws: RunError.self) { try DoseComparison.Option(parsing: spec) }
    }

    @Test(arguments: ["pk.clearance", "pk.volume", "pk.targetLow", "pk.targetHigh", "pk.code"])
    func missingBindingIsNamedAndWritesNothing(_ attribute: String) async throws {
        let bank = try bank(drop: attribute)
        let before = try bank.lastSequence()
        do {
            _ = try await DoseComparison.compare("pat", in: bank, options: [.init(name: "hold")], start: start, hours: 24)
            Issue.record("compared without \(attribute)")
        } catch let error as RunError {
            #expect(error.code == .missingBinding)
            #expect(error.message.contains(attribute))
        }
        #expect(try bank.lastSequence() == before)
        #expect(try bank.twinIDs() == ["pat"])
    }

    @Test func badBindingsAndOptionsWriteNothing() async throws {
        let cases: [([String: Value], String)] = [
            (["pk.clearance": .quantity(Quantity(4, "mg"))], "pk.clearance"),                         // not a flow
            (["pk.targetHigh": .quantity(Quantity(5, "mg/L"))], "window"),                            // empty window
            (["pk.route": .text("nasal")], "nasal"),
            (["pk.peripheralVolume": .quantity(Quantity(20, "L"))], "pk.intercompartmentalClearance"), // half a second compartment
        ]
        for (extra, named) in cases {
            let bank = try bank(attributes: extra)
            do {
                _ = try await DoseComparison.compare("pat", in: bank, options: [.init(name: "hold")], start: start, hours: 24)
                Issue.record("accepted \(extra)")
            } catch let error as RunError {
                #expect(error.message.contains(named), "\(error.message)")
            }
            #expect(try bank.twinIDs() == ["pat"])
        }
        let bank = try bank()
        let before = try bank.lastSequence()
        // an oral option without an absorption rate, duplicate names, a bad horizon
        await #expect(throws: RunError.self) {
            try await DoseComparison.compare("pat", in: bank, options: [try .init(parsing: "p=dose=500,route=oral")], start: start, hours: 24)
        }
        await #expect(throws: RunError.self) {
            try await DoseComparison.compare("pat", in: bank, options: [.init(name: "a"), .init(name: "a")], start: start, hours: 24)
        }
        await #expect(throws: RunError.self) {
            try await DoseComparison.compare("pat", in: bank, options: [.init(name: "a")], start: start, hours: 0)
        }
        #expect(try bank.lastSequence() == before)
        #expect(try bank.twinIDs() == ["pat"])
    }
}
