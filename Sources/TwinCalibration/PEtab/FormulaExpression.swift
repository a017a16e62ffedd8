import Foundation
import TwinSimulation

/// An arithmetic formula as PEtab writes observable and noise formulas: numbers, identifiers, `+ − * / ^`
/// (or `**`), unary minus, parentheses and the functions `exp, log (natural, or log(x, base)), ln, log10,
/// log2, sqrt, abs, sin, cos, tan, pow, min, max`.
public indirect enum FormulaExpression: Sendable, Hashable {
    case number(Double)
    case symbol(String)
    case negate(FormulaExpression)
    case binary(Character, FormulaExpression, FormulaExpression)
    case call(String, [FormulaExpression])

    /// Parses `text`, or throws naming the position of the problem.
    public init(parsing text: String) throws {
        var parser = Parser(chars: Array(text), text: text)
        let e = try parser.expression()
        parser.skipSpace()
        guard parser.pos == parser.chars.count else { throw parser.error("unexpected '\(parser.chars[parser.pos])'") }
        self = e
    }

    /// Every identifier the formula uses.
    public var symbols: Set<String> {
        switch self {
        case .number: []
        case .symbol(let s): [s]
        case .negate(let e): e.symbols
        case .binary(_, let a, let b): a.symbols.union(b.symbols)
        case .call(_, let args): args.reduce(into: Set<String>()) { $0.formUnion($1.symbols) }
        }
    }

    /// Evaluates with `value` resolving identifiers (return `nil` for an unknown one: an error naming it).
    public func evaluate(_ value: (String) -> Double?) throws -> Double {
        switch self {
        case .number(let v): return v
        case .symbol(let s):
            guard let v = value(s) else { throw CalibrationError(.invalidPEtab, "formula uses '\(s)', which is neither a model entity nor a parameter.", value: s) }
            return v
        case .negate(let e): return -(try e.evaluate(value))
        case .binary(let op, let a, let b):
            let x = try a.evaluate(value), y = try b.evaluate(value)
            switch op {
            case "+": return x + y
            case "-": return x - y
            case "*": return x * y
            case "/": return x / y
            default: return pow(x, y)
            }
        case .call(let f, let args):
            let v = try args.map { try $0.evaluate(value) }
            switch (f, v.count) {
            case ("exp", 1): return exp(v[0])
            case ("log", 1), ("ln", 1): return log(v[0])
            case ("log", 2): return log(v[0]) / log(v[1])
            case ("log10", 1): return log10(v[0])
            case ("log2", 1): return log2(v[0])
            case ("sqrt", 1): return v[0].squareRoot()
            case ("abs", 1): return abs(v[0])
            case ("sin", 1): return sin(v[0])
            case ("cos", 1): return cos(v[0])
            case ("tan", 1): return tan(v[0])
            case ("pow", 2): return pow(v[0], v[1])
            case ("min", 2...): return v.min()!
            case ("max", 2...): return v.max()!
            default: throw CalibrationError(.unsupported, "formula function '\(f)' with \(v.count) argument(s) is not supported.", value: f)
            }
        }
    }

    struct Parser {
        let chars: [Character]
        let text: String
        var pos = 0
        func error(_ what: String) -> CalibrationError {
            CalibrationError(.invalidPEtab, "cannot parse formula '\(text)' at position \(pos + 1): \(what).", value: text)
        }
        mutating func skipSpace() { while pos < chars.count, chars[pos] == " " { pos += 1 } }
        mutating func peek() -> Character? { skipSpace(); return pos < chars.count ? chars[pos] : nil }
        mutating func expression() throws -> FormulaExpression {
            var lhs = try term()
            while let c = peek(), c == "+" || c == "-" { pos += 1; lhs = .binary(c, lhs, try term()) }
            return lhs
        }
        mutating func term() throws -> FormulaExpression {
            var lhs = try unary()
            while let c = peek(), c == "*" || c == "/" {
                if c == "*", pos + 1 < chars.count, chars[pos + 1] == "*" { break }
                pos += 1
                lhs = .binary(c, lhs, try unary())
            }
            return lhs
        }
        mutating func unary() throws -> FormulaExpression {
            if let c = peek(), c == "-" || c == "+" { pos += 1; let e = try unary(); return c == "-" ? .negate(e) : e }
            return try power()
        }
        mutating func power() throws -> FormulaExpression {
            let base = try primary()
            if let c = peek() {
                if c == "^" { pos += 1; return .binary("^", base, try unary()) }
                if c == "*", pos + 1 < chars.count, chars[pos + 1] == "*" { pos += 2; return .binary("^", base, try unary()) }
            }
            return base
        }
        mutating func primary() throws -> FormulaExpression {
            guard let c = peek() else { throw error("unexpected end") }
            if c == "(" {
                pos += 1
                let e = try expression()
                guard peek() == ")" else { throw error("missing ')'") }
                pos += 1
                return e
            }
            if c.isNumber || c == "." {
                let start = pos
                while pos < chars.count, chars[pos].isNumber || chars[pos] == "." { pos += 1 }
                if pos < chars.count, chars[pos] == "e" || chars[pos] == "E" {
                    var p = pos + 1
                    if p < chars.count, chars[p] == "+" || chars[p] == "-" { p += 1 }
                    if p < chars.count, chars[p].isNumber {
                        pos = p
                        while pos < chars.count, chars[pos].isNumber { pos += 1 }
                    }
                }
                guard let v = Double(String(chars[start..<pos])) else { throw error("bad number") }
                return .number(v)
            }
            if c.isLetter || c == "_" {
                let start = pos
                while pos < chars.count, chars[pos].isLetter || chars[pos].isNumber || chars[pos] == "_" { pos += 1 }
                let name = String(chars[start..<pos])
                if peek() == "(" {
                    pos += 1
                    var args: [FormulaExpression] = []
                    if peek() != ")" {
                        args.append(try expression())
                        while peek() == "," { pos += 1; args.append(try expression()) }
                    }
                    guard peek() == ")" else { throw error("missing ')' after arguments of \(name)") }
                    pos += 1
                    return .call(name, args)
                }
                return .symbol(name)
            }
            throw error("unexpected '\(c)'")
        }
    }
}
