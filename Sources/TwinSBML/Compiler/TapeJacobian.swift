/// The analytic Jacobian `∂rate/∂state` of a tape, by forward-mode differentiation over its
/// instructions with sparse gradients.
///
/// At compile time each register that depends on the state gets a gradient: a sorted set of state
/// indices and a block of entries. Each instruction contributes `∂d/∂operand · ∇operand` to `∇d`; the
/// local partial derivatives (`b` for `a·b`, `1/b` and `−(a/b)/b` for `a/b`, `exp(a)` for `exp`, ...)
/// are appended to the tape as instructions of their own (sharing registers with the values), and the
/// products become a flat list of multiply-adds. Evaluating the Jacobian is then: run the value
/// instructions, run the partials, run the multiply-adds: exact derivatives (to rounding) at about the
/// cost of two right-hand-side evaluations, instead of one evaluation per colour group by finite
/// differences.
///
/// Piecewise functions are differentiated branch by branch (the condition selects the branch);
/// comparisons, logic, `floor`, `ceiling` and `quotient` have zero derivative. Math without a rule here
/// (`max`, `min`, `rem`, `factorial`, inverse and reciprocal trigonometric functions, a variable base of
/// `log` or degree of `root`) applied to state-dependent values makes the compiler keep finite
/// differences.
final class TapeJacobian {
    /// `gradient[target] += register[factor] · gradient[source]` (entry 0 holds the constant 1).
    struct Update {
        var target: Int32
        var source: Int32
        var factor: Int32
    }

    let updates: UnsafeMutablePointer<Update>
    let updateCount: Int
    /// Where each nonzero goes: `values[pattern] += gradient[entry]`.
    let outputPattern: UnsafeMutablePointer<Int32>
    let outputEntry: UnsafeMutablePointer<Int32>
    let outputCount: Int
    let patternCount: Int
    let entryCount: Int
    let gradient: UnsafeMutablePointer<Double>
    /// The tape's instructions that compute the partial derivatives.
    let partials: Range<Int>

    private init(plan: Plan, partials: Range<Int>, remap: (Int32) -> Int32) {
        updateCount = plan.updates.count
        updates = .allocate(capacity: Swift.max(1, updateCount))
        for (i, u) in plan.updates.enumerated() {
            (updates + i).initialize(to: Update(target: u.target, source: u.source, factor: remap(u.factor)))
        }
        outputCount = plan.outputs.count
        outputPattern = .allocate(capacity: Swift.max(1, outputCount))
        outputEntry = .allocate(capacity: Swift.max(1, outputCount))
        for (i, o) in plan.outputs.enumerated() {
            outputPattern[i] = o.pattern
            outputEntry[i] = o.entry
        }
        patternCount = plan.patternCount
        entryCount = plan.entryCount
        gradient = .allocate(capacity: Swift.max(1, entryCount))
        gradient.initialize(repeating: 0, count: Swift.max(1, entryCount))
        self.partials = partials
    }

    deinit {
        updates.deallocate()
        outputPattern.deallocate()
        outputEntry.deallocate()
        gradient.deallocate()
    }

    /// Evaluates the Jacobian's nonzeros in the order of the sparsity pattern. The register file must
    /// hold the values of the whole value part of `tape` at the point of interest. Returns false if an
    /// entry is not finite.
    func evaluate(tape: Tape, registers r: UnsafeMutablePointer<Double>, into values: UnsafeMutableBufferPointer<Double>) -> Bool {
        tape.run(r, partials)
        let g = gradient
        g.update(repeating: 0, count: entryCount)
        g[0] = 1
        for i in 0..<updateCount {
            let u = updates[i]
            let p = r[Int(u.factor)]
            if p != 0 { g[Int(u.target)] += p * g[Int(u.source)] }
        }
        for i in 0..<values.count { values[i] = 0 }
        var finite = true
        for i in 0..<outputCount {
            let v = g[Int(outputEntry[i])]
            values[Int(outputPattern[i])] += v
            if !v.isFinite { finite = false }
        }
        return finite
    }

    struct Plan {
        var updates: [Update] = []
        var outputs: [(pattern: Int32, entry: Int32)] = []
        var entryCount = 1
        var patternCount = 0
    }

    /// Differentiates the first `valueEnd` instructions of `builder` (appending the partials to it) and
    /// returns the plan, or nil when some state-dependent math has no derivative rule here (or a
    /// derivative falls outside `pattern`).
    static func plan(builder: inout TapeBuilder, valueEnd: Int, stateRegisters: [Int32], rateRegisters: [Int32],
                     pattern: [(row: Int, column: Int)]) -> Plan? {
        var plan = Plan()
        plan.patternCount = pattern.count
        var seed: [Int32: Int32] = [:]
        for (k, s) in stateRegisters.enumerated() { seed[s] = Int32(k) }
        // Gradient of a register: (columns, first entry).
        var grads: [Int32: (columns: [Int32], offset: Int32)] = [:]
        func gradient(_ r: Int32) -> [(column: Int32, entry: Int32)]? {
            if let k = seed[r] { return [(k, 0)] }
            if let g = grads[r] { return g.columns.enumerated().map { ($0.element, g.offset + Int32($0.offset)) } }
            return nil
        }
        let one = builder.constant(1), zero = builder.constant(0), minusOne = builder.constant(-1)
        for i in 0..<valueEnd {
            let ins = builder.code[i]
            let operands: [Int32]
            if TapeBuilder.isNAry(ins.op) {
                operands = (Int(ins.a)..<Int(ins.a + ins.b)).map { builder.arguments[$0] }
            } else {
                switch ins.op {
                case .select: operands = [ins.a, ins.b, ins.c]
                case .add, .sub, .mul, .div, .pow, .root, .log, .eq, .neq, .gt, .lt, .geq, .leq, .implies, .rem, .quotient:
                    operands = [ins.a, ins.b]
                default: operands = [ins.a]
                }
            }
            let active = operands.indices.filter { gradient(operands[$0]) != nil }
            if active.isEmpty { continue }
            let d = ins.d
            var contributions: [(operand: Int32, factor: Int32)] = []
            for position in active {
                let x = operands[position]
                let factor: Int32?
                switch ins.op {
                case .floor, .ceil, .sign, .not, .eq, .neq, .gt, .lt, .geq, .leq, .and, .or, .xor, .implies, .quotient:
                    factor = nil
                case .copy, .add, .sum: factor = one
                case .sub: factor = position == 0 ? one : minusOne
                case .neg: factor = minusOne
                case .mul: factor = position == 0 ? ins.b : ins.a
                case .product:
                    var others = operands
                    others.remove(at: position)
                    factor = others.count == 1 ? others[0] : others.count == 2 ? builder.emit(.mul, others[0], others[1]) : builder.emit(.product, arguments: others)
                case .div:
                    factor = position == 0 ? builder.emit(.div, one, ins.b) : builder.emit(.neg, builder.emit(.div, d, ins.b))
                case .pow:
                    if position == 0 {
                        factor = builder.emit(.mul, ins.b, builder.emit(.pow, ins.a, builder.emit(.sub, ins.b, one)))
                    } else {
                        factor = builder.emit(.mul, d, builder.emit(.ln, ins.a))
                    }
                case .root:
                    guard position == 1 else { return nil }
                    factor = builder.emit(.div, d, builder.emit(.mul, ins.a, ins.b))
                case .log:
                    guard position == 1 else { return nil }
                    factor = builder.emit(.div, one, builder.emit(.mul, ins.b, builder.emit(.ln, ins.a)))
                case .abs: factor = builder.emit(.sign, x)
                case .exp: factor = d
                case .ln: factor = builder.emit(.div, one, x)
                case .sin: factor = builder.emit(.cos, x)
                case .cos: factor = builder.emit(.neg, builder.emit(.sin, x))
                case .tan: factor = builder.emit(.add, one, builder.emit(.mul, d, d))
                case .sinh: factor = builder.emit(.cosh, x)
                case .cosh: factor = builder.emit(.sinh, x)
                case .tanh: factor = builder.emit(.sub, one, builder.emit(.mul, d, d))
                case .select:
                    if position == 0 { factor = nil } else if position == 1 {
                        factor = builder.emit(.select, ins.a, one, zero)
                    } else {
                        factor = builder.emit(.select, ins.a, zero, one)
                    }
                default:
                    return nil
                }
                if let factor { contributions.append((x, factor)) }
            }
            if contributions.isEmpty { continue }
            var columns = Set<Int32>()
            for c in contributions { for (col, _) in gradient(c.operand)! { columns.insert(col) } }
            let sorted = columns.sorted()
            let offset = Int32(plan.entryCount)
            var position: [Int32: Int32] = [:]
            for (k, col) in sorted.enumerated() { position[col] = offset + Int32(k) }
            plan.entryCount += sorted.count
            for c in contributions {
                for (col, entry) in gradient(c.operand)! {
                    plan.updates.append(Update(target: position[col]!, source: entry, factor: c.factor))
                }
            }
            grads[d] = (sorted, offset)
        }
        let n = stateRegisters.count
        var patternIndex: [Int: Int32] = [:]
        for (k, p) in pattern.enumerated() { patternIndex[p.row * n + p.column] = Int32(k) }
        for (row, r) in rateRegisters.enumerated() {
            guard let g = gradient(r) else { continue }
            for (col, entry) in g {
                guard let k = patternIndex[row * n + Int(col)] else { return nil }
                plan.outputs.append((k, entry))
            }
        }
        return plan
    }

    /// Builds the Jacobian after `builder.finish()`: `partials` are the instructions appended by `plan`.
    static func make(plan: Plan, partials: Range<Int>, remap: (Int32) -> Int32) -> TapeJacobian {
        TapeJacobian(plan: plan, partials: partials, remap: remap)
    }
}
