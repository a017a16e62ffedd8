import Foundation
import TwinBank
import TwinCore

/// The roles a bank's policy knows. Every actor the policy names has exactly one.
public enum Role: String, Sendable, Hashable, Codable, CaseIterable, CustomStringConvertible {
    /// The person a twin represents (acts on their own twins only).
    case patient
    /// A member of the care team.
    case clinician
    /// A researcher (research uses need the person's opt-in by default).
    case researcher
    /// A public-health officer (population-level aggregates and queries).
    case publicHealthOfficer = "public-health-officer"
    /// A device or feed that appends observations.
    case device
    /// The bank's administrator (everything, the policy and erasure included).
    case admin

    /// Parses a role name (case-insensitive; `publicHealthOfficer` and `public-health-officer` both accepted).
    /// - Throws: ``GovernanceError`` `invalidPolicy` naming the text and listing the roles.
    public init(parsing text: String) throws {
        let t = text.lowercased().replacingOccurrences(of: "-", with: "")
        guard let r = Role.allCases.first(where: { $0.rawValue.replacingOccurrences(of: "-", with: "") == t }) else {
            throw GovernanceError(.invalidPolicy, "unknown role '\(text)': roles are \(Role.allCases.map(\.rawValue).joined(separator: ", "))", value: text)
        }
        self = r
    }

    public var description: String { rawValue }
}

/// Why data is used: the purpose of use a request declares and a consent rule names.
///
/// Each purpose is one code of the HL7 v3 `ActReason` code system (`PurposeOfUse` branch,
/// `http://terminology.hl7.org/CodeSystem/v3-ActReason`), which FHIR `Consent.provision.purpose` uses:
/// treatment `TREAT`, research `HRESCH`, public health `PUBHLTH`, quality improvement `HQUALIMP`, commercial use
/// `HMARKT` (healthcare marketing: the v3 purpose closest to commercial use), the bank's own operations
/// `HOPERAT`, and the demo and tests `HTEST` (test health data).
public enum Purpose: String, Sendable, Hashable, Codable, CaseIterable, Comparable, CustomStringConvertible {
    case treatment, research, publicHealth = "public-health", qualityImprovement = "quality-improvement", commercial
    case operations, demo

    /// The v3 `ActReason` code system URI.
    public static let v3ActReason = "http://terminology.hl7.org/CodeSystem/v3-ActReason"

    /// This purpose's v3 `ActReason` code.
    public var v3Code: String {
        switch self {
        case .treatment: "TREAT"
        case .research: "HRESCH"
        case .publicHealth: "PUBHLTH"
        case .qualityImprovement: "HQUALIMP"
        case .commercial: "HMARKT"
        case .operations: "HOPERAT"
        case .demo: "HTEST"
        }
    }

    /// The v3 `ActReason` codes below each purpose's code that the bank reads as that purpose (the specialisations
    /// of the code system: emergency treatment `ETREAT` is treatment, clinical-trial research `CLINTRCH` is research).
    static let specialisations: [String: Purpose] = [
        "ETREAT": .treatment, "CLINTRL": .treatment, "COC": .treatment, "POPHLTH": .treatment, "BTG": .treatment,
        "CLINTRCH": .research, "BIORCH": .research, "DSRCH": .research, "PATRCH": .research, "PTR": .research,
        "BSRCH": .research, "TRAIN": .research,
        "DISASTER": .publicHealth, "THREAT": .publicHealth, "HDM": .publicHealth,
        "PERFMSR": .qualityImprovement, "HOUTCOMS": .qualityImprovement, "PATSFTY": .qualityImprovement,
        "HSYSADMIN": .operations, "PATADMIN": .operations, "RECORDMGT": .operations, "SYSDEV": .operations,
    ]

    /// The purpose of a v3 `ActReason` code: the purpose's own code or one of its specialisations; nil otherwise.
    public init?(v3Code code: String) {
        if let p = Purpose.allCases.first(where: { $0.v3Code == code }) { self = p; return }
        guard let p = Purpose.specialisations[code] else { return nil }
        self = p
    }

    /// Parses a purpose: its name (`treatment`, `research`, `public-health` or `publicHealth`, ...), its v3 code
    /// (`TREAT`, `HRESCH`, ... and their specialisations) or `care` (the bank's historical default, treatment).
    /// - Throws: ``GovernanceError`` `invalidPolicy` naming the text and listing the purposes.
    public init(parsing text: String) throws {
        let t = text.lowercased()
        if t == "care" { self = .treatment; return }
        let plain = t.replacingOccurrences(of: "-", with: "")
        if let p = Purpose.allCases.first(where: { $0.rawValue.replacingOccurrences(of: "-", with: "") == plain }) { self = p; return }
        if let p = Purpose(v3Code: text.uppercased()) { self = p; return }
        throw GovernanceError(.invalidPolicy, "unknown purpose '\(text)': purposes are \(Purpose.allCases.map(\.rawValue).joined(separator: ", ")) (or their HL7 v3 ActReason codes \(Purpose.allCases.map(\.v3Code).joined(separator: ", ")))", value: text)
    }

    public static func < (a: Purpose, b: Purpose) -> Bool { a.rawValue < b.rawValue }
    public var description: String { rawValue }
}

/// Who is asking, as the policy knows them: the actor id of the ``TwinBank/AccessRequest``, resolved through the
/// policy's assignments (the issue's `Actor`; named `Caller` because Swift's concurrency library owns `Actor`).
public struct Caller: Sendable, Hashable, Codable {
    /// The actor id (a user, a service, a device).
    public var id: String
    public var role: Role
    /// The organisation the actor acts for, if any (consent rules may permit or deny by organisation).
    public var organisation: String?
    /// The action names the actor's credentials allow (for example a token's scopes); empty means no limit
    /// beyond the role's grants. A non-empty set restricts: an action outside it is denied even if the role allows it.
    public var scopes: Set<String>
    /// The twins this actor is linked to: a patient's own twins (a policy grant limited to ``Grant/Subject/linked``
    /// applies only to these).
    public var twins: Set<TwinID>

    public init(id: String, role: Role, organisation: String? = nil, scopes: Set<String> = [], twins: Set<TwinID> = []) {
        self.id = id; self.role = role; self.organisation = organisation; self.scopes = scopes; self.twins = twins
    }
}

extension AccessRequest.Action {
    /// Parses an action name (case-insensitive) among ``all``.
    /// - Throws: ``GovernanceError`` `invalidPolicy` naming the text and listing the actions.
    public static func parsing(_ text: String) throws -> AccessRequest.Action {
        let t = text.lowercased()
        guard let a = all.first(where: { $0.name == t }) else {
            throw GovernanceError(.invalidPolicy, "unknown action '\(text)': actions are \(all.map(\.name).joined(separator: ", "))", value: text)
        }
        return a
    }

    /// The actions that use a person's data, to which the person's consent applies (reading, querying,
    /// aggregating, exporting, simulating, synchronising, matching, releasing). Writes and the bank's own
    /// operations are governed by the policy alone.
    public static let uses: Set<String> = ["read", "query", "aggregate", "export", "simulate", "sync", "match", "release"]
}

// Stored objects are content-addressed: equal values must give equal bytes, so sets are written as sorted arrays.
extension Caller {
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(id, forKey: .id)
        try c.encode(role, forKey: .role)
        try c.encodeIfPresent(organisation, forKey: .organisation)
        try c.encode(scopes.sorted(), forKey: .scopes)
        try c.encode(twins.sorted(), forKey: .twins)
    }
}
