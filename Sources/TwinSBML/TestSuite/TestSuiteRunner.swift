#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import TwinCore
import TwinSimulation

/// Runs SBML Test Suite semantic cases: one case folder, or every case in a directory.
public enum TestSuiteRunner {
    /// The outcome of one case.
    public struct Outcome: Sendable {
        public enum Status: String, Sendable { case pass, fail, unsupported, skipped }
        public var caseID: String
        public var status: Status
        public var seconds: Double
        public var message: String
    }

    static let preference = ["l3v2", "l3v1", "l2v5", "l2v4", "l2v3", "l2v2", "l2v1"]

    /// Loads, compiles and simulates a model with suite settings; returns the table (time, then variables).
    /// `method` chooses the integrator (``SimulationOptions/method``; `.auto` switches to Rodas5P when stiff).
    public static func run(modelPath: String, settings: TestSuiteSettings, timeLimit: Double? = nil,
                           method: SolverMethod = .auto) throws(SBMLError) -> ResultTable {
        let model = try SBMLReader.read(path: modelPath)
        return try run(model: model, settings: settings, timeLimit: timeLimit, method: method)
    }

    /// Compiles and simulates a parsed model with suite settings.
    public static func run(model: SBMLModel, settings: TestSuiteSettings, timeLimit: Double? = nil,
                           method: SolverMethod = .auto) throws(SBMLError) -> ResultTable {
        let compiled = try ModelCompiler.compile(model)
        for v in settings.variables where compiled.slotOfSymbol[v] == nil {
            throw SBMLError(.undefinedSymbol, "output variable '\(v)' is not defined in the model", value: v)
        }
        var options = SimulationOptions()
        options.relativeTolerance = min(1e-9, settings.relative * 1e-5)
        options.absoluteTolerance = max(1e-22, min(1e-12, settings.absolute * 1e-6))
        options.timeLimit = timeLimit
        options.method = method
        let sim = Simulator(model: compiled, options: options)
        let times = settings.outputTimes
        let rows = try sim.simulate(outputTimes: times, outputs: settings.outputs)
        return ResultTable(columns: ["time"] + settings.variables, rows: zip(times, rows).map { [$0] + $1 })
    }

    static func fileExists(_ path: String) -> Bool { access(path, F_OK) == 0 }

    /// Reads a text file (UTF-8).
    public static func readFile(_ path: String) throws(SBMLError) -> String { try readText(path) }

    static func readText(_ path: String) throws(SBMLError) -> String {
        String(decoding: try FileBytes.read(path), as: UTF8.self)
    }

    /// The `testType` and tags of a case from its `NNNNN-model.m` header.
    static func header(_ path: String) -> [String: String] {
        guard let text = try? readText(path) else { return [:] }
        var d: [String: String] = [:]
        let head = text.components(separatedBy: "*)").first ?? text
        for line in head.split(whereSeparator: \.isNewline) {
            guard let colon = line.firstIndex(of: ":") else { continue }
            d[String(line[..<colon]).trimmingSpaces] = String(line[line.index(after: colon)...]).trimmingSpaces
        }
        return d
    }

    /// Runs one case folder (`.../NNNNN`), comparing with its expected results by the suite's rule.
    public static func runCase(directory: String, timeLimit: Double? = 60) -> Outcome {
        let id = String(directory.split(separator: "/").last ?? Substring(directory))
        let start = monotonicSeconds()
        func outcome(_ s: Outcome.Status, _ m: String) -> Outcome {
            Outcome(caseID: id, status: s, seconds: monotonicSeconds() - start, message: m)
        }
        let tags = header("\(directory)/\(id)-model.m")
        if let type = tags["testType"], type != "TimeCourse" {
            return outcome(.skipped, "testType \(type) is not a time course")
        }
        guard let model = preference.map({ "\(directory)/\(id)-sbml-\($0).xml" }).first(where: fileExists) else {
            return outcome(.unsupported, "no SBML Level 2 or 3 file in the case")
        }
        do {
            let settings = try TestSuiteSettings.parse(try readText("\(directory)/\(id)-settings.txt"))
            let expected = try ResultTable.parse(csv: try readText("\(directory)/\(id)-results.csv"))
            let actual = try run(modelPath: model, settings: settings, timeLimit: timeLimit)
            guard let cmp = ResultTable.compare(expected: expected, actual: actual, absolute: settings.absolute, relative: settings.relative) else {
                return outcome(.fail, "shape differs: expected \(expected.rows.count) rows, got \(actual.rows.count)")
            }
            if cmp.failures == 0 { return outcome(.pass, "") }
            return outcome(.fail, "\(cmp.failures) points outside tolerance; first: \(cmp.first ?? "")")
        } catch {
            if error.code == .unsupported { return outcome(.unsupported, error.description) }
            return outcome(.fail, error.description)
        }
    }

    /// The case folders (five-digit names) in a directory, sorted.
    public static func caseDirectories(in directory: String) throws(SBMLError) -> [String] {
        guard let dir = opendir(directory) else { throw SBMLError(.io, "cannot open directory '\(directory)'", value: directory) }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafePointer(to: entry.pointee.d_name) { p in
                p.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
            }
            if name.count == 5, name.allSatisfy(\.isNumber) { names.append(name) }
        }
        return names.sorted().map { "\(directory)/\($0)" }
    }

    /// Runs every case in a directory, `concurrency` at a time, and returns outcomes in case order, telling
    /// `progress` as each case finishes (unit "cases").
    public static func runSuite(directory: String, concurrency: Int = 2,
                                progress: any ProgressReporter = SilentProgress()) async throws(SBMLError) -> [Outcome] {
        let dirs = try caseDirectories(in: directory)
        defer { progress.finish() }
        progress.update(done: 0, of: dirs.count, unit: "cases")
        return await withTaskGroup(of: (Int, Outcome).self) { group in
            var results = [Outcome?](repeating: nil, count: dirs.count)
            var next = 0
            for _ in 0..<max(1, concurrency) where next < dirs.count {
                let i = next, d = dirs[i]
                group.addTask { (i, runCase(directory: d)) }
                next += 1
            }
            var finished = 0
            while let (i, o) = await group.next() {
                results[i] = o
                finished += 1
                progress.update(done: finished, of: dirs.count, unit: "cases")
                if next < dirs.count {
                    let j = next, d = dirs[j]
                    group.addTask { (j, runCase(directory: d)) }
                    next += 1
                }
            }
            return results.compactMap { $0 }
        }
    }

    /// The summary CSV: `case,status,seconds,message`.
    public static func summaryCSV(_ outcomes: [Outcome]) -> String {
        var s = "case,status,seconds,message\n"
        for o in outcomes {
            let msg = o.message.replacingOccurrences(of: "\"", with: "'").replacingOccurrences(of: "\n", with: " ")
            s += "\(o.caseID),\(o.status.rawValue),\(String(format3(o.seconds))),\"\(msg)\"\n"
        }
        return s
    }

    static func format3(_ x: Double) -> String {
        let ms = Int((x * 1000).rounded())
        let frac = ms % 1000
        return "\(ms / 1000).\(frac < 10 ? "00" : frac < 100 ? "0" : "")\(frac)"
    }

    /// Writes text to a file through ``OutputFile``: an existing folder is refused and never touched, an existing
    /// file is refused unless `overwrite`, and the file appears whole or not at all (a temporary file in the same
    /// folder, then an atomic rename).
    /// - Throws: ``SBMLError`` `io` naming the path.
    public static func write(_ text: String, to path: String, overwrite: Bool = false) throws(SBMLError) {
        do throws(TwinError) { try OutputFile.write(text, to: path, overwrite: overwrite) } catch {
            throw SBMLError(.io, error.message, value: path)
        }
    }

    /// Checks before a run that ``write(_:to:overwrite:)`` to `path` would not be refused (see
    /// ``OutputFile/checkWritable(_:overwrite:)``).
    /// - Throws: ``SBMLError`` `io` naming the path.
    public static func checkWritable(_ path: String, overwrite: Bool = false) throws(SBMLError) {
        do throws(TwinError) { try OutputFile.checkWritable(path, overwrite: overwrite) } catch {
            throw SBMLError(.io, error.message, value: path)
        }
    }

    /// Seconds on a monotonic clock.
    public static func monotonicSeconds() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
    }
}

extension String {
    func replacingOccurrences(of a: String, with b: String) -> String {
        split(separator: Substring(a), omittingEmptySubsequences: false).joined(separator: b)
    }
    func components(separatedBy s: String) -> [String] {
        split(separator: Substring(s), omittingEmptySubsequences: false).map(String.init)
    }
}
