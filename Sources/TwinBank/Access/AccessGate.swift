import TwinCore

/// One request to read or write a twin's data, as presented to the ``AccessGate``.
public struct AccessRequest: Sendable, Hashable {
    /// What is being done.
    public struct Action: Sendable, Hashable, CustomStringConvertible {
        public let name: String
        public init(_ name: String) { self.name = name }
        public static let read = Action("read")
        public static let write = Action("write")
        public static let fork = Action("fork")
        public static let retract = Action("retract")
        public static let export = Action("export")
        public static let `import` = Action("import")
        public static let commit = Action("commit")
        /// A query over a twin's thread or state.
        public static let query = Action("query")
        /// Computing an aggregate (a cohort's members or values).
        public static let aggregate = Action("aggregate")
        /// Running a model on a twin's data.
        public static let simulate = Action("simulate")
        /// Synchronising a twin with its data (assimilation, watchers).
        public static let sync = Action("sync")
        /// Matching a twin against criteria (trial eligibility, similar twins).
        public static let match = Action("match")
        /// Erasing a person's data (the right to erasure).
        public static let erase = Action("erase")
        /// Releasing data out of the bank (de-identified exports, differentially private answers).
        public static let release = Action("release")
        /// Changing a twin's consent.
        public static let consent = Action("consent")
        /// Changing the bank's policy (roles, grants, settings).
        public static let administer = Action("administer")
        /// Every action the bank names, in a stable order (what a policy may grant).
        public static let all: [Action] = [.read, .write, .fork, .retract, .export, .import, .commit, .query, .aggregate,
                                           .simulate, .sync, .match, .erase, .release, .consent, .administer]
        public var description: String { name }
    }
    /// Who asks (a user, service or `local`).
    public var actor: String
    public var action: Action
    /// The twin concerned; nil for bank-wide operations (commit, retract across the bank).
    public var twin: TwinID?
    /// Why (`care`, `research`, `demo` ...), for consent by purpose.
    public var purpose: String
    /// The role the caller's credential claims (a server's bearer token carries one), when it claims one: a gate
    /// that knows the actor's role refuses a request whose claim is another role (the policy, not the credential,
    /// says what a role may do and which role the actor has). Nil: no claim (a command run by the bank's owner).
    public var claimedRole: String?

    public init(actor: String, action: Action, twin: TwinID?, purpose: String, claimedRole: String? = nil) {
        self.actor = actor; self.action = action; self.twin = twin; self.purpose = purpose; self.claimedRole = claimedRole
    }
}

/// What a permitted request may see of a twin's data, when the decision holds part of it back (a consent that
/// permits only some categories, periods or codes). The bank applies it to every event it would return: an
/// event the filter does not admit never leaves the bank. Governance's `DataFilter` conforms.
public protocol AccessFilter: Sendable, CustomStringConvertible {
    /// Whether one event may be seen.
    func admits(_ event: Event) -> Bool
}

extension AccessFilter {
    /// The events the filter admits, in their order.
    public func apply(to events: [Event]) -> [Event] { events.filter(admits) }
}

/// Two filters at once: admits an event only when both do (a consent's filter and a credential's restriction,
/// ``Bank/restriction``).
public struct BothFilters: AccessFilter {
    public let first: any AccessFilter
    public let second: any AccessFilter
    public init(first: any AccessFilter, second: any AccessFilter) { self.first = first; self.second = second }
    public func admits(_ event: Event) -> Bool { first.admits(event) && second.admits(event) }
    public var description: String { "\(first), and \(second)" }
}

/// Decides, and records, every read and write of a twin's data. The bank asks the gate before it touches a
/// twin's definition or thread; a gate denies by throwing (conventionally a ``BankError`` with code
/// `accessDenied`). Governance plugs consent, policy and the audit trail in here.
public protocol AccessGate: Sendable {
    /// Returns normally to permit without restriction; throws to deny. A gate whose decision carries a filter
    /// must throw here (this entry point cannot apply one): fail closed.
    func authorize(_ request: AccessRequest) throws
    /// The decision for a request: throws to deny; returns nil to permit everything, or the filter the caller
    /// must apply to the events it returns. Default: ``authorize(_:)``, then nil.
    func decide(_ request: AccessRequest) throws -> (any AccessFilter)?
    /// Called by the bank right after a storage transaction inside which it asked the gate (the writes of
    /// ``Bank/write(_:)``, retractions), committed or rolled back: a gate that cannot record a decision durably
    /// while the bank's transaction is open records those decisions here. Default: nothing.
    func transactionEnded() throws
    /// Asked by the bank for decisions taken inside one of its own storage transactions, `tx` (a gate that reads
    /// the bank's storage must read through it: opening another transaction there can deadlock). Default:
    /// ``decide(_:)``.
    func decideInTransaction(_ request: AccessRequest, _ tx: any StorageReader) throws -> (any AccessFilter)?
    /// Decides a **read** and answers it: `body` gets the decision's filter (nil: everything) and computes the
    /// answer, which is returned only once the decision is recorded. A deny throws before `body` runs. A gate
    /// whose record takes I/O may write it while `body` reads (the answer still waits for it; if the record
    /// fails, the answer is discarded and the call throws). For reads only: `body` must not write. Default:
    /// ``decide(_:)``, then `body`.
    func answer<T>(_ request: AccessRequest, _ body: ((any AccessFilter)?) throws -> T) throws -> T
    /// ``answer(_:_:)`` for a read of `storage` (the bank's own): `body` reads through one read transaction of it,
    /// `tx`. A gate that reads the bank's storage to decide (its policy, the person's consent) may decide inside that
    /// same transaction, so the decision and the answer read one snapshot in one transaction. The promises are
    /// ``answer(_:_:)``'s: a deny throws and `body` does not run; the answer is returned only once the decision is
    /// recorded. Default: ``answer(_:_:)`` around `storage.read`.
    func answerReading<T>(_ request: AccessRequest, from storage: any BankStorage,
                          _ body: ((any AccessFilter)?, any StorageReader) throws -> T) throws -> T
}

extension AccessGate {
    public func decide(_ request: AccessRequest) throws -> (any AccessFilter)? {
        try authorize(request)
        return nil
    }
    public func transactionEnded() throws {}
    public func decideInTransaction(_ request: AccessRequest, _ tx: any StorageReader) throws -> (any AccessFilter)? { try decide(request) }
    public func answer<T>(_ request: AccessRequest, _ body: ((any AccessFilter)?) throws -> T) throws -> T {
        try body(try decide(request))
    }
    public func answerReading<T>(_ request: AccessRequest, from storage: any BankStorage,
                                 _ body: ((any AccessFilter)?, any StorageReader) throws -> T) throws -> T {
        try answer(request) { filter in try storage.read { tx in try body(filter, tx) } }
    }
}

/// The default gate: permits everything and records nothing.
public struct PermitAll: AccessGate {
    public init() {}
    public func authorize(_ request: AccessRequest) throws {}
}
