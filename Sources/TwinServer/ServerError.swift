import Hummingbird

/// An error the server answers with: a stable ``Code`` (the JSON body's `code`), a message a person can act on, the
/// offending field (a parameter, header or body field) when there is one, and the HTTP status it maps to.
public struct ServerError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What kind of problem this is; its `description` is the stable `code` of the JSON error body.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        public let rawValue: String
        public let status: HTTPResponse.Status
        init(_ rawValue: String, _ status: HTTPResponse.Status) { self.rawValue = rawValue; self.status = status }
        /// No bearer token, or one that does not verify (signature, claims, expiry): 401.
        public static let unauthorized = Code("unauthorized", .unauthorized)
        /// The token's scopes do not allow the request (read or write): 403.
        public static let insufficientScope = Code("insufficientScope", .forbidden)
        /// The bank's gate refused the request (policy, consent): 403, and the refusal is in the audit log.
        public static let accessDenied = Code("accessDenied", .forbidden)
        /// No such twin: 404.
        public static let unknownTwin = Code("unknownTwin", .notFound)
        /// No such route: 404.
        public static let notFound = Code("notFound", .notFound)
        /// A malformed parameter, header or body: 400.
        public static let badRequest = Code("badRequest", .badRequest)
        /// The body is larger than the server's limit: 413.
        public static let payloadTooLarge = Code("payloadTooLarge", .contentTooLarge)
        /// The idempotency key was used for another batch: 409.
        public static let idempotencyConflict = Code("idempotencyConflict", .conflict)
        /// A FHIR resource type the facade does not serve: 404.
        public static let unknownResourceType = Code("unknownResourceType", .notFound)
        /// The bank refused a FHIR import for its current state (a twin of another kind under that id): 409.
        public static let conflict = Code("conflict", .conflict)
        /// A FHIR Bundle that is JSON but not FHIR the importer takes (invalid R4, a dangling reference, a unit that
        /// does not convert): 422, naming the entry.
        public static let unprocessable = Code("unprocessable", .unprocessableContent)
        /// An `If-Match` that names another version of the definition than the current one: 412, nothing written.
        public static let preconditionFailed = Code("preconditionFailed", .preconditionFailed)
        /// A change to a definition without `If-Match`: 428, nothing written.
        public static let preconditionRequired = Code("preconditionRequired", .preconditionRequired)
        /// No such job (or not the caller's, or forgotten): 404.
        public static let unknownJob = Code("unknownJob", .notFound)
        /// A job that has already ended (succeeded, failed or cancelled) cannot be cancelled: 409.
        public static let jobFinished = Code("jobFinished", .conflict)
        /// A job (or a unit of one) that was running when the server stopped: the code of its recorded error, never an
        /// answer's (its status is not used).
        public static let interrupted = Code("interrupted", .serviceUnavailable)
        /// The server holds its most jobs: 503, try again later.
        public static let busy = Code("busy", .serviceUnavailable)
        /// The bank cannot be reached: 503.
        public static let unavailable = Code("unavailable", .serviceUnavailable)
        /// A fault of the server: 500.
        public static let internalError = Code("internalError", .internalServerError)
        public var description: String { rawValue }
    }

    public var code: Code
    public var message: String
    /// The offending parameter, header or body field.
    public var field: String?
    /// The offending value, when it is safe to show (never a token).
    public var value: String?

    public init(_ code: Code, _ message: String, field: String? = nil, value: String? = nil) {
        self.code = code; self.message = message; self.field = field; self.value = value
    }

    public var description: String { message }
}
