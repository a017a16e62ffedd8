/// A code in a code system, without display text: the identity of a coded concept.
///
/// `system` is a canonical FHIR system URI (for example `http://loinc.org`); ``init(parsing:)`` maps the short
/// aliases of the command line to them.
public struct CodeKey: Sendable, Hashable, Comparable, Codable, CustomStringConvertible {
    public var system: String
    public var code: String

    public init(system: String, code: String) {
        self.system = system
        self.code = code
    }

    /// Short aliases accepted on the command line and their canonical system URIs.
    public static let aliases: [(alias: String, system: String)] = [
        ("loinc", "http://loinc.org"),
        ("snomed", "http://snomed.info/sct"),
        ("sct", "http://snomed.info/sct"),
        ("rxnorm", "http://www.nlm.nih.gov/research/umls/rxnorm"),
        ("icd10", "http://hl7.org/fhir/sid/icd-10"),
        ("icd10cm", "http://hl7.org/fhir/sid/icd-10-cm"),
        ("ucum", "http://unitsofmeasure.org"),
        ("atc", "http://www.whocc.no/atc"),
        ("local", "urn:twinbank:local"),
    ]

    /// The canonical system URI for a short alias (case-insensitive), or nil.
    public static func system(forAlias alias: String) -> String? {
        let a = alias.lowercased()
        return aliases.first { $0.alias == a }?.system
    }
    /// The preferred short alias of a system URI, or nil.
    public static func alias(forSystem system: String) -> String? {
        aliases.first { $0.system == system }?.alias
    }

    /// Parses `SYSTEM:CODE` (`loinc:2339-0`, `snomed:44054006`), `SYSTEM|CODE` with an alias or a URI
    /// (`http://loinc.org|2339-0`), or `URI:CODE` where the code follows the last colon
    /// (`http://loinc.org:2339-0`, `urn:oid:1.2.3:42`). Aliases: loinc, snomed (sct), rxnorm, icd10, icd10cm,
    /// ucum, atc, local.
    /// - Throws: ``TwinError`` `invalidConcept` naming the text (unknown alias, empty code, whitespace).
    public init(parsing text: String) throws {
        let (key, display) = try CodeKey.parseWithDisplay(text)
        guard display == nil else {
            throw TwinError(.invalidConcept, "code '\(text)' has a display part; a code key is SYSTEM:CODE or SYSTEM|CODE", value: text)
        }
        self = key
    }

    static func parseWithDisplay(_ text: String) throws -> (CodeKey, String?) {
        func fail(_ why: String) -> TwinError {
            TwinError(.invalidConcept, "malformed code '\(text)': \(why); expected SYSTEM:CODE such as loinc:2339-0, or SYSTEM|CODE such as http://loinc.org|2339-0", value: text)
        }
        var system: Substring
        var code: Substring
        var display: String?
        if text.contains("|") {
            let parts = text.split(separator: "|", maxSplits: 2, omittingEmptySubsequences: false)
            guard parts.count >= 2 else { throw fail("missing code") }
            system = parts[0]; code = parts[1]
            if parts.count == 3 {
                let d = parts[2].trimmingSpaces
                display = d.isEmpty ? nil : String(d)
            }
        } else {
            guard let colon = text.lastIndex(of: ":") else { throw fail("no ':' between system and code") }
            let isURI = text.hasPrefix("http://") || text.hasPrefix("https://") || text.hasPrefix("urn:")
            if isURI {
                system = text[..<colon]; code = text[text.index(after: colon)...]
                if system == "http" || system == "https" || system == "urn" { throw fail("no code after the system URI") }
            } else {
                let first = text.firstIndex(of: ":")!
                system = text[..<first]; code = text[text.index(after: first)...]
            }
        }
        system = system.trimmingSpaces; code = code.trimmingSpaces
        guard !system.isEmpty else { throw fail("empty system") }
        guard !code.isEmpty else { throw fail("empty code") }
        guard !code.contains(where: { $0.isWhitespace }), !system.contains(where: { $0.isWhitespace }) else {
            throw fail("whitespace inside the system or code")
        }
        let sys: String
        if system.hasPrefix("http://") || system.hasPrefix("https://") || system.hasPrefix("urn:") {
            sys = String(system)
        } else if let s = CodeKey.system(forAlias: String(system)) {
            sys = s
        } else {
            throw TwinError(.invalidConcept, "unknown code system '\(system)' in '\(text)': use one of \(CodeKey.aliases.map(\.alias).joined(separator: ", ")) or a URI such as http://loinc.org|2339-0", value: text)
        }
        return (CodeKey(system: sys, code: String(code)), display)
    }

    /// `alias:code` when the system has an alias, else `system|code`. Parses back with ``init(parsing:)``.
    public var description: String {
        if let a = CodeKey.alias(forSystem: system) { return "\(a):\(code)" }
        return "\(system)|\(code)"
    }

    public static func < (a: CodeKey, b: CodeKey) -> Bool { (a.system, a.code) < (b.system, b.code) }

    public static func loinc(_ code: String) -> CodeKey { CodeKey(system: "http://loinc.org", code: code) }
    public static func snomed(_ code: String) -> CodeKey { CodeKey(system: "http://snomed.info/sct", code: code) }
}

/// A coded concept: system, code and optional display text (LOINC, SNOMED CT, RxNorm, ICD-10 ...).
///
/// Equality and hashing include the display; compare ``key`` to ask "same code?".
public struct Concept: Sendable, Hashable, Codable, CustomStringConvertible {
    public var system: String
    public var code: String
    public var display: String?

    public init(system: String, code: String, display: String? = nil) {
        self.system = system
        self.code = code
        self.display = display
    }
    public init(_ key: CodeKey, display: String? = nil) {
        self.init(system: key.system, code: key.code, display: display)
    }

    /// The concept without its display.
    public var key: CodeKey { CodeKey(system: system, code: code) }

    /// Parses what ``CodeKey/init(parsing:)`` accepts, plus an optional display as a third `|` part:
    /// `http://snomed.info/sct|44054006|Diabetes type 2`, `snomed|44054006|Diabetes type 2`.
    /// - Throws: ``TwinError`` `invalidConcept` naming the text.
    public init(parsing text: String) throws {
        let (key, display) = try CodeKey.parseWithDisplay(text)
        self.init(key, display: display)
    }

    /// `system|code|display` (or ``CodeKey`` form without display).
    public var description: String {
        guard let display else { return key.description }
        return "\(system)|\(code)|\(display)"
    }

    public static func loinc(_ code: String, _ display: String? = nil) -> Concept { Concept(system: "http://loinc.org", code: code, display: display) }
    public static func snomed(_ code: String, _ display: String? = nil) -> Concept { Concept(system: "http://snomed.info/sct", code: code, display: display) }
}

extension Concept {
    /// LOINC 2339-0, glucose [mass/volume] in blood (mg/dL): what CGMs, glucose twins and their forecasts record.
    public static let bloodGlucose = Concept.loinc("2339-0", "Glucose [Mass/volume] in Blood")
    /// LOINC 9059-7, carbohydrate intake (estimated), in g: meals as interventions.
    public static let carbohydrateIntake = Concept.loinc("9059-7", "Carbohydrate intake Estimated")
    /// LOINC 29463-7, body weight (kg): FHIR's vital-signs profile code, recorded by Synthea and most EHRs.
    public static let bodyWeight = Concept.loinc("29463-7", "Body weight")
}
