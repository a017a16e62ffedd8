import Foundation
import Testing
import TwinBank
import TwinCore
import TwinGovernance

@Suite struct KAnonymityTests {
    static func record(_ i: Int, _ year: String, _ sex: String, _ zip: String, _ dx: String? = nil) -> ReleaseRecord {
        var f = ["birthYear": year, "sex": sex, "zip3": zip]
        if let dx { f["dx"] = dx }
        return ReleaseRecord(id: "r\(i)", fields: f)
    }

    @Test func hierarchiesGeneraliseYearsZIPsAndOtherValues() {
        let y = GeneralisationHierarchy(attribute: "birthYear")
        #expect((0..<4).map { y.generalise("1952", level: $0) } == ["1952", "1950-1954", "1950-1959", "*"])
        #expect(y.generalise("1957", level: 1) == "1955-1959")
        #expect(y.generalise("90+", level: 2) == "90+")
        let z = GeneralisationHierarchy(attribute: "zip3")
        #expect((0..<3).map { z.generalise("021", level: $0) } == ["021", "02", "*"])
        let s = GeneralisationHierarchy(attribute: "sex")
        #expect((0..<2).map { s.generalise("female", level: $0) } == ["female", "*"])
        #expect(s.generalise(nil, level: 0) == "?")
    }

    @Test func choosesTheLeastGeneralisationThatMeetsK() throws {
        // ten women in 021 born 1950...1954, two a year: k = 2 holds as is; k = 10 needs the 5-year band
        let records = (0..<10).map { Self.record($0, String(1950 + $0 / 2), "female", "021") }
        let k2 = try KAnonymity(k: 2, quasiIdentifiers: ["birthYear", "sex", "zip3"]).anonymise(records)
        #expect(k2.report.levels.map(\.level) == [0, 0, 0] && k2.report.suppressed == 0)
        let k10 = try KAnonymity(k: 10, quasiIdentifiers: ["birthYear", "sex", "zip3"]).anonymise(records)
        #expect(k10.report.levels.map(\.level) == [1, 0, 0])
        #expect(k10.report.levels.first?.name == "5-year band")
        #expect(Set(k10.records.map { $0.fields["birthYear"]! }) == ["1950-1954"])
        #expect(k10.report.after.classes == 1 && k10.report.after.smallestClass == 10)
        #expect(k10.report.before.classes == 5 && k10.report.before.unique == 0)
    }

    @Test func suppressesAnOutlierRatherThanGeneralisingEveryone() throws {
        // 20 people in two tidy groups and one outlier: suppressing 1 of 21 (under 5 %) is cheaper than generalising
        var records = (0..<10).map { Self.record($0, "1960", "male", "021") } + (10..<20).map { Self.record($0, "1970", "female", "021") }
        records.append(Self.record(20, "1999", "male", "945"))
        let r = try KAnonymity(k: 5, quasiIdentifiers: ["birthYear", "sex", "zip3"]).anonymise(records)
        #expect(r.report.suppressed == 1 && r.report.maxSuppressed == 1)
        #expect(r.report.levels.map(\.level) == [0, 0, 0])
        #expect(!r.records.contains { $0.id == "r20" })
        // with no suppression allowed the outlier forces generalisation instead
        let strict = try KAnonymity(k: 5, quasiIdentifiers: ["birthYear", "sex", "zip3"], maxSuppression: 0).anonymise(records)
        #expect(strict.report.suppressed == 0 && strict.records.count == 21)
        #expect(strict.report.after.smallestClass >= 5)
        #expect(strict.report.informationLoss > r.report.informationLoss)
    }

    @Test func theSuppressionLimitIsTheFractionRoundedDown() throws {
        // 0.29 x 100 is 28.999... in binary: the limit is still 29
        let records = (0..<100).map { Self.record($0, String(1900 + $0), "male", "021") }
        let r = try KAnonymity(k: 1, quasiIdentifiers: ["sex"], maxSuppression: 0.29).anonymise(records)
        #expect(r.report.maxSuppressed == 29)
    }

    @Test func lDiversityNeedsDistinctSensitiveValuesInEveryClass() throws {
        // each year class has 5 people but the 1960 class has a single diagnosis: l = 2 must merge it with 1961
        let records = (0..<5).map { Self.record($0, "1960", "male", "021", "flu") }
            + (5..<10).map { Self.record($0, "1961", "male", "021", $0 % 2 == 0 ? "flu" : "asthma") }
        let k = try KAnonymity(k: 5, quasiIdentifiers: ["birthYear", "sex", "zip3"]).anonymise(records)
        #expect(k.report.levels.map(\.level) == [0, 0, 0])
        let kl = try KAnonymity(k: 5, quasiIdentifiers: ["birthYear", "sex", "zip3"], l: 2, sensitive: "dx").anonymise(records)
        #expect(kl.report.levels[0].level >= 1)
        for (_, members) in Dictionary(grouping: kl.records, by: { [$0.fields["birthYear"]!, $0.fields["sex"]!, $0.fields["zip3"]!] }) {
            #expect(Set(members.map { $0.fields["dx"]! }).count >= 2)
        }
        #expect(kl.records.allSatisfy { $0.fields["dx"] != nil }, "the sensitive attribute is released unchanged")
    }

    @Test func impossibleRequestsAreRefusedNamingTheValue() throws {
        let three = (0..<3).map { Self.record($0, "1960", "male", "021") }
        let e = try #require(throws: GovernanceError.self) { try KAnonymity(k: 5, quasiIdentifiers: ["sex"]).anonymise(three) }
        #expect(e.code == .invalidRelease && e.message.contains("5"))
        #expect(throws: GovernanceError.self) { try KAnonymity(k: 0, quasiIdentifiers: ["sex"]) }
        #expect(throws: GovernanceError.self) { try KAnonymity(k: 2, quasiIdentifiers: ["sex"], l: 2) }
        #expect(throws: GovernanceError.self) { try KAnonymity(k: 2, quasiIdentifiers: ["sex", "sex"]) }
    }

    /// The issue's example: birth year, sex and ZIP3 single out most Synthea patients; k = 5 fixes it.
    @Test(.enabled(if: SyntheaFixture.available, "needs ../shared/data/synthea"))
    func syntheaPatientsBeforeAndAfter() throws {
        let (_, _, twins) = try SyntheaFixture.bank()
        let harbor = SafeHarbor(key: try PseudonymKey(bytes: Array(repeating: 1, count: 32)), referenceYear: 2026)
        let records = twins.map(harbor.record(of:))
        let k = try KAnonymity(k: 5, quasiIdentifiers: ["birthYear", "sex", "zip3"])
        let result = try k.anonymise(records)
        let r = result.report
        print("synthea k-anonymity: \(records.count) people; before \(r.before); after \(r.after); suppressed \(r.suppressed); levels \(r.levels.map { "\($0.attribute)=\($0.name)" }); loss \(r.informationLoss)")
        #expect(records.count == twins.count && records.count >= 60)
        #expect(r.before.unique >= records.count * 8 / 10, "most patients are unique on birth year, sex and ZIP3")
        #expect(r.after.smallestClass >= 5)
        #expect(r.suppressed <= records.count / 20)
        #expect(r.after.unique == 0)
    }
}
