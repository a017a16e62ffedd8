import Foundation
import Testing
import TwinBank
import TwinCalibration
import TwinCore
@testable import TwinSync

/// Inputs to any SBML model: a one-compartment elimination model `dA/dt = −k·A` (compartment `central` of 2 L,
/// k = 0.1 /h in the model) bound to a twin whose thread holds doses, boluses and infusions, and drug levels of a
/// person whose k is 0.25 /h, computed from the closed forms.
@Suite("SBMLEstimator: doses and infusions into any SBML model")
struct SBMLEstimatorInputTests {
    /// The model; `amounts`: the species in amounts (`hasOnlySubstanceUnits`), else in concentration (mg/L).
    static func model(amounts: Bool) -> String {
        let rate = amounts ? "<apply><times/><ci> k </ci><ci> A </ci></apply>" : "<apply><times/><ci> k </ci><ci> A </ci><ci> central </ci></apply>"
        return """
            <?xml version="1.0" encoding="UTF-8"?>
            <sbml xmlns="http://www.sbml.org/sbml/level3/version2/core" level="3" version="2">
              <model id="elimination">
                <listOfCompartments><compartment id="central" size="2" constant="true"/></listOfCompartments>
                <listOfSpecies><species id="A" compartment="central" initialAmount="0" hasOnlySubstanceUnits="\(amounts)" boundaryCondition="false" constant="false"/></listOfSpecies>
                <listOfParameters><parameter id="k" value="0.1" constant="true"/></listOfParameters>
                <listOfReactions>
                  <reaction id="elimination" reversible="false">
                    <listOfReactants><speciesReference species="A" stoichiometry="1" constant="true"/></listOfReactants>
                    <kineticLaw><math xmlns="http://www.w3.org/1998/Math/MathML">\(rate)</math></kineticLaw>
                  </reaction>
                </listOfReactions>
              </model>
            </sbml>
            """
    }

    /// Writes the model to a fresh file.
    static func file(amounts: Bool = false) throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("elimination-\(amounts ? "amount" : "concentration")-\(UUID().uuidString).xml")
        try model(amounts: amounts).write(to: url, atomically: true, encoding: .utf8)
        return url
    }

    static let bolus = Concept(system: "urn:twinbank:test", code: "drug-bolus")
    static let infusion = Concept(system: "urn:twinbank:test", code: "drug-infusion")
    static let level = Concept(system: "urn:twinbank:test", code: "drug-level")
    static let k = 0.25, volume = 2.0

    /// The concentration of boluses `(time, mg)` and infusions `(start, end, mg)` at `t` hours, elimination rate `k`.
    static func closed(_ t: Double, boluses: [(Double, Double)] = [], infusions: [(Double, Double, Double)] = [], k: Double = k) -> Double {
        var c = boluses.filter { $0.0 <= t }.reduce(0) { $0 + $1.1 / volume * exp(-k * (t - $1.0)) }
        for (t0, t1, mg) in infusions where t > t0 {
            let rate = mg / (t1 - t0) / volume, end = min(t, t1)
            c += rate / k * (1 - exp(-k * (end - t0))) * exp(-k * (t - end))
        }
        return c
    }

    struct Fixture {
        let clock = ManualClock(try! Instant(parsing: "2026-03-05T00:00:00Z"), stepMicroseconds: 1_000_000)
        let bank: Bank
        let origin = try! Instant(parsing: "2026-03-01T08:00:00Z")
        let binding: ThreadBinding
        let file: URL
        init(inputs: [ThreadBinding.Input]? = nil) throws {
            file = try SBMLEstimatorInputTests.file()
            bank = Bank(storage: MemoryStorage(), clock: clock)
            try bank.createTwin(Twin(id: "patient", kind: .person))
            binding = ThreadBinding(name: "elimination", model: .init(kind: .sbml, file: file.path, id: "elimination"), timeUnit: .h, origin: origin,
                                    outputs: [.init(code: SBMLEstimatorInputTests.level, output: "A", unit: "mg/L", noise: .init(additive: 1e-3))],
                                    inputs: inputs ?? [.init(code: SBMLEstimatorInputTests.bolus, input: "A", kind: .bolus, unit: "mg"),
                                                       .init(code: SBMLEstimatorInputTests.infusion, input: "A", kind: .infusion, unit: "mg")],
                                    estimated: [.init(parameter: "k", scale: .log, lower: 1e-3, upper: 10, start: 0.1)])
            try ThreadBinding.attach(binding, to: "patient", in: bank)
        }
        func at(_ hours: Double) -> Instant { origin.advanced(bySeconds: hours * 3600) }
        func give(bolus mg: Double, at hours: Double) throws {
            try bank.append([EventDraft(twin: "patient", effective: EffectiveTime(at(hours)), category: .intervention, code: SBMLEstimatorInputTests.bolus,
                                        value: .quantity(Quantity(mg, "mg")), source: Source(.record, "mar"))])
        }
        func infuse(_ mg: Double, from t0: Double, to t1: Double) throws {
            try bank.append([EventDraft(twin: "patient", effective: EffectiveTime(at(t0), end: at(t1)), category: .intervention, code: SBMLEstimatorInputTests.infusion,
                                        value: .quantity(Quantity(mg, "mg")), source: Source(.record, "mar"))])
        }
        func measure(_ hours: [Double], _ level: (Double) -> Double) throws {
            try bank.append(hours.map { .observation("patient", at: at($0), code: SBMLEstimatorInputTests.level, Quantity(level($0), "mg/L"), source: Source(.device, "lab")) })
        }
        func hours(_ i: Instant) -> Double { Double(i.microseconds - origin.microseconds) / 3.6e9 }
    }

    /// Three 100 mg boluses (0, 8, 16 h) and nine noise-free levels of a person with k = 0.25 /h: the synchroniser
    /// finds k from the model's 0.1 within 1e-5 (solver tolerance 1e-10); the forecast over 12 h after the last
    /// level (20 h) takes the 100 mg dose planned at 24 h and equals the closed form within 1e-6.
    @Test func bolusesRecoverTheEliminationRateAndADoseInTheHorizonIsForecast() async throws {
        let f = try Fixture()
        let doses: [(Double, Double)] = [(0, 100), (8, 100), (16, 100), (24, 100)]
        for (h, mg) in doses { try f.give(bolus: mg, at: h) }
        try f.measure([1, 3, 5, 7, 9, 12, 15, 17, 20]) { Self.closed($0, boluses: doses) }
        var options = BindingSynchroniser.Options()
        options.horizon = 12
        let r = try await BindingSynchroniser.compute("patient", in: f.bank, binding: f.binding, options: options)
        let k = try #require(r.estimate["k"]?.value)
        #expect(abs(k / Self.k - 1) < 1e-5, "k \(k)")
        #expect(r.readingsUsed == 9 && r.inputsUsed == 4 && r.estimator == "SBML-MAP")
        #expect(r.forecast.count == 12)
        for p in r.forecast {
            let t = f.hours(p.time), closed = Self.closed(t, boluses: doses, k: k)
            #expect(abs(p.mean / closed - 1) < 1e-6, "\(t) h: \(p.mean) vs \(closed)")
            #expect(p.lower < p.mean && p.mean < p.upper)
        }
        // the planned dose shows: an hour after it the level is 35 mg/L above the one an hour before (50 mg/L given, two hours of decay)
        let before = try #require(r.forecast.first { abs(f.hours($0.time) - 23) < 1e-6 }), after = try #require(r.forecast.first { abs(f.hours($0.time) - 25) < 1e-6 })
        #expect(after.mean > before.mean + 30, "\(before.mean) -> \(after.mean)")
    }

    /// An 80 mg infusion from 2 h to 6 h (20 mg/h) and seven levels of the k = 0.25 person: k is found within 1e-5
    /// and the forecast to 20 h is the closed-form infusion solution (R/(kV)(1 − e^(−k(t − t₀))) during it, then
    /// exponential decay) within 1e-6.
    @Test func anInfusionIsTheClosedFormInfusion() async throws {
        let f = try Fixture()
        try f.infuse(80, from: 2, to: 6)
        let infusions: [(Double, Double, Double)] = [(2, 6, 80)]
        try f.measure([1, 3, 5, 6.5, 8, 10, 14]) { Self.closed($0, infusions: infusions) }
        var options = BindingSynchroniser.Options()
        options.horizon = 6
        options.points = 6
        let r = try await BindingSynchroniser.compute("patient", in: f.bank, binding: f.binding, options: options)
        let k = try #require(r.estimate["k"]?.value)
        #expect(abs(k / Self.k - 1) < 1e-5, "k \(k)")
        #expect(r.inputsUsed == 1 && r.forecast.count == 6)
        for p in r.forecast {
            let t = f.hours(p.time), closed = Self.closed(t, infusions: infusions, k: k)
            #expect(abs(p.mean / closed - 1) < 1e-6, "\(t) h: \(p.mean) vs \(closed)")
        }
        // during the infusion, through the model directly (the estimate's k): rising, as the closed form
        let e = try SBMLEstimator(binding: f.binding, thread: try f.binding.read("patient", in: f.bank))
        let rows = try e.simulator.simulate(times: [1, 2.5, 4, 6, 7], outputs: ["A"], overrides: ["k": Self.k])
        for (t, row) in zip([1, 2.5, 4, 6, 7], rows) {
            let closed = Self.closed(t, infusions: infusions)
            #expect(abs(row[0] - closed) < 1e-8 * max(1, closed), "\(t) h: \(row[0]) vs \(closed)")
        }
    }

    /// A dose adds its amount to the species' amount: a species in concentration in a 2 L compartment rises by
    /// amount / 2, one in amounts (`hasOnlySubstanceUnits`) by the amount. An output at a dose's time sees it given.
    @Test(arguments: [false, true])
    func aDoseIsAnAmountDividedByTheCompartmentForAConcentration(amounts: Bool) throws {
        let file = try Self.file(amounts: amounts)
        defer { try? FileManager.default.removeItem(at: file) }
        let simulator = try SBMLModelSimulator(file: file, doses: [.init(species: "A", time: 0, amount: 10), .init(species: "A", time: 1, amount: 10)],
                                               relativeTolerance: 1e-10, absoluteTolerance: 1e-14)
        let times = [0, 0.5, 1, 2.0]
        let rows = try simulator.simulate(times: times, outputs: ["A"], overrides: ["k": Self.k])
        let scale = amounts ? 1 : 1 / Self.volume
        for (t, row) in zip(times, rows) {
            let expected = 10 * scale * (exp(-Self.k * t) + (t >= 1 ? exp(-Self.k * (t - 1)) : 0))
            #expect(abs(row[0] / expected - 1) < 1e-8, "\(amounts ? "amount" : "concentration") at \(t) h: \(row[0]) vs \(expected)")
        }
        // without doses the model is the model: nothing in it
        #expect(try SBMLModelSimulator(file: file).simulate(times: [1], outputs: ["A"], overrides: [:]) == [[0]])
    }

    /// An input must name a species: a parameter, a compartment or an unknown id is refused, naming it and listing
    /// the model's species; so is an infusion without a period and a dose before the origin.
    @Test(arguments: ["k", "central", "B"])
    func anInputThatIsNotASpeciesIsRefused(id: String) throws {
        let f = try Fixture(inputs: [.init(code: Self.bolus, input: id, kind: .bolus, unit: "mg")])
        try f.give(bolus: 100, at: 1)
        try f.measure([2]) { _ in 1 }
        #expect { try SBMLEstimator(binding: f.binding, thread: try f.binding.read("patient", in: f.bank)) } throws: { error in
            guard let e = error as? SyncError else { return false }
            return e.code == .invalidBinding && e.value == id && e.message.contains("'\(id)' is not a species") && e.message.contains("species: A")
        }
    }

    @Test func anInfusionWithoutAPeriodAndADoseBeforeTheOriginAreRefused() throws {
        let f = try Fixture()
        try f.bank.append([EventDraft(twin: "patient", effective: EffectiveTime(f.at(1)), category: .intervention, code: Self.infusion,
                                      value: .quantity(Quantity(50, "mg")), source: Source(.record, "mar"))])
        try f.measure([2]) { _ in 1 }
        #expect { try SBMLEstimator(binding: f.binding, thread: try f.binding.read("patient", in: f.bank)) } throws: {
            ($0 as? SyncError)?.code == .invalidArgument && ($0 as? SyncError)?.message.contains("has no period") == true
        }
        let g = try Fixture()
        try g.give(bolus: 100, at: -1)
        try g.measure([2]) { _ in 1 }
        #expect { try SBMLEstimator(binding: g.binding, thread: try g.binding.read("patient", in: g.bank)) } throws: {
            ($0 as? SyncError)?.code == .invalidTime && ($0 as? SyncError)?.message.contains("before the model's origin") == true
        }
    }
}
