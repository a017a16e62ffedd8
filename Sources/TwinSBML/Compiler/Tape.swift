#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A compiled model's math as one straight-line program (a "tape") over a register file: the model's
/// value slots first (slot 0 holds time), then temporaries, then constants. Each instruction reads
/// registers and writes one; a register is written at most once per run (derived values into their
/// slots, everything else into fresh temporaries), so common sub-expressions are computed once and
/// shared by reference.
///
/// The tape computes the same values, in the same floating-point order, as the closures of
/// `ExpressionCompiler` (it replaces them on the hot path of models without `delay()` or algebraic
/// rules): no allocation, no reference counting, one `switch` per instruction.
final class Tape {
    enum Op: UInt8 {
        case copy, add, sub, mul, div, neg, pow, sum, product
        case root, abs, exp, ln, log, floor, ceil, factorial, sign
        case sin, cos, tan, sec, csc, cot, sinh, cosh, tanh, sech, csch, coth
        case arcsin, arccos, arctan, arcsec, arccsc, arccot, arcsinh, arccosh, arctanh, arcsech, arccsch, arccoth
        case not, eq, neq, gt, lt, geq, leq, and, or, xor, implies, max, min, rem, quotient
        /// `d = a != 0 ? b : c`
        case select
    }

    /// One instruction: `d = op(a, b, c)`; n-ary operations read `b` argument registers from
    /// `arguments[a...]`.
    struct Instruction: Hashable {
        var op: Op
        var d: Int32
        var a: Int32
        var b: Int32
        var c: Int32
    }

    let code: UnsafeMutablePointer<Instruction>
    let count: Int
    let arguments: UnsafeMutablePointer<Int32>
    let argumentCount: Int
    /// Registers in all (slots, temporaries, constants).
    let registerCount: Int
    /// Constant registers and their values (written once when the register file is set up).
    let constants: [(register: Int32, value: Double)]

    init(code: [Instruction], arguments: [Int32], registerCount: Int, constants: [(register: Int32, value: Double)]) {
        count = code.count
        self.code = .allocate(capacity: Swift.max(code.count, 1))
        self.code.initialize(from: code, count: code.count)
        argumentCount = arguments.count
        self.arguments = .allocate(capacity: Swift.max(arguments.count, 1))
        self.arguments.initialize(from: arguments, count: arguments.count)
        self.registerCount = registerCount
        self.constants = constants
    }

    deinit {
        code.deallocate()
        arguments.deallocate()
    }

    /// Writes the constants into a register file of at least `registerCount` entries.
    func loadConstants(_ r: UnsafeMutablePointer<Double>) {
        for (k, v) in constants { r[Int(k)] = v }
    }

    /// Runs instructions `range` over the register file `r`.
    @inline(__always)
    func run(_ r: UnsafeMutablePointer<Double>, _ range: Range<Int>) {
        let args = arguments
        for i in range {
            Self.execute(code[i], r, args)
        }
    }

    /// Runs the instructions at `indices` (ascending) over the register file `r`.
    func run(_ r: UnsafeMutablePointer<Double>, indices: [Int]) {
        let args = arguments
        for i in indices { Self.execute(code[i], r, args) }
    }

    /// The operand registers an instruction reads.
    func operands(of ins: Instruction) -> [Int32] {
        if TapeBuilder.isNAry(ins.op) { return (Int(ins.a)..<Int(ins.a + ins.b)).map { arguments[$0] } }
        switch ins.op {
        case .select: return [ins.a, ins.b, ins.c]
        case .add, .sub, .mul, .div, .pow, .root, .log, .eq, .neq, .gt, .lt, .geq, .leq, .implies, .rem, .quotient:
            return [ins.a, ins.b]
        default: return [ins.a]
        }
    }

    /// The discontinuities in time among instructions `0..<end`: comparisons (and `floor`, `ceiling`,
    /// `quotient`) whose operands depend on time but not on the state (`stateSlots`) nor on anything else
    /// the tape computes from it. Returns their registers and the instructions (ascending) that compute
    /// them from time, constants and parameters, so that they can be evaluated at any time alone.
    func timeSwitches(end: Int, stateSlots: [Int]) -> (program: [Int], registers: [Int]) {
        var written = Set<Int32>()
        for i in 0..<end { written.insert(code[i].d) }
        var stateDependent = Set<Int32>(stateSlots.map { Int32($0) })
        var timeDependent: Set<Int32> = [0]
        var producer: [Int32: Int] = [:]
        var switches: [Int] = []
        for i in 0..<end {
            let ins = code[i]
            let ops = operands(of: ins)
            // A slot the tape writes but has not yet written here reads a stale value: treat as state.
            if ops.contains(where: { stateDependent.contains($0) || (written.contains($0) && producer[$0] == nil) }) {
                stateDependent.insert(ins.d)
                continue
            }
            producer[ins.d] = i
            guard ops.contains(where: { timeDependent.contains($0) }) else { continue }
            timeDependent.insert(ins.d)
            switch ins.op {
            case .lt, .gt, .leq, .geq, .eq, .neq, .floor, .ceil, .quotient: switches.append(i)
            default: break
            }
        }
        var needed = Set<Int>()
        var stack = switches
        while let i = stack.popLast() {
            guard needed.insert(i).inserted else { continue }
            for o in operands(of: code[i]) { if let j = producer[o] { stack.append(j) } }
        }
        return (needed.sorted(), switches.map { Int(code[$0].d) })
    }

    // swiftlint:disable:next cyclomatic_complexity function_body_length
    @inline(__always)
    static func execute(_ ins: Instruction, _ r: UnsafeMutablePointer<Double>, _ args: UnsafeMutablePointer<Int32>) {
        let a = Int(ins.a), b = Int(ins.b)
        let v: Double
        switch ins.op {
        case .copy: v = r[a]
        case .add: v = r[a] + r[b]
        case .sub: v = r[a] - r[b]
        case .mul: v = r[a] * r[b]
        case .div: v = r[a] / r[b]
        case .neg: v = -r[a]
        case .pow: v = ExpressionCompiler.power(r[a], r[b])
        case .sum:
            switch b {
            case 2: v = r[Int(args[a])] + r[Int(args[a + 1])]
            case 3: v = r[Int(args[a])] + r[Int(args[a + 1])] + r[Int(args[a + 2])]
            default:
                var s = 0.0
                for k in a..<(a + b) { s += r[Int(args[k])] }
                v = s
            }
        case .product:
            switch b {
            case 2: v = r[Int(args[a])] * r[Int(args[a + 1])]
            case 3: v = r[Int(args[a])] * r[Int(args[a + 1])] * r[Int(args[a + 2])]
            default:
                var s = 1.0
                for k in a..<(a + b) { s *= r[Int(args[k])] }
                v = s
            }
        case .root:
            let n = r[a], x = r[b]
            if n == 2 { v = x.squareRoot() } else if x < 0, n.rounded() == n, Int(exactly: n).map({ $0 % 2 != 0 }) ?? false {
                v = -Glibc.pow(-x, 1 / n)
            } else { v = Glibc.pow(x, 1 / n) }
        case .abs: v = Swift.abs(r[a])
        case .exp: v = Glibc.exp(r[a])
        case .ln: v = Glibc.log(r[a])
        case .log:
            let base = r[a], x = r[b]
            v = base == 10 ? Glibc.log10(x) : Glibc.log(x) / Glibc.log(base)
        case .floor: v = Glibc.floor(r[a])
        case .ceil: v = Glibc.ceil(r[a])
        case .factorial: v = Glibc.tgamma(r[a] + 1)
        case .sign: let x = r[a]; v = x > 0 ? 1 : (x < 0 ? -1 : 0)
        case .sin: v = Glibc.sin(r[a])
        case .cos: v = Glibc.cos(r[a])
        case .tan: v = Glibc.tan(r[a])
        case .sec: v = 1 / Glibc.cos(r[a])
        case .csc: v = 1 / Glibc.sin(r[a])
        case .cot: v = 1 / Glibc.tan(r[a])
        case .sinh: v = Glibc.sinh(r[a])
        case .cosh: v = Glibc.cosh(r[a])
        case .tanh: v = Glibc.tanh(r[a])
        case .sech: v = 1 / Glibc.cosh(r[a])
        case .csch: v = 1 / Glibc.sinh(r[a])
        case .coth: v = 1 / Glibc.tanh(r[a])
        case .arcsin: v = Glibc.asin(r[a])
        case .arccos: v = Glibc.acos(r[a])
        case .arctan: v = Glibc.atan(r[a])
        case .arcsec: v = Glibc.acos(1 / r[a])
        case .arccsc: v = Glibc.asin(1 / r[a])
        case .arccot: let x = r[a]; v = x == 0 ? Double.pi / 2 : Glibc.atan(1 / x)
        case .arcsinh: v = Glibc.asinh(r[a])
        case .arccosh: v = Glibc.acosh(r[a])
        case .arctanh: v = Glibc.atanh(r[a])
        case .arcsech: v = Glibc.acosh(1 / r[a])
        case .arccsch: v = Glibc.asinh(1 / r[a])
        case .arccoth: v = Glibc.atanh(1 / r[a])
        case .not: v = r[a] != 0 ? 0 : 1
        case .eq: v = r[a] == r[b] ? 1 : 0
        case .neq: v = r[a] != r[b] ? 1 : 0
        case .gt: v = r[a] > r[b] ? 1 : 0
        case .lt: v = r[a] < r[b] ? 1 : 0
        case .geq: v = r[a] >= r[b] ? 1 : 0
        case .leq: v = r[a] <= r[b] ? 1 : 0
        case .and:
            var out = 1.0
            for k in a..<(a + b) where r[Int(args[k])] == 0 { out = 0; break }
            v = out
        case .or:
            var out = 0.0
            for k in a..<(a + b) where r[Int(args[k])] != 0 { out = 1; break }
            v = out
        case .xor:
            var n = 0
            for k in a..<(a + b) where r[Int(args[k])] != 0 { n += 1 }
            v = n % 2 == 1 ? 1 : 0
        case .implies: v = (r[a] == 0 || r[b] != 0) ? 1 : 0
        case .max:
            var m = -Double.infinity
            for k in a..<(a + b) {
                let x = r[Int(args[k])]
                if x.isNaN { m = x; break }
                if x > m { m = x }
            }
            v = m
        case .min:
            var m = Double.infinity
            for k in a..<(a + b) {
                let x = r[Int(args[k])]
                if x.isNaN { m = x; break }
                if x < m { m = x }
            }
            v = m
        case .rem: v = Glibc.fmod(r[a], r[b])
        case .quotient: v = Glibc.trunc(r[a] / r[b])
        case .select: v = r[a] != 0 ? r[b] : r[Int(ins.c)]
        }
        r[Int(ins.d)] = v
    }
}
