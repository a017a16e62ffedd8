import Crypto
import Foundation
import NIOPosix
import TwinBankAccess
import TwinGovernance

/// Signs webhook POSTs so a receiver can tell they come from this deployment and were not altered or replayed late.
///
/// Each POST carries `X-Twinbank-Signature: t=UNIX,v1=HEX`, where `UNIX` is the time of the attempt in whole seconds
/// since 1970 and `HEX` the lowercase hex of HMAC-SHA256, keyed with the deployment's secret, over the UTF-8 bytes of
/// `"\(t).\(body)"` (the decimal time, a full stop, the body exactly as sent). A retry is signed again at its own time;
/// `X-Twinbank-Delivery` names the delivery and stays the same across its retries. A receiver checks a signature with
/// ``verify(header:body:secret:now:tolerance:)``.
public struct WebhookSigner: Sendable {
    /// The secret's length: 32 random bytes.
    public static let secretByteCount = 32
    /// The header with the signature.
    public static let signatureHeader = "X-Twinbank-Signature"
    /// The header with the delivery id.
    public static let deliveryHeader = "X-Twinbank-Delivery"
    /// How far a signature's time may be from the receiver's clock by default: 5 minutes.
    public static let defaultTolerance: TimeInterval = 300

    let key: SymmetricKey

    /// A signer with `secret` (at least 32 bytes).
    /// - Throws: ``WebhookSignatureError`` `weakSecret` for a shorter one.
    public init(secret: [UInt8]) throws(WebhookSignatureError) {
        guard secret.count >= Self.secretByteCount else {
            throw WebhookSignatureError(.weakSecret, "a webhook secret needs at least \(Self.secretByteCount) bytes, not \(secret.count)", value: String(secret.count))
        }
        key = SymmetricKey(data: secret)
    }

    /// The default secret file of a bank: `webhook-secret.key` in the bank's key folder (beside a SQLite bank,
    /// `BANK.keys/`; for PostgreSQL, `$TWINBANK_KEYS`), like the token and audit keys.
    public static func defaultKeyFile(for location: BankLocation, environment: [String: String] = ProcessInfo.processInfo.environment) -> KeyFile {
        KeyFile.besideBank(location.keyBase(environment: environment), name: "webhook-secret.key", byteCount: secretByteCount)
    }

    /// A secret file at a path the person gave (`--webhook-secret-file FILE`).
    public static func keyFile(path: String) -> KeyFile { KeyFile(path: path, byteCount: secretByteCount) }

    /// Loads the secret from `keyFile`, creating it (32 random bytes, mode 0600 in a 0700 folder) when there is none,
    /// with the `KeyFile` rules (a file others may read is refused); read on NIO's blocking pool.
    /// - Throws: ``TwinGovernance/GovernanceError`` `invalidKey` naming the path.
    public static func load(keyFile: KeyFile) async throws -> WebhookSigner {
        let secret = try await NIOThreadPool.singleton.runIfActive {
            try keyFile.loadOrCreate { SymmetricKey(size: .bits256).withUnsafeBytes { Array($0) } }.key
        }
        return try WebhookSigner(secret: secret)
    }

    /// The signature header's value for `body` sent at `time` (seconds since 1970).
    public func signature(body: [UInt8], time: Int64) -> String {
        "t=\(time),v1=\(Self.mac(key, body: body, time: time))"
    }

    static func mac(_ key: SymmetricKey, body: [UInt8], time: Int64) -> String {
        var message = Array("\(time).".utf8)
        message.append(contentsOf: body)
        return HMAC<SHA256>.authenticationCode(for: message, using: key).map { String(format: "%02x", $0) }.joined()
    }

    /// Checks a webhook's signature header against its body as received: the header must name a time `t` within
    /// `tolerance` seconds of `now` (either side) and a `v1` signature (several `v1` are allowed, as while a secret is
    /// replaced: one must match) equal, compared in constant time, to HMAC-SHA256 of `"\(t).\(body)"` under `secret`.
    /// Returns the signed time.
    /// - Throws: ``WebhookSignatureError`` `malformedSignature` (no `t` or `v1`, not numbers or hex), `outsideTolerance`
    ///   (an old or future time: a replay), `signatureMismatch` (another body or secret), `weakSecret`.
    @discardableResult
    public static func verify(header: String, body: [UInt8], secret: [UInt8], now: Date = Date(),
                              tolerance: TimeInterval = defaultTolerance) throws(WebhookSignatureError) -> Int64 {
        let signer = try WebhookSigner(secret: secret)
        var time: Int64?
        var signatures: [[UInt8]] = []
        for part in header.split(separator: ",") {
            let pair = part.trimmingCharacters(in: .whitespaces).split(separator: "=", maxSplits: 1).map(String.init)
            guard pair.count == 2 else { continue }
            switch pair[0] {
            case "t":
                guard let t = Int64(pair[1]) else {
                    throw WebhookSignatureError(.malformedSignature, "the signature's time '\(pair[1])' is not whole seconds since 1970", value: header)
                }
                time = t
            case "v1":
                guard pair[1].count == 64, let bytes = hexBytes(pair[1]) else {
                    throw WebhookSignatureError(.malformedSignature, "a v1 signature is 64 hex digits (HMAC-SHA256), not '\(pair[1])'", value: header)
                }
                signatures.append(bytes)
            default: continue
            }
        }
        guard let time, !signatures.isEmpty else {
            throw WebhookSignatureError(.malformedSignature, "the signature header must hold t=UNIX and v1=HEX, as 't=1767225600,v1=5f0c...'", value: header)
        }
        let age = now.timeIntervalSince1970 - Double(time)
        guard abs(age) <= tolerance else {
            throw WebhookSignatureError(.outsideTolerance, "the signature's time \(time) is \(Int(abs(age))) s \(age > 0 ? "old" : "in the future"), beyond the \(Int(tolerance)) s allowed: a late replay or a clock far off", value: String(time))
        }
        var message = Array("\(time).".utf8)
        message.append(contentsOf: body)
        guard signatures.contains(where: { HMAC<SHA256>.isValidAuthenticationCode($0, authenticating: message, using: signer.key) }) else {
            throw WebhookSignatureError(.signatureMismatch, "the signature does not match the body: it was altered, or signed with another secret", value: header)
        }
        return time
    }

    static func hexBytes(_ text: String) -> [UInt8]? {
        var out: [UInt8] = []
        var high: UInt8?
        for c in text.utf8 {
            let v: UInt8
            switch c {
            case 48...57: v = c - 48
            case 97...102: v = c - 87
            case 65...70: v = c - 55
            default: return nil
            }
            if let h = high { out.append(h << 4 | v); high = nil } else { high = v }
        }
        return high == nil ? out : nil
    }

    /// The id of one alert's delivery to one URL: the same on every retry (and after a restart), different for
    /// another alert or URL, so a receiver can deduplicate deliveries.
    public static func deliveryID(url: URL, event: String) -> String {
        let digest = SHA256.hash(data: Array("\(url.absoluteString)\n\(event)".utf8))
        return digest.prefix(16).map { String(format: "%02x", $0) }.joined()
    }
}

/// Why a webhook signature was refused (or a secret not taken).
public struct WebhookSignatureError: Error, Sendable, Hashable, CustomStringConvertible {
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        public let rawValue: String
        init(_ rawValue: String) { self.rawValue = rawValue }
        /// The header does not hold `t=UNIX,v1=HEX`.
        public static let malformedSignature = Code("malformedSignature")
        /// The signed time is further from now than the tolerance.
        public static let outsideTolerance = Code("outsideTolerance")
        /// No `v1` matches the body under the secret.
        public static let signatureMismatch = Code("signatureMismatch")
        /// A secret shorter than 32 bytes.
        public static let weakSecret = Code("weakSecret")
        public var description: String { rawValue }
    }

    public var code: Code
    public var message: String
    /// The offending header or value (never the secret).
    public var value: String?

    init(_ code: Code, _ message: String, value: String? = nil) { self.code = code; self.message = message; self.value = value }
    public var description: String { message }
}
