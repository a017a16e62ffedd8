import Foundation
import Testing
import TwinBank
import TwinCore
import TwinModels
@testable import TwinSync

/// A drug twin on a manual clock: one compartment, prior CL 4 L/h and V 50 L (given in mL, so the reading converts).
struct DrugTwin {
    static let drug = Concept(system: "http://www.nlm.nih.gov/research/umls/rxnorm", code: "11124", display: "vancomycin")
    static let level = Concept.loinc("20578-1", "Vancomycin [Mass/volume] in Serum or Plasma")
    let start = try! Instant(parsing: "2026-03-01T08:00:00Z")
    let clock: ManualClock
    let bank: Bank
    let twin: TwinID = "pat"

    init(attributes extra: [String: Value] = [:], drop: String? = nil) throws {
        clock = ManualClock(try! Instant(parsing: "2026-03-05T00:00:00Z"), stepMicroseconds: 1_000_000)
        bank = Bank(storage: MemoryStorage(), clock: clock)
        var attributes: [String: Value] = ["pk.clearance": .quantity(Quantity(4, "L/h")), "pk.volume": .quantity(Quantity(50_000, "mL")),
                                           "pk.code": .concept(Self.drug), "pk.levelCode": .concept(Self.level)]
        attributes.merge(extra) { $1 }
        if let drop { attributes[drop] = nil }
        try bank.createTwin(Twin(id: twin, kind: .person, attributes: attributes))
    }

    func at(_ hours: Double) -> Instant { start.advanced(bySeconds: hours * 3600) }

    @discardableResult
    func dose(_ mg: Double, at hours: Double) throws -> AppendResult {
        try bank.append([EventDraft(twin: twin, effective: EffectiveTime(at(hours)), category: .intervention, code: Self.drug,
                                    value: .quantity(Quantity(mg, "mg")), source: Source(.record, "mar"))])
    }

    @discardableResult
    func levels(_ values: [(hours: Double, value: Double, unit: String)]) throws -> AppendResult {
        try bank.append(values.map { .observation(twin, at: at($0.hours), code: Self.level, Quantity($0.value, $0.unit), source: Source(.device, "lab")) })
    }
}

@Suite("Thread binding: reading a thread onto a model's grid")
struct ThreadBindingTests {
    @Test func readsUnitsOnTheModelGridAsKnownAtATime() throws {
        let t = try DrugTwin()
        let binding = ThreadBinding.pk(drug: DrugTwin.drug, level: DrugTwin.level)
        try t.dose(1000, at: 0)
        try t.levels([(2, 12, "mg/L"), (4, 9000, "ug/L")])
        t.clock.advance(byMicroseconds: 3_600_000_000)
        let before = t.clock.now()
        t.clock.advance(byMicroseconds: 3_600_000_000)
        try t.levels([(3, 10, "mg/dL")])          // a late reading, recorded after `before`: 10 mg/dL = 100 mg/L

        let then = try binding.read(t.twin, in: t.bank, window: .init(knownAt: before))
        #expect(then.readings.map(\.value) == [12, 9])
        #expect(then.readings.map(\.time) == [2, 4])
        #expect(then.origin == t.at(0))
        #expect(then.doses.map(\.amount) == [1000] && then.doses.map(\.time) == [0])
        #expect(abs(then.parameters["volume"]! - 50) < 1e-12 && then.parameters["clearance"] == 4)

        let now = try binding.read(t.twin, in: t.bank)
        #expect(now.readings.map(\.time) == [2, 3, 4])
        #expect(now.readings.map(\.value) == [12, 100, 9])
        #expect(now.used.count == 4)
    }

    @Test func aUnitThatDoesNotConvertIsAnErrorNamingIt() throws {
        let t = try DrugTwin()
        try t.dose(1000, at: 0)
        try t.levels([(2, 0.01, "mmol/L")])        // vancomycin has no molar mass on record: never guessed
        let error = #expect(throws: SyncError.self) { try ThreadBinding.pk(drug: DrugTwin.drug, level: DrugTwin.level).read(t.twin, in: t.bank) }
        #expect(error?.code == .invalidArgument)
        #expect(error?.message.contains("'mmol/L'") == true && error?.message.contains("mg/L") == true, "\(error?.message ?? "")")
    }

    @Test func aMissingAttributeIsNamed() throws {
        let t = try DrugTwin(drop: "pk.volume")
        try t.dose(1000, at: 0)
        try t.levels([(2, 12, "mg/L")])
        let error = #expect(throws: SyncError.self) { try ThreadBinding.pk(drug: DrugTwin.drug, level: DrugTwin.level).read(t.twin, in: t.bank) }
        #expect(error?.code == .invalidBinding && error?.message.contains("pk.volume") == true)
    }

    @Test func aBindingIsStoredInTheTwinsModelBindings() throws {
        let t = try DrugTwin()
        let binding = try ThreadBinding.pk(for: try t.bank.twin(t.twin).twin)
        try ThreadBinding.attach(binding, to: t.twin, in: t.bank)
        var changed = binding
        changed.estimated[0].priorStandardDeviation = 0.5
        try ThreadBinding.attach(changed, to: t.twin, in: t.bank)   // same name: replaces
        let stored = try t.bank.twin(t.twin).twin
        #expect(stored.models.count == 1 && stored.models[0].model == PKBinding.modelID)
        #expect(try ThreadBinding.binding(of: stored) == changed)
        #expect(try ThreadBinding.binding(of: stored).inputs[0].code.key == DrugTwin.drug.key)
    }

    @Test(arguments: [
        ("{\"name\":\"x\"}", "missing key"),
        ("{\"name\":\"pk\",\"model\":{\"kind\":\"pk\",\"id\":\"m\"},\"timeUnit\":\"h\",\"outputs\":[{\"code\":{\"system\":\"s\",\"code\":\"c\"},\"output\":\"concentration\",\"unit\":\"mg/L\"}],\"inputs\":[],\"parameters\":[{\"parameter\":\"clearance\",\"attribute\":\"a\",\"value\":1,\"unit\":\"L/h\"}],\"estimated\":[]}", "exactly one of"),
        ("{\"name\":\"pk\",\"model\":{\"kind\":\"pk\",\"id\":\"m\"},\"timeUnit\":\"h\",\"outputs\":[{\"code\":{\"system\":\"s\",\"code\":\"c\"},\"output\":\"concentration\",\"unit\":\"furlongs\"}],\"inputs\":[],\"parameters\":[],\"estimated\":[]}", "furlongs"),
    ])
    func aMalformedBindingIsRefusedNamingTheProblem(_ json: String, _ named: String) throws {
        let error = #expect(throws: SyncError.self) { try ThreadBinding(json: Data(json.utf8)) }
        #expect(error?.code == .invalidBinding && error?.message.contains(named) == true, "\(error?.message ?? "")")
    }
}

@Suite("Option rules shared by sync, watch and experiment")
struct SyncOptionRulesTests {
    @Test(arguments: [
        (SyncOptionRules(particles: 100), "--prior cohort"),
        (SyncOptionRules(prior: .cohort, recalibrate: 60, particles: 100), "--recalibrate"),
        (SyncOptionRules(prior: .cohort, ensemble: 10), "--ensemble"),
        (SyncOptionRules(moves: 3), "--particles"),
        (SyncOptionRules(recalibrate: 2), "5 to 10080"),
        (SyncOptionRules(prior: .population, binding: .pk), "--prior"),
    ])
    func optionsThatDoNotCombineAreRefused(_ rules: SyncOptionRules, _ named: String) {
        let error = #expect(throws: SyncError.self) { try rules.check() }
        #expect(error?.message.contains(named) == true, "\(error?.message ?? "")")
    }

    @Test func optionsThatCombinePass() throws {
        try SyncOptionRules(prior: .cohort, particles: 100, moves: 2).check()
        try SyncOptionRules(prior: .twin, ensemble: 50).check()
        try SyncOptionRules(binding: .petab).check()
    }
}
