/// A small, non-validating XML parser over UTF-8 bytes, made for SBML: elements, attributes, character
/// data, CDATA, comments, processing instructions, a DOCTYPE (skipped) and the predefined and numeric
/// entities. It reports the line of every element and of every error. Namespaces are reduced to the
/// local name plus the prefix (SBML documents use fixed prefixes).
public struct XMLDocumentParser {
    private let bytes: [UInt8]
    private var pos = 0
    private var line = 1

    private init(bytes: [UInt8]) { self.bytes = bytes }

    /// Parses a document and returns its root element.
    /// - Throws: `SBMLError` with code `.malformedXML` and the line of the problem.
    public static func parse(_ bytes: [UInt8]) throws(SBMLError) -> XMLElement {
        var p = XMLDocumentParser(bytes: bytes)
        return try p.document()
    }

    /// Parses a document given as a string.
    public static func parse(_ text: String) throws(SBMLError) -> XMLElement {
        try parse(Array(text.utf8))
    }

    private func fail(_ message: String, _ value: String? = nil) -> SBMLError {
        SBMLError(.malformedXML, "malformed XML: \(message)", value: value, line: line)
    }

    @inline(__always) private func peek(_ offset: Int = 0) -> UInt8 {
        let i = pos + offset
        return i < bytes.count ? bytes[i] : 0
    }

    @inline(__always) private mutating func advance() {
        if bytes[pos] == 10 { line += 1 }
        pos += 1
    }

    private func startsWith(_ s: StaticString) -> Bool {
        let n = s.utf8CodeUnitCount
        if pos + n > bytes.count { return false }
        let p = s.utf8Start
        for i in 0..<n where bytes[pos + i] != p[i] { return false }
        return true
    }

    private mutating func skip(until s: StaticString, what: String) throws(SBMLError) {
        while pos < bytes.count {
            if startsWith(s) {
                for _ in 0..<s.utf8CodeUnitCount { advance() }
                return
            }
            advance()
        }
        throw fail("unterminated \(what)")
    }

    @inline(__always) private static func isSpace(_ c: UInt8) -> Bool { c == 32 || c == 10 || c == 13 || c == 9 }
    @inline(__always) private static func isNameChar(_ c: UInt8) -> Bool {
        (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c == 95 || c == 58 || c == 45 || c == 46 || c >= 128
    }

    private mutating func skipSpace() {
        while pos < bytes.count && Self.isSpace(bytes[pos]) { advance() }
    }

    private mutating func name() throws(SBMLError) -> (prefix: String, local: String) {
        let start = pos
        var colon = -1
        while pos < bytes.count && Self.isNameChar(bytes[pos]) {
            if bytes[pos] == 58 { colon = pos }
            pos += 1
        }
        if pos == start { throw fail("expected a name", pos < bytes.count ? String(decoding: [bytes[pos]], as: UTF8.self) : "end of input") }
        if colon >= 0 {
            return (String(decoding: bytes[start..<colon], as: UTF8.self), String(decoding: bytes[(colon + 1)..<pos], as: UTF8.self))
        }
        return ("", String(decoding: bytes[start..<pos], as: UTF8.self))
    }

    /// Decodes entities in bytes[start..<end].
    private func decode(_ start: Int, _ end: Int) throws(SBMLError) -> String {
        var hasAmp = false
        for i in start..<end where bytes[i] == 38 { hasAmp = true; break }
        if !hasAmp { return String(decoding: bytes[start..<end], as: UTF8.self) }
        var out: [UInt8] = []
        out.reserveCapacity(end - start)
        var i = start
        while i < end {
            let c = bytes[i]
            if c != 38 { out.append(c); i += 1; continue }
            var j = i + 1
            while j < end && bytes[j] != 59 { j += 1 }
            if j >= end { throw fail("unterminated entity reference") }
            let ent = String(decoding: bytes[(i + 1)..<j], as: UTF8.self)
            switch ent {
            case "lt": out.append(60)
            case "gt": out.append(62)
            case "amp": out.append(38)
            case "quot": out.append(34)
            case "apos": out.append(39)
            default:
                var scalar: UInt32?
                if ent.hasPrefix("#x") { scalar = UInt32(ent.dropFirst(2), radix: 16) } else if ent.hasPrefix("#") { scalar = UInt32(ent.dropFirst(1)) }
                guard let s = scalar, let u = Unicode.Scalar(s) else { throw fail("unknown entity", "&\(ent);") }
                out.append(contentsOf: Array(String(Character(u)).utf8))
            }
            i = j + 1
        }
        return String(decoding: out, as: UTF8.self)
    }

    private mutating func document() throws(SBMLError) -> XMLElement {
        // Prolog: XML declaration, comments, PIs, DOCTYPE, whitespace.
        if bytes.count >= 3 && bytes[0] == 0xEF && bytes[1] == 0xBB && bytes[2] == 0xBF { pos = 3 }
        while true {
            skipSpace()
            if pos >= bytes.count { throw fail("no root element") }
            if startsWith("<?") { try skip(until: "?>", what: "processing instruction") }
            else if startsWith("<!--") { try skip(until: "-->", what: "comment") }
            else if startsWith("<!DOCTYPE") { try skip(until: ">", what: "DOCTYPE") }
            else if peek() == 60 { break }
            else { throw fail("text before the root element") }
        }
        let root = try element()
        while true {
            skipSpace()
            if pos >= bytes.count { break }
            if startsWith("<?") { try skip(until: "?>", what: "processing instruction") }
            else if startsWith("<!--") { try skip(until: "-->", what: "comment") }
            else { throw fail("content after the root element") }
        }
        return root
    }

    /// Parses an element starting at '<'. Iterative over nesting with an explicit stack.
    private mutating func element() throws(SBMLError) -> XMLElement {
        var stack: [XMLElement] = []
        var qnames: [String] = []
        while true {
            // At '<' of a start tag.
            guard peek() == 60 else { throw fail("expected '<'") }
            let startLine = line
            pos += 1
            let (prefix, local) = try name()
            var el = XMLElement(name: local, prefix: prefix, line: startLine)
            var selfClosing = false
            while true {
                skipSpace()
                let c = peek()
                if c == 47 { // '/'
                    guard peek(1) == 62 else { throw fail("expected '/>'", local) }
                    pos += 2
                    selfClosing = true
                    break
                }
                if c == 62 { pos += 1; break }
                if c == 0 { throw fail("unterminated start tag", local) }
                let (ap, an) = try name()
                skipSpace()
                guard peek() == 61 else { throw fail("attribute without '='", an) }
                pos += 1
                skipSpace()
                let q = peek()
                guard q == 34 || q == 39 else { throw fail("attribute value not quoted", an) }
                pos += 1
                let vs = pos
                while pos < bytes.count && bytes[pos] != q {
                    if bytes[pos] == 60 { throw fail("'<' in attribute value", an) }
                    advance()
                }
                if pos >= bytes.count { throw fail("unterminated attribute value", an) }
                let value = try decode(vs, pos)
                pos += 1
                if ap == "xmlns" || (ap.isEmpty && an == "xmlns") { continue }
                el.attributes.append((an, value))
            }
            if selfClosing {
                if stack.isEmpty { return el }
                if !stack[stack.count - 1].text.isEmpty { stack[stack.count - 1].text += " " }
                stack[stack.count - 1].children.append(el)
            } else {
                stack.append(el)
                qnames.append(prefix.isEmpty ? local : prefix + ":" + local)
            }
            // Content until the next start tag (or closings).
            while true {
                let ts = pos
                while pos < bytes.count && bytes[pos] != 60 { advance() }
                if pos >= bytes.count { throw fail("unterminated element", qnames.last) }
                if pos > ts {
                    var allSpace = true
                    for i in ts..<pos where !Self.isSpace(bytes[i]) { allSpace = false; break }
                    if !allSpace { stack[stack.count - 1].text += try decode(ts, pos) }
                }
                if startsWith("<!--") { try skip(until: "-->", what: "comment"); continue }
                if startsWith("<![CDATA[") {
                    pos += 9
                    let cs = pos
                    try skip(until: "]]>", what: "CDATA section")
                    stack[stack.count - 1].text += String(decoding: bytes[cs..<(pos - 3)], as: UTF8.self)
                    continue
                }
                if startsWith("<?") { try skip(until: "?>", what: "processing instruction"); continue }
                if peek(1) == 47 { // '</'
                    pos += 2
                    let (p, l) = try name()
                    let q = p.isEmpty ? l : p + ":" + l
                    guard let open = qnames.last, open == q else {
                        throw fail("closing tag </\(q)> does not match <\(qnames.last ?? "")>", q)
                    }
                    skipSpace()
                    guard peek() == 62 else { throw fail("expected '>' in closing tag", q) }
                    pos += 1
                    qnames.removeLast()
                    let done = stack.removeLast()
                    if stack.isEmpty { return done }
                    if !stack[stack.count - 1].text.isEmpty { stack[stack.count - 1].text += " " }
                    stack[stack.count - 1].children.append(done)
                    continue
                }
                break // a new start tag
            }
        }
    }
}
