import TwinBank
import TwinCore

/// Location pings and close contacts as thread events.
///
/// A ping is an observation coded ``location`` (`local:location`) whose value is the vector
/// `[latitude, longitude] deg` at the ping's instant (`twinbank thread append --code local:location --value
/// "[45.5,-73.6] deg" --at T`). A close contact found by tracing is an observation coded ``closeContact``
/// (`local:close-contact`) in the contact's thread, whose value is the index case's twin id and whose effective
/// time runs from the contact's first to its last ping near the case.
public enum LocationEvents {
    /// `local:location`: a location ping, value `[latitude, longitude] deg`.
    public static let location = Concept(system: "urn:twinbank:local", code: "location", display: "location ping")
    /// `local:close-contact`: a close contact of the index case named by the value.
    public static let closeContact = Concept(system: "urn:twinbank:local", code: "close-contact",
                                             display: "close contact of an index case")

    /// A location ping for `twin` at `time`.
    public static func ping(_ twin: TwinID, at time: Instant, latitude: Double, longitude: Double,
                            source: Source) -> EventDraft {
        EventDraft(twin: twin, effective: EffectiveTime(time), code: location,
                   value: .vector(Vector([latitude, longitude], unit: "deg")), source: source)
    }

    /// The location pings in the threads of `twins` (one read of each thread), person `k` being `twins[k]`,
    /// times in seconds since the epoch.
    /// - Throws: ``PopulationError`` `invalidPings` naming the twin and the event when a location event's value is
    ///   not `[latitude, longitude] deg` within range; the bank's errors.
    public static func pings(of twins: [TwinID], in bank: Bank) throws -> Pings {
        var pings = Pings()
        for (index, twin) in twins.enumerated() {
            for e in try bank.events(ThreadQuery(twin: twin, code: LocationEvents.location.key)) {
                guard case .vector(let v)? = e.value, v.values.count == 2, v.unit == "deg" else {
                    throw PopulationError(.invalidPings, "twin '\(twin)': the location event \(e.sequence) at \(e.effective) has the value '\(e.value.map { "\($0)" } ?? "none")', not [latitude, longitude] deg", value: e.value.map { "\($0)" } ?? "")
                }
                do {
                    try pings.append(person: Int32(index), time: Double(e.effective.start.microseconds) / 1e6,
                                     latitude: v.values[0], longitude: v.values[1])
                } catch {
                    throw PopulationError(.invalidPings, "twin '\(twin)': the location event \(e.sequence) at \(e.effective): \(error.message)", value: error.value)
                }
            }
        }
        return pings
    }
}

/// What a trace over the bank found and wrote.
public struct BankTraceResult: Sendable, Hashable, Codable {
    /// One close contact: `contact` was near `indexCase` from `from` to `to` (the contact's pings).
    public struct Contact: Sendable, Hashable, Codable {
        public var indexCase: TwinID
        public var contact: TwinID
        public var from: Instant
        public var to: Instant
    }
    /// Every close contact, sorted by case then contact.
    public var contacts: [Contact]
    /// The twins whose pings were read (the aggregate's members and the index cases).
    public var twins: Int
    /// The pings read.
    public var pings: Int
    /// Close-contact events written to the contacts' threads now.
    public var written: Int
    /// Close-contact events the threads already held (a repeated trace writes nothing twice).
    public var alreadyInThreads: Int
    /// Seconds to index the cases' pings, and to look all pings up (not counting reading the threads).
    public var indexSeconds: Double
    public var querySeconds: Double
}

extension ContactTracer {
    /// Traces the close contacts of the index cases `cases` among the members of `aggregate` from the location
    /// pings in their threads (``LocationEvents``), with the exact criteria of ``trace(_:cases:criteria:workers:)``,
    /// and writes each close contact as a `local:close-contact` event in the contact's thread (all in one batch:
    /// every event or none), unless `write` is false. Events the thread already holds are not written again.
    /// - Throws: ``PopulationError`` `invalidPings` naming the twin and the event when a location event's value is
    ///   not `[latitude, longitude] deg` within range; `invalidCases` when no case is given or a case is not a twin
    ///   of the bank; errors of the bank (an unknown aggregate).
    public static func trace(bank: Bank, aggregate: AggregateID, cases: [TwinID], criteria: ProximityCriteria,
                             source: Source = Source(.model, "twinbank-trace"), write: Bool = true) throws -> BankTraceResult {
        guard !cases.isEmpty else {
            throw PopulationError(.invalidCases, "no index case given: name at least one twin", value: "")
        }
        for c in cases {
            do { _ = try bank.twin(c) } catch let e as BankError where e.code == .unknownTwin {
                throw PopulationError(.invalidCases, "the index case '\(c)' is not a twin of the bank", value: c.rawValue)
            }
        }
        let members = try bank.members(of: aggregate).members
        var twins: [TwinID] = []
        var seen = Set<TwinID>()
        for t in members + cases where seen.insert(t).inserted { twins.append(t) }

        let pings = try LocationEvents.pings(of: twins, in: bank)
        let caseIndices = cases.compactMap { c in twins.firstIndex(of: c).map { Int32($0) } }
        let found = contactPeriods(pings, cases: caseIndices, criteria: criteria)
        let contacts = found.periods.map { p in
            BankTraceResult.Contact(indexCase: twins[Int(p.pair.indexCase)], contact: twins[Int(p.pair.contact)],
                                    from: Instant(microseconds: Int64((p.first * 1e6).rounded())),
                                    to: Instant(microseconds: Int64((p.last * 1e6).rounded())))
        }
        var written = 0, already = 0
        if write {
            let notes = "distance \(Value.format(criteria.distance)) m, window \(Value.format(criteria.window)) s, aggregate \(aggregate)"
            var drafts: [EventDraft] = []
            var existing: [TwinID: Set<EventDraft>] = [:]
            for c in contacts {
                if existing[c.contact] == nil {
                    existing[c.contact] = Set(try bank.events(ThreadQuery(twin: c.contact, code: LocationEvents.closeContact.key)).map(\.draft))
                }
                let draft = EventDraft(twin: c.contact, effective: EffectiveTime(c.from, end: c.to == c.from ? nil : c.to),
                                       code: LocationEvents.closeContact, value: .text(c.indexCase.rawValue), source: source,
                                       provenance: Provenance(model: "proximity tracing", notes: notes))
                if existing[c.contact]!.contains(draft) { already += 1 } else { drafts.append(draft) }
            }
            written = try bank.append(drafts).count
        }
        return BankTraceResult(contacts: contacts, twins: twins.count, pings: pings.count, written: written,
                               alreadyInThreads: already, indexSeconds: found.indexSeconds, querySeconds: found.querySeconds)
    }

    /// Every (case, contact) pair with the time of the contact's first and last ping near the case, sorted by
    /// pair. Single-threaded: for the bank's sizes.
    static func contactPeriods(_ pings: Pings, cases: [Int32], criteria: ProximityCriteria)
        -> (periods: [(pair: ContactPair, first: Double, last: Double)], indexSeconds: Double, querySeconds: Double) {
        let clock = ContinuousClock()
        let started = clock.now
        let isCase = IndexCaseSet(cases)
        var selected = Pings()
        for i in 0..<pings.count where isCase.contains(pings.person[i]) {
            selected.appendValid(person: pings.person[i], time: pings.time[i], latitude: pings.latitude[i], longitude: pings.longitude[i])
        }
        let index = ProximityIndex(selected, criteria: criteria)
        let indexed = clock.now
        var periods: [UInt64: (first: Double, last: Double)] = [:]
        for j in 0..<pings.count {
            let p = pings.person[j], t = pings.time[j]
            index.forEachMatch(person: p, time: t, latitude: pings.latitude[j], longitude: pings.longitude[j]) { i in
                let key = ContactPair(indexCase: index.pings.person[i], contact: p).key
                if let r = periods[key] { periods[key] = (min(r.first, t), max(r.last, t)) } else { periods[key] = (t, t) }
            }
        }
        let result = periods.keys.sorted().map { k in (pair: ContactPair(key: k), first: periods[k]!.first, last: periods[k]!.last) }
        return (result, ContactTracer.seconds(indexed - started), ContactTracer.seconds(clock.now - indexed))
    }
}
