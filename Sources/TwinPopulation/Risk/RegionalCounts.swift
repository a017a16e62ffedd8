import Foundation
import TwinCore

/// What is counted per region and day for regional risk.
public enum RiskMeasure: String, Sendable, Hashable, CaseIterable {
    /// Confirmed cases (by report date).
    case cases
    /// Close contacts found by tracing.
    case contacts
    /// SARS-CoV-2 tests (NAAT) taken.
    case tests
    /// Tests that detected the virus.
    case positives
    /// New hospital admissions for the disease.
    case admissions
}

/// Daily counts per region: the input of ``RegionalRisk``, whatever they come from (the bank's threads, a CSV
/// file, a simulation). Day 0 is the UTC day starting at ``start``.
public struct RegionalCounts: Sendable, Hashable {
    /// The region names, in the order of the regions file.
    public let regions: [String]
    /// The residents of each region (the denominator of rates per 100,000).
    public var population: [Int]
    /// The first day's start (UTC midnight).
    public let start: Instant
    /// The number of days counted.
    public let days: Int
    /// `counts[measure][region * days + day]`.
    private var counts: [RiskMeasure: [Int]]

    /// Zero counts for `regions` over `days` days from `start` (rounded down to UTC midnight).
    /// - Throws: ``PopulationError/Code/invalidArgument`` for no day or more than 36,600 days.
    public init(regions: [String], population: [Int]? = nil, start: Instant, days: Int) throws(PopulationError) {
        guard days >= 1, days <= 36_600 else {
            throw PopulationError(.invalidArgument, "\(days) days: count at least 1 and at most 36,600 days", value: "\(days)")
        }
        self.regions = regions
        self.population = population ?? [Int](repeating: 0, count: regions.count)
        self.start = Instant(microseconds: Self.dayStart(start.microseconds))
        self.days = days
        counts = Dictionary(uniqueKeysWithValues: RiskMeasure.allCases.map { ($0, [Int](repeating: 0, count: regions.count * days)) })
    }

    static func dayStart(_ us: Int64) -> Int64 {
        let day: Int64 = 86_400_000_000
        return us >= 0 ? us / day * day : -((-us + day - 1) / day) * day
    }

    /// The day index of `time` (may be outside `0..<days`).
    public func day(of time: Instant) -> Int {
        Int((Self.dayStart(time.microseconds) - start.microseconds) / 86_400_000_000)
    }

    /// The ISO date (`2026-03-01`) of day `d`.
    public func date(_ d: Int) -> String {
        String(Instant(microseconds: start.microseconds + Int64(d) * 86_400_000_000).iso8601.prefix(10))
    }

    /// The count of `measure` in `region` on `day` (0 outside the days counted).
    public subscript(measure: RiskMeasure, region: Int, day: Int) -> Int {
        get { day >= 0 && day < days ? counts[measure]![region * days + day] : 0 }
        set { counts[measure]![region * days + day] = newValue }
    }

    /// Adds `count` to `measure` in `region` on `day`; a day outside the counted range is ignored (returns false).
    @discardableResult
    public mutating func add(_ measure: RiskMeasure, region: Int, day: Int, count: Int = 1) -> Bool {
        guard day >= 0, day < days, regions.indices.contains(region) else { return false }
        counts[measure]![region * days + day] += count
        return true
    }

    /// The sum of `measure` in `region` over days `from...to` (clamped to the counted days).
    public func sum(_ measure: RiskMeasure, region: Int, from: Int, to: Int) -> Int {
        let a = max(0, from), b = min(days - 1, to)
        guard a <= b else { return 0 }
        let base = region * days
        var s = 0
        for d in a...b { s += counts[measure]![base + d] }
        return s
    }

    /// The daily counts of `measure` in `region`.
    public func series(_ measure: RiskMeasure, region: Int) -> [Int] {
        Array(counts[measure]![(region * days)..<(region * days + days)])
    }
}

extension RegionalCounts {
    /// Reads daily counts per region from CSV (for people who are not in a bank): a header naming `region`,
    /// `date` (`2026-03-01`, or an ISO 8601 instant: its UTC day) and any of `cases`, `contacts`, `tests`,
    /// `positives`, `admissions` (whole numbers of at least 0; empty is 0) and `population` (the region's
    /// residents: the same on every row of a region that gives it). Rows of one region and day add up. The days
    /// run from the first date to the last; `regions` are the names of the regions file, which every row must use.
    /// - Throws: ``PopulationError/Code/invalidArgument`` naming the line, the column and the value: an unknown
    ///   column or region, a missing `region` or `date` column, a count that is not a whole number of at least
    ///   0, two populations for one region, no rows.
    public init(csv text: String, name: String = "counts", regions: [String]) throws {
        let reader = CSVReader(text: text, name: name)
        guard let header = try reader.next() else {
            throw PopulationError(.invalidArgument, "\(name) is empty: give a header (region,date,cases,...) and rows", value: name)
        }
        let columns = header.fields.map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
        let known = ["region", "date", "population"] + RiskMeasure.allCases.map(\.rawValue)
        for c in columns where !known.contains(c) {
            throw PopulationError(.invalidArgument, "\(name): unknown column '\(c)': use \(known.joined(separator: ", "))", value: c)
        }
        guard let ri = columns.firstIndex(of: "region"), let di = columns.firstIndex(of: "date") else {
            throw PopulationError(.invalidArgument, "\(name): the header needs the columns region and date (it has \(columns.joined(separator: ", ")))", value: header.fields.joined(separator: ","))
        }
        var rows: [(row: Row, label: String)] = []
        while let record = try reader.next() {
            if record.isBlank { continue }
            func field(_ i: Int) -> String { i < record.fields.count ? record.fields[i].trimmingCharacters(in: .whitespaces) : "" }
            var row = Row(region: field(ri), date: field(di))
            for (i, c) in columns.enumerated() where i != ri && i != di {
                let t = field(i)
                if t.isEmpty { continue }
                guard let v = Int(t), v >= 0 else {
                    throw PopulationError(.invalidArgument, "\(name) line \(record.line): \(c) = '\(t)' is not a whole number of at least 0", value: t)
                }
                if c == "population" { row.population = v } else { row.counts[RiskMeasure(rawValue: c)!] = v }
            }
            rows.append((row, "\(name) line \(record.line)"))
        }
        try self.init(rows, name: name, regions: regions)
    }

    /// One row of daily counts: a region's counts on a day (the columns of ``init(csv:name:regions:)``).
    public struct Row: Sendable, Hashable {
        /// The region's name, as the regions file names it.
        public var region: String
        /// The day: `2026-03-01`, or an ISO 8601 instant (its UTC day).
        public var date: String
        /// The region's residents (the same on every row of a region that gives it), nil when not given.
        public var population: Int?
        /// The counts given (a measure not given is 0).
        public var counts: [RiskMeasure: Int]
        public init(region: String, date: String, population: Int? = nil, counts: [RiskMeasure: Int] = [:]) {
            self.region = region; self.date = date; self.population = population; self.counts = counts
        }
    }

    /// Daily counts per region from rows, read as ``init(csv:name:regions:)`` reads the lines of a file (rows of one
    /// region and day add up; the days run from the first date to the last); an error names the row as `name[i]`.
    /// - Throws: ``PopulationError/Code/invalidArgument`` naming the row and the value: an unknown region, a date that
    ///   is not one, a count below 0, two populations for one region, no rows.
    public init(rows: [Row], name: String = "counts", regions: [String]) throws(PopulationError) {
        try self.init(rows.enumerated().map { (row: $0.element, label: "\(name)[\($0.offset)]") }, name: name, regions: regions)
    }

    private init(_ rows: [(row: Row, label: String)], name: String, regions: [String]) throws(PopulationError) {
        let index = Dictionary(regions.enumerated().map { ($0.element, $0.offset) }, uniquingKeysWith: { a, _ in a })
        var parsed: [(region: Int, day: Instant, row: Row, label: String)] = []
        for (row, label) in rows {
            guard let r = index[row.region] else {
                throw PopulationError(.invalidArgument, "\(label): the region '\(row.region)' is not in the regions file", value: row.region)
            }
            let day: Instant
            do { day = try Instant(parsing: row.date.count == 10 ? row.date + "T00:00:00Z" : row.date) } catch {
                throw PopulationError(.invalidArgument, "\(label): the date '\(row.date)' is not a date such as 2026-03-01", value: row.date)
            }
            for (m, v) in ([("population", row.population)] + RiskMeasure.allCases.map { ($0.rawValue, row.counts[$0]) }) {
                if let v, v < 0 {
                    throw PopulationError(.invalidArgument, "\(label): \(m) = \(v) is not a whole number of at least 0", value: "\(v)")
                }
            }
            parsed.append((r, day, row, label))
        }
        guard let first = parsed.map(\.day).min(), let last = parsed.map(\.day).max() else {
            throw PopulationError(.invalidArgument, "\(name) has no rows", value: name)
        }
        try self.init(regions: regions, start: first,
                      days: Int((Self.dayStart(last.microseconds) - Self.dayStart(first.microseconds)) / 86_400_000_000) + 1)
        var given = [Int?](repeating: nil, count: regions.count)
        for p in parsed {
            if let n = p.row.population {
                if let g = given[p.region], g != n {
                    throw PopulationError(.invalidArgument, "\(p.label): population \(n) for '\(regions[p.region])', which an earlier row gives as \(g)", value: "\(n)")
                }
                given[p.region] = n
            }
            for m in RiskMeasure.allCases { if let v = p.row.counts[m] { add(m, region: p.region, day: day(of: p.day), count: v) } }
        }
        population = given.map { $0 ?? 0 }
    }
}
