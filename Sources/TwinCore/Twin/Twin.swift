/// The definition of a digital twin: what it stands for (``Kind``), its typed attributes, its parts, the
/// template it was made from, its data sources and bound models. Its thread (the events over time) lives in
/// the bank, not here.
///
/// A twin with ``templateVersion`` set is a **reference twin** (template, proto-twin); a twin made from one
/// records it in ``template``. Attributes are kept in a dictionary and always encoded in sorted key order,
/// so equal twins have equal canonical encodings.
public struct Twin: Sendable, Hashable, Codable {
    public var id: TwinID
    public var kind: Kind
    /// Typed attributes (`sex`, `birthDate`, `weight` ...).
    public var attributes: [String: Value]
    /// For composite twins: the twins this one is made of, each with a role.
    public var parts: [Part]
    /// The template version this twin was instantiated from.
    public var template: TemplateReference?
    /// Set when this twin *is* a template: its version number (1, 2, ...).
    public var templateVersion: Int?
    /// Data sources feeding this twin and their cadence (the twin's "level" of real-time updating).
    public var dataSources: [DataSourceBinding]
    /// Models bound to this twin and their validation status.
    public var models: [ModelBinding]
    /// When the real entity began to exist (e.g. birth). If nil, the `birthDate` attribute is used when it is
    /// a date. Effective times and fork points before it are rejected.
    public var origin: Instant?

    public init(id: TwinID, kind: Kind, attributes: [String: Value] = [:], parts: [Part] = [],
                template: TemplateReference? = nil, templateVersion: Int? = nil,
                dataSources: [DataSourceBinding] = [], models: [ModelBinding] = [], origin: Instant? = nil) {
        self.id = id; self.kind = kind; self.attributes = attributes; self.parts = parts
        self.template = template; self.templateVersion = templateVersion
        self.dataSources = dataSources; self.models = models; self.origin = origin
    }

    /// Whether this twin is a reference twin (template).
    public var isTemplate: Bool { templateVersion != nil }

    /// When the entity began: ``origin``, else the `birthDate` attribute if it is a date, else nil (unknown).
    public var existenceStart: Instant? {
        if let origin { return origin }
        if case .date(let d)? = attributes["birthDate"] { return d }
        return nil
    }

    /// Attribute keys in canonical (sorted) order.
    public var sortedAttributeKeys: [String] { attributes.keys.sorted() }

    /// A part of a composite twin.
    public struct Part: Sendable, Hashable, Codable, CustomStringConvertible {
        public var role: String
        public var twin: TwinID
        public init(role: String, twin: TwinID) { self.role = role; self.twin = twin }

        /// Parses the command-line form `ROLE=ID` (`liver=alice-liver`).
        /// - Throws: ``TwinError`` `invalidValue` or `invalidIdentifier` naming the text.
        public init(parsing text: String) throws {
            guard let eq = text.firstIndex(of: "="), eq != text.startIndex else {
                throw TwinError(.invalidValue, "malformed part '\(text)': expected ROLE=ID such as liver=alice-liver", value: text)
            }
            let role = String(text[..<eq]).trimmingSpaces
            guard !role.contains(where: { $0.isWhitespace }) else {
                throw TwinError(.invalidValue, "malformed part '\(text)': the role must not contain spaces", value: text)
            }
            self.init(role: role, twin: try TwinID(String(text[text.index(after: eq)...]).trimmingSpaces))
        }
        public var description: String { "\(role)=\(twin)" }
    }

    /// A reference to a version of a template (reference twin).
    public struct TemplateReference: Sendable, Hashable, Codable, CustomStringConvertible {
        public var id: TwinID
        public var version: Int
        public init(id: TwinID, version: Int) { self.id = id; self.version = version }

        /// Parses `ID@VERSION` (`adult-female@2`); `ID` alone means "the latest version" and gives version 0,
        /// which the bank resolves.
        /// - Throws: ``TwinError`` naming the text.
        public init(parsing text: String) throws {
            if let at = text.lastIndex(of: "@") {
                let v = text[text.index(after: at)...]
                guard let n = Int(v), n >= 1 else {
                    throw TwinError(.invalidValue, "malformed template reference '\(text)': expected ID@VERSION with VERSION a positive integer", value: text)
                }
                self.init(id: try TwinID(String(text[..<at])), version: n)
            } else {
                self.init(id: try TwinID(text), version: 0)
            }
        }
        public var description: String { "\(id)@\(version)" }
    }

    /// A data source feeding a twin: its source (`device:cgm-7`) and cadence (`5min`, `daily`, `on-visit`).
    public struct DataSourceBinding: Sendable, Hashable, Codable {
        public var source: String
        public var cadence: String?
        public init(source: String, cadence: String? = nil) { self.source = source; self.cadence = cadence }
    }

    /// A model bound to a twin (`uva-padova@1`) and its validation status (`validated`, `calibrating` ...).
    ///
    /// ``specification`` holds, when set, how the twin's thread feeds the model as a JSON document (TwinSync's
    /// `ThreadBinding`); TwinCore keeps it as text and does not interpret it. It is encoded only when set, so a
    /// binding without one encodes (and hashes) as before.
    public struct ModelBinding: Sendable, Hashable, Codable {
        public var model: String
        public var version: String?
        public var validation: String?
        /// The thread binding's JSON (TwinSync's `ThreadBinding`), when the binding was attached as data.
        public var specification: String?
        public init(model: String, version: String? = nil, validation: String? = nil) {
            self.model = model; self.version = version; self.validation = validation
        }
        /// A binding with its thread binding's JSON.
        public init(model: String, version: String?, validation: String?, specification: String?) {
            self.model = model; self.version = version; self.validation = validation; self.specification = specification
        }
    }

    /// Parses command-line attributes `KEY=VALUE` (see ``Value/parse(_:)``) into a dictionary.
    /// - Throws: ``TwinError`` naming the malformed item or a duplicate key.
    public static func parseAttributes(_ items: [String]) throws -> [String: Value] {
        var out: [String: Value] = [:]
        for item in items {
            guard let eq = item.firstIndex(of: "="), eq != item.startIndex else {
                throw TwinError(.invalidValue, "malformed attribute '\(item)': expected KEY=VALUE such as sex=female or weight=72 kg", value: item)
            }
            let key = String(item[..<eq]).trimmingSpaces
            guard !key.isEmpty, !key.contains(where: { $0.isWhitespace || $0 == "=" }) else {
                throw TwinError(.invalidValue, "malformed attribute key in '\(item)'", value: item)
            }
            guard out[key] == nil else {
                throw TwinError(.invalidValue, "attribute '\(key)' is given twice", value: item)
            }
            out[key] = try Value.parse(String(item[item.index(after: eq)...]))
        }
        return out
    }

    // Canonical Codable: attributes as a sorted array of {key, value} so JSON output is stable.
    private enum Keys: String, CodingKey { case id, kind, attributes, parts, template, templateVersion, dataSources, models, origin }
    private struct Attribute: Codable { var key: String; var value: Value }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: Keys.self)
        try c.encode(id, forKey: .id)
        try c.encode(kind, forKey: .kind)
        try c.encode(sortedAttributeKeys.map { Attribute(key: $0, value: attributes[$0]!) }, forKey: .attributes)
        try c.encode(parts, forKey: .parts)
        try c.encodeIfPresent(template, forKey: .template)
        try c.encodeIfPresent(templateVersion, forKey: .templateVersion)
        try c.encode(dataSources, forKey: .dataSources)
        try c.encode(models, forKey: .models)
        try c.encodeIfPresent(origin, forKey: .origin)
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: Keys.self)
        id = try c.decode(TwinID.self, forKey: .id)
        kind = try c.decode(Kind.self, forKey: .kind)
        let attrs = try c.decodeIfPresent([Attribute].self, forKey: .attributes) ?? []
        attributes = Dictionary(attrs.map { ($0.key, $0.value) }, uniquingKeysWith: { _, b in b })
        parts = try c.decodeIfPresent([Part].self, forKey: .parts) ?? []
        template = try c.decodeIfPresent(TemplateReference.self, forKey: .template)
        templateVersion = try c.decodeIfPresent(Int.self, forKey: .templateVersion)
        dataSources = try c.decodeIfPresent([DataSourceBinding].self, forKey: .dataSources) ?? []
        models = try c.decodeIfPresent([ModelBinding].self, forKey: .models) ?? []
        origin = try c.decodeIfPresent(Instant.self, forKey: .origin)
    }
}
