/// A MathML expression as read from SBML. Function definitions are kept as calls here and inlined by the
/// compiler. Booleans are numbers (true = 1, false = 0) once compiled, as the suite's BoolNumericSwap
/// cases require.
public indirect enum MathNode: Sendable, Equatable {
    case number(Double)
    case boolean(Bool)
    /// An identifier (`<ci>`): a compartment, species, parameter, reaction, species reference,
    /// local parameter or lambda argument.
    case symbol(String)
    /// The csymbol `time`.
    case time
    /// The csymbol `avogadro`.
    case avogadro
    /// A built-in operator or function applied to its arguments.
    case apply(MathOperator, [MathNode])
    /// A call of a user-defined function (`<apply><ci>f</ci>...`).
    case call(String, [MathNode])
    /// `piecewise`: (value, condition) pieces in order, then the `otherwise` value if present.
    case piecewise([MathNode], [MathNode], MathNode?)
    /// The csymbol `delay(x, tau)`.
    case delay(MathNode, MathNode)
    /// The csymbol `rateOf(x)`.
    case rateOf(MathNode)
    /// A `lambda` (only inside function definitions): bound variable names, then the body.
    case lambda([String], MathNode)

    /// Every identifier this expression mentions (not descending into lambda bodies' bound names).
    public func symbols(into set: inout Set<String>) {
        switch self {
        case .symbol(let s): set.insert(s)
        case .apply(_, let args), .call(_, let args):
            for a in args { a.symbols(into: &set) }
        case .piecewise(let v, let c, let o):
            for a in v { a.symbols(into: &set) }
            for a in c { a.symbols(into: &set) }
            o?.symbols(into: &set)
        case .delay(let a, let b): a.symbols(into: &set); b.symbols(into: &set)
        case .rateOf(let a): a.symbols(into: &set)
        case .lambda(let bound, let body):
            var inner = Set<String>()
            body.symbols(into: &inner)
            set.formUnion(inner.subtracting(bound))
        default: break
        }
    }

    public var symbols: Set<String> {
        var s = Set<String>()
        symbols(into: &s)
        return s
    }

    /// Whether the expression contains a node matching the predicate.
    public func contains(where predicate: (MathNode) -> Bool) -> Bool {
        if predicate(self) { return true }
        switch self {
        case .apply(_, let args), .call(_, let args): return args.contains { $0.contains(where: predicate) }
        case .piecewise(let v, let c, let o):
            return v.contains { $0.contains(where: predicate) } || c.contains { $0.contains(where: predicate) } || (o?.contains(where: predicate) ?? false)
        case .delay(let a, let b): return a.contains(where: predicate) || b.contains(where: predicate)
        case .rateOf(let a): return a.contains(where: predicate)
        case .lambda(_, let body): return body.contains(where: predicate)
        default: return false
        }
    }

    /// Replaces symbols by expressions (used to inline function definitions and to rename local ids).
    public func substituting(_ map: [String: MathNode]) -> MathNode {
        if map.isEmpty { return self }
        switch self {
        case .symbol(let s): return map[s] ?? self
        case .apply(let op, let args): return .apply(op, args.map { $0.substituting(map) })
        case .call(let f, let args): return .call(f, args.map { $0.substituting(map) })
        case .piecewise(let v, let c, let o): return .piecewise(v.map { $0.substituting(map) }, c.map { $0.substituting(map) }, o?.substituting(map))
        case .delay(let a, let b): return .delay(a.substituting(map), b.substituting(map))
        case .rateOf(let a): return .rateOf(a.substituting(map))
        case .lambda(let bound, let body):
            var m = map
            for b in bound { m.removeValue(forKey: b) }
            return .lambda(bound, body.substituting(m))
        default: return self
        }
    }
}

/// The MathML operators and functions SBML allows (L2 and L3 core, including L3V2's additions).
public enum MathOperator: String, Sendable, CaseIterable {
    case plus, minus, times, divide, power, root, abs, exp, ln, log, floor, ceiling, factorial
    case sin, cos, tan, sec, csc, cot, sinh, cosh, tanh, sech, csch, coth
    case arcsin, arccos, arctan, arcsec, arccsc, arccot, arcsinh, arccosh, arctanh, arcsech, arccsch, arccoth
    case eq, neq, gt, lt, geq, leq
    case and, or, xor, not, implies
    case max, min, rem, quotient
}
