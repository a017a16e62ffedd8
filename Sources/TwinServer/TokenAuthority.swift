import Crypto
import Foundation
import JWTKit
import NIOPosix
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

    /// Whether some scope allows reading.
    public var mayRead: Bool { scopes.contains(where: \.allowsRead) }
    /// Whether some scope allows writing.
    public var mayWrite: Bool { scopes.contains(where: \.allowsWrite) }
}

/// Issues and verifies the server's bearer tokens: HS256 JWTs signed with a 32-byte key kept in a key file
/// (``TwinGovernance/KeyFile``: created 0600 in a 0700 folder on first use, refused when others may read it).
public struct TokenAuthority: Sendable {
    /// How many bytes the HS256 key has.
    public static let keyByteCount = 32
    /// The longest a token may live.
    public static let maximumLifetime: TimeInterval = 366 * 86_400

    let keys: JWTKeyCollection

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
        return TokenAuthority(keys: keys)
    }

    /// Signs a token.
    /// - Throws: ``ServerError`` `badRequest` for an empty subject, or a lifetime not positive or over
    ///   ``maximumLifetime``.
    public func issue(subject: String, role: Role, scopes: [SMARTScope], lifetime: TimeInterval, now: Date = Date()) async throws -> String {
        guard !subject.isEmpty, subject.count <= 200 else {
            throw ServerError(.badRequest, "the token's subject must have 1 to 200 characters", field: "subject", value: String(subject.prefix(200)))
        }
        guard lifetime > 0, lifetime <= Self.maximumLifetime else {
            throw ServerError(.badRequest, "a token lives more than 0 seconds and at most 366 days, not \(lifetime) seconds", field: "expires", value: String(lifetime))
        }
        guard !scopes.isEmpty else { throw ServerError(.badRequest, "a token needs at least one scope (e.g. user/*.rs)", field: "scope") }
        return try await keys.sign(TokenClaims(subject: subject, role: role, scopes: scopes, expires: now.addingTimeInterval(lifetime), issued: now))
    }

    /// Verifies a token's signature, expiry, role and scopes.
    /// - Throws: ``ServerError`` `unauthorized` saying what is wrong (never echoing the token).
    public func verify(_ token: String) async throws -> TokenIdentity {
        let claims: TokenClaims
        do {
            claims = try await keys.verify(token, as: TokenClaims.self)
        } catch let e as JWTError {
            let why: String
            switch e.errorType {
            case .claimVerificationFailure: why = "it has expired (or a claim does not verify): issue a new one"
            case .signatureVerificationFailed: why = "its signature does not verify with this server's key"
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
        return TokenIdentity(subject: claims.sub.value, role: role, scopes: scopes, expires: claims.exp.value)
    }
}
