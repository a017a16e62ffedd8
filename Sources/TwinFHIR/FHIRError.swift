import TwinBank

/// The one error type of TwinFHIR: malformed JSON, a resource that breaks an R4 rule, a reference that does not
/// resolve, a unit that does not convert, an unreadable file.
///
/// Every error names where the problem is: a FHIRPath-like `location` (`Bundle.entry[3].resource.status`), and
/// for JSON syntax errors the byte offset and line; when the problem is inside a bundle, the entry's `fullUrl`
/// and the `file`. `rule` names the R4 rule broken (a required value set URL, a cardinality, a format).
public struct FHIRError: Error, Sendable, CustomStringConvertible, Equatable {
    /// A stable error code; new codes may be added without breaking callers.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: String, Hashable, Sendable {
            case malformedJSON, invalidResource, unknownResourceType, danglingReference, unitNotConvertible
            case unsupported, io, notFound, invalidCriteria, bank, notImportable, accessDenied, versionConflict
        }
        private let base: Base
        private init(_ base: Base) { self.base = base }
        /// The bytes are not well-formed JSON (RFC 8259) or not UTF-8.
        public static let malformedJSON = Code(.malformedJSON)
        /// The JSON is well formed but the resource breaks an R4 rule.
        public static let invalidResource = Code(.invalidResource)
        /// `resourceType` is missing or names no R4 resource type.
        public static let unknownResourceType = Code(.unknownResourceType)
        /// A reference does not resolve inside the bundle or the bank.
        public static let danglingReference = Code(.danglingReference)
        /// A quantity's unit is not UCUM or does not convert to the unit the twin records.
        public static let unitNotConvertible = Code(.unitNotConvertible)
        /// Valid FHIR that this importer does not handle (for instance a bundle of type `searchset` entry method).
        public static let unsupported = Code(.unsupported)
        /// A file could not be read or written.
        public static let io = Code(.io)
        /// A twin, aggregate or resource asked for does not exist.
        public static let notFound = Code(.notFound)
        /// Trial eligibility criteria that cannot be understood.
        public static let invalidCriteria = Code(.invalidCriteria)
        /// The bank refused a read or a write.
        public static let bank = Code(.bank)
        /// The bank's access gate refused the actor (the decision point's deny): the message is the bank's, naming
        /// the actor, the action, the twin and the reason; the value is the actor.
        public static let accessDenied = Code(.accessDenied)
        /// Valid FHIR that cannot become sound thread data: a record with no time to place it, no usable code,
        /// no patient as its subject, a value that is absent (`dataAbsentReason`) or only a bound (`<5`), a record
        /// its source withdrew (`entered-in-error`, `cancelled`). The importer sets it aside and lists it; only
        /// under `strict` does it refuse the bundle.
        public static let notImportable = Code(.notImportable)
        /// A conditional write's precondition failed: the version it names (`If-Match`) is not the resource's
        /// current one. Nothing was written.
        public static let versionConflict = Code(.versionConflict)
        public var description: String { base.rawValue }
    }

    public var code: Code
    /// What is wrong, in words a person can act on.
    public var message: String
    /// FHIRPath-like location of the offending element, e.g. `Observation.component[1].valueQuantity.value`.
    public var location: String?
    /// The offending value (truncated to 200 characters).
    public var value: String?
    /// The R4 rule broken: a value set URL, `cardinality 1..1`, `format dateTime`, `choice [x]`, ...
    public var rule: String?
    /// Byte offset (0-based) and line (1-based) of a JSON syntax error.
    public var byteOffset: Int?
    public var line: Int?
    /// The bundle entry's fullUrl and the file, when known.
    public var fullUrl: String?
    public var file: String?

    public init(_ code: Code, _ message: String, location: String? = nil, value: String? = nil, rule: String? = nil,
                byteOffset: Int? = nil, line: Int? = nil, fullUrl: String? = nil, file: String? = nil) {
        self.code = code
        self.message = message
        self.location = location
        if let value { self.value = value.count > 200 ? String(value.prefix(200)) + "..." : value }
        self.rule = rule
        self.byteOffset = byteOffset
        self.line = line
        self.fullUrl = fullUrl
        self.file = file
    }

    public var description: String {
        var s = ""
        if let file { s += "\(file): " }
        if let fullUrl { s += "entry \(fullUrl): " }
        if let location { s += "\(location): " }
        s += message
        if let rule { s += " [rule: \(rule)]" }
        if let byteOffset { s += " (byte \(byteOffset)" + (line.map { ", line \($0)" } ?? "") + ")" }
        return s
    }

    /// The same error seen from an enclosing element: `prefix` is put before the location
    /// (`Bundle.entry[2].resource` + `Observation.status` -> `Bundle.entry[2].resource.status`).
    func within(_ prefix: String) -> FHIRError {
        var e = self
        if let loc = location, let dot = loc.firstIndex(of: ".") {
            e.location = prefix + loc[dot...]
        } else if let loc = location, !loc.isEmpty, loc.first == "[" {
            e.location = prefix + loc
        } else {
            e.location = prefix
        }
        return e
    }
}

extension FHIRError {
    /// A bank error as a FHIR error: the gate's refusal (``TwinBank/BankError`` `accessDenied`) stays
    /// ``Code/accessDenied`` with the bank's message and the actor as value; any other error is ``Code/bank``, its
    /// message `prefix` followed by the error.
    static func bank(_ error: any Error, _ prefix: String = "", fullUrl: String? = nil) -> FHIRError {
        if let e = error as? BankError, e.code == .accessDenied {
            return FHIRError(.accessDenied, e.message, value: e.value, fullUrl: fullUrl)
        }
        return FHIRError(.bank, prefix + "\(error)", fullUrl: fullUrl)
    }
}
