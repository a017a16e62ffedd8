import Foundation

/// A parsed JSON value (numbers as `Double`), decoded strictly: `true` is never the number 1.
enum StrictJSONValue: Decodable, Sendable, Hashable {
    case null, bool(Bool), number(Double), string(String), array([StrictJSONValue]), object([String: StrictJSONValue])

    init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() { self = .null }
        else if let b = try? c.decode(Bool.self) { self = .bool(b) }
        else if let d = try? c.decode(Double.self) { self = .number(d) }
        else if let s = try? c.decode(String.self) { self = .string(s) }
        else if let a = try? c.decode([StrictJSONValue].self) { self = .array(a) }
        else { self = .object(try c.decode([String: StrictJSONValue].self)) }
    }

    /// The value as a person would write it in a message.
    var shown: String {
        switch self {
        case .null: return "null"
        case .bool(let b): return b ? "true" : "false"
        case .number(let d): return d == d.rounded() && abs(d) < 1e15 ? String(Int(d)) : String(d)
        case .string(let s): return "'\(s)'"
        case .array: return "an array"
        case .object: return "an object"
        }
    }
}

/// A JSON object read key by key for the documented input formats (marginals, outbreak scenarios): every
/// value is checked as it is read, and `finish()` refuses any key that was not read, so a misspelt key is an
/// error naming it instead of a silently ignored setting. Errors carry the given `code` and name the key's
/// path (`interventions[1].delay`) and the offending value.
struct StrictJSONObject {
    let fields: [String: StrictJSONValue]
    let path: String
    let code: PopulationError.Code
    let what: String
    private(set) var read: Set<String> = []

    init(_ value: StrictJSONValue, path: String, code: PopulationError.Code, what: String) throws(PopulationError) {
        guard case .object(let fields) = value else {
            throw PopulationError(code, "\(what): \(path.isEmpty ? "the top level" : "'\(path)'") must be a JSON object, got \(value.shown)",
                                  value: value.shown)
        }
        self.fields = fields
        self.path = path
        self.code = code
        self.what = what
    }

    /// Parses `data` as a JSON object.
    static func parse(_ data: Data, code: PopulationError.Code, what: String) throws(PopulationError) -> StrictJSONObject {
        let value: StrictJSONValue
        do { value = try JSONDecoder().decode(StrictJSONValue.self, from: data) } catch {
            throw PopulationError(code, "\(what): not valid JSON (\(error))",
                                  value: String(decoding: data.prefix(80), as: UTF8.self))
        }
        return try StrictJSONObject(value, path: "", code: code, what: what)
    }

    func keyPath(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    func fail(_ key: String, _ problem: String, _ value: StrictJSONValue) -> PopulationError {
        PopulationError(code, "\(what): '\(keyPath(key))' is \(value.shown); \(problem)", value: value.shown)
    }

    private mutating func raw(_ key: String) -> StrictJSONValue? {
        read.insert(key)
        guard let v = fields[key], v != .null else { return nil }
        return v
    }

    /// Whether the key is present with the value null (marks it read).
    mutating func isExplicitNull(_ key: String) -> Bool {
        read.insert(key)
        return fields[key] == .null
    }

    /// A number, or `fallback` when the key is absent; refused when outside `range`.
    mutating func double(_ key: String, _ fallback: Double, in range: ClosedRange<Double> = 0...Double.greatestFiniteMagnitude) throws(PopulationError) -> Double {
        guard let v = raw(key) else { return fallback }
        guard case .number(let d) = v else { throw fail(key, "it must be a number", v) }
        guard d.isFinite, range.contains(d) else {
            let hi = range.upperBound == .greatestFiniteMagnitude ? "" : StrictJSONValue.number(range.upperBound).shown
            throw fail(key, "it must be in \(StrictJSONValue.number(range.lowerBound).shown)...\(hi)", v)
        }
        return d
    }

    /// A whole number, or `fallback` when the key is absent; refused when outside `range` or fractional.
    mutating func int(_ key: String, _ fallback: Int, in range: ClosedRange<Int> = 0...Int(Int32.max)) throws(PopulationError) -> Int {
        let d = try double(key, Double(fallback), in: Double(range.lowerBound)...Double(range.upperBound))
        guard d == d.rounded() else { throw fail(key, "it must be a whole number", .number(d)) }
        return Int(d)
    }

    mutating func bool(_ key: String, _ fallback: Bool) throws(PopulationError) -> Bool {
        guard let v = raw(key) else { return fallback }
        guard case .bool(let b) = v else { throw fail(key, "it must be true or false", v) }
        return b
    }

    mutating func string(_ key: String) throws(PopulationError) -> String? {
        guard let v = raw(key) else { return nil }
        guard case .string(let s) = v else { throw fail(key, "it must be a string", v) }
        return s
    }

    mutating func object(_ key: String) throws(PopulationError) -> StrictJSONObject? {
        guard let v = raw(key) else { return nil }
        return try StrictJSONObject(v, path: keyPath(key), code: code, what: what)
    }

    /// The elements of an array (each with its path `key[i]`).
    mutating func array(_ key: String) throws(PopulationError) -> [(path: String, value: StrictJSONValue)]? {
        guard let v = raw(key) else { return nil }
        guard case .array(let a) = v else { throw fail(key, "it must be an array", v) }
        return a.enumerated().map { ("\(keyPath(key))[\($0.offset)]", $0.element) }
    }

    /// Refuses the first key (in sorted order) that was never read.
    func finish() throws(PopulationError) {
        if let unknown = fields.keys.sorted().first(where: { !read.contains($0) }) {
            let known = read.sorted().joined(separator: ", ")
            throw PopulationError(code, "\(what): unknown key '\(keyPath(unknown))' (known here: \(known))", value: unknown)
        }
    }
}
