import Foundation
import TwinCore

/// Reads stored twin records (the canonical JSON of ``TwinRecord``, see ``ObjectCodec``) for a query, straight
/// from their bytes: the twin's id, kind and template version, its fork and creation time, and of its attributes
/// only those asked for (all of them when `attributes` is nil). Parts, template, data sources, models and origin
/// are not read (a query never compares them).
///
/// It gives what Foundation's `JSONDecoder` gives for ``QueryRecord`` (and, with every attribute, for the same
/// fields of ``TwinRecord``), without its cost: decoding 100,000 records was half of an aggregate query's time.
/// It reads only the plain form the bank's encoder writes (any key order and whitespace are fine); for
/// anything else (an escaped key, a duplicate key, a number or text it does not read exactly as `JSONDecoder`
/// would, malformed JSON) ``read(_:)`` returns nil and the caller decodes that record with `JSONDecoder`, which
/// gives the reference answer or error.
struct TwinRecordReader {
    /// The attribute names to keep (nil: all).
    let attributes: Set<String>?
    /// The UTF-8 bytes of the names to keep, when all are ASCII (the bytes of an ASCII key are then compared
    /// directly; otherwise names are compared as `String`s, with Unicode's canonical equivalence).
    private let asciiNames: [[UInt8]]?

    init(attributes: Set<String>?) {
        self.attributes = attributes
        if let attributes, attributes.allSatisfy({ $0.utf8.allSatisfy { $0 < 0x80 } }) {
            asciiNames = attributes.map { Array($0.utf8) }
        } else {
            asciiNames = nil
        }
    }

    /// The record, or nil when the bytes are not in the form this reader reads (decode them with `JSONDecoder`).
    func read(_ bytes: [UInt8]) -> TwinRecord? {
        bytes.withUnsafeBufferPointer { buffer in
            var s = JSONScanner(buffer)
            guard let record = record(&s) else { return nil }
            s.skipSpace()
            return s.atEnd ? record : nil
        }
    }

    private func record(_ s: inout JSONScanner) -> TwinRecord? {
        var created: Instant?, fork: ForkInfo??, twin: Twin?
        guard s.beginObject() else { return nil }
        var first = true
        while let k = s.nextKey(&first) {
            if s.keyIs(k, "created") {
                guard created == nil, let text = s.string(), let t = try? Instant(parsing: text) else { return nil }
                created = t
            } else if s.keyIs(k, "fork") {
                guard fork == nil else { return nil }
                if s.null() { fork = .some(nil) } else {
                    guard let f = forkInfo(&s) else { return nil }
                    fork = .some(f)
                }
            } else if s.keyIs(k, "twin") {
                guard twin == nil, let t = self.twin(&s) else { return nil }
                twin = t
            } else {
                guard s.skipValue() else { return nil }
            }
        }
        guard !s.failed, let created, let twin else { return nil }
        return TwinRecord(twin: twin, fork: fork ?? nil, created: created)
    }

    private func forkInfo(_ s: inout JSONScanner) -> ForkInfo? {
        var parent: TwinID?, sequence: Int64?, point: Instant?
        guard s.beginObject() else { return nil }
        var first = true
        while let k = s.nextKey(&first) {
            if s.keyIs(k, "parent") {
                guard parent == nil, let text = s.string(), let id = try? TwinID(text) else { return nil }
                parent = id
            } else if s.keyIs(k, "parentSequence") {
                guard sequence == nil, let n = s.integer() else { return nil }
                sequence = n
            } else if s.keyIs(k, "forkPoint") {
                guard point == nil, let text = s.string(), let t = try? Instant(parsing: text) else { return nil }
                point = t
            } else {
                guard s.skipValue() else { return nil }
            }
        }
        guard !s.failed, let parent, let sequence, let point else { return nil }
        return ForkInfo(parent: parent, parentSequence: sequence, forkPoint: point)
    }

    private func twin(_ s: inout JSONScanner) -> Twin? {
        var id: TwinID?, kind: Twin.Kind?, version: Int??, attributes: [String: Value]?
        guard s.beginObject() else { return nil }
        var first = true
        while let k = s.nextKey(&first) {
            if s.keyIs(k, "id") {
                guard id == nil, let text = s.string(), let t = try? TwinID(text) else { return nil }
                id = t
            } else if s.keyIs(k, "kind") {
                guard kind == nil, let text = s.string(), let t = Twin.Kind(rawValue: text) else { return nil }
                kind = t
            } else if s.keyIs(k, "templateVersion") {
                guard version == nil else { return nil }
                if s.null() { version = .some(nil) } else {
                    guard let n = s.integer(), let v = Int(exactly: n) else { return nil }
                    version = .some(v)
                }
            } else if s.keyIs(k, "attributes") {
                guard attributes == nil else { return nil }
                if self.attributes?.isEmpty == true {
                    guard s.skipValue() else { return nil }
                    attributes = [:]
                } else if s.null() {
                    attributes = [:]
                } else {
                    guard let a = attributeList(&s) else { return nil }
                    attributes = a
                }
            } else {
                guard s.skipValue() else { return nil }
            }
        }
        guard !s.failed, let id, let kind else { return nil }
        var twin = Twin(id: id, kind: kind, attributes: attributes ?? [:])
        twin.templateVersion = version ?? nil
        return twin
    }

    /// `[{"key": K, "value": V}, ...]`, the last of a key winning; only the wanted keys' values are read.
    private func attributeList(_ s: inout JSONScanner) -> [String: Value]? {
        var out: [String: Value] = [:]
        guard s.beginArray() else { return nil }
        var first = true
        while s.nextElement(&first) {
            guard s.beginObject() else { return nil }
            var name: String?, wanted = false, valueAt: Int?
            var inner = true
            while let k = s.nextKey(&inner) {
                if s.keyIs(k, "key") {
                    guard name == nil, let r = s.stringRange() else { return nil }
                    guard let n = keep(r, s) else { return nil }
                    name = n.name; wanted = n.wanted
                } else if s.keyIs(k, "value") {
                    guard valueAt == nil else { return nil }
                    valueAt = s.position
                    guard s.skipValue() else { return nil }
                } else {
                    guard s.skipValue() else { return nil }
                }
            }
            guard !s.failed, let name else { return nil }
            guard wanted else { continue }
            guard let valueAt else { return nil }
            let end = s.position
            s.position = valueAt
            guard let v = value(&s) else { return nil }
            s.position = end
            out[name] = v
        }
        return s.failed ? nil : out
    }

    /// The attribute name of a `key` string, and whether it is wanted.
    private func keep(_ r: JSONScanner.StringRange, _ s: JSONScanner) -> (name: String, wanted: Bool)? {
        guard let attributes else {
            guard let name = s.text(of: r) else { return nil }
            return (name, true)
        }
        if let asciiNames, r.plainASCII {
            for n in asciiNames where s.bytesEqual(r.range, n) { return (String(decoding: n, as: UTF8.self), true) }
            return ("", false)
        }
        guard let name = s.text(of: r) else { return nil }
        return attributes.contains(name) ? (name, true) : ("", false)
    }

    /// A ``TwinCore/Value`` object, read as its `init(from:)` reads it.
    private func value(_ s: inout JSONScanner) -> Value? {
        var type: String?, value: Int?, unit: Int?, system: Int?, code: Int?, display: Int?, values: Int?
        guard s.beginObject() else { return nil }
        var first = true
        while let k = s.nextKey(&first) {
            // remember where each field's value is; read them once the type is known
            func mark(_ field: inout Int?) -> Bool {
                guard field == nil else { return false }
                field = s.position
                return s.skipValue()
            }
            let ok: Bool
            if s.keyIs(k, "type") {
                guard type == nil, let t = s.string() else { return nil }
                type = t; ok = true
            } else if s.keyIs(k, "value") { ok = mark(&value) }
            else if s.keyIs(k, "unit") { ok = mark(&unit) }
            else if s.keyIs(k, "system") { ok = mark(&system) }
            else if s.keyIs(k, "code") { ok = mark(&code) }
            else if s.keyIs(k, "display") { ok = mark(&display) }
            else if s.keyIs(k, "values") { ok = mark(&values) }
            else { ok = s.skipValue() }
            guard ok else { return nil }
        }
        guard !s.failed, let type else { return nil }
        let end = s.position
        defer { s.position = end }
        func string(_ at: Int?) -> String? {
            guard let at else { return nil }
            s.position = at
            return s.string()
        }
        func optionalString(_ at: Int?) -> String?? {
            guard let at else { return .some(nil) }
            s.position = at
            if s.null() { return .some(nil) }
            return s.string().map { .some($0) }
        }
        switch type {
        case "quantity":
            guard let at = value else { return nil }
            s.position = at
            guard let x = s.double(), let u = string(unit) else { return nil }
            return .quantity(Quantity(x, u))
        case "concept":
            guard let sys = string(system), let c = string(code), let d = optionalString(display) else { return nil }
            return .concept(Concept(system: sys, code: c, display: d))
        case "text":
            return string(value).map { .text($0) }
        case "date":
            guard let text = string(value), let t = try? Instant(parsing: text) else { return nil }
            return .date(t)
        case "vector":
            guard let at = values else { return nil }
            s.position = at
            var xs: [Double] = []
            guard s.beginArray() else { return nil }
            var first = true
            while s.nextElement(&first) {
                guard let x = s.double() else { return nil }
                xs.append(x)
            }
            guard !s.failed, let u = string(unit) else { return nil }
            return .vector(Vector(xs, unit: u))
        case "boolean":
            guard let at = value else { return nil }
            s.position = at
            return s.bool().map { .boolean($0) }
        default:
            return nil
        }
    }
}

/// A strict, allocation-light JSON scanner over UTF-8 bytes (RFC 8259): it reads values in place, skips those
/// not wanted (still checking them), and gives up (nil, or `failed`) on anything it does not read exactly as
/// Foundation's `JSONDecoder` does.
struct JSONScanner {
    let b: UnsafeBufferPointer<UInt8>
    var position = 0
    var failed = false
    private var depth = 0

    init(_ b: UnsafeBufferPointer<UInt8>) { self.b = b }

    var atEnd: Bool { position == b.count }

    @inline(__always) mutating func skipSpace() {
        while position < b.count {
            let c = b[position]
            guard c == 0x20 || c == 0x0A || c == 0x0D || c == 0x09 else { return }
            position += 1
        }
    }

    @inline(__always) private mutating func eat(_ c: UInt8) -> Bool {
        skipSpace()
        guard position < b.count, b[position] == c else { return false }
        position += 1
        return true
    }

    // MARK: Objects and arrays

    mutating func beginObject() -> Bool { eat(0x7B) }
    mutating func beginArray() -> Bool { eat(0x5B) }

    /// The next member's key (its bytes' range, between the quotes) with the `:` consumed, or nil at the
    /// closing `}` (consumed) or on malformed input (then ``failed`` is set). Keys with escapes are not read.
    mutating func nextKey(_ first: inout Bool) -> Range<Int>? {
        guard separator(&first, close: 0x7D) else { return nil }
        guard let r = stringRange(), !r.escaped, r.plainASCII || text(of: r) != nil else { failed = true; return nil }
        guard eat(0x3A) else { failed = true; return nil }
        return r.range
    }

    /// Whether there is a next array element (positioned at it), or false at the closing `]` (consumed) or on
    /// malformed input (then ``failed`` is set).
    mutating func nextElement(_ first: inout Bool) -> Bool {
        guard separator(&first, close: 0x5D) else { return false }
        skipSpace()
        return true
    }

    private mutating func separator(_ first: inout Bool, close: UInt8) -> Bool {
        skipSpace()
        guard position < b.count else { failed = true; return false }
        if b[position] == close { position += 1; return false }
        if first { first = false; return true }
        guard b[position] == 0x2C else { failed = true; return false }
        position += 1
        return true
    }

    /// Whether a key's bytes are those of `name` (a literal: no global array to fetch and retain per key).
    func keyIs(_ r: Range<Int>, _ name: StaticString) -> Bool {
        guard r.count == name.utf8CodeUnitCount else { return false }
        let p = name.utf8Start
        var i = r.lowerBound, k = 0
        while i < r.upperBound {
            guard b[i] == p[k] else { return false }
            i += 1; k += 1
        }
        return true
    }

    func bytesEqual(_ r: Range<Int>, _ name: [UInt8]) -> Bool {
        guard r.count == name.count else { return false }
        var i = r.lowerBound
        for c in name {
            guard b[i] == c else { return false }
            i += 1
        }
        return true
    }

    // MARK: Scalars

    /// A string's bytes between its quotes, checked (escapes well-formed, no raw control characters), with
    /// whether it has escapes and whether it is plain ASCII.
    struct StringRange { var range: Range<Int>; var escaped: Bool; var plainASCII: Bool }

    mutating func stringRange() -> StringRange? {
        guard eat(0x22) else { return nil }
        let start = position
        var escaped = false, ascii = true
        while position < b.count {
            let c = b[position]
            if c == 0x22 {
                let r = StringRange(range: start..<position, escaped: escaped, plainASCII: ascii && !escaped)
                position += 1
                return r
            }
            if c < 0x20 { return nil }
            if c >= 0x80 { ascii = false }
            if c == 0x5C {
                escaped = true
                position += 1
                guard position < b.count else { return nil }
                switch b[position] {
                case 0x22, 0x5C, 0x2F, 0x62, 0x66, 0x6E, 0x72, 0x74: break
                case 0x75:
                    guard position + 4 < b.count else { return nil }
                    for k in 1...4 where JSONScanner.hex(b[position + k]) == nil { return nil }
                    position += 4
                default: return nil
                }
            }
            position += 1
        }
        return nil
    }

    /// The text of a checked string (escapes resolved); nil for invalid UTF-8 or a lone surrogate escape.
    func text(of r: StringRange) -> String? {
        let raw = UnsafeBufferPointer(rebasing: b[r.range])
        if r.plainASCII { return String(decoding: raw, as: UTF8.self) }
        if !r.escaped { return String(validating: raw, as: UTF8.self) }
        var out: [UInt8] = []
        out.reserveCapacity(raw.count)
        var i = 0
        while i < raw.count {
            let c = raw[i]
            guard c == 0x5C else { out.append(c); i += 1; continue }
            let e = raw[i + 1]
            i += 2
            switch e {
            case 0x62: out.append(0x08)
            case 0x66: out.append(0x0C)
            case 0x6E: out.append(0x0A)
            case 0x72: out.append(0x0D)
            case 0x74: out.append(0x09)
            case 0x75:
                var scalar = JSONScanner.hex4(raw, i)
                i += 4
                if scalar >= 0xD800 && scalar < 0xDC00 {
                    // a high surrogate must be followed by an escaped low one
                    guard i + 6 <= raw.count, raw[i] == 0x5C, raw[i + 1] == 0x75 else { return nil }
                    let low = JSONScanner.hex4(raw, i + 2)
                    guard low >= 0xDC00 && low < 0xE000 else { return nil }
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                    i += 6
                } else if scalar >= 0xDC00 && scalar < 0xE000 {
                    return nil
                }
                guard let u = Unicode.Scalar(scalar) else { return nil }
                out.append(contentsOf: UTF8.encode(u)!)
            default: out.append(e) // " \ /
            }
        }
        return String(validating: out, as: UTF8.self)
    }

    mutating func string() -> String? {
        guard let r = stringRange() else { return nil }
        return text(of: r)
    }

    /// `null` (consumed), else false with nothing consumed but spaces.
    mutating func null() -> Bool {
        skipSpace()
        guard position + 4 <= b.count, b[position] == 0x6E, b[position + 1] == 0x75, b[position + 2] == 0x6C, b[position + 3] == 0x6C else { return false }
        position += 4
        return true
    }

    mutating func bool() -> Bool? {
        skipSpace()
        if position + 4 <= b.count, b[position] == 0x74, b[position + 1] == 0x72, b[position + 2] == 0x75, b[position + 3] == 0x65 {
            position += 4; return true
        }
        if position + 5 <= b.count, b[position] == 0x66, b[position + 1] == 0x61, b[position + 2] == 0x6C, b[position + 3] == 0x73, b[position + 4] == 0x65 {
            position += 5; return false
        }
        return nil
    }

    /// A number's bytes, checked against JSON's grammar, and whether it is an integer (no fraction, no exponent).
    private mutating func numberRange() -> (range: Range<Int>, integer: Bool)? {
        skipSpace()
        let start = position
        func digits() -> Int {
            let s = position
            while position < b.count, b[position] >= 0x30, b[position] <= 0x39 { position += 1 }
            return position - s
        }
        if position < b.count, b[position] == 0x2D { position += 1 }
        guard position < b.count else { return nil }
        if b[position] == 0x30 { position += 1 } else { guard digits() > 0 else { return nil } }
        var integer = true
        if position < b.count, b[position] == 0x2E {
            position += 1
            integer = false
            guard digits() > 0 else { return nil }
        }
        if position < b.count, b[position] == 0x65 || b[position] == 0x45 {
            position += 1
            integer = false
            if position < b.count, b[position] == 0x2B || b[position] == 0x2D { position += 1 }
            guard digits() > 0 else { return nil }
        }
        return (start..<position, integer)
    }

    /// A JSON integer that fits an `Int64` (no fraction or exponent: those are left to `JSONDecoder`).
    mutating func integer() -> Int64? {
        guard let (r, integer) = numberRange(), integer else { return nil }
        var i = r.lowerBound
        let negative = b[i] == 0x2D
        if negative { i += 1 }
        var magnitude: UInt64 = 0
        while i < r.upperBound {
            let (times10, o1) = magnitude.multipliedReportingOverflow(by: 10)
            let (sum, o2) = times10.addingReportingOverflow(UInt64(b[i] - 0x30))
            guard !o1, !o2 else { return nil }
            magnitude = sum
            i += 1
        }
        if negative {
            guard magnitude != 0, magnitude <= UInt64(Int64.max) + 1 else { return nil }
            return magnitude == UInt64(Int64.max) + 1 ? Int64.min : -Int64(magnitude)
        }
        guard magnitude <= UInt64(Int64.max) else { return nil }
        return Int64(magnitude)
    }

    /// A JSON number as a finite `Double`, correctly rounded (as `JSONDecoder` reads it).
    mutating func double() -> Double? {
        guard let (r, integer) = numberRange() else { return nil }
        if integer, r.count <= 16 {
            // up to 15 digits: exact in a Double
            var i = r.lowerBound
            let negative = b[i] == 0x2D
            if negative { i += 1 }
            if r.upperBound - i <= 15 {
                var v: Int64 = 0
                while i < r.upperBound { v = v * 10 + Int64(b[i] - 0x30); i += 1 }
                if negative { return v == 0 ? -0.0 : -Double(v) }
                return Double(v)
            }
        }
        guard let x = Double(String(decoding: UnsafeBufferPointer(rebasing: b[r]), as: UTF8.self)), x.isFinite else { return nil }
        return x
    }

    /// Skips one value, checking it; false (and ``failed``) if malformed.
    mutating func skipValue() -> Bool {
        skipSpace()
        guard position < b.count else { failed = true; return false }
        let ok: Bool
        switch b[position] {
        case 0x22:
            if let r = stringRange() { ok = r.plainASCII || text(of: r) != nil } else { ok = false }
        case 0x7B:
            depth += 1
            guard depth < 256 else { failed = true; return false }
            position += 1
            var first = true
            while nextKey(&first) != nil { guard skipValue() else { return false } }
            depth -= 1
            ok = !failed
        case 0x5B:
            depth += 1
            guard depth < 256 else { failed = true; return false }
            position += 1
            var first = true
            while nextElement(&first) { guard skipValue() else { return false } }
            depth -= 1
            ok = !failed
        case 0x74, 0x66: ok = bool() != nil
        case 0x6E: ok = null()
        default: ok = numberRange() != nil
        }
        if !ok { failed = true }
        return ok
    }

    @inline(__always) static func hex(_ c: UInt8) -> UInt32? {
        switch c {
        case 0x30...0x39: UInt32(c - 0x30)
        case 0x41...0x46: UInt32(c - 0x41 + 10)
        case 0x61...0x66: UInt32(c - 0x61 + 10)
        default: nil
        }
    }

    static func hex4(_ raw: UnsafeBufferPointer<UInt8>, _ i: Int) -> UInt32 {
        (hex(raw[i])! << 12) | (hex(raw[i + 1])! << 8) | (hex(raw[i + 2])! << 4) | hex(raw[i + 3])!
    }
}
