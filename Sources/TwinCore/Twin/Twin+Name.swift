extension Twin {
    /// The attribute that holds a twin's human-readable name (FHIR import stores a patient's or organisation's
    /// name there: `HumanName.text`, else given and family names).
    public static let nameAttribute = "name"

    /// The twin's human-readable name: its ``nameAttribute`` text, when it has one that is not blank.
    public var name: String? {
        guard case .text(let n)? = attributes[Twin.nameAttribute] else { return nil }
        let trimmed = n.drop(while: \.isWhitespace).reversed().drop(while: \.isWhitespace).reversed()
        return trimmed.isEmpty ? nil : String(trimmed)
    }
}
