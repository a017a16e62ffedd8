/// Which codes a code subsumes ("is-a" descendants), for eligibility criteria and consent rules written with a
/// general code.
///
/// Known without data: ICD-10 and ICD-10-CM are hierarchical by prefix (`E11` subsumes `E11.9`), and so is
/// ATC (`A10` subsumes `A10BA02`). For SNOMED CT, which needs the release files, a small curated set of
/// is-a relationships (the conditions common in the Synthea data) is built in; a criteria file can add its own
/// (`"hierarchy": {"system|parent": ["system|child", ...]}`). Subsumption is transitive.
public struct CodeHierarchy: Sendable, Hashable {
    /// parent -> direct children
    public var children: [CodeKey: [CodeKey]]

    public init(children: [CodeKey: [CodeKey]] = [:]) { self.children = children }

    static let prefixSystems: Set<String> = [
        "http://hl7.org/fhir/sid/icd-10", "http://hl7.org/fhir/sid/icd-10-cm", "http://www.whocc.no/atc",
    ]

    /// SNOMED CT is-a relationships (child -> parent) built in.
    static let snomedIsA: [(String, String)] = [
        ("44054006", "73211009"),    // type 2 diabetes mellitus -> diabetes mellitus
        ("46635009", "73211009"),    // type 1 diabetes mellitus -> diabetes mellitus
        ("59621000", "38341003"),    // essential hypertension -> hypertensive disorder
        ("424132000", "254637007"),  // NSCLC TNM stage 1 -> non-small cell lung cancer
        ("254637007", "93880001"),   // non-small cell lung cancer -> primary malignant neoplasm of lung
        ("88805009", "42343007"),    // chronic congestive heart failure -> congestive heart failure
        ("42343007", "84114007"),    // congestive heart failure -> heart failure
        ("87433001", "13645005"),    // pulmonary emphysema -> chronic obstructive lung disease
        ("84757009", "128613002"),   // epilepsy -> seizure disorder
        ("75498004", "15805002"),    // acute bacterial sinusitis -> acute sinusitis
        ("15805002", "36971009"),    // acute sinusitis -> sinusitis
        ("444814009", "36971009"),   // viral sinusitis -> sinusitis
        ("40055000", "36971009"),    // chronic sinusitis -> sinusitis
        ("92691004", "126906006"),   // carcinoma in situ of prostate -> neoplasm of prostate
    ]

    /// The built-in relationships.
    public static let builtIn: CodeHierarchy = {
        var h = CodeHierarchy()
        for (child, parent) in snomedIsA { h.add(parent: .snomed(parent), child: .snomed(child)) }
        return h
    }()

    public mutating func add(parent: CodeKey, child: CodeKey) {
        children[parent, default: []].append(child)
    }

    /// Whether `code` is `general` or one of its descendants.
    public func subsumes(_ general: CodeKey, _ code: CodeKey) -> Bool {
        if general == code { return true }
        if general.system == code.system, Self.prefixSystems.contains(general.system), code.code.hasPrefix(general.code) {
            return true
        }
        var stack = children[general] ?? []
        var seen = Set<CodeKey>()
        while let c = stack.popLast() {
            if c == code { return true }
            if seen.insert(c).inserted { stack += children[c] ?? [] }
        }
        return false
    }
}
