#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A compiled expression: reads model values from a slot array (slot 0 holds time) and returns a number.
/// Booleans are 1 and 0.
typealias Eval = (UnsafeMutablePointer<Double>) -> Double

/// Looks up past values for `delay(x, tau)`: fills `buffer` with all slot values at time `t` and returns
/// `true`, or returns `false` when `t` is before the history starts (the caller then uses initial values).
final class DelayHistory {
    var times: [Double] = []
    var snapshots: [[Double]] = []
    var derivatives: [[Double]] = []
    var initial: [Double] = []
    var stateSlots: [Int] = []
    var recompute: ((UnsafeMutablePointer<Double>) -> Void)?
    /// The initial values that depend on time, in order: re-evaluated for a time before the start.
    var pastInitialization: [(slot: Int, eval: Eval)] = []
    var maxDelaySeen: Double = 0
    /// The smallest positive delay evaluated so far (the simulator keeps steps shorter than it).
    var minimumDelay: Double = .infinity

    var depth = 0
    private var scratches: [UnsafeMutablePointer<Double>] = []
    private var scratchCount = 0

    /// A scratch buffer for one level of nested `delay` evaluation.
    func scratch(depth: Int, count: Int) -> UnsafeMutablePointer<Double> {
        if scratchCount != count {
            for p in scratches { p.deallocate() }
            scratches.removeAll()
            scratchCount = count
        }
        while scratches.count <= depth {
            let p = UnsafeMutablePointer<Double>.allocate(capacity: count)
            p.initialize(repeating: 0, count: count)
            scratches.append(p)
        }
        return scratches[depth]
    }

    deinit { for p in scratches { p.deallocate() } }

    func reset() { times.removeAll(keepingCapacity: true); snapshots.removeAll(keepingCapacity: true); derivatives.removeAll(keepingCapacity: true) }

    /// Appends a snapshot (all slots) and the state derivatives at time t.
    func record(t: Double, slots: UnsafeMutablePointer<Double>, count: Int, dy: [Double]) {
        if let last = times.last, t < last { // a restart after an event at the same time: drop later points
            while let l = times.last, l > t { times.removeLast(); snapshots.removeLast(); derivatives.removeLast() }
        }
        times.append(t)
        snapshots.append(Array(UnsafeBufferPointer(start: slots, count: count)))
        derivatives.append(dy)
    }

    /// Writes the values at time `t` into `buffer` (Hermite interpolation of the states, then the
    /// derived values recomputed); returns false if `t` precedes the history.
    func fill(t: Double, buffer: UnsafeMutablePointer<Double>) -> Bool {
        guard let first = times.first, t >= first else { return false }
        var hi = times.count - 1
        if t >= times[hi] {
            // Beyond the recorded history (a delay shorter than the current step): extrapolate the states
            // linearly from the last point.
            let s = snapshots[hi], d = derivatives[hi]
            for i in 0..<s.count { buffer[i] = s[i] }
            let dt = t - times[hi]
            if dt > 0 { for (k, slot) in stateSlots.enumerated() where k < d.count { buffer[slot] += dt * d[k] } }
            buffer[0] = t
            recompute?(buffer)
            return true
        }
        var lo = 0
        while hi - lo > 1 {
            let mid = (lo + hi) / 2
            if times[mid] <= t { lo = mid } else { hi = mid }
        }
        // Events may give two snapshots at one time; use the later one for the right-hand segment.
        let a = snapshots[lo], b = snapshots[hi]
        for i in 0..<a.count { buffer[i] = a[i] }
        let h = times[hi] - times[lo]
        if h > 0 {
            let th = (t - times[lo]) / h
            let da = derivatives[lo], db = derivatives[hi]
            let h00 = (1 + 2 * th) * (1 - th) * (1 - th), h10 = th * (1 - th) * (1 - th)
            let h01 = th * th * (3 - 2 * th), h11 = th * th * (th - 1)
            for (k, s) in stateSlots.enumerated() {
                buffer[s] = h00 * a[s] + h10 * h * da[k] + h01 * b[s] + h11 * h * db[k]
            }
        }
        buffer[0] = t
        recompute?(buffer)
        return true
    }
}

/// Compiles `MathNode`s into closures over a slot array, inlining function definitions and folding
/// constant sub-expressions.
struct ExpressionCompiler {
    var slots: [String: Int]
    var functions: [String: SBMLModel.FunctionDefinition]
    var history: DelayHistory?
    var slotCount: Int

    func inline(_ node: MathNode, context: String, depth: Int = 0) throws(SBMLError) -> MathNode {
        if depth > 64 { throw SBMLError(.cyclicRules, "function definitions call each other without end in \(context)", value: context) }
        switch node {
        case .call(let f, let args):
            guard let fd = functions[f] else {
                throw SBMLError(.undefinedSymbol, "function '\(f)' used in \(context) is not defined", value: f)
            }
            guard fd.arguments.count == args.count else {
                throw SBMLError(.invalidSBML, "function '\(f)' takes \(fd.arguments.count) arguments but \(context) passes \(args.count)", value: f, line: fd.line)
            }
            var map: [String: MathNode] = [:]
            for (i, a) in fd.arguments.enumerated() { map[a] = try inline(args[i], context: context, depth: depth + 1) }
            // Substitute simultaneously: arguments are already inlined; the body may call other functions.
            return try inline(fd.body.substituting(map), context: context, depth: depth + 1)
        case .apply(let op, let args):
            var out: [MathNode] = []
            for a in args { out.append(try inline(a, context: context, depth: depth)) }
            return .apply(op, out)
        case .piecewise(let v, let c, let o):
            var vv: [MathNode] = [], cc: [MathNode] = []
            for a in v { vv.append(try inline(a, context: context, depth: depth)) }
            for a in c { cc.append(try inline(a, context: context, depth: depth)) }
            return .piecewise(vv, cc, try o.map { (x) throws(SBMLError) in try inline(x, context: context, depth: depth) })
        case .delay(let a, let b): return .delay(try inline(a, context: context, depth: depth), try inline(b, context: context, depth: depth))
        case .rateOf(let a): return .rateOf(try inline(a, context: context, depth: depth))
        default: return node
        }
    }

    func compile(_ node: MathNode, context: String) throws(SBMLError) -> Eval {
        let inlined = try inline(node, context: context)
        return try build(inlined, context: context).eval
    }

    /// Evaluates a constant expression (no symbols), or returns nil.
    func constantValue(_ node: MathNode, context: String) throws(SBMLError) -> Double? {
        try build(try inline(node, context: context), context: context).constant
    }

    private typealias Built = (eval: Eval, constant: Double?)

    private static func const(_ v: Double) -> Built { ({ _ in v }, v) }

    private func fold(_ e: @escaping Eval, _ parts: [Built]) -> Built {
        if parts.allSatisfy({ $0.constant != nil }) {
            var dummy = [Double](repeating: 0, count: 1)
            let v = dummy.withUnsafeMutableBufferPointer { e($0.baseAddress!) }
            return Self.const(v)
        }
        return (e, nil)
    }

    private func build(_ node: MathNode, context: String) throws(SBMLError) -> Built {
        switch node {
        case .number(let v): return Self.const(v)
        case .boolean(let b): return Self.const(b ? 1 : 0)
        case .avogadro: return Self.const(6.02214179e23) // the value SBML Level 3 specifies
        case .time: return ({ $0[0] }, nil)
        case .symbol(let s):
            guard let slot = slots[s] else {
                throw SBMLError(.undefinedSymbol, "symbol '\(s)' used in \(context) is not defined", value: s)
            }
            return ({ $0[slot] }, nil)
        case .call(let f, _):
            throw SBMLError(.undefinedSymbol, "function '\(f)' used in \(context) is not defined", value: f)
        case .lambda:
            throw SBMLError(.invalidSBML, "a lambda outside a function definition in \(context)", value: context)
        case .rateOf(let x):
            throw SBMLError(.unsupported, "rateOf(\(x)) in \(context) could not be resolved to a rate", value: "rateOf")
        case .delay(let x, let tau):
            guard let history else { throw SBMLError(.unsupported, "delay() in \(context)", value: "delay") }
            let xe = try build(x, context: context)
            if let c = xe.constant { return Self.const(c) }
            let te = try build(tau, context: context).eval
            let fx = xe.eval
            let n = slotCount
            return ({ [history] buf in
                let d = te(buf)
                let t = buf[0] - d
                if d > history.maxDelaySeen { history.maxDelaySeen = d }
                if d > 0 && d < history.minimumDelay { history.minimumDelay = d }
                if d <= 0 { return fx(buf) }
                guard history.depth < 2 else { return fx(buf) }
                let scratch = history.scratch(depth: history.depth, count: n)
                history.depth += 1
                defer { history.depth -= 1 }
                if history.fill(t: t, buffer: scratch) { return fx(scratch) }
                // Before the start: the values at the start (SBML: the initial values).
                if history.initial.count == n {
                    for i in 0..<n { scratch[i] = history.initial[i] }
                    scratch[0] = t
                    for (slot, e) in history.pastInitialization { scratch[slot] = e(scratch) }
                    history.recompute?(scratch)
                    return fx(scratch)
                }
                return fx(buf)
            }, nil)
        case .piecewise(let values, let conds, let other):
            var vs: [Built] = [], cs: [Built] = []
            for v in values { vs.append(try build(v, context: context)) }
            for c in conds { cs.append(try build(c, context: context)) }
            let o = try other.map { (x) throws(SBMLError) in try build(x, context: context) }
            let ve = vs.map(\.eval), ce = cs.map(\.eval)
            let oe = o?.eval
            let e: Eval
            if ve.count == 1, let oe {
                let v0 = ve[0], c0 = ce[0]
                e = { c0($0) != 0 ? v0($0) : oe($0) }
            } else {
                e = { buf in
                    for i in 0..<ce.count where ce[i](buf) != 0 { return ve[i](buf) }
                    return oe?(buf) ?? .nan
                }
            }
            return fold(e, vs + cs + (o.map { [$0] } ?? []))
        case .apply(let op, let args):
            var parts: [Built] = []
            for a in args { parts.append(try build(a, context: context)) }
            let e = try Self.operation(op, parts.map(\.eval), context: context)
            return fold(e, parts)
        }
    }

    private static func arity(_ op: MathOperator, _ n: Int, _ allowed: ClosedRange<Int>, _ context: String) throws(SBMLError) {
        guard allowed.contains(n) else {
            throw SBMLError(.invalidSBML, "'\(op.rawValue)' in \(context) given \(n) arguments", value: op.rawValue)
        }
    }

    private static func unary(_ op: MathOperator, _ a: [Eval], _ context: String, _ f: @escaping (Double) -> Double) throws(SBMLError) -> Eval {
        try arity(op, a.count, 1...1, context)
        let x = a[0]
        return { f(x($0)) }
    }

    private static func operation(_ op: MathOperator, _ a: [Eval], context: String) throws(SBMLError) -> Eval {
        switch op {
        case .plus:
            switch a.count {
            case 0: return { _ in 0 }
            case 1: return a[0]
            case 2: let x = a[0], y = a[1]; return { x($0) + y($0) }
            case 3: let x = a[0], y = a[1], z = a[2]; return { x($0) + y($0) + z($0) }
            default: return { b in var s = 0.0; for f in a { s += f(b) }; return s }
            }
        case .times:
            switch a.count {
            case 0: return { _ in 1 }
            case 1: return a[0]
            case 2: let x = a[0], y = a[1]; return { x($0) * y($0) }
            case 3: let x = a[0], y = a[1], z = a[2]; return { x($0) * y($0) * z($0) }
            default: return { b in var s = 1.0; for f in a { s *= f(b) }; return s }
            }
        case .minus:
            try arity(op, a.count, 1...2, context)
            let x = a[0]
            if a.count == 1 { return { -x($0) } }
            let y = a[1]
            return { x($0) - y($0) }
        case .divide:
            try arity(op, a.count, 2...2, context)
            let x = a[0], y = a[1]
            return { x($0) / y($0) }
        case .power:
            try arity(op, a.count, 2...2, context)
            let x = a[0], y = a[1]
            return { Self.power(x($0), y($0)) }
        case .root:
            try arity(op, a.count, 2...2, context)
            let d = a[0], x = a[1]
            return { b in
                let n = d(b), v = x(b)
                if n == 2 { return v.squareRoot() }
                if v < 0, n.rounded() == n, Int(n) % 2 != 0 { return -pow(-v, 1 / n) }
                return pow(v, 1 / n)
            }
        case .abs: return try unary(op, a, context) { Swift.abs($0) }
        case .exp: return try unary(op, a, context) { Glibc.exp($0) }
        case .ln: return try unary(op, a, context) { Glibc.log($0) }
        case .log:
            try arity(op, a.count, 2...2, context)
            let base = a[0], x = a[1]
            return { b in
                let bb = base(b)
                return bb == 10 ? log10(x(b)) : Glibc.log(x(b)) / Glibc.log(bb)
            }
        case .floor: return try unary(op, a, context) { Glibc.floor($0) }
        case .ceiling: return try unary(op, a, context) { Glibc.ceil($0) }
        case .factorial: return try unary(op, a, context) { tgamma($0 + 1) }
        case .sin: return try unary(op, a, context) { Glibc.sin($0) }
        case .cos: return try unary(op, a, context) { Glibc.cos($0) }
        case .tan: return try unary(op, a, context) { Glibc.tan($0) }
        case .sec: return try unary(op, a, context) { 1 / Glibc.cos($0) }
        case .csc: return try unary(op, a, context) { 1 / Glibc.sin($0) }
        case .cot: return try unary(op, a, context) { 1 / Glibc.tan($0) }
        case .sinh: return try unary(op, a, context) { Glibc.sinh($0) }
        case .cosh: return try unary(op, a, context) { Glibc.cosh($0) }
        case .tanh: return try unary(op, a, context) { Glibc.tanh($0) }
        case .sech: return try unary(op, a, context) { 1 / Glibc.cosh($0) }
        case .csch: return try unary(op, a, context) { 1 / Glibc.sinh($0) }
        case .coth: return try unary(op, a, context) { 1 / Glibc.tanh($0) }
        case .arcsin: return try unary(op, a, context) { Glibc.asin($0) }
        case .arccos: return try unary(op, a, context) { Glibc.acos($0) }
        case .arctan: return try unary(op, a, context) { Glibc.atan($0) }
        case .arcsec: return try unary(op, a, context) { Glibc.acos(1 / $0) }
        case .arccsc: return try unary(op, a, context) { Glibc.asin(1 / $0) }
        case .arccot: return try unary(op, a, context) { $0 == 0 ? Double.pi / 2 : Glibc.atan(1 / $0) }
        case .arcsinh: return try unary(op, a, context) { Glibc.asinh($0) }
        case .arccosh: return try unary(op, a, context) { Glibc.acosh($0) }
        case .arctanh: return try unary(op, a, context) { Glibc.atanh($0) }
        case .arcsech: return try unary(op, a, context) { Glibc.acosh(1 / $0) }
        case .arccsch: return try unary(op, a, context) { Glibc.asinh(1 / $0) }
        case .arccoth: return try unary(op, a, context) { Glibc.atanh(1 / $0) }
        case .not: return try unary(op, a, context) { $0 != 0 ? 0 : 1 }
        case .eq, .gt, .lt, .geq, .leq:
            try arity(op, a.count, 1...Int.max, context)
            let cmp: (Double, Double) -> Bool
            switch op {
            case .eq: cmp = { $0 == $1 }
            case .gt: cmp = { $0 > $1 }
            case .lt: cmp = { $0 < $1 }
            case .geq: cmp = { $0 >= $1 }
            default: cmp = { $0 <= $1 }
            }
            if a.count == 2 {
                let x = a[0], y = a[1]
                return { cmp(x($0), y($0)) ? 1 : 0 }
            }
            return { b in
                var prev = a[0](b)
                for i in 1..<a.count {
                    let v = a[i](b)
                    if !cmp(prev, v) { return 0 }
                    prev = v
                }
                return 1
            }
        case .neq:
            try arity(op, a.count, 2...2, context)
            let x = a[0], y = a[1]
            return { x($0) != y($0) ? 1 : 0 }
        case .and:
            return { b in for f in a where f(b) == 0 { return 0 }; return 1 }
        case .or:
            return { b in for f in a where f(b) != 0 { return 1 }; return 0 }
        case .xor:
            return { b in var n = 0; for f in a where f(b) != 0 { n += 1 }; return n % 2 == 1 ? 1 : 0 }
        case .implies:
            try arity(op, a.count, 2...2, context)
            let x = a[0], y = a[1]
            return { (x($0) == 0 || y($0) != 0) ? 1 : 0 }
        case .max:
            try arity(op, a.count, 1...Int.max, context)
            return { b in var m = -Double.infinity; for f in a { let v = f(b); if v.isNaN { return v }; if v > m { m = v } }; return m }
        case .min:
            try arity(op, a.count, 1...Int.max, context)
            return { b in var m = Double.infinity; for f in a { let v = f(b); if v.isNaN { return v }; if v < m { m = v } }; return m }
        case .rem:
            try arity(op, a.count, 2...2, context)
            let x = a[0], y = a[1]
            return { fmod(x($0), y($0)) }
        case .quotient:
            try arity(op, a.count, 2...2, context)
            let x = a[0], y = a[1]
            return { trunc(x($0) / y($0)) }
        }
    }

    @inline(__always) static func power(_ x: Double, _ y: Double) -> Double {
        if y == 2 { return x * x }
        if y == 1 { return x }
        if y == 0.5 { return x.squareRoot() }
        return pow(x, y)
    }
}
