import Foundation
import Testing
@testable import TwinPopulation

/// Aggregate case reports: small counts suppressed, and complements so that none can be worked out.
@Suite struct ReportingTests {
    @Test func aSmallCellIsProtectedByTheCheapestRectangle() throws {
        //        w1  w2  w3 | total
        //   A    10   2  12 |  24
        //   B     8   9   7 |  24
        //   C     6  11  15 |  32
        //  total 24  22  34 |  80
        // A,w2 = 2 is below 5. Alone it would be 24 - 10 - 12 = 2 again, so a cycle of suppressed cells must pass
        // through it: the cheapest rectangle is A,w1 + B,w2 + B,w1 = 10 + 9 + 8 = 27 (C's 10 + 11 + 6 ties; the first wins).
        let t = try CaseTable(rowLabels: ["A", "B", "C"], columnLabels: ["w1", "w2", "w3"], counts: [[10, 2, 12], [8, 9, 7], [6, 11, 15]])
        let r = try CaseReporting.release(t)
        #expect(r.cells == [[nil, nil, 12], [nil, nil, 7], [6, 11, 15]])
        #expect(r.rowTotals == [24, 24, 32] && r.columnTotals == [24, 22, 34] && r.total == 80)
        #expect(r.primaryCount == 1 && r.complementaryCount == 3)
        #expect(CaseReporting.csv(r, rowHeader: "region") == """
        region,w1,w2,w3,total
        A,suppressed,suppressed,12,24
        B,suppressed,suppressed,7,24
        C,6,11,15,32
        total,24,22,34,80

        """)
        // with --min-count 1 nothing is suppressed
        #expect(try CaseReporting.release(t, minimumCount: 1).cells == t.counts.map { $0.map { Optional($0) } })
        #expect(throws: PopulationError.self) { _ = try CaseReporting.release(t, minimumCount: 0) }
    }

    @Test func smallTotalsAreSuppressedToo() throws {
        // row B totals 3: its total is suppressed, and its cells (1 and 2) too
        let t = try CaseTable(rowLabels: ["A", "B"], columnLabels: ["w1", "w2"], counts: [[20, 30], [1, 2]])
        let r = try CaseReporting.release(t)
        #expect(r.rowTotals[1] == nil)
        #expect(r.cells[1] == [nil, nil])
        try Self.checkProtected(t, r)
    }

    /// Whether any suppressed value is determined by what is published: the value of hidden cell i is determined
    /// exactly when the unit vector e_i lies in the row space of the line constraints over the hidden cells
    /// (Gaussian elimination; independent of the bridge argument the release uses).
    static func checkProtected(_ t: CaseTable, _ r: ReleasedTable, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let R = t.rowLabels.count, C = t.columnLabels.count
        var x = [[Int]](repeating: [Int](repeating: 0, count: C + 1), count: R + 1)
        var shown = [[Int?]](repeating: [Int?](repeating: nil, count: C + 1), count: R + 1)
        for i in 0..<R { for j in 0..<C { x[i][j] = t.counts[i][j]; x[i][C] += t.counts[i][j]; x[R][j] += t.counts[i][j]; x[R][C] += t.counts[i][j]; shown[i][j] = r.cells[i][j] } }
        for i in 0..<R { shown[i][C] = r.rowTotals[i] }
        for j in 0..<C { shown[R][j] = r.columnTotals[j] }
        shown[R][C] = r.total
        var hidden: [(Int, Int)] = []
        for i in 0...R { for j in 0...C {
            if let s = shown[i][j] { #expect(s == x[i][j], sourceLocation: sourceLocation) } else { hidden.append((i, j)) }
            if x[i][j] >= 1 && x[i][j] < r.minimumCount { #expect(shown[i][j] == nil, "(\(i), \(j)) = \(x[i][j]) is published", sourceLocation: sourceLocation) }
        } }
        // constraints: for each line of the extended table, sum of cells - total = 0; restricted to hidden unknowns
        var rows: [[Double]] = []
        for i in 0...R { rows.append(hidden.map { ($0.0 == i) ? ($0.1 == C ? -1 : 1) : 0 }) }
        for j in 0...C { rows.append(hidden.map { ($0.1 == j) ? ($0.0 == R ? -1 : 1) : 0 }) }
        func rank(_ m: [[Double]]) -> Int {
            var m = m, rank = 0
            let cols = m.first?.count ?? 0
            for c in 0..<cols {
                guard let p = (rank..<m.count).first(where: { abs(m[$0][c]) > 1e-9 }) else { continue }
                m.swapAt(rank, p)
                for k in 0..<m.count where k != rank && abs(m[k][c]) > 1e-9 {
                    let f = m[k][c] / m[rank][c]
                    for cc in 0..<cols { m[k][cc] -= f * m[rank][cc] }
                }
                rank += 1
            }
            return rank
        }
        let base = rank(rows)
        for (k, cell) in hidden.enumerated() {
            var unit = [Double](repeating: 0, count: hidden.count)
            unit[k] = 1
            #expect(rank(rows + [unit]) > base, "suppressed cell \(cell) = \(x[cell.0][cell.1]) can be worked out", sourceLocation: sourceLocation)
        }
    }

    @Test func randomTablesNeverLeakASuppressedCount() throws {
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<60 {
            let R = Int.random(in: 1...6, using: &rng), C = Int.random(in: 1...6, using: &rng)
            let counts = (0..<R).map { _ in (0..<C).map { _ in Bool.random(using: &rng) ? Int.random(in: 0...6, using: &rng) : Int.random(in: 0...40, using: &rng) } }
            let t = try CaseTable(rowLabels: (0..<R).map { "r\($0)" }, columnLabels: (0..<C).map { "c\($0)" }, counts: counts)
            let k = Int.random(in: 1...6, using: &rng)
            let r = try CaseReporting.release(t, minimumCount: k)
            try Self.checkProtected(t, r)
        }
    }

    @Test func tablesFromCSVAndFromDailyCounts() throws {
        let t = try CaseReporting.table(csv: "age band,2026-W10,2026-W11\n0-17,3,12\n18-64,40,51\n65+,7,0\n")
        #expect(t.rowLabels == ["0-17", "18-64", "65+"] && t.columnLabels == ["2026-W10", "2026-W11"])
        #expect(t.counts == [[3, 12], [40, 51], [7, 0]])
        let bad = #expect(throws: PopulationError.self) { _ = try CaseReporting.table(csv: "g,w1\na,-2\n") }
        #expect(bad?.message.contains("line 2, column w1: '-2' is not a whole number") == true)
        // 2026-03-01 is a Sunday (ISO week 9); 2026-03-02 starts week 10
        var c = try RegionalCounts(regions: ["A", "B"], start: try TwinCore_instant("2026-03-01T00:00:00Z"), days: 9)
        c.add(.cases, region: 0, day: 0, count: 2)
        c.add(.cases, region: 0, day: 1, count: 3)
        c.add(.cases, region: 1, day: 8, count: 4)
        let weekly = try CaseReporting.casesByRegionAndWeek(c)
        #expect(weekly.columnLabels == ["2026-W09", "2026-W10", "2026-W11"])
        #expect(weekly.counts == [[2, 3, 0], [0, 0, 4]])
    }
}

import TwinCore
func TwinCore_instant(_ s: String) throws -> Instant { try Instant(parsing: s) }

import TwinBank

extension ReportingTests {
    @Test func casesByAgeBandFromTheBank() throws {
        let bank = Bank(storage: MemoryStorage())
        // ann born 1960 (66 at her case in March 2026), bob aged 30 as recorded, cat without an age
        _ = try bank.createTwin(Twin(id: "ann", kind: .person, attributes: ["birthDate": .date(try Instant(parsing: "1960-06-01T00:00:00Z"))]))
        _ = try bank.createTwin(Twin(id: "bob", kind: .person, attributes: ["age": .quantity(Quantity(30, "a"))]))
        _ = try bank.createTwin(Twin(id: "cat", kind: .person))
        func caseAt(_ t: TwinID, _ when: String) throws -> EventDraft {
            EventDraft(twin: t, effective: EffectiveTime(try Instant(parsing: when)), code: RiskEvents.confirmedCase, value: .boolean(true), source: Source(.record, "lab"))
        }
        _ = try bank.append([try caseAt("ann", "2026-03-03T10:00:00Z"), try caseAt("bob", "2026-03-10T10:00:00Z"), try caseAt("cat", "2026-03-10T11:00:00Z")])
        _ = try bank.createAggregate("city", where: "kind = person")
        let t = try CaseReporting.casesByAgeBandAndWeek(bank: bank, aggregate: "city", bands: [0, 18, 65])
        #expect(t.rowLabels == ["0-17", "18-64", "65+", "unknown"])
        #expect(t.columnLabels == ["2026-W10", "2026-W11"])
        #expect(t.counts == [[0, 0], [0, 1], [1, 0], [0, 1]])
        #expect(throws: PopulationError.self) { _ = try CaseReporting.casesByAgeBandAndWeek(bank: bank, aggregate: "city", bands: [5, 18]) }
        // age 64 the day before the 65th birthday
        #expect(CaseReporting.wholeYears(from: try Instant(parsing: "1961-03-04T00:00:00Z"), to: try Instant(parsing: "2026-03-03T10:00:00Z")) == 64)
    }
}
