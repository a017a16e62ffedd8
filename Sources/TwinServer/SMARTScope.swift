/// One scope of a token in the SMART on FHIR style: `CONTEXT/RESOURCE.PERMISSIONS`, with the context `patient`,
/// `user` or `system`, a resource type or `*`, and the v2 permissions (letters of `cruds` in that order: create,
/// read, update, delete, search) or the v1 words `read`, `write` and `*`.
///
/// The server checks them for read versus write (``allowsRead``: `r` or `s`; ``allowsWrite``: `c` or `u`). Which
/// resource a scope names is stored but not yet checked: a scope counts for every route (the bank's gate still
/// decides what the subject may do).
public struct SMARTScope: Sendable, Hashable, CustomStringConvertible {
    public enum Context: String, Sendable, Hashable { case patient, user, system }
    public let context: Context
    /// A FHIR resource type or `*`.
    public let resource: String
    /// The permissions as v2 letters (a v1 `read` is `rs`, `write` is `cud`, `*` is `cruds`).
    public let permissions: Set<Character>

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
            // v2: a non-empty subsequence of "cruds", in that order; a query part (`?category=...`) is not read yet
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
        "\(context.rawValue)/\(resource).\("cruds".filter { permissions.contains($0) })"
    }
}
