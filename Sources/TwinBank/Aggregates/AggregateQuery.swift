import TwinCore

/// The aggregate query language.
///
/// ```
/// expr       := term ( "or" term )*
/// term       := factor ( "and" factor )*
/// factor     := "not" factor | "(" expr ")" | comparison
/// comparison := operand OP literal [ "within" DURATION ]
/// operand    := "kind" | "id" | "age" | "birthYear" | ATTRIBUTE | CODE   (CODE is SYSTEM:CODE, e.g. loinc:4548-4)
/// OP         := = | != | < | <= | > | >=
/// literal    := words up to and/or/within/")" parsed as a value (`6.5 %`, `female`, `1980-01-01`), or "quoted text"
/// ```
/// Example: `kind = person and sex = female and loinc:4548-4 > 6.5 % within 365d`.
///
/// An attribute compares the twin's attribute; `sex` and `gender` are one attribute under two names (see
/// ``QueryVocabulary``). `age` (whole years at the evaluation time, from the `birthDate` attribute; a bare
/// number is years) and `birthYear` are derived. A code compares the latest thread value of that code as of the
/// evaluation time (retracted events and values flagged implausible excluded), only if its effective time lies
/// within the window. Quantities
/// are compared after unit conversion; texts and concepts by equality (a concept matches its code, its
/// `SYSTEM:CODE` or its display, case-insensitively); dates and numbers by order.
///
/// The logic has three values: a comparison whose value the twin does not have (no such attribute, no birth
/// date for `age`, no value of the code in the window) is *unknown*, not false; `not` keeps it unknown, `and`
/// is false if either side is false, `or` is true if either side is true. A twin is a member only when the
/// query is true; ``AggregateMembership/unknown`` lists the twins it could not decide (except those lacking
/// only values that no twin of their kind has, such as an organisation's `sex`).
public struct AggregateQuery: Sendable, Hashable, CustomStringConvertible {
    indirect enum Node: Sendable, Hashable {
        case and(Node, Node), or(Node, Node), not(Node)
        case compare(Comparison)
    }
    /// One comparison, as written.
    struct Comparison: Sendable, Hashable {
        var operand: Operand
        var op: Op
        var literal: Value
        var window: TimeSpan?
        /// The literal as written (for messages).
        var literalText: String
        /// The literal is a number written without a unit (`6.5`, not `6.5 %`).
        var bareNumber: Bool
    }
    enum Operand: Sendable, Hashable, CustomStringConvertible {
        case kind, id, attribute(String), derived(QueryVocabulary.Derived), code(CodeKey)
        var description: String {
            switch self {
            case .kind: "kind"
            case .id: "id"
            case .attribute(let a): a
            case .derived(let d): d.rawValue
            case .code(let c): c.description
            }
        }
    }
    enum Op: String, Sendable, Hashable { case eq = "=", ne = "!=", lt = "<", le = "<=", gt = ">", ge = ">=" }

    let root: Node
    public let text: String
    public var description: String { text }

    /// - Throws: ``BankError`` `invalidQuery` naming the expression and what was expected where (also a
    ///   derived attribute compared with a value of the wrong type, such as `age > 1980-01-01`).
    public init(parsing text: String) throws {
        var p = Parser(text: text, tokens: try Parser.tokenize(text))
        let node = try p.parseExpr()
        guard p.pos == p.tokens.count else { throw p.fail("unexpected '\(p.tokens[p.pos])'") }
        self.root = node
        self.text = text
    }

    /// Every comparison of the query, in the order written.
    var comparisons: [Comparison] {
        var out: [Comparison] = []
        func walk(_ n: Node) {
            switch n {
            case .and(let a, let b), .or(let a, let b): walk(a); walk(b)
            case .not(let a): walk(a)
            case .compare(let c): out.append(c)
            }
        }
        walk(root)
        return out
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
                } else if let d = QueryVocabulary.Derived(word: name) {
                    operand = .derived(d)
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
            var literal: Value
            let joined = words.joined(separator: " ")
            var bare = false
            if words.count == 1, words[0].hasPrefix("\"") {
                literal = .text(String(words[0].dropFirst()))
            } else {
                if case .kind = operand {
                    do { _ = try Twin.Kind(parsing: joined) } catch let e as TwinError { throw fail(e.message) }
                }
                if case .id = operand {
                    literal = .text(joined) // an id is text, also when it looks like a number or a date
                } else {
                    do { literal = try Value.parse(joined) } catch let e as TwinError { throw fail(e.message) }
                    if case .quantity = literal, Double(joined) != nil { bare = true }
                }
            }
            if case .derived(let d) = operand { literal = try derivedLiteral(d, name: name, op: op, literal, text: joined, bare: bare) }
            var window: TimeSpan?
            if pos < tokens.count, tokens[pos].lowercased() == "within" {
                pos += 1
                guard pos < tokens.count else { throw fail("expected a duration after 'within'") }
                do { window = try TimeSpan(parsing: tokens[pos]) } catch let e as TwinError { throw fail(e.message) }
                guard case .code = operand else { throw fail("'within \(tokens[pos])' applies to a code's values, not to '\(name)'") }
                pos += 1
            }
            return .compare(Comparison(operand: operand, op: op, literal: literal, window: window, literalText: joined, bareNumber: bare))
        }

        /// `age` takes years (a bare number) or a time quantity (`18 a`, `6 mo`); `birthYear` a bare number.
        func derivedLiteral(_ d: QueryVocabulary.Derived, name: String, op: Op, _ literal: Value, text: String, bare: Bool) throws -> Value {
            switch d {
            case .age:
                guard case .quantity(let q) = literal else {
                    throw fail("'\(name) \(op.rawValue) \(text)': age is compared with a number of years (`age > 40`) or a time quantity (`age >= 18 a`, `age < 6 mo`)")
                }
                if bare { return .quantity(Quantity(q.value, "a")) }
                guard let u = try? q.ucum(), u.isCommensurable(with: try UCUMUnit(parsing: "a")) else {
                    throw fail("'\(name) \(op.rawValue) \(text)': age is a time: write years as a bare number (`age > 40`) or a time unit such as 'a' or 'mo', not '\(q.unit)'")
                }
                return literal
            case .birthYear:
                guard case .quantity(let q) = literal, bare, q.value == q.value.rounded() else {
                    throw fail("'\(name) \(op.rawValue) \(text)': birthYear is compared with a year such as 1980")
                }
                return literal
            }
        }
    }

    /// The twin attributes the query reads: those it names (with their synonyms, see ``QueryVocabulary``) and
    /// those its derived attributes are computed from.
    var attributesRead: Set<String> {
        var out = Set<String>()
        for c in comparisons {
            switch c.operand {
            case .attribute(let word): out.formUnion(QueryVocabulary.names(for: word))
            case .derived(let d): out.formUnion(d.sources)
            case .kind, .id, .code: break
            }
        }
        return out
    }

    /// The three truth values of a query (see ``AggregateQuery``).
    enum Truth: Sendable, Hashable {
        case yes, no, unknown
        init(_ b: Bool) { self = b ? .yes : .no }
        static prefix func ! (t: Truth) -> Truth { t == .yes ? .no : (t == .no ? .yes : .unknown) }
        static func && (a: Truth, b: Truth) -> Truth { a == .no || b == .no ? .no : (a == .unknown || b == .unknown ? .unknown : .yes) }
        static func || (a: Truth, b: Truth) -> Truth { a == .yes || b == .yes ? .yes : (a == .unknown || b == .unknown ? .unknown : .no) }
    }

    /// Evaluates the query for one twin: its truth, and when unknown the operands whose value it lacks among
    /// those its kind records (see ``OperandKinds``; none: it lacks only values its kind never has).
    func evaluate(_ ctx: EvaluationContext) throws -> (truth: Truth, missing: [String]) {
        var missing: [String] = []
        let t = try eval(root, ctx, &missing)
        return (t, t == .unknown ? missing : [])
    }

    private func eval(_ n: Node, _ ctx: EvaluationContext, _ missing: inout [String]) throws -> Truth {
        switch n {
        case .and(let a, let b):
            let l = try eval(a, ctx, &missing), r = try eval(b, ctx, &missing)
            return l && r
        case .or(let a, let b):
            let l = try eval(a, ctx, &missing), r = try eval(b, ctx, &missing)
            return l || r
        case .not(let a): return try !eval(a, ctx, &missing)
        case .compare(let c):
            let actual: Value?
            switch c.operand {
            case .kind:
                guard case .text(let t) = c.literal, let k = try? Twin.Kind(parsing: t) else { return .no }
                let same = k == ctx.record.twin.kind
                return Truth(c.op == .eq ? same : (c.op == .ne ? !same : false))
            case .id: actual = .text(ctx.record.id.rawValue)
            case .attribute(let key): actual = QueryVocabulary.attribute(key, of: ctx.record.twin)
            case .derived(let d): actual = d.value(of: ctx.record.twin, at: ctx.asOf)
            case .code(let key): actual = ctx.latest(key, within: c.window)?.value
            }
            guard let actual else {
                let name = c.operand.description
                if ctx.kinds.records(c.operand, kind: ctx.record.twin.kind), !missing.contains(name) { missing.append(name) }
                return .unknown
            }
            var code: CodeKey? { if case .code(let key) = c.operand { key } else { nil } }
            return Truth(AggregateQuery.compare(actual, c.op, c.literal, code: code, convert: ctx.conversions.convert))
        }
    }

    /// - Parameter convert: how a literal is converted (``convert(_:to:for:)``, or a memo of it).
    static func compare(_ a: Value, _ op: Op, _ b: Value, code: CodeKey? = nil,
                        convert: (Quantity, String, CodeKey?) -> Double? = { AggregateQuery.convert($0, to: $1, for: $2) }) -> Bool {
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
            guard let yv = convert(y, x.unit, code) else {
                // a dimensionless literal compares by number (queries written before units were required)
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

    /// A memo of ``convert(_:to:for:)`` for one evaluation: a literal is converted once per unit its values are
    /// recorded in, not once per twin.
    final class Conversions {
        private struct Key: Hashable { var quantity: Quantity; var unit: String; var code: CodeKey? }
        private var memo: [Key: Double?] = [:]
        func convert(_ q: Quantity, _ unit: String, _ code: CodeKey?) -> Double? {
            let key = Key(quantity: q, unit: unit, code: code)
            if let known = memo[key] { return known }
            let value = AggregateQuery.convert(q, to: unit, for: code)
            memo[key] = .some(value)
            return value
        }
    }

    /// The one place a query converts a literal to the unit of the values it is compared with (nil: the units
    /// do not convert). With the code whose values they are, clinical analyte conversions apply
    /// (``AnalyteConversion``: HbA1c % and mmol/mol, glucose mg/dL and mmol/L); without one, UCUM's alone.
    static func convert(_ q: Quantity, to unit: String, for code: CodeKey? = nil) -> Double? {
        guard let code else { return try? UCUMUnit.convert(q.value, from: q.unit, to: unit) }
        return try? AnalyteConversion.convert(q, to: unit, for: code).value
    }
}

/// The attribute words of aggregate queries beyond the twins' own attribute names.
///
/// - `sex` and `gender` name one attribute: the administrative gender of FHIR (`male`, `female`, `other`,
///   `unknown`). FHIR import and the demo store it as `gender`; a twin created with `sex=...` keeps its own
///   word. A query may use either word: the twin's attribute of that name answers, else the other one.
/// - `age` (whole years at the evaluation time, from the `birthDate` attribute, or at death when the
///   `deceased` attribute is an earlier date) and `birthYear` are derived; they hide stored attributes of the
///   same name.
public enum QueryVocabulary {
    /// Groups of attribute names that mean the same thing.
    public static let synonyms: [[String]] = [["gender", "sex"]]
    /// The values of the administrative gender (FHIR `AdministrativeGender`).
    public static let genderValues = ["male", "female", "other", "unknown"]

    /// The names a query word reads, in order: itself, then its synonyms.
    public static func names(for attribute: String) -> [String] {
        guard let group = synonyms.first(where: { $0.contains(attribute) }) else { return [attribute] }
        return [attribute] + group.filter { $0 != attribute }
    }

    /// Whether the word is one of the gender synonyms.
    public static func isGender(_ attribute: String) -> Bool { synonyms[0].contains(attribute) }

    /// The value of an attribute word for a twin (through its synonyms), or nil if the twin has none.
    public static func attribute(_ word: String, of twin: Twin) -> Value? {
        // names(for:) without building its array: a query asks this of every twin
        if let v = twin.attributes[word] { return v }
        guard let group = synonyms.first(where: { $0.contains(word) }) else { return nil }
        for n in group where n != word { if let v = twin.attributes[n] { return v } }
        return nil
    }

    /// Attributes computed from others.
    public enum Derived: String, Sendable, Hashable, CaseIterable {
        case age, birthYear

        /// The derived attribute a query word names (`age`, `birthYear`, also `birthyear`), if any.
        public init?(word: String) {
            guard let d = Derived.allCases.first(where: { $0.rawValue.lowercased() == word.lowercased() }) else { return nil }
            self = d
        }

        /// The attribute it is derived from.
        public var source: String { "birthDate" }
        /// Every attribute its value reads: ``source``, and for `age` the `deceased` date.
        public var sources: [String] { self == .age ? [source, "deceased"] : [source] }

        /// Its value for a twin at an instant; nil when unknown (no `birthDate` date, or born after `time`).
        /// `age` is whole years (unit `a`), `birthYear` a number.
        public func value(of twin: Twin, at time: Instant) -> Value? {
            guard case .date(let birth)? = twin.attributes["birthDate"] else { return nil }
            switch self {
            case .birthYear: return .quantity(Quantity(Double(birth.utcDate.year)))
            case .age:
                var end = time
                if case .date(let death)? = twin.attributes["deceased"], death < end { end = death }
                return end.wholeYears(since: birth).map { .quantity(Quantity(Double($0), "a")) }
            }
        }
    }
}
