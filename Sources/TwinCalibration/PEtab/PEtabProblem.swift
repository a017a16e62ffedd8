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

    /// Loads the problem described by a PEtab YAML file.
    public static func load(yaml url: URL) throws -> PEtabProblem {
        let text: String
        do { text = try String(contentsOf: url, encoding: .utf8) } catch {
            throw CalibrationError(.invalidPEtab, "cannot read PEtab problem file \(url.path).", value: url.path)
        }
        let doc = try YAMLDocument.parse(text, name: url.lastPathComponent)
        let dir = url.deletingLastPathComponent()
        if let v = doc["format_version"]?.string, v != "1", v != "1.0.0" {
            throw CalibrationError(.unsupported, "PEtab format version \(v) is not supported (only version 1).", value: v)
        }
        guard let parameterFile = doc["parameter_file"]?.strings?.first else {
            throw CalibrationError(.invalidPEtab, "\(url.lastPathComponent) names no parameter_file.", value: url.path)
        }
        guard case .list(let problems)? = doc["problems"], problems.count == 1 else {
            throw CalibrationError(.unsupported, "\(url.lastPathComponent) must describe exactly one problem under 'problems'.", value: url.path)
        }
        let p = problems[0]
        func files(_ key: String) throws -> [URL] {
            guard let names = p[key]?.strings, !names.isEmpty else {
                throw CalibrationError(.invalidPEtab, "the problem in \(url.lastPathComponent) lists no \(key).", value: key)
            }
            return names.map { dir.appendingPathComponent($0) }
        }
        let sbml = try files("sbml_files")
        guard sbml.count == 1 else { throw CalibrationError(.unsupported, "only one SBML model per problem is supported.", value: String(sbml.count)) }
        return try PEtabProblem(directory: dir, modelFile: sbml[0],
                                parameterTable: TSVTable(contentsOf: dir.appendingPathComponent(parameterFile)),
                                conditionTables: files("condition_files").map(TSVTable.init(contentsOf:)),
                                measurementTables: files("measurement_files").map(TSVTable.init(contentsOf:)),
                                observableTables: files("observable_files").map(TSVTable.init(contentsOf:)))
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
