/// Builds a `Tape` from inlined `MathNode`s: constant folding, common sub-expression elimination (an
/// operation on the same registers is emitted once; `+` and `*` of two registers in either order count
/// as the same), and derived values written straight into their slots.
///
/// Folding and evaluation keep the closures' floating-point order (n-ary sums and products left to
/// right), so a model computes the same numbers whether it runs on the tape or on the closures.
struct TapeBuilder {
    /// Thrown for math the tape does not run (`delay`, unresolved `rateOf`, calls, lambdas, unknown ids);
    /// the model then keeps the closures.
    struct Unsupported: Error {
        var what: String
    }

    private struct Key: Hashable {
        var op: Tape.Op
        var a: Int32
        var b: Int32
        var c: Int32
        var arguments: [Int32]
    }

    let slots: [String: Int]
    let slotCount: Int
    private(set) var code: [Tape.Instruction] = []
    private(set) var arguments: [Int32] = []
    private var temporaries = 0
    private var constantRegister: [UInt64: Int32] = [:]
    /// Constant values by register, for folding (temporaries' registers are offset past the slots).
    private(set) var constantValue: [Int32: Double] = [:]
    private var cse: [Key: Int32] = [:]
    /// The key of the instruction emitted last (to retarget it into a slot).
    private var lastKey: Key?
    /// Constants get registers from the top of a reserved range so that temporaries stay contiguous;
    /// both are renumbered in `finish()`.
    private static let constantBase: Int32 = 1 << 30

    init(slots: [String: Int], slotCount: Int) {
        self.slots = slots
        self.slotCount = slotCount
    }

    static func isNAry(_ op: Tape.Op) -> Bool {
        switch op {
        case .sum, .product, .and, .or, .xor, .max, .min: return true
        default: return false
        }
    }

    mutating func constant(_ v: Double) -> Int32 {
        if let r = constantRegister[v.bitPattern] { return r }
        let r = Self.constantBase + Int32(constantRegister.count)
        constantRegister[v.bitPattern] = r
        constantValue[r] = v
        return r
    }

    private mutating func temporary() -> Int32 {
        defer { temporaries += 1 }
        return Int32(slotCount + temporaries)
    }

    /// Emits `op` (or finds it already emitted, or folds it when all operands are constant) and returns
    /// the register holding its value.
    mutating func emit(_ op: Tape.Op, _ a: Int32 = 0, _ b: Int32 = 0, _ c: Int32 = 0, arguments list: [Int32] = []) -> Int32 {
        var a = a, b = b
        let nAry = Self.isNAry(op)
        if (op == .add || op == .mul) && a > b { swap(&a, &b) }
        let operands: [Int32]
        switch op {
        case _ where nAry: operands = list
        case .select: operands = [a, b, c]
        case .copy, .neg, .abs, .exp, .ln, .floor, .ceil, .factorial, .sign, .sin, .cos, .tan, .sec, .csc, .cot,
             .sinh, .cosh, .tanh, .sech, .csch, .coth, .arcsin, .arccos, .arctan, .arcsec, .arccsc, .arccot,
             .arcsinh, .arccosh, .arctanh, .arcsech, .arccsch, .arccoth, .not:
            operands = [a]
        default: operands = [a, b]
        }
        if op == .select, let cv = constantValue[a] { return cv != 0 ? b : c }
        if op == .copy { return a }
        if operands.allSatisfy({ constantValue[$0] != nil }) {
            // Fold: run the one instruction on a small register file.
            var file = operands.map { constantValue[$0]! } + [0]
            let out = Int32(operands.count)
            var args: [Int32] = []
            var ins = Tape.Instruction(op: op, d: out, a: 0, b: 0, c: 0)
            if nAry {
                args = (0..<Int32(operands.count)).map { $0 }
                ins.a = 0
                ins.b = Int32(operands.count)
            } else {
                ins.a = 0
                ins.b = operands.count > 1 ? 1 : 0
                ins.c = operands.count > 2 ? 2 : 0
            }
            if args.isEmpty { args = [0] }
            file.withUnsafeMutableBufferPointer { f in
                args.withUnsafeMutableBufferPointer { g in Tape.execute(ins, f.baseAddress!, g.baseAddress!) }
            }
            return constant(file[Int(out)])
        }
        let key = nAry ? Key(op: op, a: 0, b: 0, c: 0, arguments: list) : Key(op: op, a: a, b: b, c: c, arguments: [])
        if let r = cse[key] { return r }
        let d = temporary()
        if nAry {
            let start = Int32(arguments.count)
            arguments.append(contentsOf: list)
            code.append(.init(op: op, d: d, a: start, b: Int32(list.count), c: 0))
        } else {
            code.append(.init(op: op, d: d, a: a, b: b, c: c))
        }
        cse[key] = d
        lastKey = key
        return d
    }

    /// Compiles `node` and stores its value in `slot` (the last instruction is retargeted when it was
    /// emitted for this value, else a copy is emitted).
    mutating func emit(_ node: MathNode, into slot: Int) throws(Unsupported) {
        let before = code.count
        let r = try compile(node)
        let target = Int32(slot)
        if code.count > before, let last = code.last, last.d == r, r >= Int32(slotCount), r < Self.constantBase {
            code[code.count - 1].d = target
            if let k = lastKey, cse[k] == r { cse[k] = target }
            if Int(r) == slotCount + temporaries - 1 { temporaries -= 1 }
            return
        }
        code.append(.init(op: .copy, d: target, a: r, b: 0, c: 0))
    }

    mutating func compile(_ node: MathNode) throws(Unsupported) -> Int32 {
        switch node {
        case .number(let v): return constant(v)
        case .boolean(let b): return constant(b ? 1 : 0)
        case .avogadro: return constant(6.02214179e23)
        case .time: return 0
        case .symbol(let s):
            guard let slot = slots[s] else { throw Unsupported(what: "symbol '\(s)'") }
            return Int32(slot)
        case .call(let f, _): throw Unsupported(what: "call of '\(f)'")
        case .lambda: throw Unsupported(what: "lambda")
        case .rateOf: throw Unsupported(what: "rateOf")
        case .delay: throw Unsupported(what: "delay")
        case .piecewise(let values, let conditions, let otherwise):
            var vs: [Int32] = [], cs: [Int32] = []
            for v in values { vs.append(try compile(v)) }
            for c in conditions { cs.append(try compile(c)) }
            var acc = try otherwise.map { (o) throws(Unsupported) in try compile(o) } ?? constant(.nan)
            for i in stride(from: min(vs.count, cs.count) - 1, through: 0, by: -1) {
                acc = emit(.select, cs[i], vs[i], acc)
            }
            return acc
        case .apply(let op, let args):
            var r: [Int32] = []
            for a in args { r.append(try compile(a)) }
            return try apply(op, r)
        }
    }

    private mutating func apply(_ op: MathOperator, _ r: [Int32]) throws(Unsupported) -> Int32 {
        func need(_ n: ClosedRange<Int>) throws(Unsupported) {
            guard n.contains(r.count) else { throw Unsupported(what: "'\(op.rawValue)' with \(r.count) arguments") }
        }
        func unary(_ t: Tape.Op) throws(Unsupported) -> Int32 {
            try need(1...1)
            return emit(t, r[0])
        }
        switch op {
        case .plus:
            switch r.count {
            case 0: return constant(0)
            case 1: return r[0]
            case 2: return emit(.add, r[0], r[1])
            default: return emit(.sum, arguments: r)
            }
        case .times:
            switch r.count {
            case 0: return constant(1)
            case 1: return r[0]
            case 2: return emit(.mul, r[0], r[1])
            default: return emit(.product, arguments: r)
            }
        case .minus:
            try need(1...2)
            return r.count == 1 ? emit(.neg, r[0]) : emit(.sub, r[0], r[1])
        case .divide: try need(2...2); return emit(.div, r[0], r[1])
        case .power: try need(2...2); return emit(.pow, r[0], r[1])
        case .root: try need(2...2); return emit(.root, r[0], r[1])
        case .log: try need(2...2); return emit(.log, r[0], r[1])
        case .abs: return try unary(.abs)
        case .exp: return try unary(.exp)
        case .ln: return try unary(.ln)
        case .floor: return try unary(.floor)
        case .ceiling: return try unary(.ceil)
        case .factorial: return try unary(.factorial)
        case .sin: return try unary(.sin)
        case .cos: return try unary(.cos)
        case .tan: return try unary(.tan)
        case .sec: return try unary(.sec)
        case .csc: return try unary(.csc)
        case .cot: return try unary(.cot)
        case .sinh: return try unary(.sinh)
        case .cosh: return try unary(.cosh)
        case .tanh: return try unary(.tanh)
        case .sech: return try unary(.sech)
        case .csch: return try unary(.csch)
        case .coth: return try unary(.coth)
        case .arcsin: return try unary(.arcsin)
        case .arccos: return try unary(.arccos)
        case .arctan: return try unary(.arctan)
        case .arcsec: return try unary(.arcsec)
        case .arccsc: return try unary(.arccsc)
        case .arccot: return try unary(.arccot)
        case .arcsinh: return try unary(.arcsinh)
        case .arccosh: return try unary(.arccosh)
        case .arctanh: return try unary(.arctanh)
        case .arcsech: return try unary(.arcsech)
        case .arccsch: return try unary(.arccsch)
        case .arccoth: return try unary(.arccoth)
        case .not: return try unary(.not)
        case .eq, .gt, .lt, .geq, .leq:
            try need(1...Int.max)
            let t: Tape.Op = op == .eq ? .eq : op == .gt ? .gt : op == .lt ? .lt : op == .geq ? .geq : .leq
            if r.count == 1 { return constant(1) }
            if r.count == 2 { return emit(t, r[0], r[1]) }
            var pairs: [Int32] = []
            for i in 1..<r.count { pairs.append(emit(t, r[i - 1], r[i])) }
            return emit(.and, arguments: pairs)
        case .neq: try need(2...2); return emit(.neq, r[0], r[1])
        case .and: return r.isEmpty ? constant(1) : emit(.and, arguments: r)
        case .or: return r.isEmpty ? constant(0) : emit(.or, arguments: r)
        case .xor: return r.isEmpty ? constant(0) : emit(.xor, arguments: r)
        case .implies: try need(2...2); return emit(.implies, r[0], r[1])
        case .max: try need(1...Int.max); return emit(.max, arguments: r)
        case .min: try need(1...Int.max); return emit(.min, arguments: r)
        case .rem: try need(2...2); return emit(.rem, r[0], r[1])
        case .quotient: try need(2...2); return emit(.quotient, r[0], r[1])
        }
    }

    /// Number of instructions emitted so far.
    var instructionCount: Int { code.count }

    /// The finished tape, with constants renumbered after the temporaries, and the map applied to
    /// registers the caller holds (`remap`).
    func finish() -> (tape: Tape, remap: (Int32) -> Int32) {
        let constantStart = Int32(slotCount + temporaries)
        let base = Self.constantBase
        let remap: (Int32) -> Int32 = { $0 >= base ? constantStart + ($0 - base) : $0 }
        let code = self.code.map { ins in
            Tape.Instruction(op: ins.op, d: remap(ins.d), a: Self.isNAry(ins.op) ? ins.a : remap(ins.a),
                             b: Self.isNAry(ins.op) ? ins.b : remap(ins.b), c: remap(ins.c))
        }
        let args = arguments.map(remap)
        let constants = constantValue.map { (register: remap($0.key), value: $0.value) }
        let tape = Tape(code: code, arguments: args, registerCount: Int(constantStart) + constantRegister.count, constants: constants)
        return (tape, remap)
    }
}
