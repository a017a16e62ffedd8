import Dispatch
import Foundation
import TwinBank
import TwinCore

/// Where the community layer of a member population comes from when its members carry location pings: the
/// close contacts the pings show, calendar day by calendar day (issue 24 item 2, with the exact proximity engine
/// of item 3).
public struct ObservedContactSettings: Sendable, Hashable {
    /// Two people are in contact when pings of theirs are at most this many metres apart ...
    public var distance: Double = 10
    /// ... and at most this many seconds apart.
    public var window: Double = 900
    /// The date of simulated day 0, nil for the `--start` of the run, else the first ping's UTC day.
    public var start: Instant? = nil
    public init() {}

    /// The proximity criteria of ``distance`` and ``window``.
    /// - Throws: `PopulationError.invalidScenario` naming the value when it is out of range.
    public func criteria() throws(PopulationError) -> ProximityCriteria {
        do { return try ProximityCriteria(distance: distance, window: window) } catch {
            throw PopulationError(.invalidScenario, "scenario: 'observedContacts': \(error.message)", value: error.value)
        }
    }
}

/// The close contacts observed among the people of a population, per UTC calendar day.
///
/// Two people are observed in contact on day `d` when a ping of one and a ping of the other meet the
/// ``ProximityCriteria`` (the exact test of ``ContactTracer``), the earlier of the two pings falling on day `d`
/// (days are UTC days: `floor(seconds since the epoch / 86400)`). Each day is a ``ContactLayer`` over the whole
/// population (undirected, each pair once), with the set of people who have at least one ping that day.
///
/// Finding them costs one pass over the pings: they are sorted by time, and each day's pings go into a
/// ``ProximityIndex`` that the pings of the day (and of the `window` after it) are looked up in, so memory holds
/// one day's index at a time; the days are spread over the cores.
public struct ObservedContacts: Sendable {
    /// Number of people of the population.
    public let count: Int
    /// The UTC days (days since 1970-01-01) that have pings, ascending.
    public let days: [Int]
    /// The contacts of each day of ``days``.
    public let layers: [ContactLayer]
    /// Per day of ``days``: a bitmap of the people with a ping that day.
    let pinged: [[UInt64]]
    /// How many pings were read.
    public let pings: Int
    /// How many distinct people have pings.
    public let people: Int

    /// Observed (day, pair) contacts, each pair counted once a day.
    public var pairCount: Int { layers.reduce(0) { $0 + $1.edgeCount } }

    /// Whether person `i` has a ping on day `days[d]`.
    public func pinged(_ i: Int, day d: Int) -> Bool { pinged[d][i >> 6] & (1 << UInt64(i & 63)) != 0 }

    /// The UTC day of a time in seconds since the epoch.
    public static func day(ofSeconds t: Double) -> Int { Int((t / 86_400).rounded(.down)) }
    /// The UTC day of an instant.
    public static func day(of instant: Instant) -> Int {
        Int((Double(instant.microseconds) / 86_400e6).rounded(.down))
    }

    /// Nothing observed: the population keeps its random community contacts every day.
    public static func none(count: Int) -> ObservedContacts {
        ObservedContacts(count: count, days: [], layers: [], pinged: [], pings: 0, people: 0)
    }

    /// Finds the observed contacts among `count` people from `pings` (person ids `0..<count`).
    /// - Throws: `PopulationError.invalidPings` naming the ping when a person id is outside `0..<count`.
    public static func find(_ pings: Pings, count: Int, criteria: ProximityCriteria,
                            workers: Int = ProcessInfo.processInfo.activeProcessorCount) throws(PopulationError) -> ObservedContacts {
        for k in 0..<pings.count where !(0..<Int32(clamping: count)).contains(pings.person[k]) {
            throw PopulationError(.invalidPings, "ping \(k): person \(pings.person[k]) is not one of the population's \(count) people", value: "\(pings.person[k])")
        }
        let order = (0..<pings.count).sorted { a, b in
            pings.time[a] != pings.time[b] ? pings.time[a] < pings.time[b] : a < b
        }
        // Day boundaries in time order.
        var dayList: [Int] = []
        var startList: [Int] = []
        for (k, p) in order.enumerated() {
            let d = day(ofSeconds: pings.time[p])
            if dayList.last != d { dayList.append(d); startList.append(k) }
        }
        startList.append(order.count)
        let days = dayList, starts = startList
        let words = count / 64 + 1
        var pinged = [[UInt64]](repeating: [], count: days.count)
        var keys = [[UInt64]](repeating: [], count: days.count)
        let window = criteria.window
        pinged.withUnsafeMutableBufferPointer { pingedBuffer in
            keys.withUnsafeMutableBufferPointer { keyBuffer in
                nonisolated(unsafe) let pingedOut = pingedBuffer
                nonisolated(unsafe) let keysOut = keyBuffer
                let threads = max(1, min(workers, days.count))
                DispatchQueue.concurrentPerform(iterations: threads) { w in
                    var d = w
                    while d < days.count {
                        var bits = [UInt64](repeating: 0, count: words)
                        var selected = Pings()
                        for k in starts[d]..<starts[d + 1] {
                            let p = order[k]
                            let who = Int(pings.person[p])
                            bits[who >> 6] |= 1 << UInt64(who & 63)
                            selected.appendValid(person: pings.person[p], time: pings.time[p], latitude: pings.latitude[p], longitude: pings.longitude[p])
                        }
                        let index = ProximityIndex(selected, criteria: criteria)
                        let limit = Double(days[d] + 1) * 86_400 + window
                        var found: [UInt64] = []
                        // dedupe whenever the keys double (people at home together meet at every ping)
                        var dedupeAt = 1 << 16
                        var k = starts[d]
                        while k < order.count {
                            let p = order[k]
                            let t = pings.time[p]
                            if t > limit { break }
                            let who = pings.person[p]
                            index.forEachMatch(person: who, time: t, latitude: pings.latitude[p], longitude: pings.longitude[p]) { i in
                                // each pair of pings counts once, on the day of the earlier ping (the indexed one)
                                guard index.pings.time[i] <= t else { return }
                                let other = index.pings.person[i]
                                found.append(UInt64(UInt32(min(who, other))) << 32 | UInt64(UInt32(max(who, other))))
                            }
                            k += 1
                            if found.count >= dedupeAt {
                                ContactTracer.sortUnique(&found)
                                dedupeAt = max(1 << 16, found.count * 2)
                            }
                        }
                        ContactTracer.sortUnique(&found)
                        pingedOut[d] = bits
                        keysOut[d] = found
                        d += threads
                    }
                }
            }
        }
        let layers = keys.map { k in
            ContactLayer(kind: .community, count: count, p1: k.map { Int32(truncatingIfNeeded: $0 >> 32) },
                         p2: k.map { Int32(truncatingIfNeeded: $0 & 0xFFFF_FFFF) })
        }
        let people = Set(pings.person).count
        return ObservedContacts(count: count, days: days, layers: layers, pinged: pinged, pings: pings.count, people: people)
    }

    /// Reads the pings of a member population's members from their threads (``LocationEvents/pings(of:in:)``, one
    /// read of each thread; person `i` is `members.members[i]`) and finds their observed contacts.
    /// - Throws: `PopulationError.invalidPings` naming the twin and the event for a location event that is not
    ///   `[latitude, longitude] deg`; the bank's errors.
    public static func read(_ members: MemberPopulation, in bank: Bank, criteria: ProximityCriteria) throws -> ObservedContacts {
        let pings = try LocationEvents.pings(of: members.members, in: bank)
        return try find(pings, count: members.population.count, criteria: criteria)
    }
}

/// Observed contacts placed on the simulated days: the community layer of simulated day `t` is the observed
/// contacts of UTC day `startDay + t` when that day has pings.
///
/// Days after the last ping day repeat the observed span week by week: the span is taken as whole weeks
/// (`P = 7 * ceil(span / 7)` days from the first ping day), a later day `c` maps to
/// `first + (c - first) mod P`, and, when that lands in the span's unfinished last week past the last ping
/// day, to the same weekday one week earlier. So a later Monday is always an observed Monday, and the weeks
/// repeat in their order. Days before the first ping day, days without pings, and (for a span shorter than a
/// week) weekdays the span lacks are not observed: they keep the random community contacts.
public struct ObservedCommunity: Sendable {
    public let contacts: ObservedContacts
    /// The UTC day of simulated day 0.
    public let startDay: Int

    public init(contacts: ObservedContacts, startDay: Int) {
        self.contacts = contacts
        self.startDay = startDay
    }

    /// The observed day (an index in ``ObservedContacts/days``) that simulated day `t` uses, nil when none.
    public func observedDay(simulatedDay t: Int) -> Int? {
        guard let first = contacts.days.first, let last = contacts.days.last else { return nil }
        var c = startDay + t
        if c > last {
            let span = last - first + 1
            let period = 7 * ((span + 6) / 7)
            c = first + (c - first) % period
            if c > last { c -= 7 }
            if c < first { return nil }
        }
        // binary search
        var lo = 0, hi = contacts.days.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if contacts.days[mid] < c { lo = mid + 1 } else { hi = mid }
        }
        return lo < contacts.days.count && contacts.days[lo] == c ? lo : nil
    }

    /// The observed day of each simulated day `0...days`, -1 when none.
    func schedule(days: Int) -> [Int32] {
        (0...max(days, 0)).map { Int32(observedDay(simulatedDay: $0) ?? -1) }
    }

    /// What the simulated days `0...days` use: how many of them have observed contacts, how many distinct
    /// observed (ping) days they draw on, and how many observed (day, pair) contacts those days hold.
    public func used(days: Int) -> (simulatedDays: Int, observedDays: Int, pairs: Int) {
        let used = schedule(days: days).filter { $0 >= 0 }
        let distinct = Set(used)
        return (used.count, distinct.count, distinct.reduce(0) { $0 + contacts.layers[Int($1)].edgeCount })
    }
}
