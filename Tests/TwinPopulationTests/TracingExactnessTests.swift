import Foundation
import Testing
import TwinSimulation
@testable import TwinPopulation

/// Issue 24 item 3: the index answers exactly what a brute-force scan answers, on random inputs in every hard
/// place of the sphere and on adversarial ones built to sit on the distance and window boundaries.
@Suite("tracing: the index equals brute force")
struct TracingExactnessTests {
    /// The point reached from (`lat`, `lon`) degrees along the great circle of `bearing` degrees after `metres`.
    static func destination(_ lat: Double, _ lon: Double, bearing: Double, metres: Double) -> (lat: Double, lon: Double) {
        let k = Double.pi / 180
        let d = metres / ProximityCriteria.earthRadius
        let p1 = lat * k, l1 = lon * k, b = bearing * k
        let p2 = asin(min(1, max(-1, sin(p1) * cos(d) + cos(p1) * sin(d) * cos(b))))
        let l2 = l1 + atan2(sin(b) * sin(d) * cos(p1), cos(d) - sin(p1) * sin(p2))
        var lonDeg = l2 / k
        while lonDeg > 180 { lonDeg -= 360 }
        while lonDeg < -180 { lonDeg += 360 }
        return (min(90, max(-90, p2 / k)), lonDeg)
    }

    /// Places where a local flat grid breaks or where cells have edges.
    static let places: [(name: String, lat: Double, lon: Double)] = [
        ("Montreal", 45.46, -73.70),
        ("north pole", 89.99995, 12.0),
        ("on the north pole", 90, 0),
        ("south pole", -89.99998, -170.0),
        ("antimeridian", -12.5, 179.99995),
        ("antimeridian west side", 64.1, -179.99993),
        ("equator and Greenwich", 0, 0),
    ]

    /// `count` pings of `people` people scattered within `spread` metres of a place and `span` seconds; a tenth of
    /// the positions rounded to 7 decimals as the anchor writes them, and some rows duplicated.
    static func scatter(around place: (lat: Double, lon: Double), count: Int, people: Int, spread: Double,
                        span: Double, seed: UInt64) throws -> Pings {
        var rng = Xoshiro256StarStar(seed: seed)
        var pings = Pings()
        for i in 0..<count {
            if i > 0, rng.nextUniform() < 0.05 {
                // a duplicate of an earlier row
                let j = Int(rng.next() % UInt64(pings.count))
                try pings.append(person: pings.person[j], time: pings.time[j], latitude: pings.latitude[j], longitude: pings.longitude[j])
                continue
            }
            var (lat, lon) = destination(place.lat, place.lon, bearing: rng.nextUniform() * 360,
                                         metres: spread * rng.nextUniform().squareRoot())
            if rng.nextUniform() < 0.1 {
                lat = (lat * 1e7).rounded() / 1e7
                lon = (lon * 1e7).rounded() / 1e7
            }
            try pings.append(person: Int32(rng.next() % UInt64(people)), time: (rng.nextUniform() * span).rounded(),
                             latitude: lat, longitude: lon)
        }
        return pings
    }

    @Test("random pings near hard places", arguments: places.indices, [(10.0, 900.0), (0.0, 0.0), (250.0, 60.0)])
    func randomEqualsBruteForce(place: Int, criteria: (distance: Double, window: Double)) throws {
        let c = try ProximityCriteria(distance: criteria.distance, window: criteria.window)
        let p = Self.places[place]
        // spread a few times the distance so that many pairs sit near it
        let spread = max(30, criteria.distance * 4)
        let pings = try Self.scatter(around: (p.lat, p.lon), count: 1500, people: 120, spread: spread,
                                     span: max(3600, criteria.window * 6), seed: UInt64(place * 31 + Int(criteria.distance)))
        let cases: [Int32] = Array(0..<15)
        let expected = ContactTracer.bruteForce(pings, cases: cases, criteria: c)
        let traced = ContactTracer.trace(pings, cases: cases, criteria: c, workers: 2)
        #expect(traced.pairs == expected, "\(p.name) d=\(criteria.distance) w=\(criteria.window)")
        if criteria.distance > 0 { #expect(!expected.isEmpty, "the sample should hold contacts near \(p.name)") }
        #expect(traced.pairs.allSatisfy { $0.indexCase != $0.contact })
    }

    /// Along great circles from hard places, the pair exactly on the acceptance edge: the farthest point the exact
    /// test accepts and the next one it rejects (found by bisection down to adjacent doubles), each its own person;
    /// at the window's edges; the same person twice; duplicated rows.
    @Test("adversarial: the distance and window edges, poles, antimeridian, same person, duplicates",
          arguments: [10.0, 1.0, 3000.0])
    func adversarialEdges(distance: Double) throws {
        let window = 900.0
        let c = try ProximityCriteria(distance: distance, window: window)
        var pings = Pings()
        var accepted: Set<Int32> = []
        var rejected: Set<Int32> = []
        var cases: [Int32] = []
        var next: Int32 = 1000
        for (n, place) in Self.places.enumerated() {
            let base = Int32(n)
            cases.append(base)
            let t0 = Double(n) * 100_000    // places far apart in time too, so their pings never meet
            try pings.append(person: base, time: t0, latitude: place.lat, longitude: place.lon)
            // the same person again at the same place and at the edge: never their own contact
            try pings.append(person: base, time: t0 + 1, latitude: place.lat, longitude: place.lon)
            for bearing in stride(from: 0.0, to: 360.0, by: 22.5) {
                func at(_ s: Double) -> (lat: Double, lon: Double) { Self.destination(place.lat, place.lon, bearing: bearing, metres: s) }
                func ok(_ s: Double) -> Bool { let q = at(s); return c.accepts(t0, place.lat, place.lon, t0, q.lat, q.lon) }
                var lo = distance * 0.5, hi = distance * 1.5
                guard ok(lo), !ok(hi) else { continue }
                while true {
                    let mid = lo + (hi - lo) / 2
                    if mid <= lo || mid >= hi { break }
                    if ok(mid) { lo = mid } else { hi = mid }
                }
                let inside = at(lo), outside = at(hi)
                try pings.append(person: next, time: t0, latitude: inside.lat, longitude: inside.lon)
                accepted.insert(next); next += 1
                try pings.append(person: next, time: t0, latitude: outside.lat, longitude: outside.lon)
                rejected.insert(next); next += 1
                // on the distance edge and exactly at the window's edges, then just beyond them
                try pings.append(person: next, time: t0 + window, latitude: inside.lat, longitude: inside.lon)
                accepted.insert(next); next += 1
                try pings.append(person: next, time: t0 - window, latitude: inside.lat, longitude: inside.lon)
                accepted.insert(next); next += 1
                try pings.append(person: next, time: (t0 + 1 + window).nextUp, latitude: place.lat, longitude: place.lon)
                rejected.insert(next); next += 1
                try pings.append(person: next, time: t0 - window - 1, latitude: inside.lat, longitude: inside.lon)
                rejected.insert(next); next += 1
                // a duplicated row
                try pings.append(person: next, time: t0 + 3, latitude: inside.lat, longitude: inside.lon)
                try pings.append(person: next, time: t0 + 3, latitude: inside.lat, longitude: inside.lon)
                accepted.insert(next); next += 1
            }
        }
        #expect(accepted.count > 100)
        let expected = ContactTracer.bruteForce(pings, cases: cases, criteria: c)
        let traced = ContactTracer.trace(pings, cases: cases, criteria: c, workers: 2)
        #expect(traced.pairs == expected)
        let contacts = Set(traced.pairs.map(\.contact))
        #expect(accepted.isSubset(of: contacts), "missing edge contacts: \(accepted.subtracting(contacts).sorted().prefix(10))")
        #expect(rejected.isDisjoint(with: contacts), "beyond the edge but traced: \(rejected.intersection(contacts).sorted().prefix(10))")
        #expect(traced.pairs.allSatisfy { $0.indexCase != $0.contact })
        #expect(Set(traced.pairs).count == traced.pairs.count)
    }

    /// The index's own cell edges, where a filter without a safe margin drops pairs: a contact exactly on (and just
    /// below) a latitude band edge, its index case due north or south at the farthest latitude the exact test
    /// accepts, and exactly the window away (the edge of the time range the index searches).
    @Test("contacts on the index's band edges and at the window's edge", arguments: [1.0, 10.0, 250.0])
    func cellEdges(distance: Double) throws {
        let window = 600.0
        let c = try ProximityCriteria(distance: distance, window: window)
        let grid = ProximityIndex(Pings(), criteria: c)
        func band(_ lat: Double) -> Int { ProximityIndex.band(lat, bandsPerDegree: grid.bandsPerDegree, count: grid.bandCount) }
        let theta = distance / ProximityCriteria.earthRadius / (Double.pi / 180)   // degrees of arc
        var pings = Pings()
        var cases: [Int32] = []
        var built: [ContactPair] = []
        var person: Int32 = 0
        for (n, lat0) in [45.46, -33.9, 0.0, 72.3, 89.99, -89.995].enumerated() {
            // the smallest latitude above lat0 in the next band
            var lo = lat0, hi = lat0 + 2 / grid.bandsPerDegree
            guard hi < 90, band(hi) > band(lo) else { continue }
            while lo.nextUp < hi {
                let mid = lo + (hi - lo) / 2
                if mid <= lo || mid >= hi { break }
                if band(mid) > band(lat0) { hi = mid } else { lo = mid }
            }
            let edge = hi
            let lon = Double(n) * 37 - 100
            let t = Double(n) * 100_000
            for (contactLat, direction) in [(edge, -1.0), (edge.nextDown, 1.0), (edge, 1.0), (edge.nextDown, -1.0)] {
                func ok(_ lat: Double) -> Bool { c.accepts(t, lat, lon, t, contactLat, lon) }
                var near = contactLat + direction * theta * 0.5, far = contactLat + direction * theta * 1.5
                guard abs(far) < 90, ok(near), !ok(far) else { continue }
                while true {
                    let mid = near + (far - near) / 2
                    if mid == near || mid == far { break }
                    if ok(mid) { near = mid } else { far = mid }
                }
                // the case at the farthest accepted latitude; the contact on the edge, exactly the window earlier
                let caseTime = t + window
                try pings.append(person: person, time: caseTime, latitude: near, longitude: lon)
                try pings.append(person: person + 1, time: caseTime - window, latitude: contactLat, longitude: lon)
                cases.append(person)
                built.append(ContactPair(indexCase: person, contact: person + 1))
                person += 2
            }
        }
        #expect(built.count >= 16)
        let traced = ContactTracer.trace(pings, cases: cases, criteria: c, workers: 2)
        #expect(Set(built).isSubset(of: Set(traced.pairs)), "missed: \(Set(built).subtracting(traced.pairs).sorted())")
        #expect(traced.pairs == ContactTracer.bruteForce(pings, cases: cases, criteria: c))
    }

    @Test("a ping exactly at the window is a contact; a second later it is not")
    func windowEdge() throws {
        let c = try ProximityCriteria(distance: 10, window: 900)
        let pings = try Pings(person: [1, 2, 3], time: [1000, 1900, 1901],
                              latitude: [45.5, 45.5, 45.5], longitude: [-73.6, -73.6, -73.6])
        #expect(ContactTracer.trace(pings, cases: [1], criteria: c).pairs == [ContactPair(indexCase: 1, contact: 2)])
    }

    @Test("across the antimeridian and over the pole, points metres apart are contacts")
    func wrapAndPole() throws {
        let c = try ProximityCriteria(distance: 10, window: 60)
        // 179.99995 E and 179.99996 W at the equator are about 10 m apart... here 2.2 m
        let pings = try Pings(person: [1, 2, 3, 4, 5], time: [0, 0, 0, 0, 0],
                              latitude: [0, 0, 89.99996, 89.99996, 0.001],
                              longitude: [179.99999, -179.99999, 0, 180, 179.99999])
        let traced = ContactTracer.trace(pings, cases: [1, 3], criteria: c)
        // 1-2 across the antimeridian (2.2 m); 3-4 across the north pole (8.9 m); 5 is 111 m away
        #expect(traced.pairs == [ContactPair(indexCase: 1, contact: 2), ContactPair(indexCase: 3, contact: 4)])
        #expect(traced.pairs == ContactTracer.bruteForce(pings, cases: [1, 3], criteria: c))
    }

    @Test("the exact test is the anchor's formula: a hand-checked haversine")
    func haversineValue() throws {
        // one degree of latitude: 2 sin²(0.5°)... h = sin²(π/360)
        let h = ProximityCriteria.haversine(0, 0, 1, 0)
        #expect(abs(h - pow(sin(Double.pi / 360), 2)) < 1e-18)
        let c = try ProximityCriteria(distance: 111_195.081, window: 0)   // 1° of arc is 111,195.0802 m at this radius
        #expect(c.accepts(5, 0, 0, 5, 1, 0))
        let d = try ProximityCriteria(distance: 111_195.079, window: 0)
        #expect(!d.accepts(5, 0, 0, 5, 1, 0))
    }

    @Test("bad criteria are refused with the value", arguments: [(-1.0, 900.0), (.nan, 900.0), (10.0, -5.0), (10.0, .infinity), (3e7, 10.0)])
    func badCriteria(distance: Double, window: Double) {
        let e = tracingError { _ = try ProximityCriteria(distance: distance, window: window) }
        #expect(e?.code == .invalidArgument)
        #expect(e?.value != nil)
    }
}

/// The index's own paths: crowded cells (searched through their time directories and a binary search), cells whose
/// entries share one time (no directory), the batched lookup the tracer uses against the one-ping lookup, and pings
/// not grouped by person (the pairs gathered out of order).
@Suite("tracing: the index's search paths")
struct TracingIndexPathTests {
    @Test("a crowded cell: every window edge found through the time directory", arguments: [10.0, 250.0])
    func crowdedCell(distance: Double) throws {
        let window = 300.0
        let c = try ProximityCriteria(distance: distance, window: window)
        var rng = Xoshiro256StarStar(seed: 7)
        var pings = Pings()
        // 400 case pings of 20 cases at one spot over a day, at irregular times (some equal, some bunched)
        for n in 0..<400 {
            let t = n % 7 == 0 ? 5000 : (rng.nextUniform() * 86_400).rounded()
            try pings.append(person: Int32(n % 20), time: t, latitude: 45.5, longitude: -73.6)
        }
        // contacts exactly at the window's edges of case pings, just beyond them, and anywhere
        var person: Int32 = 100
        for n in stride(from: 0, to: 400, by: 9) {
            let t = pings.time[n]
            for dt in [window, -window, (window).nextUp * 1.000001, -window - 0.5, rng.nextUniform() * 2000 - 1000] {
                try pings.append(person: person, time: t + dt, latitude: 45.5 + (rng.nextUniform() - 0.5) * 2e-4,
                                 longitude: -73.6 + (rng.nextUniform() - 0.5) * 2e-4)
                person += 1
            }
        }
        let cases: [Int32] = Array(0..<20)
        let index = ProximityIndex(try Pings(person: Array(pings.person[0..<400]), time: Array(pings.time[0..<400]),
                                             latitude: Array(pings.latitude[0..<400]), longitude: Array(pings.longitude[0..<400])),
                                   criteria: c)
        #expect(index.cellCount <= 16, "the case pings should share a few cells: \(index.cellCount)")
        #expect(index.entryCount > 400)
        let expected = ContactTracer.bruteForce(pings, cases: cases, criteria: c)
        #expect(expected.count > 100)
        #expect(ContactTracer.trace(pings, cases: cases, criteria: c, workers: 2).pairs == expected)
    }

    @Test("a cell whose entries all share one time, and a cell of a few entries")
    func sameTimeCell() throws {
        let c = try ProximityCriteria(distance: 10, window: 60)
        var pings = Pings()
        for n in 0..<50 { try pings.append(person: Int32(n % 5), time: 1000, latitude: 10, longitude: 20) }
        try pings.append(person: 9, time: 3000, latitude: -10, longitude: -20)
        for (p, t) in [(100, 940.0), (101, 1060.0), (102, 939.0), (103, 1061.0), (104, 3060.0), (105, 3061.0)] {
            try pings.append(person: Int32(p), time: t, latitude: p >= 104 ? -10 : 10, longitude: p >= 104 ? -20 : 20)
        }
        let traced = ContactTracer.trace(pings, cases: [0, 1, 2, 3, 4, 9], criteria: c, workers: 2)
        #expect(traced.pairs == ContactTracer.bruteForce(pings, cases: [0, 1, 2, 3, 4, 9], criteria: c))
        #expect(Set(traced.pairs.map(\.contact)) == [0, 1, 2, 3, 4, 100, 101, 104])
    }

    @Test("the batched lookup finds what the one-ping lookup finds, ping by ping", arguments: [0, 4])
    func batchedEqualsSingle(place: Int) throws {
        let c = try ProximityCriteria(distance: 25, window: 600)
        let p = TracingExactnessTests.places[place]
        let pings = try TracingExactnessTests.scatter(around: (p.lat, p.lon), count: 3000, people: 200, spread: 120,
                                                      span: 20_000, seed: 99)
        let isCase = Set<Int32>(0..<30)
        var selected = Pings()
        for i in 0..<pings.count where isCase.contains(pings.person[i]) {
            try selected.append(person: pings.person[i], time: pings.time[i], latitude: pings.latitude[i], longitude: pings.longitude[i])
        }
        let index = ProximityIndex(selected, criteria: c)
        var single: [[Int]] = []
        var singleExamined = 0
        for j in 0..<pings.count {
            singleExamined += index.forEachMatch(person: pings.person[j], time: pings.time[j], latitude: pings.latitude[j],
                                                 longitude: pings.longitude[j]) { _ in }
            single.append(index.matches(person: pings.person[j], time: pings.time[j], latitude: pings.latitude[j],
                                        longitude: pings.longitude[j]))
        }
        var batched = [[Int]](repeating: [], count: pings.count)
        var batchedExamined = 0
        pings.person.withUnsafeBufferPointer { person in
            pings.time.withUnsafeBufferPointer { time in
                pings.latitude.withUnsafeBufferPointer { latitude in
                    pings.longitude.withUnsafeBufferPointer { longitude in
                        // in pieces that do not fall on the batch size
                        for lo in stride(from: 0, to: pings.count, by: 777) {
                            batchedExamined += index.forEachMatch(in: lo..<min(pings.count, lo + 777), person: person, time: time,
                                                                  latitude: latitude, longitude: longitude) { j, i in batched[j].append(i) }
                        }
                    }
                }
            }
        }
        #expect(batched.map { $0.sorted() } == single)
        #expect(batchedExamined == singleExamined)
        #expect(single.contains { !$0.isEmpty })
    }

    @Test("pings in any order give the same pairs")
    func shuffledOrder() throws {
        let c = try ProximityCriteria(distance: 15, window: 900)
        let pings = try TracingExactnessTests.scatter(around: (45.46, -73.70), count: 2500, people: 150, spread: 60,
                                                      span: 10_000, seed: 5)
        // grouped by person (as the anchor writes them), then shuffled
        let byPerson = (0..<pings.count).sorted { (pings.person[$0], pings.time[$0], $0) < (pings.person[$1], pings.time[$1], $1) }
        var rng = Xoshiro256StarStar(seed: 11)
        var shuffled = Array(0..<pings.count)
        for i in stride(from: shuffled.count - 1, to: 0, by: -1) { shuffled.swapAt(i, Int(rng.next() % UInt64(i + 1))) }
        func reordered(_ order: [Int]) throws -> Pings {
            try Pings(person: order.map { pings.person[$0] }, time: order.map { pings.time[$0] },
                      latitude: order.map { pings.latitude[$0] }, longitude: order.map { pings.longitude[$0] })
        }
        let cases: [Int32] = Array(0..<12)
        let expected = ContactTracer.bruteForce(pings, cases: cases, criteria: c)
        #expect(expected.count > 20)
        for order in [byPerson, shuffled] {
            let r = ContactTracer.trace(try reordered(order), cases: cases, criteria: c, workers: 2)
            #expect(r.pairs == expected)
            #expect(r.matchingPingPairs == ContactTracer.trace(pings, cases: cases, criteria: c, workers: 1).matchingPingPairs)
        }
    }
}
