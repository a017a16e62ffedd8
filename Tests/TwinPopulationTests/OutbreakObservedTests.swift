import Foundation
import Testing
import TwinBank
import TwinCore
@testable import TwinPopulation

/// Issue 24 item 2 with item 3: on a population of bank members with location pings, the close contacts the
/// pings show are the community layer of the days they cover, for transmission and for tracing.
@Suite("outbreak: observed contacts")
struct OutbreakObservedTests {
    /// Monday 2026-03-02, 00:00 UTC.
    static let monday = try! Instant(parsing: "2026-03-02T00:00:00Z")
    static let mondayDay = ObservedContacts.day(of: monday)

    /// Eight people born 1990: p0 and p1 share a household, everyone else lives alone; nobody goes to school
    /// or work. Every day of the week from Monday, each pings three times around 10:00 at a place of their own
    /// (1 km apart), except that p2 stands 3 m from p1 every day, and on Tuesdays p3 stands 3 m from p1 too.
    static func bank(pingDays: Int = 7) throws -> Bank {
        let bank = Bank(storage: MemoryStorage(), clock: ManualClock(try Instant(parsing: "2026-04-01T00:00:00Z"), stepMicroseconds: 1000))
        for k in 0..<8 {
            var a: [String: Value] = ["birthDate": .date(try Instant(parsing: "1990-01-01"))]
            if k < 2 { a["household"] = .text("h1") }
            try bank.createTwin(Twin(id: try TwinID("p\(k)"), kind: .person, attributes: a))
        }
        _ = try bank.createAggregate("all", where: "kind = person")
        var drafts: [EventDraft] = []
        let src = Source(.device, "phone")
        for day in 0..<pingDays {
            for k in 0..<8 {
                var lat = 45.5 + 0.01 * Double(k)
                if k == 2 || (k == 3 && day % 7 == 1) { lat = 45.51 + 0.000027 }     // 3 m north of p1
                for minute in [0.0, 5, 10] {
                    let at = monday.advanced(bySeconds: Double(day) * 86_400 + 36_000 + minute * 60)
                    drafts.append(LocationEvents.ping(try TwinID("p\(k)"), at: at, latitude: lat, longitude: -73.6, source: src))
                }
            }
        }
        try bank.append(drafts)
        return bank
    }

    static func members(_ bank: Bank) throws -> MemberPopulation {
        try PopulationTwin.fromAggregate("all", in: bank, id: "ward", seed: 3)
    }

    /// A fast, certain epidemic: one index case, no individual variation, no interventions.
    static var fierce: OutbreakScenario {
        var s = OutbreakScenario.uncontrolled
        s.disease.beta = 0.5
        s.disease.initialInfections = 1
        s.disease.overdispersion = nil
        return s
    }

    @Test func pingsGiveTheDaysContacts() throws {
        let bank = try Self.bank()
        let m = try Self.members(bank)
        #expect(m.members.map(\.rawValue) == ["p0", "p1", "p2", "p3", "p4", "p5", "p6", "p7"])
        let c = try ObservedContacts.read(m, in: bank, criteria: try ProximityCriteria(distance: 10, window: 900))
        #expect(c.days == Array(Self.mondayDay..<(Self.mondayDay + 7)))
        #expect(c.pings == 8 * 3 * 7 && c.people == 8)
        // p1-p2 every day; p1-p3 and p2-p3 on Tuesday.
        #expect(c.layers.map(\.edgeCount) == [1, 3, 1, 1, 1, 1, 1])
        #expect(Array(c.layers[0].contacts(of: 1)) == [2] && Array(c.layers[1].contacts(of: 1)) == [2, 3])
        #expect((0..<8).allSatisfy { c.pinged($0, day: 3) })
        // The same pairs as a brute-force scan of all pings, every person an index case.
        let pings = try LocationEvents.pings(of: m.members, in: bank)
        let brute = Set(ContactTracer.bruteForce(pings, cases: Array(0..<8), criteria: try ProximityCriteria(distance: 10, window: 900))
            .map { [min($0.indexCase, $0.contact), max($0.indexCase, $0.contact)] })
        var found = Set<[Int32]>()
        for layer in c.layers { for i in 0..<8 { for j in layer.contacts(of: i) { found.insert([min(Int32(i), j), max(Int32(i), j)]) } } }
        #expect(found == brute)
    }

    @Test func aPairAcrossMidnightCountsOnTheDayOfTheEarlierPing() throws {
        let midnight = Double(Self.mondayDay + 1) * 86_400
        let pings = try Pings(person: [0, 1, 2, 2], time: [midnight - 300, midnight + 200, midnight + 5000, midnight - 40_000],
                              latitude: [45.5, 45.5, 45.5, 46], longitude: [-73.6, -73.6, -73.6, -73.6])
        let c = try ObservedContacts.find(pings, count: 3, criteria: try ProximityCriteria(distance: 10, window: 900))
        #expect(c.days == [Self.mondayDay, Self.mondayDay + 1])
        #expect(Array(c.layers[0].contacts(of: 0)) == [1] && c.layers[1].edgeCount == 0)
        #expect(c.pinged(2, day: 0) && !c.pinged(1, day: 0) && c.pinged(1, day: 1))
        #expect(throws: PopulationError.self) { try ObservedContacts.find(pings, count: 2, criteria: try ProximityCriteria(distance: 10, window: 900)) }
    }

    /// Infection goes only through households and the observed pairs: the infected always lie in one component
    /// of household + observed contacts ({p0, p1, p2, p3}, or someone alone); without the pings it spreads
    /// through the random community contacts.
    @Test func infectionTakesOnlyHouseholdsAndObservedPairs() throws {
        let bank = try Self.bank()
        let m = try Self.members(bank)
        let c = try ObservedContacts.read(m, in: bank, criteria: try ProximityCriteria(distance: 10, window: 900))
        let observed = ObservedCommunity(contacts: c, startDay: Self.mondayDay)
        let component: [Int] = [0, 0, 0, 0, 4, 5, 6, 7]
        var reachedP2 = false, observedSpread = 0, randomSpread = 0
        for seed in UInt64(1)...30 {
            let (_, with) = try OutbreakModel.runWithOutcomes(population: m.population, scenario: Self.fierce, days: 60, seed: seed, observed: observed)
            let infected = (0..<8).filter { with.everInfected($0) }
            #expect(Set(infected.map { component[$0] }).count == 1, "seed \(seed): \(infected)")
            if infected.count > 1 { observedSpread += 1 }
            if infected.contains(2) && infected.contains(0) { reachedP2 = true }
            let (_, without) = try OutbreakModel.runWithOutcomes(population: m.population, scenario: Self.fierce, days: 60, seed: seed)
            if Set((0..<8).filter { without.everInfected($0) }.map { component[$0] }).count > 1 { randomSpread += 1 }
        }
        #expect(reachedP2 && observedSpread > 0)
        #expect(randomSpread > 0)
    }

    /// Tracing a diagnosed person's community layer on observed days quarantines exactly their observed
    /// contacts of the look-back days (observedCoverage 1; the random community contacts, coverage 1 too, are gone).
    @Test(arguments: [(14, [0, 2, 3]), (1, [0, 2])])
    func tracingQuarantinesTheObservedContacts(lookback: Int, expected: [Int32]) throws {
        let bank = try Self.bank()
        let m = try Self.members(bank)
        let c = try ObservedContacts.read(m, in: bank, criteria: try ProximityCriteria(distance: 10, window: 900))
        var s = Self.fierce
        var tr = TracingPolicy()
        tr.coverage = [1, 0, 0, 1]
        tr.delay = [0, 0, 0, 0]
        tr.observedCoverage = 1
        tr.observedDays = lookback
        s.tracing = tr
        // Day 2 is Wednesday: p1's observed contacts are p2 (every day) and p3 (Tuesday, day 1); p0 by household.
        var kernel = Kernel(population: m.population, scenario: s, days: 10, seed: 1,
                            observed: ObservedCommunity(contacts: c, startDay: Self.mondayDay))
        defer { kernel.deallocate() }
        var run = Kernel.DayState(kernel: kernel)
        run.diagnosisDue[2] = [1]
        kernel.diagnoseAndTrace(&run, 2)
        #expect(Set(run.quarantineDue[2].map(\.person)) == Set(expected))
        // Without the pings the random community contacts are traced instead.
        var plain = Kernel(population: m.population, scenario: s, days: 10, seed: 1)
        defer { plain.deallocate() }
        var plainRun = Kernel.DayState(kernel: plain)
        plainRun.diagnosisDue[2] = [1]
        plain.diagnoseAndTrace(&plainRun, 2)
        #expect(Set(plainRun.quarantineDue[2].map(\.person)) == Set([0] + m.population.layer(.community).contacts(of: 1)))
    }

    @Test func laterDaysRepeatTheObservedWeeks() throws {
        // Pings on 10 days from Monday (Monday ... Wednesday of the next week), but none on the first Friday.
        var person: [Int32] = [], time: [Double] = []
        for d in 0..<10 where d != 4 { person.append(0); time.append(Double(Self.mondayDay + d) * 86_400 + 3600) }
        let c = try ObservedContacts.find(try Pings(person: person, time: time, latitude: person.map { _ in 45 }, longitude: person.map { _ in 0 }),
                                          count: 1, criteria: try ProximityCriteria(distance: 10, window: 900))
        let o = ObservedCommunity(contacts: c, startDay: Self.mondayDay)
        func calendar(_ t: Int) -> Int? { o.observedDay(simulatedDay: t).map { c.days[$0] - Self.mondayDay } }
        #expect((0..<10).map(calendar) == [0, 1, 2, 3, nil, 5, 6, 7, 8, 9])
        // Day 10 (Thursday of week 2) is past the last ping: the span is two weeks, Thursday of week 2 has none,
        // so Thursday of week 1; day 14 is Monday of week 1 again, day 21 Monday of week 2.
        #expect([10, 11, 14, 21, 23, 24, 28].map(calendar) == [3, nil, 0, 7, 9, 3, 0])
        // Days before the first ping are not observed.
        #expect(ObservedCommunity(contacts: c, startDay: Self.mondayDay - 2).observedDay(simulatedDay: 1) == nil)
        // A span shorter than a week: the weekdays it lacks are not observed.
        let two = try ObservedContacts.find(try Pings(person: [0, 0], time: [Double(Self.mondayDay) * 86_400, Double(Self.mondayDay + 1) * 86_400],
                                                      latitude: [45, 45], longitude: [0, 0]),
                                            count: 1, criteria: try ProximityCriteria(distance: 10, window: 900))
        let short = ObservedCommunity(contacts: two, startDay: Self.mondayDay)
        #expect((6...9).map { short.observedDay(simulatedDay: $0) } == [nil, 0, 1, nil])
        #expect(short.used(days: 9) == (simulatedDays: 4, observedDays: 2, pairs: 0))
    }

    /// No pings (or pings on days the run never reaches) leave the run exactly as it was, count for count.
    @Test func noPingsIsTheRunWithout() throws {
        let population = try SyntheticPopulation.generate(size: 3000, seed: 5)
        let plain = try OutbreakModel.run(population: population, scenario: .covasimFull, days: 40, seed: 9)
        let none = try OutbreakModel.run(population: population, scenario: .covasimFull, days: 40, seed: 9,
                                         observed: ObservedCommunity(contacts: .none(count: 3000), startDay: 0))
        #expect(none.counts == plain.counts)
        let pings = try Pings(person: [0, 1], time: [1_000_000 * 86_400, 1_000_000 * 86_400 + 1], latitude: [45, 45], longitude: [0, 0])
        let later = try ObservedContacts.find(pings, count: 3000, criteria: try ProximityCriteria(distance: 10, window: 900))
        let notReached = try OutbreakModel.run(population: population, scenario: .covasimFull, days: 40, seed: 9,
                                               observed: ObservedCommunity(contacts: later, startDay: 1_000_000 - 100))
        #expect(notReached.counts == plain.counts)
        // Everyone pinging on that day, 4 km apart: no random community contact that weekday once it is reached.
        let everyone = try Pings(person: (0..<3000).map { Int32($0) }, time: [Double](repeating: 1_000_000 * 86_400, count: 3000),
                                 latitude: (0..<3000).map { -60 + 0.04 * Double($0) }, longitude: [Double](repeating: 0, count: 3000))
        let apart = try ObservedContacts.find(everyone, count: 3000, criteria: try ProximityCriteria(distance: 10, window: 900))
        #expect(apart.pairCount == 0 && apart.days.count == 1)
        let reached = try OutbreakModel.run(population: population, scenario: .covasimFull, days: 40, seed: 9,
                                            observed: ObservedCommunity(contacts: apart, startDay: 1_000_000 - 20))
        #expect(reached.counts != plain.counts)
        #expect(Array(reached.counts[0].prefix(20)) == Array(plain.counts[0].prefix(20)))
        // A member population without pings: nothing observed.
        let bank = try Self.bank(pingDays: 0)
        let m = try Self.members(bank)
        #expect(try ObservedContacts.read(m, in: bank, criteria: try ProximityCriteria(distance: 10, window: 900)).days.isEmpty)
        // Observed contacts of another population size are refused.
        #expect(throws: PopulationError.self) {
            try OutbreakModel.run(population: population, scenario: .covasimFull, days: 4, seed: 9,
                                  observed: ObservedCommunity(contacts: .none(count: 10), startDay: 0))
        }
    }

    @Test func theScenarioCarriesTheSettings() throws {
        let s = try OutbreakScenario.parse(Data(#"""
            {"observedContacts": {"distance": 25, "window": 600, "start": "2026-03-04"},
             "interventions": [{"type": "tracing", "observedCoverage": 0.9, "observedDays": 7}]}
            """#.utf8))
        #expect(s.observedContacts.distance == 25 && s.observedContacts.window == 600)
        #expect(s.observedContacts.start == (try Instant(parsing: "2026-03-04")))
        #expect(s.tracing?.observedCoverage == 0.9 && s.tracing?.observedDays == 7)
        #expect(OutbreakScenario.covasimFull.tracing?.observedCoverage == nil && OutbreakScenario().observedContacts.distance == 10)
        for (json, named) in [(#"{"observedContacts": {"start": "March"}}"#, "March"),
                              (#"{"observedContacts": {"distance": -1}}"#, "-1"),
                              (#"{"interventions": [{"type": "tracing", "observedCoverage": 1.5}]}"#, "1.5"),
                              (#"{"observedContacts": {"radius": 3}}"#, "radius")] {
            do {
                _ = try OutbreakScenario.parse(Data(json.utf8))
                Issue.record("accepted \(json)")
            } catch {
                #expect(error.code == .invalidScenario && error.message.contains(named), "\(error.message)")
            }
        }
    }
}
