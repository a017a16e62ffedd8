import Crypto
import Foundation
import JWTKit
import NIOPosix
import Synchronization
import TwinBankAccess
import TwinGovernance

/// The claims of a Twinbank bearer token (a JWT): who (`sub`), as what (`role`), allowed what (`scope`, SMART
/// style, separated by spaces), until when (`exp`), issued when (`iat`).
public struct TokenClaims: JWTPayload, Sendable, Equatable {
    public var sub: SubjectClaim
    public var role: String
    public var scope: String
    public var exp: ExpirationClaim
    public var iat: IssuedAtClaim

    public init(subject: String, role: Role, scopes: [SMARTScope], expires: Date, issued: Date) {
        sub = SubjectClaim(value: subject); self.role = role.rawValue
        scope = scopes.map(\.description).joined(separator: " ")
        exp = ExpirationClaim(value: expires); iat = IssuedAtClaim(value: issued)
    }

    /// Checks the expiry; the role and scopes are read by ``TokenAuthority/verify(_:)``.
    public func verify(using algorithm: some JWTAlgorithm) async throws {
        try exp.verifyNotExpired()
    }
}

/// Who a verified token speaks for: the bank's actor is ``subject``; the role the token claims; its scopes.
public struct TokenIdentity: Sendable, Hashable {
    public let subject: String
    public let role: Role
    public let scopes: [SMARTScope]
    public let expires: Date
    /// What of a twin's events the token lets leave the bank: nil when a read scope names every type (`*`) or none
    /// reads at all (no route reads for it), else the
    /// types its read scopes name (``SMARTScope/grants(_:on:)``), which the bank applies to every read of a thread
    /// (``TwinBank/Bank/restriction``).
    public let readRestriction: ResourceTypeFilter?

    public init(subject: String, role: Role, scopes: [SMARTScope], expires: Date) {
        self.subject = subject; self.role = role; self.scopes = scopes; self.expires = expires
        // a token that reads every type, or none (a device's write-only token: every route that reads refuses it,
        // and the reads the bank makes for its writes need not be narrowed), is not restricted
        if scopes.contains(where: { $0.grants(.read, on: "*") }) || !scopes.contains(where: \.allowsRead) {
            readRestriction = nil
        } else {
            readRestriction = ResourceTypeFilter(types: Set(scopes.filter { $0.query == nil && $0.allowsRead && $0.resource != "*" }.map(\.resource)))
        }
    }

    /// Whether some scope grants `access` on `type` (`*`: a scope on every type).
    public func may(_ access: SMARTScope.Access, on type: String) -> Bool {
        scopes.contains { $0.grants(access, on: type) }
    }

    /// Whether some scope grants `access` on some type: what a route over a twin's events asks, before the bank
    /// narrows what it returns to the types granted (``readRestriction``).
    public func mayOnSomeType(_ access: SMARTScope.Access) -> Bool {
        scopes.contains { $0.query == nil && !$0.permissions.isDisjoint(with: access.letters) }
    }

    /// Whether some scope allows reading.
    public var mayRead: Bool { scopes.contains(where: \.allowsRead) }
    /// Whether some scope allows writing.
    public var mayWrite: Bool { scopes.contains(where: \.allowsWrite) }
    /// Whether some scope allows deleting (`d`).
    public var mayDelete: Bool { scopes.contains(where: \.allowsDelete) }
}

/// Issues and verifies the server's bearer tokens (JWTs).
///
/// Keys, configured at start:
/// - **HS256** for a local deployment: a 32-byte secret in a key file (``TwinGovernance/KeyFile``: created 0600 in a
///   0700 folder on first use, refused when others may read it); it signs and verifies, and verifies tokens without a
///   `kid` header;
/// - **EdDSA (Ed25519) or RS256** where keys are shared with an identity provider: PEM files (``adding(pem:kid:)``)
///   and JSON Web Key Sets (``adding(jwks:)``). A public key only verifies; a private key also signs
///   (``issue(subject:role:scopes:lifetime:now:kid:)`` with its `kid`). A token signed by one of these names its key in
///   its `kid` header.
///
/// Verification is cached per token (``verificationCacheLimit`` tokens at most): a token seen before is not parsed or
/// checked again, but its expiry is checked on every use, so a cached token stops working the second it expires.
public struct TokenAuthority: Sendable {
    /// How many bytes the HS256 key has.
    public static let keyByteCount = 32
    /// The longest a token may live.
    public static let maximumLifetime: TimeInterval = 366 * 86_400
    /// The most verified tokens remembered; when full, the cache is emptied and fills again.
    public static let verificationCacheLimit = 10_000

    let keys: JWTKeyCollection
    /// The `kid`s of the keys that can sign (nil: the HS256 key, which signs without a `kid`).
    public let signingKeys: Set<String?>
    /// The `kid`s of every key added besides the HS256 key: a token naming another is refused (jwt-kit alone would
    /// fall back to the default key).
    public let keyIDs: Set<String>
    let cache: VerificationCache

    init(keys: JWTKeyCollection, signingKeys: Set<String?>, keyIDs: Set<String> = []) {
        self.keys = keys; self.signingKeys = signingKeys; self.keyIDs = keyIDs; self.cache = VerificationCache()
    }

    /// The default key file of a bank: `token-signing.key` in the bank's key folder (beside a SQLite bank,
    /// `BANK.keys/`; for PostgreSQL, `$TWINBANK_KEYS`), like the audit log's signing key.
    public static func defaultKeyFile(for location: BankLocation, environment: [String: String] = ProcessInfo.processInfo.environment) -> KeyFile {
        KeyFile.besideBank(location.keyBase(environment: environment), name: "token-signing.key", byteCount: keyByteCount)
    }

    /// A key file at a path the person gave (`--token-key FILE`).
    public static func keyFile(path: String) -> KeyFile { KeyFile(path: path, byteCount: keyByteCount) }

    /// Loads the HS256 key from `keyFile`, creating it (random bytes) when it does not exist; the file is read on
    /// NIO's blocking pool, not on the calling task's thread.
    /// - Throws: ``TwinGovernance/GovernanceError`` `invalidKey` naming the path (mode, size, not a file).
    public static func hs256(keyFile: KeyFile) async throws -> TokenAuthority {
        let key = try await NIOThreadPool.singleton.runIfActive {
            try keyFile.loadOrCreate { SymmetricKey(size: .bits256).withUnsafeBytes { Array($0) } }.key
        }
        return await hs256(key: key)
    }

    /// An authority over a key given in memory (at least 32 bytes).
    public static func hs256(key: [UInt8]) async -> TokenAuthority {
        precondition(key.count >= 32, "an HS256 key needs at least 32 bytes")
        let keys = JWTKeyCollection()
        await keys.add(hmac: HMACKey(key: SymmetricKey(data: key)), digestAlgorithm: .sha256)
        return TokenAuthority(keys: keys, signingKeys: [nil])
    }

    /// An authority with no key yet (add some with ``adding(pem:kid:)`` or ``adding(jwks:)``): a deployment whose tokens
    /// all come from an identity provider.
    public static func external() -> TokenAuthority { TokenAuthority(keys: JWTKeyCollection(), signingKeys: []) }

    /// This authority and one more key, read from PEM text: an Ed25519 (EdDSA) or RSA (RS256) key, public (it
    /// verifies tokens whose `kid` is `kid`) or private (it also signs them). Verification is not cached across the
    /// old and the new authority.
    /// - Throws: ``ServerError`` `badRequest` (field `kid`) for an empty or used `kid`, or (field `key`) for text that
    ///   is no such key, an RSA key under 2048 bits included.
    public func adding(pem: String, kid: String) async throws -> TokenAuthority {
        guard !kid.isEmpty, kid.count <= 100 else {
            throw ServerError(.badRequest, "a key's id (kid) must have 1 to 100 characters", field: "kid", value: String(kid.prefix(100)))
        }
        guard !keyIDs.contains(kid) else {
            throw ServerError(.badRequest, "two keys have the id (kid) '\(kid)': give each its own (KID=FILE)", field: "kid", value: kid)
        }
        let id = JWKIdentifier(string: kid)
        var signs = signingKeys
        if let key = try? EdDSA.PrivateKey(pem: pem) {
            await keys.add(eddsa: key, kid: id); signs.insert(kid)
        } else if let key = try? EdDSA.PublicKey(pem: pem) {
            await keys.add(eddsa: key, kid: id)
        } else if let key = try? Insecure.RSA.PrivateKey(pem: pem) {
            await keys.add(rsa: key, digestAlgorithm: .sha256, kid: id); signs.insert(kid)
        } else if let key = try? Insecure.RSA.PublicKey(pem: pem) {
            await keys.add(rsa: key, digestAlgorithm: .sha256, kid: id)
        } else {
            throw ServerError(.badRequest, "the key '\(kid)' is not a PEM Ed25519 or RSA (at least 2048 bits) key, public or private", field: "key", value: kid)
        }
        return TokenAuthority(keys: keys, signingKeys: signs, keyIDs: keyIDs.union([kid]))
    }

    /// This authority and the keys of a JSON Web Key Set (RFC 7517; `OKP` Ed25519 and `RSA` keys, each with its
    /// `kid`), as an identity provider publishes at its `jwks_uri`.
    /// - Throws: ``ServerError`` `badRequest` (field `jwks`) naming what is wrong with the set.
    public func adding(jwks json: String) async throws -> TokenAuthority {
        let kids: [String]
        do {
            let set = try JSONDecoder().decode(JWKS.self, from: Data(json.utf8))
            kids = set.keys.compactMap { $0.keyIdentifier?.string }
            guard kids.count == set.keys.count else {
                throw ServerError(.badRequest, "the JSON Web Key Set has a key without a kid", field: "jwks")
            }
            try await keys.add(jwks: set)
        } catch let e as ServerError { throw e } catch {
            throw ServerError(.badRequest, "the JSON Web Key Set is not usable: \(error)", field: "jwks")
        }
        return TokenAuthority(keys: keys, signingKeys: signingKeys, keyIDs: keyIDs.union(kids))
    }

    /// ``adding(pem:kid:)`` for a file given as `[KID=]PATH` (`--token-pem`): the `kid` is the file's name without its
    /// extension unless given. The file is read on NIO's blocking pool.
    /// - Throws: ``ServerError`` `badRequest` naming the path when it cannot be read, or the key when it is no key.
    public func adding(pemFile option: String) async throws -> TokenAuthority {
        let (kid, path) = Self.split(option)
        return try await adding(pem: try await Self.read(path, what: "PEM key"), kid: kid)
    }

    /// ``adding(jwks:)`` for a file (`--token-jwks`), read on NIO's blocking pool.
    /// - Throws: ``ServerError`` `badRequest` naming the path when it cannot be read or is no key set.
    public func adding(jwksFile path: String) async throws -> TokenAuthority {
        do { return try await adding(jwks: try await Self.read(path, what: "JSON Web Key Set")) } catch let e as ServerError where e.field == "jwks" {
            throw ServerError(.badRequest, "\(path): \(e.message)", field: "jwks", value: path)
        }
    }

    /// `KID=PATH` or `PATH` (kid: the file name without its extension).
    static func split(_ option: String) -> (kid: String, path: String) {
        if let eq = option.firstIndex(of: "="), !option[..<eq].contains("/") {
            return (String(option[..<eq]), String(option[option.index(after: eq)...]))
        }
        return (URL(fileURLWithPath: option).deletingPathExtension().lastPathComponent, option)
    }

    static func read(_ path: String, what: String) async throws -> String {
        try await NIOThreadPool.singleton.runIfActive {
            do { return try String(contentsOfFile: path, encoding: .utf8) } catch {
                throw ServerError(.badRequest, "cannot read the \(what) at \(path): \((error as NSError).localizedDescription)", field: "key", value: path)
            }
        }
    }

    /// Signs a token with the HS256 key (`kid` nil) or with the private key `kid`.
    /// - Throws: ``ServerError`` `badRequest` for an empty subject, a lifetime not positive or over
    ///   ``maximumLifetime``, no scope, or a key this authority cannot sign with.
    public func issue(subject: String, role: Role, scopes: [SMARTScope], lifetime: TimeInterval, now: Date = Date(), kid: String? = nil) async throws -> String {
        guard !subject.isEmpty, subject.count <= 200 else {
            throw ServerError(.badRequest, "the token's subject must have 1 to 200 characters", field: "subject", value: String(subject.prefix(200)))
        }
        guard lifetime > 0, lifetime <= Self.maximumLifetime else {
            throw ServerError(.badRequest, "a token lives more than 0 seconds and at most 366 days, not \(lifetime) seconds", field: "expires", value: String(lifetime))
        }
        guard !scopes.isEmpty else { throw ServerError(.badRequest, "a token needs at least one scope (e.g. user/*.rs)", field: "scope") }
        guard signingKeys.contains(kid) else {
            throw ServerError(.badRequest, kid.map { "no private key '\($0)' to sign with (a public key only verifies)" } ?? "no HS256 key to sign with", field: "kid", value: kid)
        }
        return try await keys.sign(TokenClaims(subject: subject, role: role, scopes: scopes, expires: now.addingTimeInterval(lifetime), issued: now),
                                   kid: kid.map { JWKIdentifier(string: $0) })
    }

    /// Verifies a token's signature, expiry, role and scopes (a token verified before: only its expiry, against `now`).
    /// - Throws: ``ServerError`` `unauthorized` saying what is wrong (never echoing the token).
    public func verify(_ token: String, now: Date = Date()) async throws -> TokenIdentity {
        if let known = cache.identity(for: token) {
            guard known.expires > now else { cache.forget(token); throw ServerError(.unauthorized, "the bearer token is refused: it has expired (or a claim does not verify): issue a new one") }
            return known
        }
        if let kid = Self.keyID(of: token), !keyIDs.contains(kid) {
            throw ServerError(.unauthorized, "the bearer token is refused: its key id (kid) is none of this server's keys")
        }
        let claims: TokenClaims
        do {
            claims = try await keys.verify(token, as: TokenClaims.self)
        } catch let e as JWTError {
            let why: String
            switch e.errorType {
            case .claimVerificationFailure: why = "it has expired (or a claim does not verify): issue a new one"
            case .signatureVerificationFailed: why = "its signature does not verify with this server's key"
            case .unknownKID: why = "its key id (kid) is none of this server's keys"
            default: why = "it is not a token this server issued (\(e.errorType))"
            }
            throw ServerError(.unauthorized, "the bearer token is refused: \(why)")
        } catch {
            throw ServerError(.unauthorized, "the bearer token is refused: it is not a well-formed JWT")
        }
        guard let role = Role(rawValue: claims.role) else {
            throw ServerError(.unauthorized, "the bearer token is refused: its role '\(claims.role)' is none of \(Role.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        let scopes: [SMARTScope]
        do { scopes = try SMARTScope.parseList(claims.scope) } catch let e as ServerError {
            throw ServerError(.unauthorized, "the bearer token is refused: \(e.message)")
        }
        let identity = TokenIdentity(subject: claims.sub.value, role: role, scopes: scopes, expires: claims.exp.value)
        cache.remember(token, identity)
        return identity
    }

    /// The `kid` of a token's header, when it has one (the header is not trusted: only the key it names is chosen).
    static func keyID(of token: String) -> String? {
        guard let dot = token.firstIndex(of: ".") else { return nil }
        var b64 = token[..<dot].replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while b64.count % 4 != 0 { b64 += "=" }
        guard let data = Data(base64Encoded: b64),
              let header = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { return nil }
        return header["kid"] as? String
    }

    /// How many verified tokens are remembered now.
    public var cachedVerifications: Int { cache.count }
}

/// Verified tokens, by their text (bounded by ``TokenAuthority/verificationCacheLimit``).
final class VerificationCache: Sendable {
    private let entries = Mutex<[String: TokenIdentity]>([:])

    func identity(for token: String) -> TokenIdentity? { entries.withLock { $0[token] } }
    func remember(_ token: String, _ identity: TokenIdentity) {
        entries.withLock {
            if $0.count >= TokenAuthority.verificationCacheLimit { $0.removeAll(keepingCapacity: true) }
            $0[token] = identity
        }
    }
    func forget(_ token: String) { _ = entries.withLock { $0.removeValue(forKey: token) } }
    var count: Int { entries.withLock { $0.count } }
}
