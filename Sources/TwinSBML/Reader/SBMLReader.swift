#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Reads SBML documents (Level 2 versions 1-5, Level 3 versions 1-2 core; the `comp` package is
/// flattened into core by `CompFlattener`) into `SBMLModel`.
public enum SBMLReader {
    /// Reads an SBML document from its bytes.
    /// - Throws: `SBMLError` (`.malformedXML`, `.invalidSBML`, `.unknownMathML`, `.unsupported`) naming
    ///   the element and line.
    /// `baseDirectory` resolves `comp` external model definitions given by relative paths.
    public static func read(bytes: [UInt8], baseDirectory: String = ".") throws(SBMLError) -> SBMLModel {
        let root = try XMLDocumentParser.parse(bytes)
        return try read(document: root, baseDirectory: baseDirectory)
    }

    /// Reads an SBML document from a string.
    public static func read(string: String) throws(SBMLError) -> SBMLModel {
        try read(bytes: Array(string.utf8))
    }

    /// Reads an SBML document from a file.
    public static func read(path: String) throws(SBMLError) -> SBMLModel {
        let dir = path.split(separator: "/", omittingEmptySubsequences: false).dropLast().joined(separator: "/")
        return try read(bytes: try FileBytes.read(path), baseDirectory: dir.isEmpty ? (path.hasPrefix("/") ? "/" : ".") : dir)
    }

    static func read(document root: XMLElement, baseDirectory: String) throws(SBMLError) -> SBMLModel {
        guard root.name == "sbml" else {
            throw SBMLError(.invalidSBML, "the root element is <\(root.name)>, not <sbml>", value: root.name, line: root.line)
        }
        let level = Int(root["level"] ?? "") ?? 0
        let version = Int(root["version"] ?? "") ?? 0
        guard level == 2 || level == 3 else {
            throw SBMLError(.unsupported, "SBML Level \(level) Version \(version) is not supported (Level 2 and 3 are)", value: "\(level).\(version)", line: root.line)
        }
        guard let modelElement = root.child("model") else {
            throw SBMLError(.invalidSBML, "no <model> element", line: root.line)
        }
        let hasComp = modelElement.child("listOfSubmodels") != nil || root.child("listOfModelDefinitions") != nil
        if hasComp {
            return try CompFlattener.flatten(document: root, level: level, version: version, baseDirectory: baseDirectory)
        }
        try checkPackages(modelElement)
        return try readModel(modelElement, level: level, version: version)
    }

    static func checkPackages(_ m: XMLElement) throws(SBMLError) {
        for c in m.children where !c.prefix.isEmpty && c.name.hasPrefix("listOf") {
            throw SBMLError(.unsupported, "SBML package element <\(c.prefix):\(c.name)> is not supported", value: "\(c.prefix):\(c.name)", line: c.line)
        }
    }

    static func bool(_ e: XMLElement, _ name: String, _ def: Bool) throws(SBMLError) -> Bool {
        guard let v = e[name] else { return def }
        switch v.trimmingSpaces {
        case "true", "1": return true
        case "false", "0": return false
        default: throw SBMLError(.invalidSBML, "attribute \(name)=\"\(v)\" of <\(e.name)> is not a boolean", value: v, line: e.line)
        }
    }

    static func double(_ e: XMLElement, _ name: String) throws(SBMLError) -> Double? {
        guard let v = e[name] else { return nil }
        let t = v.trimmingSpaces
        if let d = Double(t) { return d }
        switch t.uppercased() {
        case "INF": return .infinity
        case "-INF": return -.infinity
        case "NAN": return .nan
        default: throw SBMLError(.invalidSBML, "attribute \(name)=\"\(v)\" of <\(e.name)> is not a number", value: v, line: e.line)
        }
    }

    static func required(_ e: XMLElement, _ name: String) throws(SBMLError) -> String {
        guard let v = e[name] else {
            throw SBMLError(.invalidSBML, "<\(e.name)> at line \(e.line) has no '\(name)' attribute", value: e["id"], line: e.line)
        }
        return v
    }

    static func math(_ e: XMLElement, context: String) throws(SBMLError) -> MathNode? {
        guard let m = e.child("math") else { return nil }
        return try MathMLReader.read(math: m, context: context)
    }

    static func readModel(_ m: XMLElement, level: Int, version: Int) throws(SBMLError) -> SBMLModel {
        var model = SBMLModel()
        model.level = level
        model.version = version
        model.id = m["id"] ?? ""
        model.conversionFactor = m["conversionFactor"]
        for f in m.list("listOfFunctionDefinitions") where f.name == "functionDefinition" {
            let id = try required(f, "id")
            // L3V2 allows a function definition without math; it cannot be called, so it is skipped.
            guard let body = try math(f, context: "functionDefinition '\(id)'") else { continue }
            switch body {
            case .lambda(let args, let b): model.functions.append(.init(id: id, arguments: args, body: b, line: f.line))
            default: model.functions.append(.init(id: id, arguments: [], body: body, line: f.line))
            }
        }
        for c in m.list("listOfCompartments") where c.name == "compartment" {
            let id = try required(c, "id")
            var size = try double(c, "size")
            if size == nil { size = try double(c, "volume") }
            var dims = try double(c, "spatialDimensions")
            if dims == nil && level == 2 { dims = 3 }
            model.compartments.append(.init(
                id: id, size: size,
                spatialDimensions: dims,
                constant: try bool(c, "constant", true), line: c.line))
        }
        for s in m.list("listOfSpecies") where s.name == "species" {
            let id = try required(s, "id")
            model.species.append(.init(
                id: id, compartment: try required(s, "compartment"),
                initialAmount: try double(s, "initialAmount"), initialConcentration: try double(s, "initialConcentration"),
                hasOnlySubstanceUnits: try bool(s, "hasOnlySubstanceUnits", false),
                boundaryCondition: try bool(s, "boundaryCondition", false),
                constant: try bool(s, "constant", false), conversionFactor: s["conversionFactor"], line: s.line))
        }
        for p in m.list("listOfParameters") where p.name == "parameter" {
            let id = try required(p, "id")
            model.parameters.append(.init(id: id, value: try double(p, "value"), constant: try bool(p, "constant", true), line: p.line))
        }
        for a in m.list("listOfInitialAssignments") where a.name == "initialAssignment" {
            let sym = try required(a, "symbol")
            guard let mm = try math(a, context: "initialAssignment for '\(sym)'") else { continue }
            model.initialAssignments.append(.init(symbol: sym, math: mm, line: a.line))
        }
        for r in m.list("listOfRules") {
            let kind: SBMLModel.Rule.Kind
            switch r.name {
            case "assignmentRule": kind = .assignment
            case "rateRule": kind = .rate
            case "algebraicRule": kind = .algebraic
            default: throw SBMLError(.unsupported, "rule <\(r.name)> is not supported", value: r.name, line: r.line)
            }
            let variable = kind == .algebraic ? "" : try required(r, "variable")
            guard let mm = try math(r, context: "\(r.name) '\(variable)'") else { continue }
            model.rules.append(.init(kind: kind, variable: variable, math: mm, line: r.line))
        }
        model.constraints = m.list("listOfConstraints").count
        for r in m.list("listOfReactions") where r.name == "reaction" {
            let id = try required(r, "id")
            func refs(_ list: String) throws(SBMLError) -> [SBMLModel.SpeciesReference] {
                var out: [SBMLModel.SpeciesReference] = []
                for sr in r.list(list) where sr.name == "speciesReference" {
                    var sm: MathNode?
                    if let smm = sr.child("stoichiometryMath") {
                        sm = try math(smm, context: "stoichiometryMath in reaction '\(id)'")
                    }
                    var st = try double(sr, "stoichiometry")
                    if st == nil && level == 2 && sm == nil { st = 1 }
                    out.append(.init(id: sr["id"], species: try required(sr, "species"),
                                     stoichiometry: st,
                                     stoichiometryMath: sm, constant: try bool(sr, "constant", level == 2), line: sr.line))
                }
                return out
            }
            var law: MathNode?
            var locals: [(id: String, value: Double?)] = []
            if let kl = r.child("kineticLaw") {
                law = try math(kl, context: "kineticLaw of reaction '\(id)'")
                for p in kl.list("listOfLocalParameters") + kl.list("listOfParameters") where p.name == "localParameter" || p.name == "parameter" {
                    locals.append((try required(p, "id"), try double(p, "value")))
                }
            }
            model.reactions.append(.init(
                id: id, reversible: try bool(r, "reversible", true), fast: try bool(r, "fast", false),
                reactants: try refs("listOfReactants"), products: try refs("listOfProducts"),
                modifiers: try r.list("listOfModifiers").map { (x) throws(SBMLError) in try required(x, "species") },
                kineticLaw: law, localParameters: locals, line: r.line))
        }
        var eventIndex = 0
        for e in m.list("listOfEvents") where e.name == "event" {
            eventIndex += 1
            let id = e["id"] ?? "event\(eventIndex)"
            // L3V2 allows an event without a trigger (or trigger math): it never fires.
            let t = e.child("trigger") ?? XMLElement(name: "trigger", line: e.line)
            let trig = try math(t, context: "trigger of event '\(id)'") ?? .boolean(false)
            var delay: MathNode?, priority: MathNode?
            if let d = e.child("delay") { delay = try math(d, context: "delay of event '\(id)'") }
            if let p = e.child("priority") { priority = try math(p, context: "priority of event '\(id)'") }
            var assigns: [SBMLModel.EventAssignment] = []
            for a in e.list("listOfEventAssignments") where a.name == "eventAssignment" {
                let v = try required(a, "variable")
                guard let mm = try math(a, context: "eventAssignment to '\(v)' in event '\(id)'") else { continue }
                assigns.append(.init(variable: v, math: mm, line: a.line))
            }
            model.events.append(.init(
                id: id, trigger: trig, initialValue: try bool(t, "initialValue", true),
                persistent: try bool(t, "persistent", true), delay: delay, priority: priority,
                useValuesFromTriggerTime: try bool(e, "useValuesFromTriggerTime", true),
                assignments: assigns, line: e.line))
        }
        return model
    }
}

/// Reads whole files without Foundation's overhead (and keeps `TwinSBML`'s I/O in one place).
enum FileBytes {
    static func read(_ path: String) throws(SBMLError) -> [UInt8] {
        guard let f = fopen(path, "rb") else {
            throw SBMLError(.io, "cannot open '\(path)'", value: path)
        }
        defer { fclose(f) }
        var out: [UInt8] = []
        var buf = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = buf.withUnsafeMutableBytes { fread($0.baseAddress, 1, 1 << 16, f) }
            if n > 0 { out.append(contentsOf: buf[0..<n]) }
            if n < 1 << 16 { break }
        }
        return out
    }
}
