/// One scope of a token in the SMART on FHIR style: `CONTEXT/RESOURCE.PERMISSIONS`, with the context `patient`,
/// `user` or `system`, a resource type or `*`, and the v2 permissions (letters of `cruds` in that order: create,
/// read, update, delete, search) or the v1 words `read`, `write` and `*`.
///
/// The server checks the permission and the resource type (``grants(_:on:)``): a scope on `*` counts for every type;
/// one on a type for that type only. A twin's events are read as the FHIR resource types they are exported as
/// (`TwinFHIR.FHIRExporter.resourceType(of:)`), and the bank returns only those of the types the token's read scopes
/// name (``TokenIdentity/readRestriction``); what is not a twin's events is the resource type the route names (a
/// twin's definition `Patient`, an aggregate `Group`, a consent `Consent`), and what spans the bank (version
/// control, jobs, population analyses) needs a scope on `*`. A v2 scope with a query (`patient/Observation.rs?category=laboratory`)
/// grants nothing here (the server does not narrow by its parameters, so it does not widen to the whole type
/// either). The context (`patient`, `user`, `system`) is kept but not checked: the bank's gate and policy say which
/// twins the subject may reach (a patient their own). The bank's gate still decides every call.
public struct SMARTScope: Sendable, Hashable, CustomStringConvertible {
    /// What a route asks of a scope: read (`r` or `s`), write (`c` or `u`) or delete (`d`).
    public enum Access: Sendable, Hashable, CustomStringConvertible {
        case read, write, delete
        /// The v2 letters any of which grants the access.
        public var letters: Set<Character> {
            switch self {
            case .read: ["r", "s"]
            case .write: ["c", "u"]
            case .delete: ["d"]
            }
        }
        public var description: String {
            switch self {
            case .read: "reading (r or s)"
            case .write: "writing (c or u)"
            case .delete: "deleting (d)"
            }
        }
    }

    public enum Context: String, Sendable, Hashable { case patient, user, system }
    public let context: Context
    /// A FHIR resource type or `*`.
    public let resource: String
    /// The permissions as v2 letters (a v1 `read` is `rs`, `write` is `cud`, `*` is `cruds`).
    public let permissions: Set<Character>
    /// A v2 scope's query (`category=laboratory` of `patient/Observation.rs?category=laboratory`), nil without one: a
    /// scope with a query grants nothing (``grants(_:on:)``).
    public let query: String?

    /// Reads one scope.
    /// - Throws: ``ServerError`` `badRequest` naming the scope when it is not of this form.
    public init(parsing text: String) throws {
        let bad = { (why: String) in ServerError(.badRequest, "the scope '\(text)' \(why); a scope is CONTEXT/RESOURCE.PERMISSIONS, e.g. user/*.rs or patient/Observation.cruds", field: "scope", value: text) }
        let slash = text.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        guard slash.count == 2, let context = Context(rawValue: String(slash[0])) else { throw bad("has no patient/, user/ or system/ context") }
        let dot = slash[1].split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        guard dot.count == 2, !dot[0].isEmpty, dot[0] == "*" || dot[0].allSatisfy({ $0.isLetter }) else { throw bad("has no resource type") }
        let perms: Set<Character>
        switch dot[1] {
        case "read": perms = ["r", "s"]
        case "write": perms = ["c", "u", "d"]
        case "*": perms = ["c", "r", "u", "d", "s"]
        default:
            // v2: a non-empty subsequence of "cruds", in that order; a query part (`?category=...`) is kept (it grants nothing)
            let letters = dot[1].prefix { $0 != "?" }
            var order = "cruds"[...]
            for l in letters {
                guard let i = order.firstIndex(of: l) else { throw bad("has permissions other than the letters of cruds in that order") }
                order = order[order.index(after: i)...]
            }
            guard !letters.isEmpty else { throw bad("has no permissions") }
            perms = Set(letters)
        }
        self.context = context; self.resource = String(dot[0]); self.permissions = perms
        if let q = dot[1].firstIndex(of: "?") { query = String(dot[1][dot[1].index(after: q)...]) } else { query = nil }
    }

    /// Whether the scope grants `access` on resources of `type` (a FHIR resource type, or `*` for a route that
    /// needs every type): its resource is `*` or `type`, it has one of the access's letters, and it has no query.
    public func grants(_ access: Access, on type: String) -> Bool {
        query == nil && (resource == "*" || resource == type) && !permissions.isDisjoint(with: access.letters)
    }

    /// Reads a token's `scope` claim: scopes separated by spaces.
    public static func parseList(_ text: String) throws -> [SMARTScope] {
        try text.split(separator: " ").map { try SMARTScope(parsing: String($0)) }
    }

    /// Whether the scope allows reading (`r` read, `s` search).
    public var allowsRead: Bool { permissions.contains("r") || permissions.contains("s") }
    /// Whether the scope allows writing (`c` create, `u` update).
    public var allowsWrite: Bool { permissions.contains("c") || permissions.contains("u") }
    /// Whether the scope allows deleting (`d`: the FHIR facade's `DELETE`, a retraction of the record).
    public var allowsDelete: Bool { permissions.contains("d") }

    public var description: String {
        "\(context.rawValue)/\(resource).\("cruds".filter { permissions.contains($0) })\(query.map { "?" + $0 } ?? "")"
    }
}
