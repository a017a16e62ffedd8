import Foundation
import TwinBank
import TwinCore

/// Counts of confirmed cases in a two-way table (regions or age bands by week, ...), before release.
public struct CaseTable: Sendable, Hashable {
    public var rowLabels: [String]
    public var columnLabels: [String]
    /// `counts[row][column]`, whole numbers of at least 0.
    public var counts: [[Int]]

    /// - Throws: ``PopulationError/Code/invalidArgument`` when the shape does not match the labels or a count is negative.
    public init(rowLabels: [String], columnLabels: [String], counts: [[Int]]) throws(PopulationError) {
        guard !rowLabels.isEmpty, !columnLabels.isEmpty else {
            throw PopulationError(.invalidArgument, "a case table needs at least one row and one column", value: nil)
        }
        guard counts.count == rowLabels.count, counts.allSatisfy({ $0.count == columnLabels.count }) else {
            throw PopulationError(.invalidArgument, "the case table is not \(rowLabels.count) rows of \(columnLabels.count) counts", value: nil)
        }
        for (r, row) in counts.enumerated() {
            if let c = row.firstIndex(where: { $0 < 0 }) {
                throw PopulationError(.invalidArgument, "the count for \(rowLabels[r]), \(columnLabels[c]) is \(row[c]): counts are at least 0", value: "\(row[c])")
            }
        }
        self.rowLabels = rowLabels; self.columnLabels = columnLabels; self.counts = counts
    }
}

/// A case table ready for release: small counts suppressed, with complementary suppression, and its margins.
public struct ReleasedTable: Sendable, Hashable {
    public var rowLabels: [String]
    public var columnLabels: [String]
    /// The threshold used: counts from 1 to `minimumCount - 1` were suppressed.
    public var minimumCount: Int
    /// `cells[row][column]`: the count, or nil where suppressed.
    public var cells: [[Int?]]
    /// Row totals, column totals and the grand total; nil where suppressed.
    public var rowTotals: [Int?]
    public var columnTotals: [Int?]
    public var total: Int?
    /// How many cells (margins included) were suppressed for being small, and how many more to protect them.
    public var primaryCount: Int
    public var complementaryCount: Int
}

/// Release of confirmed cases in aggregate only, with small counts suppressed.
///
/// Promises, for ``release(_:minimumCount:)``:
/// - **Primary suppression**: every count from 1 to `minimumCount - 1`, among the cells and the margins (row totals,
///   column totals, grand total), is suppressed. Zeros are published (a zero says nobody, so it identifies nobody).
/// - **Complementary suppression**: more cells are suppressed until no suppressed value can be worked out from
///   what is published. The table with its margins is read as a bipartite graph (one node per row and column of the
///   table extended by its totals, one edge per suppressed cell); every line of that table sums to zero with the
///   total's sign flipped, so a suppressed value is determined exactly when its edge is a bridge (on no cycle).
///   Complements are added, cheapest first (the smallest counts; zeros only when no non-zero complement exists),
///   until no edge is a bridge. When every suppressed count is at least 1, adding and subtracting 1 around a cycle
///   keeps all counts whole and non-negative, so each suppressed cell has at least two values consistent with
///   everything released.
/// - The published cells and margins are the true counts; nothing is perturbed.
///
/// `minimumCount` must be at least 1 (1 suppresses nothing; 5 is the default, as in many agencies' rules for
/// small cells, e.g. counts of 1 to 4).
public enum CaseReporting {
    /// The default threshold: counts below 5 are suppressed.
    public static let defaultMinimumCount = 5

    public static func release(_ table: CaseTable, minimumCount: Int = defaultMinimumCount) throws(PopulationError) -> ReleasedTable {
        guard minimumCount >= 1 else {
            throw PopulationError(.invalidArgument, "the minimum count \(minimumCount) must be at least 1 (1 suppresses nothing)", value: "\(minimumCount)")
        }
        let R = table.rowLabels.count, C = table.columnLabels.count
        // the extended table: row R holds column totals, column C row totals, (R, C) the grand total
        var x = [[Int]](repeating: [Int](repeating: 0, count: C + 1), count: R + 1)
        for r in 0..<R { for c in 0..<C { x[r][c] = table.counts[r][c]; x[r][C] += table.counts[r][c]; x[R][c] += table.counts[r][c]; x[R][C] += table.counts[r][c] } }
        var hidden = [[Bool]](repeating: [Bool](repeating: false, count: C + 1), count: R + 1)
        var primary = 0
        for r in 0...R { for c in 0...C where x[r][c] >= 1 && x[r][c] < minimumCount { hidden[r][c] = true; primary += 1 } }
        var complementary = 0
        while let (br, bc) = bridge(hidden, R + 1, C + 1) {
            // close a cycle through (br, bc) with a rectangle (br, c2), (r2, bc), (r2, c2): cheapest new cells first
            var best: (cost: (Int, Int), cells: [(Int, Int)])?
            for r2 in 0...R where r2 != br {
                for c2 in 0...C where c2 != bc {
                    let cells = [(br, c2), (r2, bc), (r2, c2)].filter { !hidden[$0.0][$0.1] }
                    let zeros = cells.filter { x[$0.0][$0.1] == 0 }.count
                    let cost = (zeros, cells.reduce(0) { $0 + x[$1.0][$1.1] })
                    if best == nil || cost < best!.cost { best = (cost, cells) }
                }
            }
            guard let chosen = best, !chosen.cells.isEmpty else { break }   // cannot happen: a bridge lies on no cycle
            for (r, c) in chosen.cells { hidden[r][c] = true; complementary += 1 }
        }
        func shown(_ r: Int, _ c: Int) -> Int? { hidden[r][c] ? nil : x[r][c] }
        return ReleasedTable(rowLabels: table.rowLabels, columnLabels: table.columnLabels, minimumCount: minimumCount,
                             cells: (0..<R).map { r in (0..<C).map { c in shown(r, c) } },
                             rowTotals: (0..<R).map { shown($0, C) }, columnTotals: (0..<C).map { shown(R, $0) }, total: shown(R, C),
                             primaryCount: primary, complementaryCount: complementary)
    }

    /// A suppressed cell whose edge is a bridge of the row-column graph (Tarjan's bridge search), or nil.
    static func bridge(_ hidden: [[Bool]], _ rows: Int, _ cols: Int) -> (Int, Int)? {
        // nodes 0..<rows are rows, rows..<rows+cols columns
        let n = rows + cols
        var adjacency = [[Int]](repeating: [], count: n)
        for r in 0..<rows { for c in 0..<cols where hidden[r][c] { adjacency[r].append(rows + c); adjacency[rows + c].append(r) } }
        var order = [Int](repeating: -1, count: n), low = [Int](repeating: 0, count: n)
        var counter = 0
        for root in 0..<n where order[root] < 0 && !adjacency[root].isEmpty {
            // iterative DFS: (node, parent, next neighbour index)
            var stack: [(Int, Int, Int)] = [(root, -1, 0)]
            order[root] = counter; low[root] = counter; counter += 1
            while !stack.isEmpty {
                let (v, parent, i) = stack[stack.count - 1]
                if i < adjacency[v].count {
                    stack[stack.count - 1].2 += 1
                    let w = adjacency[v][i]
                    if w == parent { continue }   // one cell per row-column pair: no parallel edges
                    if order[w] < 0 {
                        order[w] = counter; low[w] = counter; counter += 1
                        stack.append((w, v, 0))
                    } else {
                        low[v] = min(low[v], order[w])
                    }
                } else {
                    stack.removeLast()
                    if parent >= 0 {
                        low[parent] = min(low[parent], low[v])
                        if low[v] > order[parent] {
                            let (a, b) = parent < rows ? (parent, v - rows) : (v, parent - rows)
                            return (a, b)
                        }
                    }
                }
            }
        }
        return nil
    }

    /// The released table as CSV: a header `ROWS,COLUMN...,total`, one line per row with its total, and a `total`
    /// line; a suppressed value is written as the word `suppressed`, so a reader cannot mistake it for a zero.
    public static func csv(_ t: ReleasedTable, rowHeader: String = "group") -> String {
        func field(_ s: String) -> String { s.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" }) ? "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : s }
        func v(_ x: Int?) -> String { x.map(String.init) ?? "suppressed" }
        var out = ([rowHeader] + t.columnLabels + ["total"]).map(field).joined(separator: ",") + "\n"
        for (r, label) in t.rowLabels.enumerated() {
            out += ([field(label)] + t.cells[r].map(v) + [v(t.rowTotals[r])]).joined(separator: ",") + "\n"
        }
        out += (["total"] + t.columnTotals.map(v) + [v(t.total)]).joined(separator: ",") + "\n"
        return out
    }
}

extension CaseReporting {
    /// The ISO 8601 week (`2026-W10`) of a day of `counts`.
    public static func isoWeek(_ counts: RegionalCounts, day: Int) -> String {
        var calendar = Calendar(identifier: .iso8601)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let date = Date(timeIntervalSince1970: Double(counts.start.microseconds) / 1e6 + Double(day) * 86_400)
        let c = calendar.dateComponents([.yearForWeekOfYear, .weekOfYear], from: date)
        return String(format: "%04d-W%02d", c.yearForWeekOfYear!, c.weekOfYear!)
    }

    /// Confirmed cases per region (rows) and ISO week (columns) from daily counts.
    public static func casesByRegionAndWeek(_ counts: RegionalCounts) throws(PopulationError) -> CaseTable {
        var weeks: [String] = []
        var weekOfDay: [Int] = []
        for d in 0..<counts.days {
            let w = isoWeek(counts, day: d)
            if weeks.last != w { weeks.append(w) }
            weekOfDay.append(weeks.count - 1)
        }
        var table = [[Int]](repeating: [Int](repeating: 0, count: weeks.count), count: counts.regions.count)
        for r in counts.regions.indices {
            for (d, v) in counts.series(.cases, region: r).enumerated() { table[r][weekOfDay[d]] += v }
        }
        return try CaseTable(rowLabels: counts.regions, columnLabels: weeks, counts: table)
    }

    /// Reads a wide CSV table: a header `GROUP,COLUMN,...` and one line per group with a whole count per column.
    /// - Throws: ``PopulationError/Code/invalidArgument`` naming the line and the value.
    public static func table(csv text: String, name: String = "table") throws -> CaseTable {
        let reader = CSVReader(text: text, name: name)
        guard let header = try reader.next(), header.fields.count >= 2 else {
            throw PopulationError(.invalidArgument, "\(name): the header must name the groups' column and at least one column of counts", value: name)
        }
        var rows: [String] = [], counts: [[Int]] = []
        while let record = try reader.next() {
            if record.isBlank { continue }
            guard record.fields.count == header.fields.count else {
                throw PopulationError(.invalidArgument, "\(name) line \(record.line) has \(record.fields.count) fields, the header \(header.fields.count)", value: record.fields.joined(separator: ","))
            }
            var row: [Int] = []
            for (i, f) in record.fields.enumerated().dropFirst() {
                let t = f.trimmingCharacters(in: .whitespaces)
                guard let v = Int(t), v >= 0 else {
                    throw PopulationError(.invalidArgument, "\(name) line \(record.line), column \(header.fields[i]): '\(t)' is not a whole number of at least 0", value: t)
                }
                row.append(v)
            }
            rows.append(record.fields[0]); counts.append(row)
        }
        guard !rows.isEmpty else { throw PopulationError(.invalidArgument, "\(name) has no rows", value: name) }
        return try CaseTable(rowLabels: rows, columnLabels: Array(header.fields.dropFirst()), counts: counts)
    }
}

extension CaseReporting {
    /// The default age bands (lower bounds): 0-9, 10-19, ..., 70-79, 80+.
    public static let defaultAgeBands = [0, 10, 20, 30, 40, 50, 60, 70, 80]

    /// Parses age bands given as their lower bounds, comma-separated (`0,18,65`): whole numbers from 0, increasing.
    /// - Throws: ``PopulationError`` `invalidArgument` naming the item that is not a whole number, or the bands
    ///   when they do not start at 0 and increase.
    public static func ageBands(parsing text: String) throws(PopulationError) -> [Int] {
        var bands: [Int] = []
        for part in text.split(separator: ",", omittingEmptySubsequences: false) {
            let t = part.trimmingCharacters(in: .whitespaces)
            guard let v = Int(t) else {
                throw PopulationError(.invalidArgument, "the age bands \(text): '\(t)' is not a whole number", value: t)
            }
            bands.append(v)
        }
        guard bands.first == 0, zip(bands, bands.dropFirst()).allSatisfy({ $0 < $1 }) else {
            throw PopulationError(.invalidArgument, "the age bands \(text) must start at 0 and increase", value: text)
        }
        return bands
    }

    /// The label of each band: `0-17`, `18-64`, `65+`.
    public static func ageBandLabels(_ bands: [Int]) -> [String] {
        bands.enumerated().map { i, lo in i + 1 < bands.count ? "\(lo)-\(bands[i + 1] - 1)" : "\(lo)+" }
    }

    /// Confirmed cases (`local:case.confirmed`) of `aggregate`'s person twins per age band (rows) and ISO week
    /// (columns). The age is the one at the case's time, from the attribute `birthDate` (a date), else the attribute
    /// `age` (a number, as recorded); cases of people with neither are counted in a last row `unknown` (only when
    /// there are some).
    /// - Throws: ``PopulationError/Code/invalidArgument`` for bands that do not start at 0 and increase, or no
    ///   case at all; the bank's errors.
    public static func casesByAgeBandAndWeek(bank: Bank, aggregate: AggregateID, bands: [Int] = defaultAgeBands) throws -> CaseTable {
        guard bands.first == 0, zip(bands, bands.dropFirst()).allSatisfy({ $0 < $1 }) else {
            throw PopulationError(.invalidArgument, "the age bands \(bands.map(String.init).joined(separator: ",")) must start at 0 and increase", value: bands.map(String.init).joined(separator: ","))
        }
        var labels = ageBandLabels(bands)
        var cases: [(band: Int, time: Instant)] = []
        var unknown = false
        // A computation over the aggregate: asked as `aggregate`; members refused that use are left out.
        let cohort = try bank.cohort(of: aggregate, for: .aggregate)
        for record in cohort.records {
            let id = record.id, twin = record.twin
            guard twin.kind == .person else { continue }
            for e in try bank.events(ThreadQuery(twin: id, code: RiskEvents.confirmedCase.key, category: .observation), in: cohort) {
                let t = e.effective.start
                var age: Double?
                if case .date(let birth)? = twin.attributes["birthDate"] {
                    age = Double(Self.wholeYears(from: birth, to: t))
                } else if let a = try RiskTwins.number(twin.attributes["age"], "age", id) {
                    age = a
                }
                if let age, age >= 0 {
                    cases.append((bands.lastIndex { Double($0) <= age }!, t))
                } else {
                    cases.append((bands.count, t)); unknown = true
                }
            }
        }
        if unknown { labels.append("unknown") }
        guard let first = cases.map(\.time).min(), let last = cases.map(\.time).max() else {
            throw PopulationError(.invalidArgument, "the aggregate '\(aggregate)' has no confirmed case (local:case.confirmed) to report", value: aggregate.description)
        }
        var counts = try RegionalCounts(regions: labels, start: first,
                                        days: Int((RegionalCounts.dayStart(last.microseconds) - RegionalCounts.dayStart(first.microseconds)) / 86_400_000_000) + 1)
        for c in cases { counts.add(.cases, region: c.band, day: counts.day(of: c.time)) }
        return try casesByRegionAndWeek(counts)
    }

    /// Whole years from `birth` to `t` (UTC calendar).
    static func wholeYears(from birth: Instant, to t: Instant) -> Int {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let b = Date(timeIntervalSince1970: birth.seconds), d = Date(timeIntervalSince1970: t.seconds)
        return calendar.dateComponents([.year], from: b, to: d).year ?? 0
    }
}
