/// One event of a twin's digital thread: something observed, done, predicted, recommended, alerted, annotated
/// or retracted, with when it happened (``effective``), when the bank learnt it (``recorded``), where it came
/// from (``source``) and what it was derived from (``provenance``).
///
/// Events are created by the bank from an ``EventDraft``: the bank assigns ``id`` (SHA-256 of the event's
/// canonical content), ``recorded`` (strictly increasing) and ``sequence`` (bank-wide, increasing).
public struct Event: Sendable, Hashable, Codable {
    /// Content hash of the event (twin, times, category, code, value, source, provenance).
    public var id: ContentHash
    public var twin: TwinID
    public var effective: EffectiveTime
    /// When the bank recorded the event.
    public var recorded: Instant
    /// Bank-wide sequence number; later events have larger numbers.
    public var sequence: Int64
    public var category: Category
    public var code: Concept
    /// The value; nil for events without one (and for erased events).
    public var value: Value?
    public var source: Source
    public var provenance: Provenance
    /// The sequence number of the retraction that removed this event from current views, if any.
    public var retractedAtSequence: Int64?
    /// Set when a privacy retraction purged this event's payload: the reason. ``value`` and provenance notes
    /// are then gone.
    public var erasure: String?

    public init(id: ContentHash, twin: TwinID, effective: EffectiveTime, recorded: Instant, sequence: Int64,
                category: Category, code: Concept, value: Value?, source: Source, provenance: Provenance = .init(),
                retractedAtSequence: Int64? = nil, erasure: String? = nil) {
        self.id = id; self.twin = twin; self.effective = effective; self.recorded = recorded
        self.sequence = sequence; self.category = category; self.code = code; self.value = value
        self.source = source; self.provenance = provenance
        self.retractedAtSequence = retractedAtSequence; self.erasure = erasure
    }

    /// Whether the payload was purged.
    public var isErased: Bool { erasure != nil }

    /// The draft this event was made from (without bank-assigned fields).
    public var draft: EventDraft {
        EventDraft(twin: twin, effective: effective, category: category, code: code, value: value, source: source, provenance: provenance)
    }
}

/// An event before the bank has recorded it: what a caller appends.
public struct EventDraft: Sendable, Hashable, Codable {
    public var twin: TwinID
    public var effective: EffectiveTime
    public var category: Event.Category
    public var code: Concept
    public var value: Value?
    public var source: Source
    public var provenance: Provenance

    public init(twin: TwinID, effective: EffectiveTime, category: Event.Category = .observation, code: Concept,
                value: Value?, source: Source, provenance: Provenance = .init()) {
        self.twin = twin; self.effective = effective; self.category = category; self.code = code
        self.value = value; self.source = source; self.provenance = provenance
    }

    /// An observation of a quantity at an instant.
    public static func observation(_ twin: TwinID, at time: Instant, code: Concept, _ quantity: Quantity, source: Source) -> EventDraft {
        EventDraft(twin: twin, effective: EffectiveTime(time), code: code, value: .quantity(quantity), source: source)
    }
}

/// When an event happened: an instant, or a period from `start` to `end` (inclusive).
public struct EffectiveTime: Sendable, Hashable, Codable, CustomStringConvertible {
    public var start: Instant
    public var end: Instant?

    public init(_ start: Instant, end: Instant? = nil) {
        self.start = start
        self.end = end
    }

    /// Parses an instant (`2024-01-01T07:45Z`) or a period `START/END`.
    /// - Throws: ``TwinError`` `invalidTime` naming the text (also when END is before START).
    public init(parsing text: String) throws {
        if let slash = text.firstIndex(of: "/") {
            let s = try Instant(parsing: String(text[..<slash]))
            let e = try Instant(parsing: String(text[text.index(after: slash)...]))
            guard e >= s else {
                throw TwinError(.invalidTime, "malformed period '\(text)': the end is before the start", value: text)
            }
            self.init(s, end: e)
        } else {
            self.init(try Instant(parsing: text))
        }
    }

    /// Parses an instant from UTF-8 bytes without making a string (the fast path of bulk imports): the same
    /// grammar as ``Instant/init(parsing:)``. Returns nil for anything else, a period included; the caller
    /// then parses the text with ``init(parsing:)``, which accepts periods and names the problem.
    public static func parseInstant(utf8 bytes: UnsafeBufferPointer<UInt8>) -> EffectiveTime? {
        Instant.parse(bytes).map { EffectiveTime($0) }
    }

    public var description: String {
        guard let end else { return start.iso8601 }
        return "\(start.iso8601)/\(end.iso8601)"
    }
}

extension Event {
    /// What an event is.
    public enum Category: String, Sendable, Hashable, Codable, CaseIterable, CustomStringConvertible {
        case observation, intervention, annotation, prediction, recommendation, alert, retraction

        /// Parses the command-line word (case-insensitive).
        /// - Throws: ``TwinError`` `invalidCategory` listing the valid categories.
        public init(parsing text: String) throws {
            guard let c = Category(rawValue: text.lowercased()) else {
                throw TwinError(.invalidCategory, "unknown event category '\(text)': valid categories are \(Category.allCases.map(\.rawValue).joined(separator: ", "))", value: text)
            }
            self = c
        }

        /// A small stable integer for compact storage (the order of `allCases`).
        public var index: Int {
            switch self {
            case .observation: 0
            case .intervention: 1
            case .annotation: 2
            case .prediction: 3
            case .recommendation: 4
            case .alert: 5
            case .retraction: 6
            }
        }
        public init?(index: Int) {
            switch index {
            case 0: self = .observation
            case 1: self = .intervention
            case 2: self = .annotation
            case 3: self = .prediction
            case 4: self = .recommendation
            case 5: self = .alert
            case 6: self = .retraction
            default: return nil
            }
        }
        public var description: String { rawValue }
    }
}

/// Where data came from: a kind and an identifier, written `KIND:ID` (`device:cgm-7`, `import:file.csv`,
/// `person:dr-x`, `record:ehr-42`, `model:uva-padova@1`, `bank:local`).
public struct Source: Sendable, Hashable, Comparable, Codable, CustomStringConvertible {
    public var kind: Kind
    public var id: String

    public enum Kind: String, Sendable, Hashable, Codable, CaseIterable {
        case device, record, `import`, person, model, bank

        /// A small stable integer for compact encodings (the order of `allCases`).
        public var index: Int {
            switch self {
            case .device: 0
            case .record: 1
            case .import: 2
            case .person: 3
            case .model: 4
            case .bank: 5
            }
        }
    }

    public init(_ kind: Kind, _ id: String) { self.kind = kind; self.id = id }

    /// Parses `KIND:ID`; the id is 1-256 visible characters without whitespace.
    /// - Throws: ``TwinError`` `invalidSource` naming the text and the valid kinds.
    public init(parsing text: String) throws {
        guard let colon = text.firstIndex(of: ":") else {
            throw TwinError(.invalidSource, "malformed source '\(text)': expected KIND:ID such as device:cgm-7 (kinds: \(Kind.allCases.map(\.rawValue).joined(separator: ", ")))", value: text)
        }
        guard let kind = Kind(rawValue: text[..<colon].lowercased()) else {
            throw TwinError(.invalidSource, "unknown source kind '\(text[..<colon])' in '\(text)': valid kinds are \(Kind.allCases.map(\.rawValue).joined(separator: ", "))", value: text)
        }
        let id = String(text[text.index(after: colon)...])
        guard !id.isEmpty, id.utf8.count <= 256, !id.contains(where: { $0.isWhitespace || $0.isNewline }) else {
            throw TwinError(.invalidSource, "malformed source '\(text)': the id after '\(kind.rawValue):' must be 1-256 characters without spaces", value: text)
        }
        self.init(kind, id)
    }

    public var description: String { "\(kind.rawValue):\(id)" }
    public static func < (a: Source, b: Source) -> Bool { a.description < b.description }

    public init(from decoder: any Decoder) throws { try self.init(parsing: decoder.singleValueContainer().decode(String.self)) }
    public func encode(to encoder: any Encoder) throws { var c = encoder.singleValueContainer(); try c.encode(description) }
}

/// What an event was derived from, so every prediction can be traced and reproduced.
public struct Provenance: Sendable, Hashable, Codable {
    /// Events this one was computed from.
    public var derivedFrom: [ContentHash]
    /// The model that produced it (`uva-padova`) and its version.
    public var model: String?
    public var modelVersion: String?
    /// Hash of the model parameters used.
    public var parametersHash: String?
    /// The random seed of the run.
    public var seed: UInt64?
    /// Free-form notes (purged by erasure).
    public var notes: String?
    /// When the system this event came from recorded it, for an imported event: a FHIR resource's own record
    /// time (`Observation.issued`, `Condition.recordedDate`, ..., else `meta.lastUpdated`), or, for an event
    /// imported from another bank's export, that bank's ``Event/recorded`` time (kept as it travels on: the
    /// first system's time). nil for an event first recorded by this bank.
    ///
    /// Metadata about when, not content: like ``Event/recorded`` it is not part of the event's content hash
    /// (``hasContent``), so the same record imported from two sources, or a bank export imported elsewhere,
    /// keeps its id; it is not purged by erasure. The bank's own known-at axis stays ``Event/recorded`` (when
    /// this bank learnt it); ``Event/sourceRecordedTime`` reads this time.
    public var sourceRecorded: Instant?

    public init(derivedFrom: [ContentHash] = [], model: String? = nil, modelVersion: String? = nil,
                parametersHash: String? = nil, seed: UInt64? = nil, notes: String? = nil, sourceRecorded: Instant? = nil) {
        self.derivedFrom = derivedFrom; self.model = model; self.modelVersion = modelVersion
        self.parametersHash = parametersHash; self.seed = seed; self.notes = notes
        self.sourceRecorded = sourceRecorded
    }

    /// Whether nothing is recorded (``sourceRecorded`` included).
    public var isEmpty: Bool { !hasContent && sourceRecorded == nil }

    /// Whether anything that is part of the event's content (and so of its content hash) is recorded: everything
    /// but ``sourceRecorded``.
    public var hasContent: Bool {
        !(derivedFrom.isEmpty && model == nil && modelVersion == nil && parametersHash == nil && seed == nil && notes == nil)
    }
}

extension Event {
    /// The time this event was first recorded anywhere: ``Provenance/sourceRecorded`` for an imported event
    /// that carries it, else this bank's ``recorded`` time. What ``ThreadQuery`` source-recorded ranges filter on.
    public var sourceRecordedTime: Instant { provenance.sourceRecorded ?? recorded }
}
