import Foundation
import Testing
import TwinBank
import TwinCore
import TwinFHIR
import TwinGovernance

@Suite struct RepresentativenessTests {
    static let now = try! Instant(parsing: "2026-06-01T00:00:00Z")

    static func person(_ i: Int, sex: String, born: String, state: String = "MA", zip: String = "02110") throws -> Twin {
        Twin(id: try TwinID("p\(i)"), kind: .person, attributes: [
            "gender": .text(sex), "birthDate": .date(try Instant(parsing: born)), "address": .text("\(i) Main St, Town, \(state), \(zip), US"),
        ])
    }

    @Test func aConstructedAggregateMissingAGroupIsFlaggedAbsent() throws {
        // 200 people, none over 60 and no men; the reference has 20 % over 60 and half men
        let sample = try (0..<200).map { try Self.person($0, sex: "female", born: $0 % 2 == 0 ? "1990-01-01" : "1970-01-01") }
        let profile = Representativeness.profile(of: sample, at: Self.now)
        let reference = Representativeness.Marginals(shares: [
            "sex": ["female": 0.5, "male": 0.5],
            "ageBand": ["30-39": 0.4, "50-59": 0.4, "60-69": 0.2],
            "state": ["MA": 1.0],
        ])
        let report = Representativeness().compare(profile, with: reference)
        let flagged = Dictionary(uniqueKeysWithValues: report.flagged.map { ("\($0.attribute)=\($0.value)", $0.flag) })
        #expect(flagged == ["sex=male": .absent, "ageBand=60-69": .absent])
        let female = try #require(report.groups.first { $0.value == "female" })
        #expect(female.share == 1 && female.ratio == 2)
    }

    @Test func theWilsonIntervalKeepsSmallCountsFromBeingOverFlagged() throws {
        // 1 of 20 against a 10 % reference: ratio 0.5 but too few people to say so; 10 of 1000 is under-represented
        let r = Representativeness()
        let small = Representativeness.Profile(people: 20, counts: ["sex": ["other": 1]])
        let large = Representativeness.Profile(people: 1000, counts: ["sex": ["other": 10]])
        let ref = Representativeness.Marginals(shares: ["sex": ["other": 0.1]])
        #expect(r.compare(small, with: ref).groups[0].flag == .ok)
        #expect(r.compare(large, with: ref).groups[0].flag == .under)
        let w = r.wilson(1, 20)
        #expect(abs(w.low - 0.0089) < 0.001 && abs(w.high - 0.2361) < 0.001)
    }

    @Test func marginalsAreReadFromCSVAndBadLinesNamed() throws {
        let m = try Representativeness.Marginals(csv: "attribute,value,share\nsex,female,0.51\nsex,male,49%\n")
        #expect(m.shares["sex"]?["female"] == 0.51 && m.shares["sex"]?["male"] == 0.49)
        for (bad, named) in [("sex,female,1.5\n", "1.5"), ("sex,female\n", "sex,female"), ("sex,female,x\n", "x"), ("sex,a,0.1\nsex,a,0.2\n", "twice")] {
            let e = try #require(throws: GovernanceError.self) { try Representativeness.Marginals(csv: bad) }
            #expect(e.message.contains(named), "\(e.message)")
        }
    }

    /// Race and ethnicity come from the records' US Core extensions (OMB categories), so a cohort can be checked
    /// on them; they survive a FHIR export and re-import.
    @Test(.enabled(if: SyntheaFixture.available, "needs ../shared/data/synthea"))
    func raceAndEthnicityAreReadFromUSCore() throws {
        let (bank, id, twins) = try SyntheaFixture.bank(clock: ManualClock(Self.now))
        let profile = try Representativeness.profile(bank: bank, aggregate: id)
        for attribute in ["race", "ethnicity"] {
            let counts = try #require(profile.counts[attribute])
            #expect(counts["unknown"] == nil, "\(attribute): \(counts)")
            #expect(counts.values.reduce(0, +) == 60)
        }
        #expect(Set(profile.counts["ethnicity"]!.keys).isSubset(of: ["Hispanic or Latino", "Not Hispanic or Latino"]))
        #expect(profile.counts["race"]!.keys.contains("White"))
        for t in twins {
            guard case .concept(let race)? = t.attributes["race"] else { Issue.record("\(t.id): race \(String(describing: t.attributes["race"]))"); continue }
            #expect(race.system == "urn:oid:2.16.840.1.113883.6.238")
            #expect(t.attributes["birthSex"] != nil)
            let again = PatientMapping.twin(PatientMapping.patient(t), id: t.id)
            for a in ["race", "ethnicity", "birthSex"] { #expect(again.attributes[a] == t.attributes[a], "\(t.id) \(a)") }
        }
        // a cohort of only one race is flagged against the population for the others
        let reference = Representativeness.Marginals(shares: ["race": ["White": 0.7, "Black or African American": 0.1, "Asian": 0.07]])
        let report = Representativeness().compare(profile, with: reference)
        #expect(report.groups.filter { $0.attribute == "race" }.count == 3)
    }

    /// The Synthea patients against Massachusetts-like marginals (2020 census shares, rounded).
    @Test(.enabled(if: SyntheaFixture.available, "needs ../shared/data/synthea"))
    func syntheaPatientsAgainstAMarginalsTable() throws {
        let (bank, id, _) = try SyntheaFixture.bank(clock: ManualClock(Self.now))
        let profile = try Representativeness.profile(bank: bank, aggregate: id)
        #expect(profile.people == 60)
        let marginals = try Representativeness.Marginals(csv: """
            attribute,value,share
            sex,female,0.51
            sex,male,0.49
            ageBand,0-9,0.10
            ageBand,10-19,0.12
            ageBand,20-29,0.14
            ageBand,30-39,0.13
            ageBand,40-49,0.12
            ageBand,50-59,0.14
            ageBand,60-69,0.12
            ageBand,70-79,0.08
            ageBand,80-89,0.035
            ageBand,90+,0.015
            state,Massachusetts,1.0
            """)
        let report = Representativeness().compare(profile, with: marginals)
        for g in report.groups { print("synthea representativeness: \(g.attribute)=\(g.value) \(g.count)/\(report.people) share \(g.share) reference \(g.referenceShare) \(g.flag)") }
        #expect(report.groups.count == 13)
        #expect(report.flagged.map { "\($0.attribute)=\($0.value):\($0.flag)" } == ["ageBand=90+:absent"])
        #expect(abs(report.groups.filter { $0.attribute == "sex" }.reduce(0) { $0 + $1.share } - 1) < 1e-9)
        // every flag follows its rule
        for g in report.groups {
            switch g.flag {
            case .absent: #expect(g.count == 0 && g.referenceShare >= 0.01)
            case .under: #expect(g.count > 0 && g.high < 0.5 * g.referenceShare)
            case .ok: #expect(g.count > 0 || g.referenceShare < 0.01)
            }
        }
    }
}
