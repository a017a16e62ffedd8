import TwinBank
import TwinCore

/// One access decision in the audit log: who asked to do what to which twin, why, and what was decided.
///
/// An entry names the twin but holds no health data: no values, no codes of observations, no free text from the
/// thread. Its ``canonicalBytes`` are the leaf data of the log's Merkle tree, so an entry's leaf hash can be
/// recomputed by anyone from its fields.
public struct AuditEntry: Sendable, Hashable, Codable {
    /// What the decision point decided.
    public enum Decision: String, Sendable, Hashable, Codable, CaseIterable {
        /// The request was allowed as asked.
        case permit
        /// The request was refused.
        case deny
        /// The request was allowed on part of the data only (the reason says which filter).
        case permitWithFilter = "permit-with-filter"
    }

    /// The position in the log, from 0: the Merkle leaf index.
    public var sequence: UInt64
    /// When the decision was recorded.
    public var time: Instant
    /// Who asked (a user, a service or `local`).
    public var actor: String
    /// The actor's role, when known (`clinician`, `researcher` ...).
    public var role: String?
    /// The actor's organisation, when known.
    public var organisation: String?
    /// What was asked (`read`, `write`, `export` ...: ``AccessRequest/Action``).
    public var action: String
    /// The twin concerned; nil for bank-wide operations.
    public var twin: String?
    /// Why (`care`, `research` ...).
    public var purpose: String
    public var decision: Decision
    /// A short reason (the rule that decided, the filter applied); never health data.
    public var reason: String

    public init(sequence: UInt64, time: Instant, actor: String, role: String? = nil, organisation: String? = nil,
                action: String, twin: String?, purpose: String, decision: Decision, reason: String) {
        self.sequence = sequence; self.time = time; self.actor = actor; self.role = role
        self.organisation = organisation; self.action = action; self.twin = twin; self.purpose = purpose
        self.decision = decision; self.reason = reason
    }

    /// An entry before the log numbers and times it.
    public struct Draft: Sendable, Hashable {
        public var actor: String
        public var role: String?
        public var organisation: String?
        public var action: String
        public var twin: String?
        public var purpose: String
        public var decision: Decision
        public var reason: String

        public init(actor: String, role: String? = nil, organisation: String? = nil, action: String, twin: String?,
                    purpose: String, decision: Decision, reason: String) {
            self.actor = actor; self.role = role; self.organisation = organisation; self.action = action
            self.twin = twin; self.purpose = purpose; self.decision = decision; self.reason = reason
        }

        /// The draft recording `decision` on `request` (the gate's view of an access).
        public init(_ request: AccessRequest, decision: Decision, reason: String, role: String? = nil, organisation: String? = nil) {
            self.init(actor: request.actor, role: role, organisation: organisation, action: request.action.name,
                      twin: request.twin?.rawValue, purpose: request.purpose, decision: decision, reason: reason)
        }
    }

    /// The entry a draft becomes at `sequence` and `time`.
    public init(_ draft: Draft, sequence: UInt64, time: Instant) {
        self.init(sequence: sequence, time: time, actor: draft.actor, role: draft.role, organisation: draft.organisation,
                  action: draft.action, twin: draft.twin, purpose: draft.purpose, decision: draft.decision, reason: draft.reason)
    }

    /// The canonical encoding, version 1: UTF-8 JSON of one object with exactly these keys in this (sorted) order,
    /// no white space: `action`, `actor`, `decision`, `organisation`, `purpose`, `reason`, `role`, `seq`,
    /// `time`, `twin`, `v`. Absent optional fields are `null`; `seq` and `time` (microseconds since the Unix
    /// epoch, UTC) are decimal integers; `v` is `1`. Strings escape `"` and `\` with a backslash, the control
    /// characters U+0000-U+001F as `\b \t \n \f \r` or `\u00xx` (lower-case hex), and nothing else (other
    /// characters are their UTF-8 bytes). The same entry always gives the same bytes, on every platform.
    public var canonicalBytes: [UInt8] {
        var out: [UInt8] = [UInt8(ascii: "{")]
        out.reserveCapacity(160 + actor.utf8.count + reason.utf8.count)
        func key(_ k: StaticString, first: Bool = false) {
            if !first { out.append(UInt8(ascii: ",")) }
            out.append(UInt8(ascii: "\"")); out.append(contentsOf: UnsafeBufferPointer(start: k.utf8Start, count: k.utf8CodeUnitCount))
            out.append(UInt8(ascii: "\"")); out.append(UInt8(ascii: ":"))
        }
        func string(_ s: String?) {
            guard let s else { out.append(contentsOf: "null".utf8); return }
            CanonicalJSON.appendString(s, to: &out)
        }
        key("action", first: true); string(action)
        key("actor"); string(actor)
        key("decision"); string(decision.rawValue)
        key("organisation"); string(organisation)
        key("purpose"); string(purpose)
        key("reason"); string(reason)
        key("role"); string(role)
        key("seq"); out.append(contentsOf: String(sequence).utf8)
        key("time"); out.append(contentsOf: String(time.microseconds).utf8)
        key("twin"); string(twin)
        key("v"); out.append(UInt8(ascii: "1"))
        out.append(UInt8(ascii: "}"))
        return out
    }

    /// The Merkle leaf hash of this entry: `SHA-256(0x00 || canonicalBytes)`.
    public var leafHash: MerkleHash { Merkle.leafHash(canonicalBytes) }
}

/// The string escaping of the canonical encodings (see ``AuditEntry/canonicalBytes``).
enum CanonicalJSON {
    static let hex: [UInt8] = Array("0123456789abcdef".utf8)

    /// Whether a byte needs escaping: `"`, `\` or a control character.
    @inline(__always) static func escapes(_ b: UInt8) -> Bool { b < 0x20 || b == 34 || b == 92 }

    static func appendString(_ s: String, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        var str = s
        // the common case, nothing to escape: the bytes at once
        let plain = str.withUTF8 { u -> Bool in
            guard !u.contains(where: escapes) else { return false }
            out.append(contentsOf: u)
            return true
        }
        if !plain {
            for b in s.utf8 {
                guard escapes(b) else { out.append(b); continue }
                out.append(92)
                switch b {
                case 34: out.append(34)
                case 92: out.append(92)
                case 0x08: out.append(UInt8(ascii: "b"))
                case 0x09: out.append(UInt8(ascii: "t"))
                case 0x0A: out.append(UInt8(ascii: "n"))
                case 0x0C: out.append(UInt8(ascii: "f"))
                case 0x0D: out.append(UInt8(ascii: "r"))
                default:
                    out.append(UInt8(ascii: "u")); out.append(48); out.append(48)
                    out.append(hex[Int(b >> 4)]); out.append(hex[Int(b & 15)])
                }
            }
        }
        out.append(UInt8(ascii: "\""))
    }
}
