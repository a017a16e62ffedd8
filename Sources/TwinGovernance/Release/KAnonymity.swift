import TwinCore

/// A generalisation hierarchy of one quasi-identifier: level 0 is the value as released, the last level is `*`.
///
/// - `birthYear`: year -> 5-year band (`1950-1954`) -> 10-year band (`1950-1959`) -> `*` (``SafeHarbor/ageOver89``
///   stays `90+` until `*`).
/// - `zip3`: `021` -> `02` -> `*`.
/// - any other attribute (`sex` included): value -> `*`.
public struct GeneralisationHierarchy: Sendable, Hashable {
    public let attribute: String
    /// The number of levels, the ungeneralised one and `*` included.
    public let levels: Int

    public init(attribute: String) {
        self.attribute = attribute
        switch attribute {
        case "birthYear": levels = 4
        case "zip3": levels = 3
        default: levels = 2
        }
    }

    /// The value generalised to `level` (0 ..< ``levels``); a missing value is `?` below the top.
    public func generalise(_ value: String?, level: Int) -> String {
        if level >= levels - 1 { return "*" }
        guard let value else { return "?" }
        if level == 0 { return value }
        switch attribute {
        case "birthYear":
            guard let y = Int(value) else { return value }
            let width = level == 1 ? 5 : 10
            let lo = Int((Double(y) / Double(width)).rounded(.down)) * width
            return "\(lo)-\(lo + width - 1)"
        case "zip3":
            return String(value.prefix(2))
        default:
            return "*"
        }
    }

    /// The name of a level, for reports (`year`, `5-year band`, `10-year band`, `zip2`, `*`).
    public func levelName(_ level: Int) -> String {
        if level >= levels - 1 { return "*" }
        switch (attribute, level) {
        case ("birthYear", 0): return "year"
        case ("birthYear", 1): return "5-year band"
        case ("birthYear", 2): return "10-year band"
        case ("zip3", 1): return "zip2"
        default: return "value"
        }
    }
}

/// k-anonymity (and optionally l-diversity) by generalisation and suppression, with a full search of the
/// generalisation lattice.
///
/// Promises of ``anonymise(_:)``:
/// - In the result every equivalence class (records equal on all generalised quasi-identifiers) has at least ``k``
///   records and, when ``sensitive`` is set, at least ``l`` distinct values of it (a missing value counts as one).
/// - At most ``maxSuppression`` of the records (rounded down) are suppressed: those in classes that break the rule.
/// - Among all combinations of levels (the lattice is small: 4 x 3 x 2 for birth year, ZIP3 and sex) it picks the one
///   with the least information loss: the mean, over records and quasi-identifiers, of level / top level, a
///   suppressed record counting as fully generalised; ties go to fewer suppressed records, then to the lower levels
///   in the order the quasi-identifiers were given.
/// - Released records keep their other fields (the sensitive attribute included) unchanged.
public struct KAnonymity: Sendable {
    public var k: Int
    public var l: Int?
    public var sensitive: String?
    public var quasiIdentifiers: [String]
    /// The largest fraction of records that may be suppressed (default 0.05).
    public var maxSuppression: Double

    /// - Throws: ``GovernanceError`` `invalidRelease` when k < 1, l < 1, l without a sensitive attribute, no
    ///   quasi-identifier, a repeated one, or a suppression fraction outside 0...1.
    public init(k: Int, quasiIdentifiers: [String], l: Int? = nil, sensitive: String? = nil, maxSuppression: Double = 0.05) throws {
        guard k >= 1 else { throw GovernanceError(.invalidRelease, "k must be at least 1, not \(k)", value: String(k)) }
        if let l {
            guard l >= 1 else { throw GovernanceError(.invalidRelease, "l must be at least 1, not \(l)", value: String(l)) }
            guard sensitive != nil else { throw GovernanceError(.invalidRelease, "l-diversity (l = \(l)) needs a sensitive attribute", value: String(l)) }
        }
        guard !quasiIdentifiers.isEmpty else { throw GovernanceError(.invalidRelease, "no quasi-identifier given") }
        guard Set(quasiIdentifiers).count == quasiIdentifiers.count else {
            throw GovernanceError(.invalidRelease, "a quasi-identifier is repeated in '\(quasiIdentifiers.joined(separator: ","))'", value: quasiIdentifiers.joined(separator: ","))
        }
        if let sensitive, quasiIdentifiers.contains(sensitive) {
            throw GovernanceError(.invalidRelease, "the sensitive attribute '\(sensitive)' is also a quasi-identifier", value: sensitive)
        }
        guard (0...1).contains(maxSuppression) else {
            throw GovernanceError(.invalidRelease, "the suppression limit must be between 0 and 1, not \(maxSuppression)", value: String(maxSuppression))
        }
        self.k = k; self.l = l; self.sensitive = sensitive; self.quasiIdentifiers = quasiIdentifiers; self.maxSuppression = maxSuppression
    }

    /// The classes' statistics of records over the quasi-identifiers at the given levels.
    public func statistics(_ records: [ReleaseRecord], levels: [Int]? = nil) -> ClassStatistics {
        let h = quasiIdentifiers.map(GeneralisationHierarchy.init(attribute:))
        let lv = levels ?? Array(repeating: 0, count: h.count)
        var sizes: [[String]: Int] = [:]
        for r in records { sizes[zip(h, lv).map { $0.generalise(r.fields[$0.attribute], level: $1) }, default: 0] += 1 }
        return ClassStatistics(records: records.count, classes: sizes.count, smallestClass: sizes.values.min() ?? 0,
                               unique: sizes.values.filter { $0 == 1 }.count)
    }

    /// Generalises and suppresses `records` (see the type's promises).
    /// - Throws: ``GovernanceError`` `invalidRelease` when no combination of levels meets k (and l) within the
    ///   suppression limit (for example fewer than k records, or fewer than l sensitive values in all).
    public func anonymise(_ records: [ReleaseRecord]) throws -> KAnonymityResult {
        let h = quasiIdentifiers.map(GeneralisationHierarchy.init(attribute:))
        let allowed = Int((maxSuppression * Double(records.count) + 1e-9).rounded(.down))  // 0.29 x 100 is 28.999...
        var best: (loss: Double, suppressed: [Bool], levels: [Int], count: Int)?
        var node = Array(repeating: 0, count: h.count)
        while true {
            let (suppressed, count) = self.suppression(records, h, node)
            if count <= allowed {
                var loss = 0.0
                let height = zip(h, node).reduce(0.0) { $0 + Double($1.1) / Double($1.0.levels - 1) }
                for s in suppressed { loss += s ? Double(h.count) : height }
                loss /= Double(max(records.count, 1) * h.count)
                // Nodes come in lexicographic order, so on a tie the first (lower levels first) stays.
                if let b = best {
                    if loss < b.loss - 1e-12 || (abs(loss - b.loss) <= 1e-12 && count < b.count) { best = (loss, suppressed, node, count) }
                } else {
                    best = (loss, suppressed, node, count)
                }
            }
            // the next node of the lattice (mixed-radix counter)
            var i = h.count - 1
            while i >= 0 { node[i] += 1; if node[i] < h[i].levels { break }; node[i] = 0; i -= 1 }
            if i < 0 { break }
        }
        guard let best else {
            var why = "no generalisation of \(quasiIdentifiers.joined(separator: ",")) gives every class \(k) or more records"
            if let l, let sensitive { why += " with \(l) or more distinct values of '\(sensitive)'" }
            throw GovernanceError(.invalidRelease, why + " while suppressing at most \(allowed) of \(records.count) records", value: String(k))
        }
        var released: [ReleaseRecord] = []
        for (r, s) in zip(records, best.suppressed) where !s {
            var g = r
            for (hi, level) in zip(h, best.levels) { g.fields[hi.attribute] = hi.generalise(r.fields[hi.attribute], level: level) }
            released.append(g)
        }
        let before = statistics(records)
        let after = statistics(released)
        let report = KAnonymityReport(
            k: k, l: l, sensitive: sensitive, quasiIdentifiers: quasiIdentifiers, before: before, after: after,
            suppressed: best.count, maxSuppressed: allowed,
            levels: zip(h, best.levels).map { .init(attribute: $0.attribute, level: $1, name: $0.levelName($1)) },
            informationLoss: best.loss)
        return KAnonymityResult(records: released, report: report)
    }

    /// Which records a node suppresses (those in classes below k or below l) and how many.
    private func suppression(_ records: [ReleaseRecord], _ h: [GeneralisationHierarchy], _ node: [Int]) -> ([Bool], Int) {
        var classOf: [Int] = []
        var index: [[String]: Int] = [:]
        var sizes: [Int] = []
        var values: [Set<String>] = []
        classOf.reserveCapacity(records.count)
        for r in records {
            let key = zip(h, node).map { $0.generalise(r.fields[$0.attribute], level: $1) }
            let c: Int
            if let e = index[key] { c = e } else { c = sizes.count; index[key] = c; sizes.append(0); values.append([]) }
            sizes[c] += 1
            if let sensitive { values[c].insert(r.fields[sensitive] ?? "?") }
            classOf.append(c)
        }
        let bad = sizes.indices.map { c in sizes[c] < k || (l.map { values[c].count < $0 } ?? false) }
        let flags = classOf.map { bad[$0] }
        return (flags, flags.filter { $0 }.count)
    }
}

/// The equivalence classes of a set of records over the quasi-identifiers.
public struct ClassStatistics: Sendable, Hashable, Codable {
    public var records: Int
    public var classes: Int
    public var smallestClass: Int
    /// Records alone in their class (unique on the quasi-identifiers).
    public var unique: Int
}

/// What ``KAnonymity/anonymise(_:)`` did.
public struct KAnonymityReport: Sendable, Hashable, Codable {
    public struct Level: Sendable, Hashable, Codable {
        public var attribute: String
        public var level: Int
        public var name: String
    }
    public var k: Int
    public var l: Int?
    public var sensitive: String?
    public var quasiIdentifiers: [String]
    public var before: ClassStatistics
    public var after: ClassStatistics
    public var suppressed: Int
    /// The most records the suppression limit allowed.
    public var maxSuppressed: Int
    public var levels: [Level]
    /// Mean normalised generalisation height over records and quasi-identifiers (0: none, 1: all `*`).
    public var informationLoss: Double
}

/// The released records and the report.
public struct KAnonymityResult: Sendable, Hashable {
    public var records: [ReleaseRecord]
    public var report: KAnonymityReport
    /// How many members the gate refused for the release (their consent or the policy), left out before
    /// anonymisation (``Release/make(bank:aggregate:key:anonymity:)``).
    public var refused: Int = 0
}
