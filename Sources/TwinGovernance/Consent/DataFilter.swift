import TwinCore

/// Which data a consent rule or a filter is about, by code.
public enum DataSelector: Sendable, Hashable, Codable, CustomStringConvertible {
    /// Exactly one code.
    case code(CodeKey)
    /// Every code of one code system (`http://loinc.org`).
    case system(String)
    /// A code and every code it subsumes in the classifier's ``TwinCore/CodeHierarchy`` (ICD-10 and ATC by
    /// prefix, the built-in SNOMED CT is-a relationships: a rule on diabetes mellitus covers type 2 diabetes).
    case descendants(CodeKey)
    /// A category of the bank's tree and everything below it (see ``DataCategory``).
    case category(DataCategory)

    /// Whether the event is selected.
    public func selects(_ event: Event, _ classifier: DataClassifier = .standard) -> Bool {
        switch self {
        case .code(let k): event.code.key == k
        case .system(let s): event.code.system == s
        case .descendants(let k): classifier.hierarchy.subsumes(k, event.code.key)
        case .category(let c): event.isWithin(c, classifier)
        }
    }

    public var description: String {
        switch self {
        case .code(let k): "code \(k)"
        case .system(let s): "code system \(s)"
        case .descendants(let k): "code \(k) and below"
        case .category(let c): "category \(c)"
        }
    }
}

/// A period of the data (by an event's effective start): `from` inclusive, `to` exclusive; either may be open.
public struct DataPeriod: Sendable, Hashable, Codable, CustomStringConvertible {
    public var from: Instant?
    public var to: Instant?
    public init(from: Instant? = nil, to: Instant? = nil) { self.from = from; self.to = to }

    /// Whether an instant lies in the period.
    public func contains(_ t: Instant) -> Bool {
        if let from, t < from { return false }
        if let to, t >= to { return false }
        return true
    }
    public var description: String { "\(from?.iso8601 ?? "…") to \(to?.iso8601 ?? "…")" }
}

/// A part of a twin's data: the events selected by any of ``selectors`` (all events if empty) whose effective
/// start lies in ``period`` (any time if nil).
public struct DataScope: Sendable, Hashable, Codable, CustomStringConvertible {
    public var selectors: [DataSelector]
    public var period: DataPeriod?
    public init(selectors: [DataSelector] = [], period: DataPeriod? = nil) { self.selectors = selectors; self.period = period }

    /// The whole of the data.
    public static let everything = DataScope()
    /// Whether the scope is the whole of the data.
    public var isEverything: Bool { selectors.isEmpty && period == nil }

    public func contains(_ event: Event, _ classifier: DataClassifier = .standard) -> Bool {
        if let period, !period.contains(event.effective.start) { return false }
        return selectors.isEmpty || selectors.contains { $0.selects(event, classifier) }
    }

    public var description: String {
        let what = selectors.isEmpty ? "all data" : selectors.map(\.description).joined(separator: " or ")
        return period.map { "\(what) from \($0)" } ?? what
    }
}

/// What a permitted request may see of a twin's data: the events in any of ``include`` (every event if nil) and
/// in none of ``exclude``. A decision's filter; the reader applies it to the events it would return
/// (``apply(to:)``), so a denied category or period never leaves the bank.
public struct DataFilter: Sendable, Hashable, Codable, CustomStringConvertible {
    /// The scopes the request may see (nil: everything).
    public var include: [DataScope]?
    /// The scopes it may not see, whatever ``include`` says (deny overrides permit).
    public var exclude: [DataScope]
    /// How events are placed in categories.
    public var classifier: DataClassifier { .standard }

    public init(include: [DataScope]? = nil, exclude: [DataScope] = []) {
        self.include = include; self.exclude = exclude
    }

    /// No restriction.
    public static let unrestricted = DataFilter()
    /// Whether the filter lets every event through.
    public var isUnrestricted: Bool { include == nil && exclude.isEmpty }

    /// Whether one event may be seen.
    public func admits(_ event: Event) -> Bool {
        if let include, !include.contains(where: { $0.contains(event, classifier) }) { return false }
        return !exclude.contains { $0.contains(event, classifier) }
    }

    /// The events that may be seen, in their order.
    public func apply(to events: [Event]) -> [Event] {
        isUnrestricted ? events : events.filter(admits)
    }

    public var description: String {
        if isUnrestricted { return "all data" }
        var parts: [String] = []
        if let include { parts.append("only " + (include.isEmpty ? "nothing" : include.map(\.description).joined(separator: "; "))) }
        if !exclude.isEmpty { parts.append("except " + exclude.map(\.description).joined(separator: "; ")) }
        return parts.joined(separator: ", ")
    }
}
