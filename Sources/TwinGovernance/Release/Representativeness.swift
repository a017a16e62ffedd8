import Foundation
import TwinBank
import TwinCore

/// How well an aggregate represents a reference population: per group (age band, sex, race, ethnicity, state,
/// ZIP3, key conditions), its share in the aggregate against the reference share.
///
/// Flags (see ``Group/Flag``):
/// - `absent`: no member is in the group while the reference has at least ``minimumReferenceShare`` (1 %) in it;
/// - `under`: the group is present but under-represented: the upper end of the 95 % Wilson score interval of its
///   share in the aggregate is below ``threshold`` (0.5) times the reference share. The Wilson interval (not the
///   plain ratio) keeps small aggregates from being flagged by chance: 1 member of 20 where the reference has 10 %
///   has ratio 0.5 but an upper bound of 0.24, so it is not flagged.
/// An absent group is flagged whatever the aggregate's size (it is a gap in coverage, not an estimate); its
/// ``Group/significant`` says whether the Wilson bound would also flag it.
public struct Representativeness: Sendable {
    public var threshold: Double
    public var minimumReferenceShare: Double
    /// The normal quantile of the interval (1.96: 95 %).
    public var z: Double

    public init(threshold: Double = 0.5, minimumReferenceShare: Double = 0.01, z: Double = 1.959964) {
        self.threshold = threshold; self.minimumReferenceShare = minimumReferenceShare; self.z = z
    }

    /// Counts of people per group: `attribute -> value -> count`, over `people` people. Groups of one attribute
    /// partition the people except `condition` (a person may have several or none).
    public struct Profile: Sendable, Hashable, Codable {
        public var people: Int
        public var counts: [String: [String: Int]]
        public init(people: Int, counts: [String: [String: Int]]) { self.people = people; self.counts = counts }

        /// The shares (count / people) of every group.
        public var marginals: Marginals {
            Marginals(shares: counts.mapValues { $0.mapValues { people == 0 ? 0 : Double($0) / Double(people) } })
        }
    }

    /// Reference shares, `attribute -> value -> share` (0...1).
    public struct Marginals: Sendable, Hashable, Codable {
        public var shares: [String: [String: Double]]
        public init(shares: [String: [String: Double]]) { self.shares = shares }

        /// Reads `attribute,value,share` lines (a header line of those words is skipped; share from 0 to 1, or a
        /// percentage written `12.5%`). Attributes are those of ``Representativeness/profile(of:conditions:at:)``:
        /// `ageBand` (`0-9` ... `80-89`, `90+`), `sex`, `race`, `ethnicity`, `state`, `zip3`, `condition` (`SYSTEM:CODE`).
        /// - Throws: ``GovernanceError`` `invalidRelease` naming the line and the offending value.
        public init(csv text: String) throws {
            var shares: [String: [String: Double]] = [:]
            for (n, raw) in text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" }).enumerated() {
                let line = raw.trimmingCharacters(in: .whitespaces)
                if line.isEmpty || line.hasPrefix("#") { continue }
                let f = line.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
                if n == 0, f.first?.lowercased() == "attribute" { continue }
                guard f.count == 3, !f[0].isEmpty, !f[1].isEmpty else {
                    throw GovernanceError(.invalidRelease, "marginals line \(n + 1) '\(line)' is not attribute,value,share", value: line)
                }
                var s = f[2]
                var scale = 1.0
                if s.hasSuffix("%") { s.removeLast(); scale = 0.01 }
                guard let v = Double(s), v.isFinite, (0...1).contains(v * scale) else {
                    throw GovernanceError(.invalidRelease, "marginals line \(n + 1): the share '\(f[2])' is not a number from 0 to 1 (or 0% to 100%)", value: f[2])
                }
                guard shares[f[0]]?[f[1]] == nil else {
                    throw GovernanceError(.invalidRelease, "marginals line \(n + 1): '\(f[0]),\(f[1])' is given twice", value: f[1])
                }
                shares[f[0], default: [:]][f[1]] = v * scale
            }
            guard !shares.isEmpty else { throw GovernanceError(.invalidRelease, "the marginals table is empty") }
            self.shares = shares
        }
    }

    /// One group's comparison.
    public struct Group: Sendable, Hashable, Codable {
        public enum Flag: String, Sendable, Hashable, Codable { case ok, under, absent }
        public var attribute: String
        public var value: String
        public var count: Int
        public var share: Double
        public var referenceShare: Double
        /// share / referenceShare (nil when the reference share is 0).
        public var ratio: Double?
        /// The 95 % Wilson score interval of the share.
        public var low: Double
        public var high: Double
        public var flag: Flag
        /// Whether the Wilson bound is below threshold x reference share.
        public var significant: Bool
    }

    /// The whole comparison.
    public struct Report: Sendable, Hashable, Codable {
        public var people: Int
        public var threshold: Double
        public var groups: [Group]
        public var flagged: [Group] { groups.filter { $0.flag != .ok } }
    }

    /// The 10-year age band of an age (`0-9` ... `80-89`, `90+`).
    public static func ageBand(_ age: Int) -> String {
        age >= 90 ? "90+" : "\(age / 10 * 10)-\(age / 10 * 10 + 9)"
    }

    /// The profile of people: `ageBand` (at `time`, from `birthDate`), `sex` (the `gender`/`sex` attribute), `race` and
    /// `ethnicity` (attributes of those names: text, or a concept's display else code), `state` and `zip3` (from the
    /// `address` text, see ``SafeHarbor/region(ofAddress:)``), and `condition` for each code of `conditions` (the twins
    /// that have it). A person without a value is counted under `unknown`.
    public static func profile(of twins: [Twin], conditions: [String: Set<TwinID>] = [:], at time: Instant) -> Profile {
        var counts: [String: [String: Int]] = [:]
        func add(_ a: String, _ v: String?) { counts[a, default: [:]][v ?? "unknown", default: 0] += 1 }
        func word(_ v: Value?) -> String? {
            switch v {
            case .text(let t)?: t.lowercased()
            case .concept(let c)?: c.display ?? c.code
            default: nil
            }
        }
        for t in twins {
            if case .quantity(let q)? = QueryVocabulary.Derived.age.value(of: t, at: time) { add("ageBand", ageBand(Int(q.value))) } else { add("ageBand", nil) }
            add("sex", word(t.attributes["gender"] ?? t.attributes["sex"]))
            add("race", word(t.attributes["race"]))
            add("ethnicity", word(t.attributes["ethnicity"]))
            var region: (state: String?, zip3: String?) = (nil, nil)
            if case .text(let a)? = t.attributes["address"] { region = SafeHarbor.region(ofAddress: a) }
            add("state", region.state)
            add("zip3", region.zip3)
        }
        for (code, holders) in conditions {
            counts["condition", default: [:]][code] = twins.filter { holders.contains($0.id) }.count
        }
        return Profile(people: twins.count, counts: counts)
    }

    /// The Wilson score interval of k successes in n trials.
    public func wilson(_ k: Int, _ n: Int) -> (low: Double, high: Double) {
        guard n > 0 else { return (0, 1) }
        let p = Double(k) / Double(n), nn = Double(n), z2 = z * z
        let centre = (p + z2 / (2 * nn)) / (1 + z2 / nn)
        let half = z / (1 + z2 / nn) * (p * (1 - p) / nn + z2 / (4 * nn * nn)).squareRoot()
        return (max(0, centre - half), min(1, centre + half))
    }

    /// Compares an aggregate's profile with reference shares, over the groups the reference names (attributes the
    /// reference does not name are not compared), sorted by attribute and value.
    public func compare(_ sample: Profile, with reference: Marginals) -> Report {
        var groups: [Group] = []
        for (attribute, values) in reference.shares.sorted(by: { $0.key < $1.key }) {
            for (value, refShare) in values.sorted(by: { $0.key < $1.key }) {
                let count = sample.counts[attribute]?[value] ?? 0
                let share = sample.people == 0 ? 0 : Double(count) / Double(sample.people)
                let (low, high) = wilson(count, sample.people)
                let significant = refShare > 0 && high < threshold * refShare
                let flag: Group.Flag
                if count == 0 && refShare >= minimumReferenceShare { flag = .absent }
                else if count > 0 && significant { flag = .under }
                else { flag = .ok }
                groups.append(Group(attribute: attribute, value: value, count: count, share: share, referenceShare: refShare,
                                    ratio: refShare > 0 ? share / refShare : nil, low: low, high: high, flag: flag, significant: significant))
            }
        }
        return Report(people: sample.people, threshold: threshold, groups: groups)
    }

    /// The profile of an aggregate's members in a bank, as of now (`conditions`: `SYSTEM:CODE` texts).
    /// - Throws: the bank's errors (unknown aggregate), ``GovernanceError`` `invalidRelease` for a malformed code.
    public static func profile(bank: Bank, aggregate: AggregateID, conditions: [String] = []) throws -> Profile {
        let keys = try conditions.map(MemberRecords.code)
        let cohort = try bank.cohort(of: aggregate, for: .aggregate)
        var holders: [String: Set<TwinID>] = [:]
        for (c, key) in zip(conditions, keys) { holders[c] = try bank.holders(of: key, in: cohort) }
        return profile(of: cohort.records.map(\.twin), conditions: holders, at: bank.clock.now())
    }
}

/// Reading an aggregate's member twins for a release.
public enum MemberRecords {
    /// A code as the command line writes it (`loinc:4548-4`, `http://snomed.info/sct|44054006`; see `CodeKey(parsing:)`).
    public static func code(_ text: String) throws -> CodeKey {
        do { return try CodeKey(parsing: text) } catch {
            throw GovernanceError(.invalidRelease, "'\(text)' is not a code (write SYSTEM:CODE, e.g. snomed:44054006): \(error)", value: text)
        }
    }
}
