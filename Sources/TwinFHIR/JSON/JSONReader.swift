/// Reads JSON (RFC 8259, UTF-8) into a `JSONValue` tree.
///
/// Guarantees: objects keep member order; numbers keep their exact text; strings are valid Unicode (invalid
/// UTF-8 and lone surrogate escapes are rejected); duplicate keys are rejected (FHIR forbids them); nesting
/// deeper than `maximumDepth` is rejected rather than overflowing the stack. Errors carry the byte offset,
/// the line and a path to the element being read (`entry[3].resource.status`).
public struct JSONReader: Sendable {
    public var maximumDepth = 256

    public init() {}

    public func read(_ bytes: [UInt8]) throws(FHIRError) -> JSONValue {
        var result: Result<JSONValue, FHIRError> = .success(.null)
        bytes.withUnsafeBufferPointer { buf in
            result = Self.read(buffer: buf, maximumDepth: maximumDepth)
        }
        return try result.get()
    }

    public func read(_ text: String) throws(FHIRError) -> JSONValue {
        try read(Array(text.utf8))
    }

    static func read(buffer: UnsafeBufferPointer<UInt8>, maximumDepth: Int) -> Result<JSONValue, FHIRError> {
        guard let base = buffer.baseAddress, buffer.count > 0 else {
            return .failure(FHIRError(.malformedJSON, "malformed JSON: the input is empty", rule: "RFC 8259", byteOffset: 0, line: 1))
        }
        var parser = Parser(base: base, count: buffer.count, maximumDepth: maximumDepth)
        do throws(FHIRError) {
            parser.skipWhitespace()
            let v = try parser.parseValue(depth: 0)
            parser.skipWhitespace()
            if parser.pos != parser.end {
                throw parser.error("unexpected \(parser.describe(parser.pos)) after the end of the JSON value")
            }
            return .success(v)
        } catch {
            var e = error
            if !parser.errorPath.isEmpty {
                var loc = parser.rootName ?? "$"
                for comp in parser.errorPath.reversed() { loc += comp }
                e.location = loc
            }
            return .failure(e)
        }
    }

    struct Parser {
        let base: UnsafePointer<UInt8>
        var pos: Int
        let end: Int
        let maximumDepth: Int
        var errorPath: [String] = []
        var rootName: String?
        var scratch: [UInt8] = []

        init(base: UnsafePointer<UInt8>, count: Int, maximumDepth: Int) {
            self.base = base
            pos = 0
            end = count
            self.maximumDepth = maximumDepth
        }

        @inline(__always) func byte(_ i: Int) -> UInt8 { base[i] }

        func lineOf(_ offset: Int) -> Int {
            var line = 1
            var i = 0
            while i < offset && i < end {
                if base[i] == 10 { line += 1 }
                i += 1
            }
            return line
        }

        func error(_ message: String, at offset: Int? = nil) -> FHIRError {
            let o = offset ?? pos
            return FHIRError(.malformedJSON, "malformed JSON: " + message, rule: "RFC 8259", byteOffset: o, line: lineOf(o))
        }

        func describe(_ i: Int) -> String {
            if i >= end { return "end of input" }
            let b = base[i]
            if b >= 0x20 && b < 0x7f { return "'\(Character(UnicodeScalar(b)))'" }
            return "byte 0x" + String(b, radix: 16)
        }

        @inline(__always) mutating func skipWhitespace() {
            while pos < end {
                let b = base[pos]
                if b == 0x20 || b == 0x0A || b == 0x0D || b == 0x09 { pos += 1 } else { return }
            }
        }

        mutating func parseValue(depth: Int) throws(FHIRError) -> JSONValue {
            guard pos < end else { throw error("unexpected end of input, a value was expected") }
            switch base[pos] {
            case UInt8(ascii: "{"): return try parseObject(depth: depth + 1)
            case UInt8(ascii: "["): return try parseArray(depth: depth + 1)
            case UInt8(ascii: "\""): return .string(try parseString())
            case UInt8(ascii: "t"): try literal("true"); return .bool(true)
            case UInt8(ascii: "f"): try literal("false"); return .bool(false)
            case UInt8(ascii: "n"): try literal("null"); return .null
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number(try parseNumber())
            default: throw error("unexpected \(describe(pos)), a value was expected")
            }
        }

        mutating func literal(_ word: StaticString) throws(FHIRError) {
            let n = word.utf8CodeUnitCount
            let p = word.utf8Start
            guard end - pos >= n else { throw error("invalid literal, expected '\(word)'") }
            for i in 0..<n where base[pos + i] != p[i] { throw error("invalid literal, expected '\(word)'") }
            pos += n
        }

        mutating func parseObject(depth: Int) throws(FHIRError) -> JSONValue {
            if depth > maximumDepth { throw error("nesting deeper than \(maximumDepth) levels") }
            pos += 1
            var members: [JSONObject.Member] = []
            members.reserveCapacity(8)
            skipWhitespace()
            if pos < end && base[pos] == UInt8(ascii: "}") { pos += 1; return .object(JSONObject(members)) }
            while true {
                skipWhitespace()
                guard pos < end, base[pos] == UInt8(ascii: "\"") else { throw error("unexpected \(describe(pos)), a member name in quotes was expected") }
                let keyStart = pos
                let key = try parseString()
                skipWhitespace()
                guard pos < end, base[pos] == UInt8(ascii: ":") else { throw error("unexpected \(describe(pos)), ':' was expected after member name \"\(key)\"") }
                pos += 1
                skipWhitespace()
                let value: JSONValue
                do throws(FHIRError) { value = try parseValue(depth: depth) } catch {
                    errorPath.append("." + key)
                    throw error
                }
                if depth == 1 && key == "resourceType", case .string(let rt) = value { rootName = rt }
                for m in members where m.key == key {
                    errorPath.append("." + key)
                    throw self.error("duplicate member name \"\(key)\"", at: keyStart)
                }
                members.append(JSONObject.Member(key, value))
                skipWhitespace()
                guard pos < end else { throw error("unexpected end of input inside an object") }
                let b = base[pos]
                pos += 1
                if b == UInt8(ascii: ",") { continue }
                if b == UInt8(ascii: "}") { return .object(JSONObject(members)) }
                throw error("unexpected \(describe(pos - 1)), ',' or '}' was expected", at: pos - 1)
            }
        }

        mutating func parseArray(depth: Int) throws(FHIRError) -> JSONValue {
            if depth > maximumDepth { throw error("nesting deeper than \(maximumDepth) levels") }
            pos += 1
            var items: [JSONValue] = []
            skipWhitespace()
            if pos < end && base[pos] == UInt8(ascii: "]") { pos += 1; return .array(items) }
            while true {
                skipWhitespace()
                do throws(FHIRError) { items.append(try parseValue(depth: depth)) } catch {
                    errorPath.append("[\(items.count)]")
                    throw error
                }
                skipWhitespace()
                guard pos < end else { throw error("unexpected end of input inside an array") }
                let b = base[pos]
                pos += 1
                if b == UInt8(ascii: ",") { continue }
                if b == UInt8(ascii: "]") { return .array(items) }
                throw error("unexpected \(describe(pos - 1)), ',' or ']' was expected", at: pos - 1)
            }
        }

        mutating func parseNumber() throws(FHIRError) -> String {
            let start = pos
            if base[pos] == UInt8(ascii: "-") { pos += 1 }
            guard pos < end else { throw error("a number ends after '-'") }
            if base[pos] == UInt8(ascii: "0") {
                pos += 1
                if pos < end, base[pos] >= 0x30, base[pos] <= 0x39 { throw error("a number has a leading zero", at: start) }
            } else if base[pos] >= 0x31 && base[pos] <= 0x39 {
                while pos < end, base[pos] >= 0x30, base[pos] <= 0x39 { pos += 1 }
            } else {
                throw error("a number needs a digit after '-'")
            }
            if pos < end && base[pos] == UInt8(ascii: ".") {
                pos += 1
                let f = pos
                while pos < end, base[pos] >= 0x30, base[pos] <= 0x39 { pos += 1 }
                if pos == f { throw error("a number needs digits after the decimal point") }
            }
            if pos < end && (base[pos] == UInt8(ascii: "e") || base[pos] == UInt8(ascii: "E")) {
                pos += 1
                if pos < end && (base[pos] == UInt8(ascii: "+") || base[pos] == UInt8(ascii: "-")) { pos += 1 }
                let f = pos
                while pos < end, base[pos] >= 0x30, base[pos] <= 0x39 { pos += 1 }
                if pos == f { throw error("a number needs digits in its exponent") }
            }
            return String(decoding: UnsafeBufferPointer(start: base + start, count: pos - start), as: UTF8.self)
        }

        mutating func parseString() throws(FHIRError) -> String {
            let open = pos
            pos += 1
            let start = pos
            var high: UInt8 = 0
            while pos < end {
                let b = base[pos]
                if b == UInt8(ascii: "\"") {
                    let slice = UnsafeBufferPointer(start: base + start, count: pos - start)
                    pos += 1
                    if high < 0x80 { return String(decoding: slice, as: UTF8.self) }
                    guard let s = String(validating: slice, as: UTF8.self) else {
                        throw error("a string is not valid UTF-8", at: start)
                    }
                    return s
                }
                if b == UInt8(ascii: "\\") { return try parseEscapedString(from: start) }
                if b < 0x20 { throw error("a string contains an unescaped control character (\(describe(pos)))") }
                high |= b
                pos += 1
            }
            throw error("a string is not terminated", at: open)
        }

        mutating func parseEscapedString(from start: Int) throws(FHIRError) -> String {
            scratch.removeAll(keepingCapacity: true)
            scratch.append(contentsOf: UnsafeBufferPointer(start: base + start, count: pos - start))
            while pos < end {
                let b = base[pos]
                if b == UInt8(ascii: "\"") {
                    pos += 1
                    guard let s = String(validating: scratch, as: UTF8.self) else {
                        throw error("a string is not valid UTF-8", at: start)
                    }
                    return s
                }
                if b < 0x20 { throw error("a string contains an unescaped control character (\(describe(pos)))") }
                if b != UInt8(ascii: "\\") { scratch.append(b); pos += 1; continue }
                pos += 1
                guard pos < end else { break }
                let e = base[pos]
                pos += 1
                switch e {
                case UInt8(ascii: "\""): scratch.append(0x22)
                case UInt8(ascii: "\\"): scratch.append(0x5C)
                case UInt8(ascii: "/"): scratch.append(0x2F)
                case UInt8(ascii: "b"): scratch.append(0x08)
                case UInt8(ascii: "f"): scratch.append(0x0C)
                case UInt8(ascii: "n"): scratch.append(0x0A)
                case UInt8(ascii: "r"): scratch.append(0x0D)
                case UInt8(ascii: "t"): scratch.append(0x09)
                case UInt8(ascii: "u"):
                    var scalar = try hex4()
                    if scalar >= 0xD800 && scalar < 0xDC00 {
                        guard end - pos >= 6, base[pos] == UInt8(ascii: "\\"), base[pos + 1] == UInt8(ascii: "u") else {
                            throw error("a \\u escape is a lone high surrogate", at: pos - 6)
                        }
                        pos += 2
                        let low = try hex4()
                        guard low >= 0xDC00 && low < 0xE000 else { throw error("a \\u escape surrogate pair is invalid", at: pos - 12) }
                        scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                    } else if scalar >= 0xDC00 && scalar < 0xE000 {
                        throw error("a \\u escape is a lone low surrogate", at: pos - 6)
                    }
                    guard let u = Unicode.Scalar(scalar) else { throw error("a \\u escape is not a Unicode scalar", at: pos - 6) }
                    scratch.append(contentsOf: UTF8.encode(u)!)
                default:
                    throw error("invalid escape '\\\(describe(pos - 1))' in a string", at: pos - 2)
                }
            }
            throw error("a string is not terminated", at: start - 1)
        }

        mutating func hex4() throws(FHIRError) -> UInt32 {
            guard end - pos >= 4 else { throw error("a \\u escape needs four hex digits") }
            var v: UInt32 = 0
            for _ in 0..<4 {
                let c = base[pos]
                let d: UInt32
                switch c {
                case 0x30...0x39: d = UInt32(c - 0x30)
                case 0x41...0x46: d = UInt32(c - 0x41 + 10)
                case 0x61...0x66: d = UInt32(c - 0x61 + 10)
                default: throw error("a \\u escape needs four hex digits, found \(describe(pos))")
                }
                v = v << 4 | d
                pos += 1
            }
            return v
        }
    }
}
