import TwinCore

/// The aggregate query language.
///
/// ```
/// expr       := term ( "or" term )*
/// term       := factor ( "and" factor )*
/// factor     := "not" factor | "(" expr ")" | comparison
/// comparison := operand OP literal [ "within" DURATION ]
/// operand    := "kind" | "id" | ATTRIBUTE | CODE          (CODE is SYSTEM:CODE, e.g. loinc:4548-4)
/// OP         := = | != | < | <= | > | >=
/// literal    := words up to and/or/within/")" parsed as a value (`6.5 %`, `female`, `1980-01-01`), or "quoted text"
/// ```
/// Example: `kind = person and sex = female and loinc:4548-4 > 6.5 % within 365d`.
///
/// An attribute compares the twin's attribute; a code compares the latest thread value of that code as of the
/// evaluation time (retracted events excluded), only if its effective time lies within the window. Quantities
/// are compared after unit conversion; texts and concepts by equality (a concept matches its code, its
/// `SYSTEM:CODE` or its display, case-insensitively); dates and numbers by order. A comparison with a missing
/// value, or between values that cannot be compared, is false.
public struct AggregateQuery: Sendable, Hashable, CustomStringConvertible {
    indirect enum Node: Sendable, Hashable {
        case and(Node, Node), or(Node, Node), not(Node)
        case compare(Operand, Op, Value, TimeSpan?)
    }
    enum Operand: Sendable, Hashable { case kind, id, attribute(String), code(CodeKey) }
    enum Op: String, Sendable, Hashable { case eq = "=", ne = "!=", lt = "<", le = "<=", gt = ">", ge = ">=" }

    let root: Node
    public let text: String
    public var description: String { text }

    /// - Throws: ``BankError`` `invalidQuery` naming the expression and what was expected where.
    public init(parsing text: String) throws {
        var p = Parser(text: text, tokens: try Parser.tokenize(text))
        let node = try p.parseExpr()
        guard p.pos == p.tokens.count else { throw p.fail("unexpected '\(p.tokens[p.pos])'") }
        self.root = node
        self.text = text
    }

    struct Parser {
        let text: String
        let tokens: [String]
        var pos = 0

        func fail(_ why: String) -> BankError {
            BankError(.invalidQuery, "invalid aggregate query '\(text)': \(why)", value: text)
        }

        static func tokenize(_ text: String) throws -> [String] {
            var out: [String] = []
            var cur = ""
            var chars = Array(text)
            chars.append(" ")
            var i = 0
            func flush() { if !cur.isEmpty { out.append(cur); cur = "" } }
            while i < chars.count {
                let c = chars[i]
                if c == "\"" {
                    flush()
                    var s = "\""
                    i += 1
                    while i < chars.count - 1, chars[i] != "\"" { s.append(chars[i]); i += 1 }
                    guard i < chars.count - 1 else {
                        throw BankError(.invalidQuery, "invalid aggregate query '\(text)': unterminated quote", value: text)
                    }
                    out.append(s); i += 1; continue
                }
                if c.isWhitespace { flush(); i += 1; continue }
                if c == "(" || c == ")" { flush(); out.append(String(c)); i += 1; continue }
                if c == "<" || c == ">" || c == "!" || c == "=" {
                    flush()
                    if i + 1 < chars.count, chars[i + 1] == "=" { out.append(String(c) + "="); i += 2 } else {
                        guard c != "!" else { throw BankError(.invalidQuery, "invalid aggregate query '\(text)': '!' must be followed by '='", value: text) }
                        out.append(String(c)); i += 1
                    }
                    continue
                }
                cur.append(c); i += 1
            }
            return out
        }

        mutating func parseExpr() throws -> Node {
            var left = try parseTerm()
            while pos < tokens.count, tokens[pos].lowercased() == "or" { pos += 1; left = .or(left, try parseTerm()) }
            return left
        }
        mutating func parseTerm() throws -> Node {
            var left = try parseFactor()
            while pos < tokens.count, tokens[pos].lowercased() == "and" { pos += 1; left = .and(left, try parseFactor()) }
            return left
        }
        mutating func parseFactor() throws -> Node {
            guard pos < tokens.count else { throw fail("expected a comparison at the end") }
            let t = tokens[pos]
            if t.lowercased() == "not" { pos += 1; return .not(try parseFactor()) }
            if t == "(" {
                pos += 1
                let e = try parseExpr()
                guard pos < tokens.count, tokens[pos] == ")" else { throw fail("missing ')'") }
                pos += 1
                return e
            }
            return try parseComparison()
        }
        mutating func parseComparison() throws -> Node {
            let name = tokens[pos]
            guard name != ")" && Op(rawValue: name) == nil else { throw fail("expected an attribute or code before '\(name)'") }
            pos += 1
            let operand: Operand
            switch name.lowercased() {
            case "kind": operand = .kind
            case "id": operand = .id
            default:
                if name.contains(":") || name.contains("|") {
                    do { operand = .code(try CodeKey(parsing: name)) } catch let e as TwinError { throw fail(e.message) }
                } else { operand = .attribute(name) }
            }
            guard pos < tokens.count, let op = Op(rawValue: tokens[pos]) else {
                throw fail("expected one of = != < <= > >= after '\(name)'")
            }
            pos += 1
            var words: [String] = []
            while pos < tokens.count, !["and", "or", "within"].contains(tokens[pos].lowercased()), tokens[pos] != ")" {
                words.append(tokens[pos]); pos += 1
            }
            guard !words.isEmpty else { throw fail("expected a value after '\(name) \(op.rawValue)'") }
            let literal: Value
            if words.count == 1, words[0].hasPrefix("\"") {
                literal = .text(String(words[0].dropFirst()))
            } else {
                let joined = words.joined(separator: " ")
                if case .kind = operand {
                    do { _ = try Twin.Kind(parsing: joined) } catch let e as TwinError { throw fail(e.message) }
                }
                do { literal = try Value.parse(joined) } catch let e as TwinError { throw fail(e.message) }
            }
            var window: TimeSpan?
            if pos < tokens.count, tokens[pos].lowercased() == "within" {
                pos += 1
                guard pos < tokens.count else { throw fail("expected a duration after 'within'") }
                do { window = try TimeSpan(parsing: tokens[pos]) } catch let e as TwinError { throw fail(e.message) }
                pos += 1
            }
            return .compare(operand, op, literal, window)
        }
    }

    func matches(_ ctx: EvaluationContext) throws -> Bool { try eval(root, ctx) }

    private func eval(_ n: Node, _ ctx: EvaluationContext) throws -> Bool {
        switch n {
        case .and(let a, let b): return try eval(a, ctx) && eval(b, ctx)
        case .or(let a, let b): return try eval(a, ctx) || eval(b, ctx)
        case .not(let a): return try !eval(a, ctx)
        case .compare(let operand, let op, let literal, let window):
            let actual: Value?
            switch operand {
            case .kind:
                guard case .text(let t) = literal, let k = try? Twin.Kind(parsing: t) else { return false }
                let same = k == ctx.record.twin.kind
                return op == .eq ? same : (op == .ne ? !same : false)
            case .id: actual = .text(ctx.record.id.rawValue)
            case .attribute(let key): actual = ctx.record.twin.attributes[key]
            case .code(let key): actual = try ctx.latest(key, within: window)?.value
            }
            guard let actual else { return false }
            return AggregateQuery.compare(actual, op, literal)
        }
    }

    static func compare(_ a: Value, _ op: Op, _ b: Value) -> Bool {
        func order(_ c: Int) -> Bool {
            switch op {
            case .eq: c == 0
            case .ne: c != 0
            case .lt: c < 0
            case .le: c <= 0
            case .gt: c > 0
            case .ge: c >= 0
            }
        }
        func cmp<T: Comparable>(_ x: T, _ y: T) -> Int { x < y ? -1 : (x > y ? 1 : 0) }
        switch (a, b) {
        case (.quantity(let x), .quantity(let y)):
            guard let yv = try? UCUMUnit.convert(y.value, from: y.unit, to: x.unit) else {
                // a dimensionless literal compares by number
                guard y.unit == "1" else { return false }
                return order(cmp(x.value, y.value))
            }
            return order(cmp(x.value, yv))
        case (.date(let x), .date(let y)): return order(cmp(x, y))
        case (.boolean(let x), .boolean(let y)): return op == .eq ? x == y : (op == .ne ? x != y : false)
        case (.text(let x), .text(let y)): return order(cmp(x.lowercased(), y.lowercased()))
        case (.concept(let c), .text(let y)), (.text(let y), .concept(let c)):
            let same = c.code.lowercased() == y.lowercased() || c.display?.lowercased() == y.lowercased()
            return op == .eq ? same : (op == .ne ? !same : false)
        case (.concept(let x), .concept(let y)):
            return op == .eq ? x.key == y.key : (op == .ne ? x.key != y.key : false)
        default: return op == .ne
        }
    }
}
