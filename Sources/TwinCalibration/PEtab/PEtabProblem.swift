import Foundation
import TwinSimulation

/// A calibration problem in the PEtab format (version 1): an SBML model plus tables of experimental
/// conditions, measurements, observables (with noise models) and parameters (with scales and bounds).
///
/// Loading validates the cross-references between tables (every measurement names a known observable and
/// condition, every estimated parameter has finite bounds and a known scale...) and reports the first
/// problem with the file, row and value. The tables are read as PEtab v1 writes them (pre-equilibration
/// conditions, steady-state times `inf`, normal and Laplace noise); a consumer that cannot handle one of
/// these refuses it by name (``PEtabCalibration`` refuses all three; ``PEtabLikelihood`` what its
/// documentation says). Noise distributions other than normal and Laplace are refused here.
public struct PEtabProblem: Sendable {
    /// Parameter scale: the optimiser works on `lin`, `ln` (`log`) or `log10` of the value.
    public enum Scale: String, Sendable, Hashable {
        case lin, log, log10
        public func toScale(_ x: Double) -> Double {
            switch self { case .lin: x; case .log: Foundation.log(x); case .log10: Foundation.log10(x) }
        }
        public func fromScale(_ v: Double) -> Double {
            switch self { case .lin: v; case .log: exp(v); case .log10: pow(10, v) }
        }
    }

    public struct Parameter: Sendable, Hashable {
        public let id: String
        public let scale: Scale
        /// Bounds and nominal value on the linear scale, as the table gives them.
        public let lower: Double, upper: Double, nominal: Double
        public let estimate: Bool
    }

    public struct Observable: Sendable, Hashable {
        public let id: String
        public let formula: FormulaExpression
        /// Scale on which the noise is additive (`lin`: normal; `log`/`log10`: log-normal).
        public let transformation: Scale
        public let noiseFormula: FormulaExpression
        /// The distribution of the noise on the transformed scale (PEtab `noiseDistribution`, default normal).
        public var noiseDistribution: NoiseDistribution = .normal
    }

    /// PEtab v1 noise distributions: `noiseFormula` is the standard deviation (normal) or the scale `b`
    /// (Laplace, density `exp(-|x - μ| / b) / 2b`).
    public enum NoiseDistribution: String, Sendable, Hashable {
        case normal, laplace
    }

    public struct Measurement: Sendable, Hashable {
        public let observableId: String
        public let simulationConditionId: String
        public let time: Double
        public let value: Double
        /// Values or parameter ids substituted for `observableParameter{k}_{observableId}`.
        public let observableParameters: [String]
        /// Values or parameter ids substituted for `noiseParameter{k}_{observableId}`.
        public let noiseParameters: [String]
        /// The condition simulated to steady state before `simulationConditionId` (nil: none).
        public var preequilibrationConditionId: String? = nil
    }

    public struct Condition: Sendable, Hashable {
        public let id: String
        /// Model entity id → number or parameter id.
        public let overrides: [String: String]
    }

    public let directory: URL
    public let modelFile: URL
    public let parameters: [Parameter]
    public let observables: [String: Observable]
    public let measurements: [Measurement]
    public let conditions: [String: Condition]

    public var estimated: [Parameter] { parameters.filter(\.estimate) }

    /// Loads the problem described by a PEtab YAML file; the files it names are read from the file's folder.
    public static func load(yaml url: URL) throws -> PEtabProblem {
        let text: String
        do { text = try String(contentsOf: url, encoding: .utf8) } catch {
            throw CalibrationError(.invalidPEtab, "cannot read PEtab problem file \(url.path).", value: url.path)
        }
        let dir = url.deletingLastPathComponent()
        return try load(yaml: text, name: url.lastPathComponent, directory: dir, model: { dir.appendingPathComponent($0) },
                        table: { try TSVTable(contentsOf: dir.appendingPathComponent($0)) })
    }

    /// Where a problem given by its files' contents (``load(yaml:files:)``) says it is: not a folder on disk, so
    /// ``directory`` and ``modelFile`` of such a problem name no file that can be opened.
    public static let inMemoryDirectory = URL(string: "memory:/")!

    /// Loads a problem given as the contents of its files, by name: `problem` names the YAML file among `files`, and
    /// the tables and the SBML model it names are looked up among `files` by the names the YAML writes (nothing is
    /// read from disk). ``modelFile`` is the model's name under ``inMemoryDirectory``: give the model's text
    /// (`files[modelFile.lastPathComponent]`) to a simulator.
    /// - Throws: ``CalibrationError`` `invalidPEtab` naming the file: the problem or a file it names missing from
    ///   `files`, and every error of ``load(yaml:)``.
    public static func load(yaml problem: String, files: [String: String]) throws -> PEtabProblem {
        let given = files.keys.sorted().joined(separator: ", ")
        guard let text = files[problem] else {
            throw CalibrationError(.invalidPEtab, "the PEtab problem file '\(problem)' is not among the files given (\(given)).", value: problem)
        }
        return try load(yaml: text, name: problem, directory: inMemoryDirectory, model: { name in
            guard files[name] != nil, !name.contains("/") else {
                throw CalibrationError(.invalidPEtab, "the problem names the SBML model '\(name)', which is not among the files given (\(given)).", value: name)
            }
            return inMemoryDirectory.appendingPathComponent(name)
        }, table: { name in
            guard let table = files[name] else {
                throw CalibrationError(.invalidPEtab, "the problem names the table '\(name)', which is not among the files given (\(given)).", value: name)
            }
            return try TSVTable(name: name, text: table)
        })
    }

    /// The problem of a PEtab YAML document `text` (called `name` in messages), its tables read by `table` and its
    /// model's location given by `model` (each given the name the YAML writes), in `directory`.
    static func load(yaml text: String, name: String, directory dir: URL, model: (String) throws -> URL,
                     table: (String) throws -> TSVTable) throws -> PEtabProblem {
        let doc = try YAMLDocument.parse(text, name: name)
        if let v = doc["format_version"]?.string, v != "1", v != "1.0.0" {
            throw CalibrationError(.unsupported, "PEtab format version \(v) is not supported (only version 1).", value: v)
        }
        guard let parameterFile = doc["parameter_file"]?.strings?.first else {
            throw CalibrationError(.invalidPEtab, "\(name) names no parameter_file.", value: name)
        }
        guard case .list(let problems)? = doc["problems"], problems.count == 1 else {
            throw CalibrationError(.unsupported, "\(name) must describe exactly one problem under 'problems'.", value: name)
        }
        let p = problems[0]
        func files(_ key: String) throws -> [String] {
            guard let names = p[key]?.strings, !names.isEmpty else {
                throw CalibrationError(.invalidPEtab, "the problem in \(name) lists no \(key).", value: key)
            }
            return names
        }
        let sbml = try files("sbml_files")
        guard sbml.count == 1 else { throw CalibrationError(.unsupported, "only one SBML model per problem is supported.", value: String(sbml.count)) }
        return try PEtabProblem(directory: dir, modelFile: model(sbml[0]),
                                parameterTable: table(parameterFile),
                                conditionTables: files("condition_files").map(table),
                                measurementTables: files("measurement_files").map(table),
                                observableTables: files("observable_files").map(table))
    }

    /// Builds a problem from already-read tables (validated as in ``load(yaml:)``).
    public init(directory: URL, modelFile: URL, parameterTable: TSVTable, conditionTables: [TSVTable],
                measurementTables: [TSVTable], observableTables: [TSVTable]) throws {
        // parameters
        let pt = parameterTable
        let pid = try pt.require("parameterId"), pscale = try pt.require("parameterScale")
        let plo = try pt.require("lowerBound"), phi = try pt.require("upperBound"), pest = try pt.require("estimate")
        let pnom = pt.index(of: "nominalValue")
        var parameters: [Parameter] = []
        var seen = Set<String>()
        for r in pt.rows.indices {
            let id = pt.rows[r][pid]
            guard !id.isEmpty, seen.insert(id).inserted else {
                throw CalibrationError(.invalidPEtab, "parameter id in row \(r + 2) of '\(pt.name)' is empty or repeated.", value: id)
            }
            guard let scale = Scale(rawValue: pt.rows[r][pscale]) else {
                throw CalibrationError(.invalidPEtab, "parameter '\(id)' has scale '\(pt.rows[r][pscale])'; expected lin, log or log10.", value: pt.rows[r][pscale])
            }
            let estimate: Bool
            switch pt.rows[r][pest] {
            case "1": estimate = true
            case "0": estimate = false
            default: throw CalibrationError(.invalidPEtab, "parameter '\(id)' has estimate '\(pt.rows[r][pest])'; expected 0 or 1.", value: pt.rows[r][pest])
            }
            let nominal: Double
            if let c = pnom, !pt.rows[r][c].isEmpty { nominal = try pt.number(r, c) } else if estimate { nominal = .nan } else {
                throw CalibrationError(.invalidPEtab, "fixed parameter '\(id)' has no nominal value.", value: id)
            }
            var lower = -Double.infinity, upper = Double.infinity
            if estimate {
                lower = try pt.number(r, plo); upper = try pt.number(r, phi)
                guard lower < upper, scale.toScale(lower).isFinite, scale.toScale(upper).isFinite else {
                    throw CalibrationError(.invalidBounds, "estimated parameter '\(id)' needs finite bounds with lower < upper on its \(scale.rawValue) scale; got [\(lower), \(upper)].",
                                    value: "\(lower)..\(upper)")
                }
            }
            parameters.append(Parameter(id: id, scale: scale, lower: lower, upper: upper, nominal: nominal, estimate: estimate))
        }
        // observables
        var observables: [String: Observable] = [:]
        for t in observableTables {
            let oid = try t.require("observableId"), of = try t.require("observableFormula"), nf = try t.require("noiseFormula")
            let ot = t.index(of: "observableTransformation"), nd = t.index(of: "noiseDistribution")
            for r in t.rows.indices {
                let id = t.rows[r][oid]
                guard !id.isEmpty, observables[id] == nil else {
                    throw CalibrationError(.invalidPEtab, "observable id in row \(r + 2) of '\(t.name)' is empty or repeated.", value: id)
                }
                let transformText = ot.map { t.rows[r][$0] } ?? ""
                guard let transform = transformText.isEmpty ? .lin : Scale(rawValue: transformText) else {
                    throw CalibrationError(.invalidPEtab, "observable '\(id)' has transformation '\(transformText)'; expected lin, log or log10.", value: transformText)
                }
                let dist = nd.map { t.rows[r][$0] } ?? ""
                guard let distribution = dist.isEmpty ? .normal : NoiseDistribution(rawValue: dist) else {
                    throw CalibrationError(.unsupported, "observable '\(id)' has noise distribution '\(dist)'; only normal and laplace (PEtab v1) are supported.", value: dist)
                }
                observables[id] = Observable(id: id, formula: try FormulaExpression(parsing: t.rows[r][of]), transformation: transform,
                                             noiseFormula: try FormulaExpression(parsing: t.rows[r][nf]), noiseDistribution: distribution)
            }
        }
        // conditions
        var conditions: [String: Condition] = [:]
        for t in conditionTables {
            let cid = try t.require("conditionId")
            for r in t.rows.indices {
                let id = t.rows[r][cid]
                guard !id.isEmpty, conditions[id] == nil else {
                    throw CalibrationError(.invalidPEtab, "condition id in row \(r + 2) of '\(t.name)' is empty or repeated.", value: id)
                }
                var overrides: [String: String] = [:]
                for (c, name) in t.columns.enumerated() where name != "conditionId" && name != "conditionName" && !t.rows[r][c].isEmpty {
                    overrides[name] = t.rows[r][c]
                }
                conditions[id] = Condition(id: id, overrides: overrides)
            }
        }
        // measurements
        var measurements: [Measurement] = []
        for t in measurementTables {
            let mo = try t.require("observableId"), ms = try t.require("simulationConditionId")
            let mv = try t.require("measurement"), mt = try t.require("time")
            let mpre = t.index(of: "preequilibrationConditionId"), mop = t.index(of: "observableParameters"), mnp = t.index(of: "noiseParameters")
            for r in t.rows.indices {
                let row = t.rows[r]
                let preequilibration = mpre.map { row[$0] }.flatMap { $0.isEmpty ? nil : $0 }
                if let p = preequilibration, conditions[p] == nil {
                    throw CalibrationError(.invalidPEtab, "row \(r + 2) of '\(t.name)' names pre-equilibration condition '\(p)', which the condition table does not define.", value: p)
                }
                guard observables[row[mo]] != nil else {
                    throw CalibrationError(.invalidPEtab, "row \(r + 2) of '\(t.name)' names observable '\(row[mo])', which the observable table does not define.", value: row[mo])
                }
                guard conditions[row[ms]] != nil else {
                    throw CalibrationError(.invalidPEtab, "row \(r + 2) of '\(t.name)' names condition '\(row[ms])', which the condition table does not define.", value: row[ms])
                }
                let time = try t.number(r, mt), value = try t.number(r, mv)
                guard time >= 0 else {
                    throw CalibrationError(.invalidPEtab, "row \(r + 2) of '\(t.name)' has time \(time); times must be ≥ 0 (or inf for steady state).", value: row[mt])
                }
                guard value.isFinite else {
                    throw CalibrationError(.invalidPEtab, "row \(r + 2) of '\(t.name)' has a non-finite measurement.", value: row[mv])
                }
                if observables[row[mo]]!.transformation != .lin && !(value > 0) {
                    throw CalibrationError(.invalidPEtab, "row \(r + 2) of '\(t.name)' has measurement \(value) for a log-transformed observable; it must be positive.", value: row[mv])
                }
                func split(_ c: Int?) -> [String] {
                    guard let c, !row[c].isEmpty else { return [] }
                    return row[c].split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
                }
                measurements.append(Measurement(observableId: row[mo], simulationConditionId: row[ms], time: time, value: value,
                                                observableParameters: split(mop), noiseParameters: split(mnp),
                                                preequilibrationConditionId: preequilibration))
            }
        }
        guard !measurements.isEmpty else { throw CalibrationError(.invalidPEtab, "the problem has no measurements.") }
        guard parameters.contains(where: \.estimate) else { throw CalibrationError(.invalidPEtab, "the problem estimates no parameter.") }
        self.directory = directory
        self.modelFile = modelFile
        self.parameters = parameters
        self.observables = observables
        self.measurements = measurements
        self.conditions = conditions
    }
}
