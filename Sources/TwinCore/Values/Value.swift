/// A typed value: an attribute of a twin or the value of a thread event.
public enum Value: Sendable, Hashable, CustomStringConvertible {
    case quantity(Quantity)
    case concept(Concept)
    case text(String)
    case date(Instant)
    case vector(Vector)
    case boolean(Bool)

    /// The type name used in JSON (`quantity`, `concept`, `text`, `date`, `vector`, `boolean`).
    public var typeName: String {
        switch self {
        case .quantity: "quantity"
        case .concept: "concept"
        case .text: "text"
        case .date: "date"
        case .vector: "vector"
        case .boolean: "boolean"
        }
    }

    /// The quantity, if this is one.
    public var quantity: Quantity? { if case .quantity(let q) = self { q } else { nil } }
    /// The instant, if this is a date.
    public var date: Instant? { if case .date(let d) = self { d } else { nil } }

    public var description: String {
        switch self {
        case .quantity(let q): q.description
        case .concept(let c): c.description
        case .text(let s): s
        case .date(let d): d.iso8601
        case .vector(let v): v.description
        case .boolean(let b): b ? "true" : "false"
        }
    }

    /// Shortest text of a double that reads back to the same double (integers without `.0`).
    public static func format(_ v: Double) -> String {
        if v == v.rounded(), abs(v) < 1e15 { return String(Int64(v)) }
        return "\(v)"
    }

    /// Parses a command-line attribute value (the part after `KEY=`), choosing the type from its form:
    /// - `true` / `false` → boolean
    /// - an ISO 8601 date or date-time (`1980-04-02`) → date
    /// - a number with an optional UCUM unit (`72 kg`, `7.1 %`, `120`) → quantity
    /// - `[1,2,3] mV` → vector
    /// - `SYSTEM|CODE|DISPLAY` or `SYSTEM:CODE` with a known alias or URI system (`snomed:44054006`) → concept
    /// - anything else → text (`female`). Prefix `text:` to force text.
    /// - Throws: ``TwinError`` when the form is recognised but malformed (for example a bad unit in `72 kgg`
    ///   or an impossible date `2024-02-30`).
    public static func parse(_ text: String) throws -> Value {
        let t = text.trimmingSpaces
        if t.hasPrefix("text:") { return .text(String(t.dropFirst(5))) }
        if t == "true" { return .boolean(true) }
        if t == "false" { return .boolean(false) }
        let u = Array(t.utf8)
        func isDigit(_ c: UInt8) -> Bool { c >= 48 && c <= 57 }
        if u.count >= 10, u[0..<4].allSatisfy(isDigit), u[4] == 45, isDigit(u[5]), isDigit(u[6]), u[7] == 45 {
            return .date(try Instant(parsing: t))
        }
        if let first = u.first, isDigit(first) || ((first == 45 || first == 43 || first == 46) && u.count > 1 && (isDigit(u[1]) || u[1] == 46)) {
            return .quantity(try Quantity(parsing: t))
        }
        if u.first == 91 { // [
            guard let close = t.firstIndex(of: "]") else {
                throw TwinError(.invalidValue, "malformed vector '\(text)': expected [v1,v2,...] UNIT", value: text)
            }
            let inner = t[t.index(after: t.startIndex)..<close]
            var values: [Double] = []
            for part in inner.split(separator: ",", omittingEmptySubsequences: false) {
                guard let v = Double(part.trimmingSpaces), v.isFinite else {
                    throw TwinError(.invalidValue, "malformed vector '\(text)': '\(part)' is not a number", value: text)
                }
                values.append(v)
            }
            let unit = String(t[t.index(after: close)...]).trimmingSpaces
            let unitText = unit.isEmpty ? "1" : unit
            _ = try UCUMUnit(parsing: unitText)
            return .vector(Vector(values, unit: unitText))
        }
        if t.contains("|") { return .concept(try Concept(parsing: t)) }
        if let colon = t.firstIndex(of: ":"), !t.contains(" ") {
            let sys = String(t[..<colon])
            if CodeKey.system(forAlias: sys) != nil || t.hasPrefix("http://") || t.hasPrefix("https://") || t.hasPrefix("urn:") {
                return .concept(try Concept(parsing: t))
            }
        }
        return .text(t)
    }
}

extension Value: Codable {
    private enum Keys: String, CodingKey { case type, value, unit, system, code, display, values }

    /// JSON form: `{"type":"quantity","value":72,"unit":"kg"}`, `{"type":"concept","system":...,"code":...,"display":...}`,
    /// `{"type":"text","value":"female"}`, `{"type":"date","value":"1980-04-02T00:00:00Z"}`,
    /// `{"type":"vector","values":[...],"unit":"mV"}`, `{"type":"boolean","value":true}`.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: Keys.self)
        try c.encode(typeName, forKey: .type)
        switch self {
        case .quantity(let q): try c.encode(q.value, forKey: .value); try c.encode(q.unit, forKey: .unit)
        case .concept(let k):
            try c.encode(k.system, forKey: .system); try c.encode(k.code, forKey: .code)
            try c.encodeIfPresent(k.display, forKey: .display)
        case .text(let s): try c.encode(s, forKey: .value)
        case .date(let d): try c.encode(d, forKey: .value)
        case .vector(let v): try c.encode(v.values, forKey: .values); try c.encode(v.unit, forKey: .unit)
        case .boolean(let b): try c.encode(b, forKey: .value)
        }
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: Keys.self)
        let type = try c.decode(String.self, forKey: .type)
        switch type {
        case "quantity": self = .quantity(Quantity(try c.decode(Double.self, forKey: .value), try c.decode(String.self, forKey: .unit)))
        case "concept": self = .concept(Concept(system: try c.decode(String.self, forKey: .system), code: try c.decode(String.self, forKey: .code), display: try c.decodeIfPresent(String.self, forKey: .display)))
        case "text": self = .text(try c.decode(String.self, forKey: .value))
        case "date": self = .date(try c.decode(Instant.self, forKey: .value))
        case "vector": self = .vector(Vector(try c.decode([Double].self, forKey: .values), unit: try c.decode(String.self, forKey: .unit)))
        case "boolean": self = .boolean(try c.decode(Bool.self, forKey: .value))
        default: throw TwinError(.invalidValue, "unknown value type '\(type)'", value: type)
        }
    }
}
