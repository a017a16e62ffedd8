/// The R4 element definitions TwinFHIR validates against: for each resource, datatype and backbone element,
/// its elements with type, cardinality, choice group and allowed reference targets.
public struct Schema: Sendable {
    public enum Kind: Sendable, Hashable {
        case primitive(Primitive)
        case complex(String)
        case resource
    }

    public struct Element: Sendable {
        public var name: String
        public var kind: Kind
        public var min: Int
        public var isList: Bool
        /// The choice group (`value` for `valueQuantity`), if the element is one type of a `[x]` element.
        public var choice: String?
        /// Allowed target resource types of a Reference; nil or containing `Resource` means any.
        public var referenceTargets: [String]?
        /// The required value set bound to this element, if any.
        public var requiredValueSet: ValueSet?
    }

    public struct TypeDefinition: Sendable {
        public var name: String
        public var elements: [String: Element]
        /// Elements with min >= 1, in table order.
        public var required: [Element]
        /// Choice groups: group name -> (element names, whether one is required).
        public var choices: [String: (names: [String], required: Bool)]
    }

    public let types: [String: TypeDefinition]

    /// The resource types that are validated element by element. Other R4 resource types are read as trees
    /// (well-formed JSON, a known `resourceType`, a valid `id`) and round-trip unchanged.
    public static let validatedTypes: Set<String> = [
        "Patient", "Observation", "Condition", "MedicationRequest", "MedicationAdministration", "MedicationStatement",
        "Encounter", "Procedure", "Immunization", "AllergyIntolerance", "DiagnosticReport", "CarePlan", "Goal",
        "Device", "Organization", "Practitioner", "Location", "Consent", "Provenance", "ResearchStudy",
        "ResearchSubject", "Group", "Bundle",
        "AuditEvent",
    ]

    /// The schema built from the generated table; built once per process.
    public static let r4 = Schema(table: Schema.table)

    init(table: String) {
        var types: [String: TypeDefinition] = [:]
        for line in table.split(separator: "\n") {
            let f = line.split(separator: " ")
            guard f.count >= 5 else { continue }
            let typeName = String(f[0]), name = String(f[1]), kindName = String(f[2])
            let kind: Kind
            if let p = Primitive(rawValue: kindName) { kind = .primitive(p) }
            else if kindName == "Resource" { kind = .resource }
            else { kind = .complex(kindName) }
            var element = Element(name: name, kind: kind, min: Int(f[3]) ?? 0, isList: f[4] == "*")
            var choiceRequired = false
            for extra in f.dropFirst(5) {
                if extra.hasPrefix("choice=") {
                    var g = String(extra.dropFirst(7))
                    if g.hasSuffix("!") { g.removeLast(); choiceRequired = true }
                    element.choice = g
                } else if extra.hasPrefix("refs=") {
                    let refs = extra.dropFirst(5).split(separator: ",").map(String.init)
                    element.referenceTargets = refs.contains("Resource") ? nil : refs
                }
            }
            element.requiredValueSet = ValueSet.required["\(typeName).\(name)"]
            var def = types[typeName] ?? TypeDefinition(name: typeName, elements: [:], required: [], choices: [:])
            def.elements[name] = element
            if element.min > 0 { def.required.append(element) }
            if let g = element.choice {
                var c = def.choices[g] ?? (names: [], required: false)
                c.names.append(name)
                c.required = c.required || choiceRequired
                def.choices[g] = c
            }
            types[typeName] = def
        }
        self.types = types
    }
}
