import TwinBank
import TwinCore

/// Fitted prognostic models in a bank: content-addressed objects of kind `prognostic-model` (the canonical JSON of
/// ``PrognosticModel``, named by its SHA-256), each behind the reference `prognostic/HASH` so they can be listed.
///
/// The bank's mechanism for stored definitions (as the policy, consents and privacy ledgers use it), rather than
/// an event in a thread: a model is a definition read whole at every prediction, not an observation of a person,
/// and it must not be erased with any one member's data. Outside `twin/` and `aggregate/`, commits and exports do
/// not carry it.
public struct PrognosticStore: Sendable {
    public static let objectKind = "prognostic-model"
    public static let refPrefix = "prognostic/"
    public let bank: Bank

    public init(bank: Bank) { self.bank = bank }

    /// Stores the model (idempotent: the same model has the same hash) and returns its hash. Internal: only
    /// ``Prognostic/fit(bank:aggregate:spec:seed:)`` stores a model, after the gate decided on its cohort.
    @discardableResult
    func save(_ model: PrognosticModel) throws -> ContentHash {
        let (hash, bytes) = try ObjectCodec.hashed(model)
        try bank.storage.write { tx in
            try tx.putObject(hash, kind: Self.objectKind, bytes: bytes)
            try tx.setRef(Self.refPrefix + hash.hex, hash.hex)
        }
        return hash
    }

    /// The model whose hash is or starts with `hash` (at least 8 hex digits). Asks the gate for a bank-wide `read`
    /// first (a model names its training cohort's members).
    /// - Throws: ``PrognosticError`` `unknownModel` (none, or the prefix is ambiguous or too short), `corruptModel`
    ///   (the bytes do not match the hash or do not decode); ``BankError`` `accessDenied`.
    public func load(_ hash: String) throws -> (hash: ContentHash, model: PrognosticModel) {
        try bank.authorize(.read, nil)
        let wanted = hash.lowercased()
        guard wanted.count >= 8, wanted.allSatisfy(\.isHexDigit) else {
            throw PrognosticError(.unknownModel, "a model is named by its hash (at least 8 hex digits, as `prognostic fit` printed it), not '\(hash)'", value: hash)
        }
        return try bank.storage.read { tx in
            let matches = try tx.refs(prefix: Self.refPrefix + wanted)
            guard matches.count == 1, let h = ContentHash(hex: matches[0].value) else {
                throw PrognosticError(.unknownModel, matches.isEmpty ? "no prognostic model in this bank has the hash \(hash) (`prognostic fit` stores one)" : "the hash prefix \(hash) names \(matches.count) models: give more digits", value: hash)
            }
            guard let bytes = try tx.object(h), EventHasher.sha256(bytes) == h else {
                throw PrognosticError(.corruptModel, "the stored prognostic model \(h.hex) is missing or does not match its hash", value: h.hex)
            }
            do { return (h, try ObjectCodec.decode(PrognosticModel.self, from: bytes)) } catch {
                throw PrognosticError(.corruptModel, "the stored prognostic model \(h.hex) does not decode: \(error)", value: h.hex)
            }
        }
    }

    /// The hashes of the stored models (after a bank-wide `read` permit).
    public func hashes() throws -> [String] {
        try bank.authorize(.read, nil)
        return try bank.storage.read { tx in try tx.refs(prefix: Self.refPrefix).map(\.value) }
    }
}
