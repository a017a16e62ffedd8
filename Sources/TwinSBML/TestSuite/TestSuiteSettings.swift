import TwinCore

/// An SBML Test Suite settings file (`NNNNN-settings.txt`): output times, variables, tolerances, and
/// which species are reported as amounts or concentrations.
public struct TestSuiteSettings: Sendable, Equatable {
    public var start: Double
    public var duration: Double
    public var steps: Int
    public var variables: [String]
    public var absolute: Double
    public var relative: Double
    public var amount: Set<String>
    public var concentration: Set<String>

    public init(start: Double, duration: Double, steps: Int, variables: [String], absolute: Double, relative: Double, amount: Set<String> = [], concentration: Set<String> = []) {
        self.start = start
        self.duration = duration
        self.steps = steps
        self.variables = variables
        self.absolute = absolute
        self.relative = relative
        self.amount = amount
        self.concentration = concentration
    }

    /// Parses the text of a settings file.
    /// - Throws: `SBMLError` `.settings` naming the missing or malformed key.
    public static func parse(_ text: String) throws(SBMLError) -> TestSuiteSettings {
        var d: [String: String] = [:]
        for line in text.split(whereSeparator: \.isNewline) {
            guard let colon = line.firstIndex(of: ":") else { continue }
            d[String(line[..<colon]).trimmingSpaces] = String(line[line.index(after: colon)...]).trimmingSpaces
        }
        func list(_ k: String) -> [String] {
            (d[k] ?? "").split(separator: ",").map { String($0).trimmingSpaces }.filter { !$0.isEmpty }
        }
        func number(_ k: String) throws(SBMLError) -> Double {
            guard let s = d[k], let v = Double(s) else {
                throw SBMLError(.settings, "settings key '\(k)' is missing or not a number: '\(d[k] ?? "")'", value: k)
            }
            return v
        }
        let steps = try number("steps")
        guard steps >= 1, steps.rounded() == steps else {
            throw SBMLError(.settings, "settings 'steps' must be a positive whole number, not \(steps)", value: "steps")
        }
        let duration = try number("duration")
        guard duration >= 0 else { throw SBMLError(.settings, "settings 'duration' is negative: \(duration)", value: "duration") }
        return TestSuiteSettings(
            start: try number("start"), duration: duration, steps: Int(steps), variables: list("variables"),
            absolute: try number("absolute"), relative: try number("relative"),
            amount: Set(list("amount")), concentration: Set(list("concentration")))
    }

    /// The output times: `steps + 1` evenly spaced points from `start` to `start + duration`.
    public var outputTimes: [Double] {
        (0...steps).map { start + duration * Double($0) / Double(steps) }
    }

    /// The variables with their amount/concentration choice (species not listed in either: as in math).
    public var outputs: [OutputVariable] {
        variables.map { v in
            OutputVariable(id: v, concentration: concentration.contains(v) ? true : (amount.contains(v) ? false : nil))
        }
    }
}

/// A time-course table: a header (`time` then variables) and rows.
public struct ResultTable: Sendable {
    public var columns: [String]
    public var rows: [[Double]]

    public init(columns: [String], rows: [[Double]]) {
        self.columns = columns
        self.rows = rows
    }

    /// The suite's CSV: a header line, then one line per row; non-finite values as `NaN`, `INF`, `-INF`.
    public var csv: String {
        var s = columns.joined(separator: ",") + "\n"
        for r in rows {
            s += r.map { x -> String in
                if x.isNaN { return "NaN" }
                if x == .infinity { return "INF" }
                if x == -.infinity { return "-INF" }
                return "\(x)"
            }.joined(separator: ",")
            s += "\n"
        }
        return s
    }

    /// Parses a suite results CSV (header optional; NaN/INF/-INF case-insensitive), read through TwinCore's
    /// ``CSVReader`` (RFC 4180: quoted names, CRLF line ends).
    public static func parse(csv text: String) throws(SBMLError) -> ResultTable {
        var columns: [String] = []
        var rows: [[Double]] = []
        let table: CSVTable
        do { table = try CSVTable(text: text, name: "results", separator: UInt8(ascii: ",")) } catch {
            throw SBMLError(.settings, "\(error)", value: String(text.prefix(80)))
        }
        for (i, record) in ([CSVReader.Record(fields: table.header, line: 1)] + table.records).enumerated() where !table.header.isEmpty {
            let cells = record.fields.map(\.trimmingSpaces)
            var row: [Double] = []
            var numeric = true
            for c in cells {
                if let x = Double(c) { row.append(x); continue }
                switch c.uppercased() {
                case "NAN": row.append(.nan)
                case "INF", "INFINITY": row.append(.infinity)
                case "-INF", "-INFINITY": row.append(-.infinity)
                default: numeric = false
                }
                if !numeric { break }
            }
            if numeric { rows.append(row) } else if i == 0 { columns = cells } else {
                let line = record.fields.joined(separator: ",")
                throw SBMLError(.settings, "results line \(record.line) is not numeric: '\(line)'", value: line)
            }
        }
        return ResultTable(columns: columns, rows: rows)
    }

    /// The suite's rule: every point satisfies |expected - actual| <= absolute + relative * |expected|;
    /// NaN matches NaN and an infinity matches the same infinity. Returns the number of failing points
    /// and the first failure, or nil when the shapes differ.
    public static func compare(expected: ResultTable, actual: ResultTable, absolute: Double, relative: Double) -> (failures: Int, first: String?)? {
        guard expected.rows.count == actual.rows.count else { return nil }
        var failures = 0
        var first: String?
        for (i, (er, ar)) in zip(expected.rows, actual.rows).enumerated() {
            guard er.count == ar.count else { return nil }
            for j in 0..<er.count {
                let c = er[j], u = ar[j]
                let ok: Bool
                if c.isNaN { ok = u.isNaN }
                else if c.isInfinite { ok = u == c }
                else { ok = abs(c - u) <= absolute + relative * abs(c) }
                if !ok {
                    failures += 1
                    if first == nil {
                        let name = j < expected.columns.count ? expected.columns[j] : "column \(j)"
                        first = "\(name) at row \(i) (t = \(er.first ?? .nan)): expected \(c), got \(u)"
                    }
                }
            }
        }
        return (failures, first)
    }
}
