import Foundation

/// Reads a JSON file holding one FHIR resource (usually a Bundle) member by member, and the elements of its
/// top-level `entry` array one at a time, so a file of any size is read in bounded memory: the largest single
/// entry, plus a read buffer.
///
/// Guarantees: every entry and top-level member is parsed by ``JSONReader`` (so the same rules apply: UTF-8,
/// no duplicate keys, depth limit); the top level must be one JSON object followed only by whitespace.
/// Errors name the byte offset and line in the file, and the location (`Bundle.entry[1204].resource.status`).
struct BundleStream {
    let path: String
    var bufferSize = 1 << 20
    var reader = JSONReader()

    init(path: String) { self.path = path }

    /// Reads the file from the start: `member` gets each top-level member except `entry` (in file order),
    /// `entry` gets each element of `entry` with its index. Stops at the first error either callback throws.
    func read(member: (String, JSONValue) throws(FHIRError) -> Void,
              entry: (Int, JSONValue) throws(FHIRError) -> Void) throws(FHIRError) {
        do throws(FHIRError) {
            try readMembers(member: member, entry: entry)
        } catch {
            var e = error
            if e.file == nil { e.file = path }
            throw e
        }
    }

    private func readMembers(member: (String, JSONValue) throws(FHIRError) -> Void,
                             entry: (Int, JSONValue) throws(FHIRError) -> Void) throws(FHIRError) {
        guard let file = fopen(path, "rb") else {
            throw FHIRError(.io, "cannot open the file", value: path, file: path)
        }
        defer { fclose(file) }
        var s = Scanner(file: file, bufferSize: bufferSize)
        s.skipWhitespace()
        guard try s.peek() == UInt8(ascii: "{") else { throw s.error("the file must hold one JSON object (a FHIR resource)") }
        s.advance()
        var keys = Set<String>()
        var first = true
        while true {
            s.skipWhitespace()
            if try s.peek() == UInt8(ascii: "}") { s.advance(); break }
            if !first {
                guard try s.peek() == UInt8(ascii: ",") else { throw s.error("expected ',' or '}' between members of the resource") }
                s.advance()
                s.skipWhitespace()
            }
            first = false
            let keyStart = (s.offset, s.line)
            let keyBytes = try s.captureValue()
            guard case .string(let key) = try parse(keyBytes, at: keyStart, location: "$") else {
                throw FHIRError(.malformedJSON, "malformed JSON: a member name must be a string", rule: "RFC 8259", byteOffset: keyStart.0, line: keyStart.1, file: path)
            }
            guard keys.insert(key).inserted else {
                throw FHIRError(.malformedJSON, "malformed JSON: duplicate member '\(key)'", value: key, rule: "RFC 8259 / FHIR JSON: no duplicate keys", byteOffset: keyStart.0, line: keyStart.1, file: path)
            }
            s.skipWhitespace()
            guard try s.peek() == UInt8(ascii: ":") else { throw s.error("expected ':' after the member name '\(key)'") }
            s.advance()
            s.skipWhitespace()
            if key == "entry" {
                guard try s.peek() == UInt8(ascii: "[") else { throw s.error("Bundle.entry must be a JSON array") }
                s.advance()
                var index = 0
                while true {
                    s.skipWhitespace()
                    if try s.peek() == UInt8(ascii: "]") { s.advance(); break }
                    if index > 0 {
                        guard try s.peek() == UInt8(ascii: ",") else { throw s.error("expected ',' or ']' after Bundle.entry[\(index - 1)]") }
                        s.advance()
                        s.skipWhitespace()
                    }
                    let start = (s.offset, s.line)
                    let bytes: [UInt8]
                    do throws(FHIRError) { bytes = try s.captureValue() } catch {
                        var e = error
                        e.location = e.location ?? "Bundle.entry[\(index)]"
                        e.file = path
                        throw e
                    }
                    let value = try parse(bytes, at: start, location: "Bundle.entry[\(index)]")
                    try entry(index, value)
                    index += 1
                }
            } else {
                let start = (s.offset, s.line)
                let bytes = try s.captureValue()
                try member(key, try parse(bytes, at: start, location: "Bundle.\(key)"))
            }
        }
        s.skipWhitespace()
        if !s.atEnd {
            throw s.error("unexpected data after the end of the resource")
        }
    }

    func parse(_ bytes: [UInt8], at start: (offset: Int, line: Int), location: String) throws(FHIRError) -> JSONValue {
        do throws(FHIRError) {
            return try reader.read(bytes)
        } catch {
            var e = error
            e.byteOffset = start.offset + (e.byteOffset ?? 0)
            e.line = start.line + (e.line ?? 1) - 1
            if let loc = e.location, loc.hasPrefix("$") {
                e.location = location + loc.dropFirst()
            } else {
                e.location = location
            }
            e.file = path
            throw e
        }
    }

    /// A byte reader over a C file with a refillable buffer, tracking offset and line.
    struct Scanner {
        let file: UnsafeMutablePointer<FILE>
        var buffer: [UInt8]
        var count = 0
        var position = 0
        var base = 0
        var line = 1
        var eof = false
        var readError = false
        var offset: Int { base + position }

        init(file: UnsafeMutablePointer<FILE>, bufferSize: Int) {
            self.file = file
            buffer = [UInt8](repeating: 0, count: max(bufferSize, 16))
        }

        var atEnd: Bool {
            mutating get { position >= count && !refill() }
        }

        /// Loads the next block; false at end of file.
        mutating func refill() -> Bool {
            if eof { return false }
            base += count
            position = 0
            count = buffer.withUnsafeMutableBytes { fread($0.baseAddress, 1, $0.count, file) }
            if count == 0 {
                eof = true
                if ferror(file) != 0 { readError = true }
                return false
            }
            return true
        }

        func error(_ message: String) -> FHIRError {
            FHIRError(.malformedJSON, "malformed JSON: " + message, rule: "RFC 8259", byteOffset: offset, line: line)
        }

        mutating func peek() throws(FHIRError) -> UInt8 {
            if position >= count && !refill() {
                if readError { throw FHIRError(.io, "the file could not be read to its end", byteOffset: offset, line: line) }
                throw error("unexpected end of the file")
            }
            return buffer[position]
        }

        mutating func advance() {
            if buffer[position] == 10 { line += 1 }
            position += 1
        }

        mutating func skipWhitespace() {
            while position < count || refill() {
                let b = buffer[position]
                guard b == 0x20 || b == 0x0A || b == 0x0D || b == 0x09 else { return }
                if b == 10 { line += 1 }
                position += 1
            }
        }

        /// The raw bytes of the next JSON value (object, array, string or literal), without interpreting them.
        mutating func captureValue() throws(FHIRError) -> [UInt8] {
            var out: [UInt8] = []
            let first = try peek()
            switch first {
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                var depth = 0
                var inString = false
                var escaped = false
                repeat {
                    let b = try peek()
                    out.append(b)
                    advance()
                    if inString {
                        if escaped { escaped = false } else if b == UInt8(ascii: "\\") { escaped = true } else if b == UInt8(ascii: "\"") { inString = false }
                    } else if b == UInt8(ascii: "\"") {
                        inString = true
                    } else if b == UInt8(ascii: "{") || b == UInt8(ascii: "[") {
                        depth += 1
                    } else if b == UInt8(ascii: "}") || b == UInt8(ascii: "]") {
                        depth -= 1
                    }
                } while depth > 0
            case UInt8(ascii: "\""):
                out.append(first)
                advance()
                var escaped = false
                while true {
                    let b = try peek()
                    out.append(b)
                    advance()
                    if escaped { escaped = false } else if b == UInt8(ascii: "\\") { escaped = true } else if b == UInt8(ascii: "\"") { break }
                }
            default:
                while position < count || refill() {
                    let b = buffer[position]
                    if b == UInt8(ascii: ",") || b == UInt8(ascii: "}") || b == UInt8(ascii: "]") || b == 0x20 || b == 0x0A || b == 0x0D || b == 0x09 { break }
                    out.append(b)
                    advance()
                }
                if out.isEmpty { throw error("a value was expected") }
            }
            return out
        }
    }
}
