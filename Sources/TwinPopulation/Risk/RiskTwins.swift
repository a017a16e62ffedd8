import Foundation
import TwinBank
import TwinCore

/// The codes regional risk reads from the threads of person twins, and the alerts it writes.
///
/// - `local:location` (observation): a location ping, value `[latitude, longitude] deg` (the code contact tracing
///   reads and writes);
/// - `local:close-contact` (observation): a close contact found by tracing, counted on its effective start day;
/// - `loinc:94500-6` (SARS-CoV-2 RNA, respiratory specimen, NAA with probe detection; observation): a test,
///   counted on its effective day; its value says the result: a boolean (true: detected), the text `positive` or
///   `detected` / `negative` or `not detected`, or a SNOMED CT concept 260373001 Detected or 10828004 Positive /
///   260415000 Not detected or 260385009 Negative;
/// - `local:case.confirmed` (observation, any value): a confirmed case, counted on its effective day;
/// - `local:hospital.admission` (observation or intervention, any value): a hospital admission for the disease;
/// - written: `local:risk.region-alert` (category `alert`): the person entered a high-risk region.
///
/// A person's region is where they live: the attributes `home_lat` and `home_lon` (numbers, quantities in deg,
/// or number text), or, without them, the region of their latest ping. Only person twins are counted.
public enum RiskEvents {
    public static let system = "urn:twinbank:local"
    /// The location ping tracing reads (one definition: ``LocationEvents/location``).
    public static let location = LocationEvents.location
    /// The close contact tracing writes (one definition: ``LocationEvents/closeContact``).
    public static let closeContact = LocationEvents.closeContact
    public static let test = Concept(system: "http://loinc.org", code: "94500-6", display: "SARS-CoV-2 RNA NAA+probe Ql (Resp)")
    public static let confirmedCase = Concept(system: system, code: "case.confirmed", display: "confirmed case")
    public static let admission = Concept(system: system, code: "hospital.admission", display: "hospital admission")
    public static let regionAlert = Concept(system: system, code: "risk.region-alert", display: "entered a high-risk region")
    /// The source of written alerts.
    public static let source = Source(.model, "twinbank-risk")

    /// Whether a test event's value says the virus was detected.
    /// - Throws: ``PopulationError/Code/invalidArgument`` naming the value when it is none of the documented results.
    public static func isPositive(_ value: Value?, twin: TwinID, at time: Instant) throws(PopulationError) -> Bool {
        switch value {
        case .boolean(let b)?: return b
        case .text(let t)?:
            switch t.lowercased().trimmingCharacters(in: .whitespaces) {
            case "positive", "detected": return true
            case "negative", "not detected": return false
            default: break
            }
        case .concept(let c)?:
            switch c.code {
            case "260373001", "10828004": return true
            case "260415000", "260385009": return false
            default: break
            }
        default: break
        }
        let shown = value.map { "\($0)" } ?? "none"
        throw PopulationError(.invalidArgument, "twin '\(twin)': the test (loinc:94500-6) at \(time.iso8601) has the result '\(shown)': record true/false, positive/negative, detected/not detected, or SNOMED CT 260373001/260415000", value: shown)
    }
}

/// What ``RiskTwins/read(bank:aggregate:regions:locator:from:to:)`` found.
public struct BankRiskInput: Sendable {
    /// Counts per region and day.
    public var counts: RegionalCounts
    /// Every ping of the people counted.
    public var pings: [LocationPing]
    /// Person twins counted (with a region).
    public var persons: Int
    /// Person twins without a home location or pings, or living outside all regions: not counted.
    public var unlocated: [TwinID]
    /// Members that are not persons (skipped).
    public var skipped: [TwinID]
    /// Members whose consent or the bank's policy refuses this computation (each refusal is in the audit log): not
    /// read, not counted.
    public var refused: [TwinID] = []
}

/// Regional risk inputs from the bank (see ``RiskEvents`` for the codes).
public enum RiskTwins {
    /// Reads the person twins among `aggregate`'s members: each is placed in its region (``RiskEvents``) and its
    /// cases, contacts, tests, positives and admissions are counted there per day from `from` to `to` (default:
    /// the first and last day any such event falls on).
    /// - Throws: ``PopulationError/Code/invalidPings`` for a location ping that is not `[latitude, longitude] deg`
    ///   within range, or a home location out of range; ``PopulationError/Code/invalidArgument`` for a test
    ///   result that cannot be read; the bank's errors (an unknown aggregate).
    public static func read(bank: Bank, aggregate: AggregateID, regions: GeoRegions, locator: RegionLocator,
                            from: Instant? = nil, to: Instant? = nil) throws -> BankRiskInput {
        // A computation over the aggregate: asked as `aggregate` (bank-wide, then per member); a member whose
        // consent or the policy refuses that use is left out (`refused`), one permitted in part is read through its filter.
        let cohort = try bank.cohort(of: aggregate, for: .aggregate)
        struct Person { var id: TwinID; var region: Int?; var events: [(RiskMeasure, Instant)] }
        var people: [Person] = []
        var pings: [LocationPing] = []
        var skipped: [TwinID] = [], unlocated: [TwinID] = []
        for record in cohort.records {
            let id = record.id, twin = record.twin
            guard twin.kind == .person else { skipped.append(id); continue }
            var lastPing: LocationPing?
            for e in try bank.events(ThreadQuery(twin: id, code: RiskEvents.location.key, category: .observation), in: cohort) {
                guard case .vector(let v)? = e.value, v.values.count == 2, v.unit == "deg",
                      (-90...90).contains(v.values[0]), (-180...180).contains(v.values[1]) else {
                    throw PopulationError(.invalidPings, "twin '\(id)': the location event at \(e.effective) has the value '\(e.value.map { "\($0)" } ?? "none")', not [latitude, longitude] deg within range", value: e.value.map { "\($0)" } ?? "")
                }
                let p = LocationPing(person: id.rawValue, time: e.effective.start, latitude: v.values[0], longitude: v.values[1], event: e.id)
                pings.append(p)
                if lastPing == nil || p.time >= lastPing!.time { lastPing = p }
            }
            var region: Int?
            if let lat = try number(twin.attributes["home_lat"], "home_lat", id), let lon = try number(twin.attributes["home_lon"], "home_lon", id) {
                guard (-90...90).contains(lat), (-180...180).contains(lon) else {
                    throw PopulationError(.invalidPings, "twin '\(id)': the home location home_lat \(lat), home_lon \(lon) is out of range", value: "\(lat),\(lon)")
                }
                region = locator.region(lon: lon, lat: lat)
            } else if let p = lastPing {
                region = locator.region(lon: p.longitude, lat: p.latitude)
            }
            var events: [(RiskMeasure, Instant)] = []
            for (code, measure) in [(RiskEvents.confirmedCase, RiskMeasure.cases), (RiskEvents.closeContact, .contacts), (RiskEvents.admission, .admissions)] {
                for e in try bank.events(ThreadQuery(twin: id, code: code.key), in: cohort) where e.category == .observation || e.category == .intervention {
                    events.append((measure, e.effective.start))
                }
            }
            for e in try bank.events(ThreadQuery(twin: id, code: RiskEvents.test.key, category: .observation), in: cohort) {
                events.append((.tests, e.effective.start))
                if try RiskEvents.isPositive(e.value, twin: id, at: e.effective.start) { events.append((.positives, e.effective.start)) }
            }
            if region == nil { unlocated.append(id) }
            people.append(Person(id: id, region: region, events: events))
        }
        let times = people.flatMap { $0.region == nil ? [] : $0.events.map(\.1) }
        let start = from ?? times.min() ?? to ?? Instant(seconds: Date().timeIntervalSince1970)
        let end = to ?? times.max() ?? start
        guard end >= start else {
            throw PopulationError(.invalidArgument, "the period from \(start.iso8601) to \(end.iso8601) ends before it starts", value: end.iso8601)
        }
        var counts = try RegionalCounts(regions: regions.names, start: start,
                                        days: Int((RegionalCounts.dayStart(end.microseconds) - RegionalCounts.dayStart(start.microseconds)) / 86_400_000_000) + 1)
        for p in people {
            guard let r = p.region else { continue }
            counts.population[r] += 1
            for (m, t) in p.events { counts.add(m, region: r, day: counts.day(of: t)) }
        }
        return BankRiskInput(counts: counts, pings: pings, persons: people.count - unlocated.count, unlocated: unlocated, skipped: skipped,
                             refused: cohort.refused)
    }

    static func number(_ v: Value?, _ name: String, _ id: TwinID) throws(PopulationError) -> Double? {
        switch v {
        case nil: return nil
        case .quantity(let q)?: return q.value
        case .text(let t)?:
            guard let d = Double(t.trimmingCharacters(in: .whitespaces)) else {
                throw PopulationError(.invalidPings, "twin '\(id)': attribute \(name) = '\(t)' is not a number", value: t)
            }
            return d
        case let other?:
            throw PopulationError(.invalidPings, "twin '\(id)': attribute \(name) = \(other) is not a number", value: "\(other)")
        }
    }

    /// Writes one alert event per ``RegionAlert`` into the person's thread (category `alert`, code
    /// `local:risk.region-alert`, effective at the ping, derived from the ping's event), all in one batch; an
    /// alert the thread already holds (same time and region) is not written again. Returns the number written.
    @discardableResult
    public static func writeAlerts(_ alerts: [RegionAlert], regions: GeoRegions, risks: [RegionRisk], counts: RegionalCounts, bank: Bank) throws -> Int {
        var drafts: [EventDraft] = []
        for a in alerts {
            let twin = try TwinID(a.person)
            let name = regions.regions[a.region].name
            let risk = risks[a.region]
            let text = "entered \(name), a region at \(a.level.rawValue) risk on \(counts.date(risk.day)): " + risk.reasons.joined(separator: "; ")
            let draft = EventDraft(twin: twin, effective: EffectiveTime(a.ping.time), category: .alert, code: RiskEvents.regionAlert, value: .text(text),
                                   source: RiskEvents.source,
                                   provenance: Provenance(derivedFrom: a.ping.event.map { [$0] } ?? [], model: "twinbank-risk",
                                                          notes: "region=\(name.replacingOccurrences(of: " ", with: "_")) level=\(a.level.rawValue) date=\(counts.date(risk.day))"))
            let existing = try bank.events(ThreadQuery(twin: twin, code: RiskEvents.regionAlert.key, category: .alert, from: a.ping.time, to: a.ping.time))
            // one alert per person, region and ping time, whatever the figures said then
            let marker = "region=\(name.replacingOccurrences(of: " ", with: "_")) "
            if existing.contains(where: { ($0.provenance.notes ?? "").hasPrefix(marker) }) { continue }
            drafts.append(draft)
        }
        try bank.append(drafts)
        return drafts.count
    }
}

extension RiskTwins {
    /// The box `(west, south, east, north)` around the home locations and pings of `aggregate`'s person twins
    /// (what a grid of regions must cover), or nil when none has a location.
    public static func extent(bank: Bank, aggregate: AggregateID) throws -> (west: Double, south: Double, east: Double, north: Double)? {
        var w = Double.infinity, s = Double.infinity, e = -Double.infinity, n = -Double.infinity
        func add(_ lat: Double, _ lon: Double) {
            guard (-90...90).contains(lat), (-180...180).contains(lon) else { return }
            w = min(w, lon); e = max(e, lon); s = min(s, lat); n = max(n, lat)
        }
        let cohort = try bank.cohort(of: aggregate, for: .aggregate)
        for record in cohort.records {
            let id = record.id, twin = record.twin
            guard twin.kind == .person else { continue }
            if let lat = try number(twin.attributes["home_lat"], "home_lat", id), let lon = try number(twin.attributes["home_lon"], "home_lon", id) { add(lat, lon) }
            for ev in try bank.events(ThreadQuery(twin: id, code: RiskEvents.location.key, category: .observation), in: cohort) {
                if case .vector(let v)? = ev.value, v.values.count == 2 { add(v.values[0], v.values[1]) }
            }
        }
        return w <= e ? (w, s, e, n) : nil
    }
}
