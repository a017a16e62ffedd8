import TwinBank
import TwinCore
import TwinFHIR

/// A token's read restriction: admits the events whose FHIR resource type (as the facade and the export map them,
/// `FHIRExporter.resourceType(of:)`) is one of ``types``. A retraction, which maps to no resource, is not admitted.
/// The bank applies it to every read of a twin's thread for the request (``TwinBank/Bank/restriction``), together
/// with the gate's own filter.
public struct ResourceTypeFilter: AccessFilter, Hashable {
    /// The FHIR resource types whose events may leave the bank.
    public let types: Set<String>

    public init(types: Set<String>) { self.types = types }

    public func admits(_ event: Event) -> Bool {
        guard let type = FHIRExporter.resourceType(of: event) else { return false }
        return types.contains(type)
    }

    public var description: String {
        types.isEmpty ? "the token's scopes name no resource type to read" : "the token's scopes read only \(types.sorted().joined(separator: ", "))"
    }
}
