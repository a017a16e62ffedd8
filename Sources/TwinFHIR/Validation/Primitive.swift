/// The R4 primitive types, with their JSON representation and lexical rules
/// (https://hl7.org/fhir/R4/datatypes.html#primitive).
public enum Primitive: String, Sendable, Hashable {
    case boolean, integer, integer64, positiveInt, unsignedInt, decimal
    case string, code, id, uri, url, canonical, oid, uuid, markdown, base64Binary, xhtml
    case date, dateTime, instant, time

    /// Checks one JSON value against this type. Returns nil if valid, or a description of what is wrong.
    public func check(_ value: JSONValue) -> String? {
        switch self {
        case .boolean:
            if case .bool = value { return nil }
            return "a boolean must be JSON true or false, found a \(value.kindName)"
        case .integer, .positiveInt, .unsignedInt:
            guard case .number(let t) = value else { return "an \(rawValue) must be a JSON number, found a \(value.kindName)" }
            guard let n = Int64(t), n >= Int64(Int32.min), n <= Int64(Int32.max) else {
                return "'\(t)' is not a 32-bit integer (\(rawValue))"
            }
            if self == .positiveInt && n < 1 { return "'\(t)' is not a positiveInt (>= 1)" }
            if self == .unsignedInt && n < 0 { return "'\(t)' is not an unsignedInt (>= 0)" }
            return nil
        case .decimal:
            if case .number = value { return nil }
            return "a decimal must be a JSON number, found a \(value.kindName)"
        case .integer64:
            if case .string(let s) = value, Int64(s) != nil { return nil }
            return "an integer64 must be a JSON string holding a 64-bit integer"
        default:
            guard case .string(let s) = value else { return "a \(rawValue) must be a JSON string, found a \(value.kindName)" }
            return checkString(s)
        }
    }

    func checkString(_ s: String) -> String? {
        if let r = s.utf8.withContiguousStorageIfAvailable({ checkBytes($0, s) }) { return r }
        let copy = Array(s.utf8)
        return copy.withUnsafeBufferPointer { checkBytes($0, s) }
    }

    func checkBytes(_ u: UnsafeBufferPointer<UInt8>, _ s: String) -> String? {
        if u.isEmpty { return "an empty string is not a valid \(rawValue) (FHIR primitives have a value or are absent)" }
        let ok: Bool
        switch self {
        case .string, .markdown:
            ok = !u.allSatisfy { $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 }
        case .code:
            // [^\s]+(\s[^\s]+)*: no leading, trailing or doubled whitespace
            ok = Self.isCode(u)
        case .id:
            ok = u.count <= 64 && u.allSatisfy { Self.isAlnum($0) || $0 == 0x2D || $0 == 0x2E }
        case .uri, .url, .canonical:
            ok = !u.contains { $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 }
        case .oid:
            ok = s.hasPrefix("urn:oid:") && Self.isOIDBody(Array(u.dropFirst(8)))
        case .uuid:
            ok = s.hasPrefix("urn:uuid:") && Self.isUUID(Array(u.dropFirst(9)))
        case .base64Binary:
            ok = u.allSatisfy { Self.isAlnum($0) || $0 == 0x2B || $0 == 0x2F || $0 == 0x3D || $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 }
        case .xhtml:
            ok = s.hasPrefix("<div") || s.hasPrefix("<xhtml:div") || s.hasPrefix("<html:div")
        case .date:
            ok = DateText.scanDate(u, 0).map { $0 == u.count } ?? false
        case .dateTime:
            ok = DateText.isDateTime(u)
        case .instant:
            ok = DateText.isInstant(u)
        case .time:
            ok = DateText.scanTime(u, 0).map { $0 == u.count } ?? false
        default:
            ok = true
        }
        return ok ? nil : "'\(s)' is not a valid \(rawValue)"
    }

    @inline(__always) static func isAlnum(_ b: UInt8) -> Bool {
        (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A)
    }
    @inline(__always) static func isSpace(_ b: UInt8) -> Bool { b == 0x20 || b == 0x0A || b == 0x0D || b == 0x09 }

    static func isCode(_ u: UnsafeBufferPointer<UInt8>) -> Bool {
        guard let f = u.first, let l = u.last, !isSpace(f), !isSpace(l) else { return false }
        var prevSpace = false
        for b in u {
            let sp = isSpace(b)
            if sp && prevSpace { return false }
            prevSpace = sp
        }
        return true
    }

    static func isOIDBody(_ u: [UInt8]) -> Bool {
        // [0-2](\.(0|[1-9][0-9]*))+
        guard u.count >= 3, u[0] >= 0x30, u[0] <= 0x32, u[1] == 0x2E else { return false }
        let arcs = u.dropFirst(2).split(separator: 0x2E, omittingEmptySubsequences: false)
        return arcs.allSatisfy { arc in
            !arc.isEmpty && arc.allSatisfy { $0 >= 0x30 && $0 <= 0x39 } && (arc.count == 1 || arc.first != 0x30)
        }
    }

    static func isUUID(_ u: [UInt8]) -> Bool {
        guard u.count == 36 else { return false }
        for (i, b) in u.enumerated() {
            if i == 8 || i == 13 || i == 18 || i == 23 { if b != 0x2D { return false } }
            else if !((b >= 0x30 && b <= 0x39) || (b >= 0x61 && b <= 0x66)) { return false }
        }
        return true
    }
}

/// Lexical scanners for FHIR date, dateTime, instant and time
/// (https://hl7.org/fhir/R4/datatypes.html#dateTime): partial dates allowed for date and dateTime; when a time is
/// given, hours, minutes and seconds and a time zone are required; an instant needs everything to the second.
enum DateText {
    typealias Bytes = UnsafeBufferPointer<UInt8>

    static func digits(_ u: Bytes, _ i: Int, _ n: Int) -> Int? {
        guard i + n <= u.count else { return nil }
        var v = 0
        for k in i..<(i + n) {
            let b = u[k]
            guard b >= 0x30 && b <= 0x39 else { return nil }
            v = v * 10 + Int(b - 0x30)
        }
        return v
    }

    /// Scans YYYY(-MM(-DD)?)? at i; returns the end index.
    static func scanDate(_ u: Bytes, _ i: Int) -> Int? {
        guard let y = digits(u, i, 4), y >= 1 else { return nil }
        var p = i + 4
        guard p < u.count, u[p] == 0x2D else { return p }
        guard let m = digits(u, p + 1, 2), m >= 1, m <= 12 else { return nil }
        p += 3
        guard p < u.count, u[p] == 0x2D else { return p }
        guard let d = digits(u, p + 1, 2), d >= 1, d <= daysIn(month: m, year: y) else { return nil }
        return p + 3
    }

    static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    /// Scans hh:mm:ss(.f+)? at i.
    static func scanTime(_ u: Bytes, _ i: Int) -> Int? {
        guard let h = digits(u, i, 2), h <= 23, i + 2 < u.count, u[i + 2] == 0x3A,
              let m = digits(u, i + 3, 2), m <= 59, i + 5 < u.count, u[i + 5] == 0x3A,
              let s = digits(u, i + 6, 2), s <= 60 else { return nil }
        var p = i + 8
        if p < u.count && u[p] == 0x2E {
            p += 1
            let f = p
            while p < u.count, u[p] >= 0x30, u[p] <= 0x39 { p += 1 }
            if p == f { return nil }
        }
        return p
    }

    /// Scans Z or (+|-)hh:mm at i.
    static func scanZone(_ u: Bytes, _ i: Int) -> Int? {
        guard i < u.count else { return nil }
        if u[i] == 0x5A { return i + 1 }
        guard u[i] == 0x2B || u[i] == 0x2D, let h = digits(u, i + 1, 2), h <= 14, i + 3 < u.count, u[i + 3] == 0x3A,
              let m = digits(u, i + 4, 2), m <= 59 else { return nil }
        return i + 6
    }

    static func isDateTime(_ u: Bytes) -> Bool {
        guard let d = scanDate(u, 0) else { return false }
        if d == u.count { return true }
        guard d == 10, u[d] == 0x54, let t = scanTime(u, d + 1), let z = scanZone(u, t) else { return false }
        return z == u.count
    }

    static func isInstant(_ u: Bytes) -> Bool {
        guard let d = scanDate(u, 0), d == 10, d < u.count, u[d] == 0x54, let t = scanTime(u, d + 1),
              let z = scanZone(u, t) else { return false }
        return z == u.count
    }
}
