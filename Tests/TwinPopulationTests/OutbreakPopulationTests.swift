import Foundation
import Testing
@testable import TwinPopulation

/// The synthetic population: reproducible, faithful to its marginals, valid networks, strict marginals files.
@Suite struct OutbreakPopulationTests {
    @Test func sameSeedSamePopulationOtherSeedOther() throws {
        let a = try SyntheticPopulation.generate(size: 3000, seed: 5)
        let b = try SyntheticPopulation.generate(size: 3000, seed: 5)
        let c = try SyntheticPopulation.generate(size: 3000, seed: 6)
        #expect(a.ages == b.ages && a.household == b.household && a.school == b.school && a.workplace == b.workplace)
        for k in ContactLayerKind.allCases { #expect(a.layer(k).neighbours == b.layer(k).neighbours) }
        #expect(a.ages != c.ages)
    }

    @Test func followsTheMarginalsAndCovasimsContactCounts() throws {
        let n = 40_000
        let p = try SyntheticPopulation.generate(size: n, seed: 11)
        let m = PopulationMarginals.covasimHybrid
        // Age pyramid: each band's share within 4 binomial standard errors.
        let total = m.ageBands.reduce(0) { $0 + $1.weight }
        for band in m.ageBands {
            let share = band.weight / total
            let observed = Double(p.ages.filter { Int($0) >= band.min && Int($0) <= band.max }.count) / Double(n)
            #expect(abs(observed - share) < 4 * (share * (1 - share) / Double(n)).squareRoot(), "band \(band.min)-\(band.max)")
        }
        // Households: consecutive members, each headed by an adult (there are far more adults than households).
        var start = 0
        while start < n {
            var end = start + 1
            while end < n && p.household[end] == p.household[start] { end += 1 }
            #expect(p.ages[start] >= 18)
            start = end
        }
        // School and work by age; mean contacts as in Covasim's hybrid population (h 2, s 20, w 16, c 20).
        for i in 0..<n {
            if p.school[i] >= 0 { #expect((6...21).contains(Int(p.ages[i]))) }
            if p.workplace[i] >= 0 { #expect((22...64).contains(Int(p.ages[i]))) }
        }
        #expect(abs(p.layer(.household).meanDegree - 2) < 0.1)
        let pupils = p.school.filter { $0 >= 0 }.count, workers = p.workplace.filter { $0 >= 0 }.count
        #expect(abs(Double(p.layer(.school).neighbours.count) / Double(pupils) - 20) < 0.5)
        #expect(abs(Double(p.layer(.work).neighbours.count) / Double(workers) - 16) < 0.5)
        #expect(abs(p.layer(.community).meanDegree - 20) < 0.3)
    }

    @Test func layersAreSymmetricWithoutSelfContacts() throws {
        let p = try SyntheticPopulation.generate(size: 2000, seed: 2)
        for kind in ContactLayerKind.allCases {
            let layer = p.layer(kind)
            var pairs: [Int64: Int] = [:]
            for i in 0..<p.count {
                for j in layer.contacts(of: i) {
                    #expect(Int(j) != i)
                    pairs[Int64(i) << 32 | Int64(j), default: 0] += 1
                }
            }
            for (key, count) in pairs { #expect(pairs[(key & 0xFFFF_FFFF) << 32 | key >> 32] == count) }
        }
    }

    @Test func marginalsFileIsReadStrictly() throws {
        let good = #"{"ageBands": [{"min": 0, "max": 17, "weight": 1}, {"min": 18, "max": 80, "weight": 3}], "householdSizes": [0.5, 0.5], "community": {"contacts": 5, "daily": true}}"#
        let m = try PopulationMarginals.parse(Data(good.utf8))
        #expect(m.ageBands.count == 2 && m.householdSizes == [0.5, 0.5] && m.communityDaily && m.communityContacts == 5)
        #expect(m.workContacts == 16)
        let cases: [(String, String, String)] = [
            (#"{"ageBand": []}"#, "ageBand", "ageBand"),
            (#"{"school": {"enrolment": 1.5}}"#, "school.enrolment", "1.5"),
            (#"{"ageBands": [{"min": 0, "max": 4, "weight": -1}]}"#, "ageBands[0].weight", "-1"),
            (#"{"householdSizes": [0.5, -0.2]}"#, "householdSizes[1]", "-0.2"),
            (#"{"work": {"minAge": 40, "maxAge": 30}}"#, "work.maxAge", "30"),
            (#"{"community": {"daily": 1}}"#, "community.daily", "1"),
        ]
        for (json, key, value) in cases {
            let error = #expect(throws: PopulationError.self) { try PopulationMarginals.parse(Data(json.utf8)) }
            #expect(error?.code == .invalidMarginals)
            #expect(error?.message.contains(key) == true, "\(error?.message ?? "") should name \(key)")
            #expect(error?.value == value, "\(error?.message ?? "")")
        }
    }

    @Test func refusesImpossibleSizes() {
        #expect(throws: PopulationError.self) { try SyntheticPopulation.generate(size: 0, seed: 1) }
        let error = #expect(throws: PopulationError.self) { try SyntheticPopulation.generate(size: 2_000_000_000, seed: 1) }
        #expect(error?.code == .tooLarge)
        // 100 million people with 10,000 community contacts each: terabytes, refused before anything is drawn.
        var crowded = PopulationMarginals.covasimHybrid
        crowded.communityContacts = 10_000
        let tooMany = #expect(throws: PopulationError.self) { try SyntheticPopulation.generate(size: 100_000_000, seed: 1, marginals: crowded) }
        #expect(tooMany?.code == .tooLarge && tooMany?.value == "100000000")
        #expect(tooMany?.message.contains("MiB") == true)
    }

    @Test func memoryEstimateCoversWhatIsHeld() throws {
        let p = try SyntheticPopulation.generate(size: 20_000, seed: 3)
        let estimate = SyntheticPopulation.estimatedBytes(size: 20_000, marginals: .covasimHybrid)
        #expect(estimate >= p.memoryBytes && estimate < 4 * p.memoryBytes, "estimate \(estimate), held \(p.memoryBytes)")
    }
}
