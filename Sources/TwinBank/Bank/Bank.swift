import TwinCore

/// A bank of human digital twins: twin definitions, their bitemporal threads, forks (instances), aggregates,
/// version control and exchange, over any ``BankStorage``.
///
/// Every public method that reads or writes a twin's data asks the ``AccessGate`` first (actor, action, twin,
/// purpose). Every write is one storage transaction: a method that throws has written nothing.
/// Times come from the injected ``Clock``; recorded times are strictly increasing per write batch.
///
/// What it offers:
/// - Twins: ``createTwin(_:)``, ``createTemplate(_:)``, ``updateTwin(_:)``, ``twin(_:at:)``, ``twinIDs(at:)``
/// - Thread: ``append(_:)``, ``appendPipelined(_:depth:acknowledge:)`` (a stream of batches, checked while earlier ones are
///   written), ``importCSV(twin:reader:defaultSource:batchSize:)``, ``events(_:)``, ``state(of:asOf:knownAt:code:)``
/// - Forks: ``fork(_:at:as:)``; retraction: ``retract(source:reason:erase:)``
/// - The right to erasure: ``erase(twin:reason:dryRun:)`` (a person's twin, forks, parts and derived values)
/// - Version control: ``commit(message:author:)``, ``log(_:)``, ``diff(_:_:)``, ``tag(_:at:)``, ``createBranch(_:at:)``,
///   ``switchBranch(_:force:)``, ``uncommittedChanges()``
/// - Aggregates: ``createAggregate(_:members:)``, ``createAggregate(_:where:)``, ``members(of:at:asOf:)``
/// - Exchange: ``exportBundle(twin:)``, ``exportBundle(aggregate:)``, ``importBundle(_:)``
public final class Bank: Sendable {
    public let storage: any BankStorage
    public let gate: any AccessGate
    public let clock: any Clock
    /// Who is acting (passed to the gate and recorded as commit author by default).
    public let actor: String
    /// Why (passed to the gate).
    public let purpose: String
    /// The role the actor's credential claims (``AccessRequest/claimedRole``), passed to the gate; nil: none.
    public let claimedRole: String?
    /// Which of a twin's events the actor's credential lets leave the bank, whatever the gate permits (a server
    /// token's SMART scopes name the FHIR resource types it may read); nil: the credential restricts nothing.
    /// It narrows every decision about a twin's data for the actions that read it (every action but those that only
    /// write: ``AccessRequest/Action/write``, `import`, `retract`, `commit`, `consent`, `administer`), exactly as a
    /// consent's filter does: an entry point that applies filters returns only what both admit; one that cannot
    /// (a simulation, a sync, a bundle export, ...) refuses (fail closed). A twin's definition is not an event and
    /// is not narrowed by it (its caller decides whether the credential may see definitions); bank-wide decisions
    /// (twin nil: the ids of twins, the log) are not narrowed either.
    public let restriction: (any AccessFilter)?
    /// Decoded twin records by content hash with the bytes they were decoded from, shared by the banks made from
    /// this one (``acting(as:purpose:)``).
    let records: ObjectCache
    /// How far (in seconds) an observation's effective time may lie beyond the bank's clock before ``append(_:)``
    /// refuses it (`futureObservation`): the skew allowed between a device's clock and the bank's.
    /// Default ``defaultObservationSkew`` (5 minutes).
    public let observationSkew: Double

    /// The default ``observationSkew``: 300 seconds (5 minutes).
    public static let defaultObservationSkew: Double = 300

    public convenience init(storage: any BankStorage, gate: any AccessGate = PermitAll(), clock: any Clock = SystemClock(),
                actor: String = "local", purpose: String = "care", observationSkew: Double = Bank.defaultObservationSkew,
                claimedRole: String? = nil) {
        self.init(storage: storage, gate: gate, clock: clock, actor: actor, purpose: purpose, observationSkew: observationSkew,
                  claimedRole: claimedRole, restriction: nil, records: ObjectCache())
    }

    init(storage: any BankStorage, gate: any AccessGate, clock: any Clock, actor: String, purpose: String,
         observationSkew: Double, claimedRole: String?, restriction: (any AccessFilter)?, records: ObjectCache) {
        self.restriction = restriction
        self.records = records
        self.storage = storage
        self.gate = gate
        self.clock = clock
        self.actor = actor
        self.purpose = purpose
        self.claimedRole = claimedRole
        self.observationSkew = observationSkew.isFinite ? max(0, observationSkew) : Bank.defaultObservationSkew
    }

    /// Runs `body` with this bank from async code, where the storage allows blocking
    /// (``BankStorage/runBlocking(_:)``: SQLite's and PostgreSQL's own threads), so the calling task suspends instead
    /// of blocking a thread of the cooperative pool. The bank's methods are synchronous and block their thread on
    /// the storage; every async caller (a service, a request handler, an async command) reaches them through here.
    /// Group the calls that belong together into one `body` (each call costs a hop).
    public func run<T: Sendable>(_ body: @escaping @Sendable (Bank) throws -> T) async throws -> T {
        try await storage.runBlocking { try body(self) }
    }

    /// The same bank acting for another actor or purpose (claiming no role; this bank's ``restriction``, if any,
    /// is kept: a restriction only narrows).
    public func acting(as actor: String, purpose: String) -> Bank {
        Bank(storage: storage, gate: gate, clock: clock, actor: actor, purpose: purpose, observationSkew: observationSkew,
             claimedRole: nil, restriction: restriction, records: records)
    }

    /// The same bank acting for another actor or purpose, whose credential claims `claimedRole` (a server's token):
    /// the gate refuses every request of this bank when the policy gives the actor another role.
    public func acting(as actor: String, purpose: String, claimedRole: String?) -> Bank {
        Bank(storage: storage, gate: gate, clock: clock, actor: actor, purpose: purpose, observationSkew: observationSkew,
             claimedRole: claimedRole, restriction: restriction, records: records)
    }

    /// The same bank acting for another actor or purpose, claiming `claimedRole`, whose credential lets only what
    /// `restriction` admits of a twin's events leave the bank (``restriction``; nil: nothing more than the gate says).
    public func acting(as actor: String, purpose: String, claimedRole: String?, restriction: (any AccessFilter)?) -> Bank {
        Bank(storage: storage, gate: gate, clock: clock, actor: actor, purpose: purpose, observationSkew: observationSkew,
             claimedRole: claimedRole, restriction: restriction, records: records)
    }

    /// The actions whose decisions ``restriction`` does not narrow: they write, and read nothing of a twin's events
    /// to answer.
    static let writingActions: Set<AccessRequest.Action> = [.write, .import, .retract, .commit, .consent, .administer]

    /// The gate's decision `filter` for `action` on `twin`, narrowed by this bank's ``restriction``.
    func narrowed(_ filter: (any AccessFilter)?, _ action: AccessRequest.Action, _ twin: TwinID?) -> (any AccessFilter)? {
        guard let restriction, twin != nil, !Self.writingActions.contains(action) else { return filter }
        guard let filter else { return restriction }
        return BothFilters(first: filter, second: restriction)
    }

    /// Asks the gate whether this bank's actor may do `action` on `twin` (nil: bank-wide) for its purpose, for an
    /// entry point that cannot apply a filter: returns only for an unrestricted permit; a deny, or a permit that
    /// holds part of the data back, throws (``BankError`` `accessDenied`, or the gate's own error). For the other
    /// libraries' entry points (simulate, sync, match, aggregate ...), which ask with their own action.
    public func authorize(_ action: AccessRequest.Action, _ twin: TwinID?) throws {
        if let filter = try decide(action, twin) { throw filteredPermitRefused(action, twin, filter) }
    }

    /// This bank's actor and purpose asking to do `action` on `twin`.
    func request(_ action: AccessRequest.Action, _ twin: TwinID?) -> AccessRequest {
        AccessRequest(actor: actor, action: action, twin: twin, purpose: purpose, claimedRole: claimedRole)
    }

    /// The refusal of a permit that holds data back, at an entry point that cannot apply the filter (fail closed).
    func filteredPermitRefused(_ action: AccessRequest.Action, _ twin: TwinID?, _ filter: any AccessFilter) -> BankError {
        BankError(.accessDenied, "access denied: \(actor) may \(action) twin \(twin?.rawValue ?? "-") for \(purpose) only with a filter (\(filter)), which this entry point cannot apply", value: actor)
    }

    /// Asks the gate, for an entry point that applies what it returns: nil permits everything, a filter says
    /// which events may be returned; a deny throws.
    public func decide(_ action: AccessRequest.Action, _ twin: TwinID?) throws -> (any AccessFilter)? {
        narrowed(try gate.decide(request(action, twin)), action, twin)
    }

    /// Asks the gate for a read and computes the answer with the decision's filter (``AccessGate/answer(_:_:)``):
    /// the answer is returned only once the decision is recorded, which the gate may do while `body` reads.
    public func answering<T>(_ action: AccessRequest.Action, _ twin: TwinID?, _ body: ((any AccessFilter)?) throws -> T) throws -> T {
        try gate.answer(request(action, twin)) { filter in try body(narrowed(filter, action, twin)) }
    }

    /// ``answering(_:_:_:)`` for an answer read from this bank's storage in one read transaction, in which the gate
    /// may also decide (``AccessGate/answerReading(_:from:_:)``): one transaction per read instead of one for the
    /// decision and one for the answer.
    /// `narrowing` false: the answer is not a twin's events (a definition), which ``restriction`` does not narrow.
    func answeringRead<T>(_ action: AccessRequest.Action, _ twin: TwinID?, narrowing: Bool = true,
                          _ body: ((any AccessFilter)?, any StorageReader) throws -> T) throws -> T {
        guard narrowing, restriction != nil else { return try gate.answerReading(request(action, twin), from: storage, body) }
        return try gate.answerReading(request(action, twin), from: storage) { filter, tx in try body(narrowed(filter, action, twin), tx) }
    }

    /// ``authorize(_:_:)`` from inside one of the bank's own write transactions (see
    /// ``AccessGate/decideInTransaction(_:)``); the caller runs the transaction through ``writeAsking(_:)``.
    /// `narrowing` false: what is read is not a twin's events (a definition), which ``restriction`` does not narrow.
    func authorizeInTransaction(_ action: AccessRequest.Action, _ twin: TwinID?, _ tx: any StorageReader, narrowing: Bool = true) throws {
        if let filter = try decideInTransaction(action, twin, tx, narrowing: narrowing) { throw filteredPermitRefused(action, twin, filter) }
    }

    /// The gate's decision inside one of the bank's own transactions (``AccessGate/decideInTransaction(_:_:)``),
    /// narrowed by ``restriction`` unless `narrowing` is false.
    func decideInTransaction(_ action: AccessRequest.Action, _ twin: TwinID?, _ tx: any StorageReader, narrowing: Bool = true) throws -> (any AccessFilter)? {
        let filter = try gate.decideInTransaction(request(action, twin), tx)
        return narrowing ? narrowed(filter, action, twin) : filter
    }

    /// A storage read transaction inside which the gate is asked: tells the gate when it has ended.
    func readAsking<T>(_ body: (any StorageReader) throws -> T) throws -> T {
        try tellingTheGate { try storage.read(body) }
    }

    /// A storage write transaction inside which the gate is asked: tells the gate when it has ended
    /// (``AccessGate/transactionEnded()``), committed or not.
    func writeAsking<T>(_ body: (any StorageWriter) throws -> T) throws -> T {
        try tellingTheGate { try storage.write(body) }
    }

    /// Runs a storage transaction, then tells the gate it ended (``AccessGate/transactionEnded()``), whether it
    /// committed or threw (the transaction's error wins over the gate's).
    private func tellingTheGate<T>(_ transaction: () throws -> T) throws -> T {
        let result: T
        do { result = try transaction() } catch {
            try? gate.transactionEnded()
            throw error
        }
        try gate.transactionEnded()
        return result
    }

    // MARK: Twin records in storage

    static func twinRef(_ id: TwinID) -> String { "twin/\(id.rawValue)" }

    func loadRecord(_ id: TwinID, _ tx: any StorageReader) throws -> TwinRecord? {
        guard let hex = try tx.ref(Bank.twinRef(id)) else { return nil }
        return try loadRecord(hex: hex, tx)
    }

    /// The twin record stored as object `hex`, decoded once for the same bytes (``records``). The bytes are read
    /// and compared every time: an erasure rewrites a record under its hash, so the hash alone does not say the
    /// decoded record is still what is stored.
    func loadRecord(hex: String, _ tx: any StorageReader) throws -> TwinRecord {
        guard let h = ContentHash(hex: hex), let bytes = try tx.object(h) else {
            throw BankError(.storageFailure, "object \(hex) is missing from the bank", value: hex)
        }
        if let cached = records.get(hex) as? DecodedRecord, cached.bytes == bytes { return cached.record }
        let record = try ObjectCodec.decode(TwinRecord.self, from: bytes)
        records.put(hex, DecodedRecord(bytes: bytes, record: record))
        return record
    }

    func requireRecord(_ id: TwinID, _ tx: any StorageReader) throws -> TwinRecord {
        guard let r = try loadRecord(id, tx) else {
            try refuseErased(id, tx)
            throw BankError.unknownTwin(id)
        }
        return r
    }

    func loadObject<T: Decodable>(_ type: T.Type, hex: String, _ tx: any StorageReader) throws -> T {
        guard let h = ContentHash(hex: hex), let bytes = try tx.object(h) else {
            throw BankError(.storageFailure, "object \(hex) is missing from the bank", value: hex)
        }
        return try ObjectCodec.decode(type, from: bytes)
    }

    @discardableResult
    func storeObject<T: Encodable>(_ value: T, kind: String, _ tx: any StorageWriter) throws -> ContentHash {
        let (h, bytes) = try ObjectCodec.hashed(value)
        try tx.putObject(h, kind: kind, bytes: bytes)
        return h
    }

    func storeRecord(_ r: TwinRecord, _ tx: any StorageWriter) throws {
        let h = try storeObject(r, kind: "twin", tx)
        try tx.setRef(Bank.twinRef(r.id), h.hex)
    }

    /// The next recorded time: the clock, but strictly after the last batch.
    /// - Parameter now: the clock's reading already taken for this batch (nil: read the clock).
    func nextRecorded(_ tx: any StorageReader, now read: Instant? = nil) throws -> Instant {
        let now = read ?? clock.now()
        if let last = try tx.lastRecorded(), now <= last { return last.advanced(byMicroseconds: 1) }
        return now
    }
}

/// A twin record decoded from these bytes (``Bank/loadRecord(hex:_:)``'s cache).
struct DecodedRecord: Sendable {
    let bytes: [UInt8]
    let record: TwinRecord
}
