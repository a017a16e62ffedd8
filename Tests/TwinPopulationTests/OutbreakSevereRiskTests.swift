import Foundation
import Testing
import TwinBank
import TwinCore
@testable import TwinPopulation

/// Issue 24 item 1: conditions and sex change a person's risk of severe disease.
@Suite("outbreak: conditions and sex change risk")
struct OutbreakSevereRiskTests {
    @Test func conditionsAreMatchedToTheTable() {
        func rr(_ conditions: [String], _ sex: String? = nil) -> Double { SevereRisk.multiplier(conditions: conditions, sex: sex) }
        #expect(rr(["http://snomed.info/sct|44054006"]) == 1.31)
        #expect(rr(["http://hl7.org/fhir/sid/icd-10|E11.9"]) == 1.31 && rr(["http://hl7.org/fhir/sid/icd-10-cm|E119"]) == 1.31)
        #expect(rr(["Type 2 Diabetes Mellitus"]) == 1.31 && rr(["diabetes insipidus"]) == 1 && rr(["prediabetes"]) == 1)
        // One factor per group: the largest.
        #expect(rr(["http://snomed.info/sct|709044004", "http://snomed.info/sct|433146000", "CKD"]) == 2.52)
        #expect(rr(["obesity", "http://hl7.org/fhir/sid/icd-10-cm|E66.01"]) == 1.92)
        #expect(abs(rr(["COPD", "heart failure", "diabetes"], "male") - 1.63 * 1.17 * 1.31 * 1.59) < 1e-12)
        #expect(rr(["kidney transplant recipient"], "M") == 3.53 * 1.59)
        #expect(rr(["http://snomed.info/sct|38341003", "asthma"], "female") == 1)    // hypertension, asthma: not in the table
        #expect(rr([], "http://snomed.info/sct|248153007") == 1.59 && rr([], nil) == 1)
        #expect(SevereRisk.table.allSatisfy { $0.citation.contains("Williamson et al., Nature 584 (2020) 430") && $0.relativeRisk > 1 })
        #expect(Set(SevereRisk.table.map(\.group)) == ["diabetes", "kidney", "respiratory", "heart", "obesity", "immunosuppression"])
    }

    /// 400 members aged 50: half are kidney-transplant recipients (RR 3.53), half have no condition.
    static func transplantWard() throws -> MemberPopulation {
        let bank = Bank(storage: MemoryStorage(), clock: ManualClock(try Instant(parsing: "2026-03-01T00:00:00Z"), stepMicroseconds: 1000))
        for k in 0..<400 {
            var a: [String: Value] = ["birthDate": .date(try Instant(parsing: "1975-06-01")), "sex": .text("female")]
            if k % 2 == 0 { a["condition"] = .text("kidney transplant recipient") }
            try bank.createTwin(Twin(id: try TwinID(String(format: "m%03d", k)), kind: .person, attributes: a))
        }
        _ = try bank.createAggregate("all", where: "kind = person")
        return try PopulationTwin.fromAggregate("all", in: bank, id: "ward", seed: 1)
    }

    /// The severe fraction of the members with the condition is the model's probability times 3.53 (capped at 1),
    /// statistically: every member infected in each of 60 seeded kernels.
    @Test func aConditionRaisesTheSevereFraction() throws {
        let members = try Self.transplantWard()
        let population = members.population
        let withCondition = (0..<400).filter { members.conditions[$0] == ["kidney transplant recipient"] }
        #expect(withCondition.count == 200)
        #expect(population.severeRisk.count == 400)
        #expect(withCondition.allSatisfy { population.severeRisk[$0] == 3.53 })
        #expect((0..<400).filter { population.severeRisk[$0] == 1 }.count == 200)
        var severe = [0, 0], expected = [0.0, 0.0], variance = [0.0, 0.0]
        for seed in UInt64(1)...60 {
            var k = Kernel(population: population, scenario: .uncontrolled, days: 10, seed: seed)
            defer { k.deallocate() }
            for j in 0..<400 {
                k.infect(j, day: 0)
                let g = population.severeRisk[j] > 1 ? 1 : 0
                if k.fate[j] >= AgentFate.severe { severe[g] += 1 }
                let b = Int(k.band[j])
                let p = k.pSymptomatic[b] * min(1, k.pSevere[b] * population.severeRisk[j])
                expected[g] += p; variance[g] += p * (1 - p)
            }
        }
        for g in 0..<2 {
            #expect(abs(Double(severe[g]) - expected[g]) < 4 * variance[g].squareRoot(), "group \(g): \(severe[g]) severe, expected \(expected[g])")
        }
        #expect(Double(severe[1]) > 2.5 * Double(severe[0]), "\(severe)")
    }

    /// A synthetic population (no conditions, no sex) runs as before, count for count: the numbers this seed gave
    /// before conditions were read.
    @Test func syntheticPopulationsAreUnchanged() throws {
        var population = try SyntheticPopulation.generate(size: 5000, seed: 11)
        #expect(population.severeRisk.isEmpty)
        let run = try OutbreakModel.run(population: population, scenario: .covasimFull, days: 90, seed: 3)
        let h = run.headline
        #expect(h.cumulativeInfections == 1887 && h.deaths == 7 && h.peakDailyInfections == 55)
        #expect(run.counts[OutbreakSeries.severe.rawValue].reduce(0, +) == 1056 && run.counts[OutbreakSeries.critical.rawValue].reduce(0, +) == 439)
        population.severeRisk = [Double](repeating: 1, count: 5000)
        #expect(try OutbreakModel.run(population: population, scenario: .covasimFull, days: 90, seed: 3).counts == run.counts)
        population.severeRisk = [Double](repeating: 3, count: 5000)
        let riskier = try OutbreakModel.run(population: population, scenario: .covasimFull, days: 90, seed: 3)
        #expect(riskier.counts[OutbreakSeries.severe.rawValue].reduce(0, +) > 1056)
        population.severeRisk = [2, 3]
        #expect(throws: PopulationError.self) { try OutbreakModel.run(population: population, scenario: .covasimFull, days: 5, seed: 3) }
        // Members without a condition of the table and not male: no multiplier either.
        let bank = Bank(storage: MemoryStorage(), clock: ManualClock(try Instant(parsing: "2026-03-01T00:00:00Z"), stepMicroseconds: 1000))
        try bank.createTwin(Twin(id: "a", kind: .person, attributes: ["birthDate": .date(try Instant(parsing: "1980-01-01")), "sex": .text("female"),
                                                                     "condition": .text("asthma")]))
        try bank.createTwin(Twin(id: "b", kind: .person, attributes: ["birthDate": .date(try Instant(parsing: "1980-01-01"))]))
        _ = try bank.createAggregate("all", where: "kind = person")
        #expect(try PopulationTwin.fromAggregate("all", in: bank, id: "ward", seed: 1).population.severeRisk.isEmpty)
    }
}
