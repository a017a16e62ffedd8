/// Reads the MathML subset that SBML uses into `MathNode`s. Unknown elements are errors naming the
/// element and its line.
enum MathMLReader {
    /// Reads the expression inside a `<math>` element.
    static func read(math: XMLElement, context: String) throws(SBMLError) -> MathNode {
        guard let first = math.children.first else {
            throw SBMLError(.invalidSBML, "empty <math> in \(context)", value: context, line: math.line)
        }
        return try node(first, context: context)
    }

    private static func number(_ s: String, _ e: XMLElement, _ context: String) throws(SBMLError) -> Double {
        let t = s.trimmingSpaces
        if let v = Double(t) { return v }
        switch t.lowercased() {
        case "inf", "infinity": return .infinity
        case "-inf", "-infinity": return -.infinity
        case "nan": return .nan
        default: throw SBMLError(.invalidSBML, "<cn> in \(context) is not a number: '\(t)'", value: t, line: e.line)
        }
    }

    static func node(_ e: XMLElement, context: String) throws(SBMLError) -> MathNode {
        switch e.name {
        case "cn":
            let parts = e.text.split(whereSeparator: \.isWhitespace).map(String.init)
            switch e["type"] ?? "real" {
            case "e-notation":
                guard parts.count == 2 else { throw SBMLError(.invalidSBML, "<cn type=\"e-notation\"> in \(context) needs mantissa <sep/> exponent", value: e.text, line: e.line) }
                let m = try number(parts[0], e, context), x = try number(parts[1], e, context)
                return .number(Double("\(parts[0])e\(parts[1])") ?? m * pow10(x))
            case "rational":
                guard parts.count == 2 else { throw SBMLError(.invalidSBML, "<cn type=\"rational\"> in \(context) needs numerator <sep/> denominator", value: e.text, line: e.line) }
                return .number(try number(parts[0], e, context) / number(parts[1], e, context))
            default:
                return .number(try number(parts.joined(), e, context))
            }
        case "ci":
            return .symbol(e.text.trimmingSpaces)
        case "csymbol":
            let url = e["definitionURL"] ?? ""
            if url.hasSuffix("/time") { return .time }
            if url.hasSuffix("/avogadro") { return .avogadro }
            throw SBMLError(.unknownMathML, "csymbol '\(url)' in \(context) is not a value", value: url, line: e.line)
        case "true": return .boolean(true)
        case "false": return .boolean(false)
        case "pi": return .number(Double.pi)
        case "exponentiale": return .number(2.718281828459045)
        case "infinity": return .number(.infinity)
        case "notanumber": return .number(.nan)
        case "semantics":
            guard let first = e.children.first else { throw SBMLError(.invalidSBML, "empty <semantics> in \(context)", line: e.line) }
            return try node(first, context: context)
        case "piecewise":
            var values: [MathNode] = [], conds: [MathNode] = []
            var otherwise: MathNode?
            for c in e.children {
                if c.name == "piece" {
                    guard c.children.count == 2 else { throw SBMLError(.invalidSBML, "<piece> in \(context) needs a value and a condition", line: c.line) }
                    values.append(try node(c.children[0], context: context))
                    conds.append(try node(c.children[1], context: context))
                } else if c.name == "otherwise" {
                    guard let f = c.children.first else { throw SBMLError(.invalidSBML, "empty <otherwise> in \(context)", line: c.line) }
                    otherwise = try node(f, context: context)
                } else {
                    throw SBMLError(.unknownMathML, "unexpected <\(c.name)> in <piecewise> of \(context)", value: c.name, line: c.line)
                }
            }
            return .piecewise(values, conds, otherwise)
        case "lambda":
            var bound: [String] = []
            var body: MathNode?
            for c in e.children {
                if c.name == "bvar" {
                    guard let ci = c.child("ci") else { throw SBMLError(.invalidSBML, "<bvar> without <ci> in \(context)", line: c.line) }
                    bound.append(ci.text.trimmingSpaces)
                } else if c.name == "annotation" || c.name == "annotation-xml" {
                    continue
                } else {
                    body = try node(c, context: context)
                }
            }
            guard let b = body else { throw SBMLError(.invalidSBML, "<lambda> without a body in \(context)", line: e.line) }
            return .lambda(bound, b)
        case "apply":
            guard let head = e.children.first else { throw SBMLError(.invalidSBML, "empty <apply> in \(context)", line: e.line) }
            var qualifiers: [String: MathNode] = [:]
            var args: [MathNode] = []
            for c in e.children.dropFirst() {
                if c.name == "degree" || c.name == "logbase" {
                    guard let f = c.children.first else { throw SBMLError(.invalidSBML, "empty <\(c.name)> in \(context)", line: c.line) }
                    qualifiers[c.name] = try node(f, context: context)
                } else if c.name == "bvar" {
                    throw SBMLError(.unknownMathML, "<bvar> outside a lambda in \(context)", value: "bvar", line: c.line)
                } else {
                    args.append(try node(c, context: context))
                }
            }
            switch head.name {
            case "apply":
                // An <apply> whose operator is itself an <apply>: with no arguments it is the inner expression,
                // as libSBML reads it (Beer_MolBioSystems2014 wraps a product this way). Applying the value of an
                // expression to arguments has no meaning in SBML's MathML subset (no function-valued expressions).
                guard args.isEmpty, qualifiers.isEmpty else {
                    throw SBMLError(.unknownMathML, "an <apply> in \(context) applies the result of an inner <apply> to \(args.count) argument(s); only a bare nested <apply> (no arguments) is supported",
                                    value: "apply", line: e.line)
                }
                return try node(head, context: context)
            case "ci":
                return .call(head.text.trimmingSpaces, args)
            case "csymbol":
                let url = head["definitionURL"] ?? ""
                if url.hasSuffix("/delay") {
                    guard args.count == 2 else { throw SBMLError(.invalidSBML, "delay() in \(context) needs 2 arguments", line: e.line) }
                    return .delay(args[0], args[1])
                }
                if url.hasSuffix("/rateOf") {
                    guard args.count == 1 else { throw SBMLError(.invalidSBML, "rateOf() in \(context) needs 1 argument", line: e.line) }
                    return .rateOf(args[0])
                }
                throw SBMLError(.unknownMathML, "csymbol function '\(url)' in \(context)", value: url, line: head.line)
            default:
                guard let op = MathOperator(rawValue: head.name) else {
                    throw SBMLError(.unknownMathML, "unknown MathML element <\(head.name)> in \(context)", value: head.name, line: head.line)
                }
                if op == .root {
                    let degree = qualifiers["degree"] ?? .number(2)
                    guard args.count == 1 else { throw SBMLError(.invalidSBML, "root in \(context) needs 1 argument", line: e.line) }
                    return .apply(.root, [degree, args[0]])
                }
                if op == .log {
                    let base = qualifiers["logbase"] ?? .number(10)
                    guard args.count == 1 else { throw SBMLError(.invalidSBML, "log in \(context) needs 1 argument", line: e.line) }
                    return .apply(.log, [base, args[0]])
                }
                return .apply(op, args)
            }
        default:
            throw SBMLError(.unknownMathML, "unknown MathML element <\(e.name)> in \(context)", value: e.name, line: e.line)
        }
    }

    private static func pow10(_ x: Double) -> Double {
        var r = 1.0
        let n = Int(x.magnitude)
        for _ in 0..<n { r *= 10 }
        return x < 0 ? 1 / r : r
    }
}

extension String {
    var trimmingSpaces: String {
        var s = Substring(self)
        while let f = s.first, f.isWhitespace { s = s.dropFirst() }
        while let l = s.last, l.isWhitespace { s = s.dropLast() }
        return String(s)
    }
}
