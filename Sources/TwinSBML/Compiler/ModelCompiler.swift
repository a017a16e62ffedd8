/// Compiles an `SBMLModel` into a `CompiledModel`: assigns every id a slot, decides the state vector,
/// orders assignment rules, concentrations and reaction rates by their dependencies (cycles are errors),
/// builds the right-hand side from the stoichiometry, and compiles initial values and events.
public enum ModelCompiler {
    static let hidden: Character = "\u{1}"

    /// Compiles a model.
    /// - Throws: `SBMLError` for undefined ids (`.undefinedSymbol`), cyclic rules (`.cyclicRules`),
    ///   constructs that are not simulated (`.unsupported`, naming the construct) and invalid math.
    public static func compile(_ model: SBMLModel) throws(SBMLError) -> CompiledModel {
        var b = Builder(model: model)
        return try b.build()
    }
}

private struct Builder {
    let model: SBMLModel
    var slots: [String: Int] = ["\u{1}time": 0]
    var slotNames: [String] = ["time"]
    var lines: [String: Int] = [:]

    init(model: SBMLModel) { self.model = model }

    mutating func add(_ id: String, line: Int) throws(SBMLError) -> Int {
        if slots[id] != nil {
            throw SBMLError(.invalidSBML, "the id '\(id)' is defined twice", value: id, line: line)
        }
        let s = slotNames.count
        slots[id] = s
        slotNames.append(id)
        lines[id] = line
        return s
    }

    func slot(_ id: String, _ context: String, line: Int) throws(SBMLError) -> Int {
        guard let s = slots[id] else {
            throw SBMLError(.undefinedSymbol, "'\(id)' referenced by \(context) is not defined", value: id, line: line)
        }
        return s
    }

    mutating func build() throws(SBMLError) -> CompiledModel {
        let m = model
        for c in m.compartments { _ = try add(c.id, line: c.line) }
        for s in m.species { _ = try add(s.id, line: s.line) }
        for p in m.parameters { _ = try add(p.id, line: p.line) }
        for r in m.reactions {
            _ = try add(r.id, line: r.line)
            for sr in r.reactants + r.products { if let id = sr.id { _ = try add(id, line: sr.line) } }
        }
        var functions: [String: SBMLModel.FunctionDefinition] = [:]
        for f in m.functions { functions[f.id] = f }
        let compartmentOf: [String: String] = Dictionary(m.species.map { ($0.id, $0.compartment) }, uniquingKeysWith: { a, _ in a })
        for s in m.species where m.compartments.first(where: { $0.id == s.compartment }) == nil {
            throw SBMLError(.undefinedSymbol, "species '\(s.id)' is in compartment '\(s.compartment)', which is not defined", value: s.compartment, line: s.line)
        }

        // Rules.
        var assignmentRule: [String: SBMLModel.Rule] = [:], rateRule: [String: SBMLModel.Rule] = [:]
        var algebraicRules: [SBMLModel.Rule] = []
        for r in m.rules {
            switch r.kind {
            case .assignment, .rate:
                _ = try slot(r.variable, "\(r.kind == .rate ? "rate" : "assignment") rule", line: r.line)
                if assignmentRule[r.variable] != nil || rateRule[r.variable] != nil {
                    throw SBMLError(.invalidSBML, "'\(r.variable)' is the variable of more than one rule", value: r.variable, line: r.line)
                }
                if r.kind == .assignment { assignmentRule[r.variable] = r } else { rateRule[r.variable] = r }
            case .algebraic: algebraicRules.append(r)
            }
        }
        for a in m.initialAssignments { _ = try slot(a.symbol, "initialAssignment", line: a.line) }
        for e in m.events { for a in e.assignments { _ = try slot(a.variable, "event '\(e.id)'", line: a.line) } }

        // Local parameters get their own slots; kinetic laws are rewritten to use them.
        var laws: [String: MathNode] = [:]
        var localInit: [(name: String, value: Double?)] = []
        for r in m.reactions {
            var map: [String: MathNode] = [:]
            for lp in r.localParameters {
                let name = "\(r.id)\(ModelCompiler.hidden)\(lp.id)"
                _ = try add(name, line: r.line)
                map[lp.id] = .symbol(name)
                localInit.append((name, lp.value))
            }
            laws[r.id] = (r.kineticLaw ?? .number(0)).substituting(map)
        }

        // Stoichiometries: a number, or a slot (species reference id or a hidden one for stoichiometryMath).
        var stoichMath: [(name: String, math: MathNode, line: Int)] = []
        var srefInit: [(name: String, value: Double?)] = []
        var termsOf: [String: [MathNode]] = [:]
        var fastTerms: [String: [(species: String, coefficient: MathNode)]] = [:]
        var changedByReactions = Set<String>()
        for r in m.reactions {
            for (i, sr) in (r.reactants + r.products).enumerated() {
                let sign = i < r.reactants.count ? -1.0 : 1.0
                guard compartmentOf[sr.species] != nil else {
                    throw SBMLError(.undefinedSymbol, "reaction '\(r.id)' refers to species '\(sr.species)', which is not defined", value: sr.species, line: sr.line)
                }
                var stoich: MathNode
                if let id = sr.id {
                    stoich = .symbol(id)
                    if let sm = sr.stoichiometryMath { stoichMath.append((id, sm, sr.line)) } else { srefInit.append((id, sr.stoichiometry)) }
                } else if let sm = sr.stoichiometryMath {
                    let name = "\(r.id)\(ModelCompiler.hidden)stoich\(i)"
                    _ = try add(name, line: sr.line)
                    stoichMath.append((name, sm, sr.line))
                    stoich = .symbol(name)
                } else {
                    stoich = .number(sr.stoichiometry ?? 1)
                }
                let coefficient: MathNode = sign < 0 ? .apply(.minus, [stoich]) : stoich
                if r.fast {
                    fastTerms[r.id, default: []].append((sr.species, coefficient))
                } else {
                    termsOf[sr.species, default: []].append(.apply(.times, [coefficient, .symbol(r.id)]))
                }
                changedByReactions.insert(sr.species)
            }
            for mod in r.modifiers where compartmentOf[mod] == nil {
                throw SBMLError(.undefinedSymbol, "reaction '\(r.id)' has modifier '\(mod)', which is not a species", value: mod, line: r.line)
            }
        }
        let stoichMathNames = Set(stoichMath.map(\.name))

        // Algebraic variables: non-constant, not set by another rule or by reactions; matched to rules.
        var candidates = Set<String>()
        for c in m.compartments where !c.constant && assignmentRule[c.id] == nil && rateRule[c.id] == nil { candidates.insert(c.id) }
        for p in m.parameters where !p.constant && assignmentRule[p.id] == nil && rateRule[p.id] == nil { candidates.insert(p.id) }
        for s in m.species where !s.constant && assignmentRule[s.id] == nil && rateRule[s.id] == nil && !(changedByReactions.contains(s.id) && !s.boundaryCondition) { candidates.insert(s.id) }
        for r in m.reactions { for sr in r.reactants + r.products { if let id = sr.id, !sr.constant, assignmentRule[id] == nil, rateRule[id] == nil, !stoichMathNames.contains(id) { candidates.insert(id) } } }
        var exprCompiler = ExpressionCompiler(slots: slots, functions: functions, history: nil, slotCount: 0)
        var algebraicVariable: [String] = []
        if !algebraicRules.isEmpty {
            // Variables that events assign are matched last (an event cannot set what a rule determines).
            let eventTargets = Set(m.events.flatMap { $0.assignments.map(\.variable) })
            var options: [[String]] = []
            for r in algebraicRules {
                let syms = try exprCompiler.inline(r.math, context: "algebraic rule").symbols
                let c = syms.filter { candidates.contains($0) }
                options.append(c.filter { !eventTargets.contains($0) }.sorted() + c.filter { eventTargets.contains($0) }.sorted())
            }
            var owner: [String: Int] = [:]
            func augment(_ i: Int, _ seen: inout Set<String>) -> Bool {
                for v in options[i] where !seen.contains(v) {
                    seen.insert(v)
                    if let o = owner[v] {
                        if augment(o, &seen) { owner[v] = i; return true }
                    } else { owner[v] = i; return true }
                }
                return false
            }
            for i in 0..<algebraicRules.count {
                var seen = Set<String>()
                if !augment(i, &seen) {
                    throw SBMLError(.unsupported, "algebraic rule at line \(algebraicRules[i].line): no variable left for it to determine (overdetermined or structurally singular)", value: "algebraicRule", line: algebraicRules[i].line)
                }
            }
            algebraicVariable = [String](repeating: "", count: algebraicRules.count)
            for (v, i) in owner { algebraicVariable[i] = v }
        }
        let algebraicSet = Set(algebraicVariable)

        // The state vector.
        var stateSlots: [Int] = [], stateNames: [String] = []
        var speciesInfo: [String: CompiledModel.SpeciesInfo] = [:]
        var stateOfSlot: [Int: Int] = [:]
        var amountSlot: [String: Int] = [:]
        for s in m.species {
            let sslot = slots[s.id]!, cslot = slots[s.compartment]!
            var info = CompiledModel.SpeciesInfo(slot: sslot, compartmentSlot: cslot, onlySubstance: s.hasOnlySubstanceUnits, state: nil)
            if assignmentRule[s.id] == nil && !algebraicSet.contains(s.id) {
                let a = try add("\(ModelCompiler.hidden)amount\(ModelCompiler.hidden)\(s.id)", line: s.line)
                amountSlot[s.id] = a
                info.state = stateSlots.count
                stateOfSlot[a] = stateSlots.count
                stateSlots.append(a)
                stateNames.append(s.id)
            }
            speciesInfo[s.id] = info
        }
        for (v, _) in rateRule.sorted(by: { $0.key < $1.key }) where speciesInfo[v] == nil {
            let s = slots[v]!
            stateOfSlot[s] = stateSlots.count
            stateSlots.append(s)
            stateNames.append(v)
        }

        // Rate expressions (MathNodes) of every state; species in amount per time.
        var rateNode: [String: MathNode] = [:]
        for (v, r) in rateRule where speciesInfo[v] == nil { rateNode[v] = r.math }
        let speciesById: [String: SBMLModel.Species] = Dictionary(m.species.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        for s in m.species where amountSlot[s.id] != nil {
            let V: MathNode = .symbol(s.compartment)
            let dV = rateNode[s.compartment] ?? .number(0)
            if let rr = rateRule[s.id] {
                rateNode[s.id] = s.hasOnlySubstanceUnits ? rr.math : .apply(.plus, [.apply(.times, [rr.math, V]), .apply(.times, [.symbol(s.id), dV])])
            } else if !s.boundaryCondition, let terms = termsOf[s.id] {
                var sum: MathNode = terms.count == 1 ? terms[0] : .apply(.plus, terms)
                if let cf = s.conversionFactor ?? m.conversionFactor {
                    _ = try slot(cf, "conversionFactor of species '\(s.id)'", line: s.line)
                    sum = .apply(.times, [sum, .symbol(cf)])
                }
                rateNode[s.id] = sum
            } else {
                rateNode[s.id] = .number(0)
            }
        }
        // rateOf(x) is replaced by x's rate expression.
        func rateOfExpression(_ x: String, depth: Int) throws(SBMLError) -> MathNode {
            if depth > 32 { throw SBMLError(.cyclicRules, "rateOf('\(x)') depends on itself", value: x) }
            if let s = speciesById[x] {
                guard amountSlot[x] != nil, let dn = rateNode[x] else {
                    if assignmentRule[x] != nil { throw SBMLError(.unsupported, "rateOf('\(x)') of a variable set by an assignment rule", value: "rateOf", line: s.line) }
                    return .number(0)
                }
                let e = try expandRateOf(dn, depth: depth + 1)
                if s.hasOnlySubstanceUnits { return e }
                let dV = try rateNode[s.compartment].map { (n) throws(SBMLError) in try expandRateOf(n, depth: depth + 1) } ?? .number(0)
                return .apply(.divide, [.apply(.minus, [e, .apply(.times, [.symbol(x), dV])]), .symbol(s.compartment)])
            }
            if let n = rateNode[x] { return try expandRateOf(n, depth: depth + 1) }
            if assignmentRule[x] != nil { throw SBMLError(.unsupported, "rateOf('\(x)') of a variable set by an assignment rule", value: "rateOf") }
            if algebraicSet.contains(x) { throw SBMLError(.unsupported, "rateOf('\(x)') of a variable set by an algebraic rule", value: "rateOf") }
            return .number(0)
        }
        /// `past`: inside delay(), where before the start the history is constant and rateOf is 0.
        func expandRateOf(_ node: MathNode, depth: Int, past: Bool = false) throws(SBMLError) -> MathNode {
            guard node.contains(where: { if case .rateOf = $0 { return true }; return false }) else { return node }
            switch node {
            case .rateOf(let x):
                guard case .symbol(let id) = x else { throw SBMLError(.unsupported, "rateOf() of an expression (not an id)", value: "rateOf") }
                let e = try rateOfExpression(id, depth: depth)
                return past ? .piecewise([e], [.apply(.geq, [.time, .number(0)])], .number(0)) : e
            case .apply(let op, let args):
                var out: [MathNode] = []
                for a in args { out.append(try expandRateOf(a, depth: depth, past: past)) }
                return .apply(op, out)
            case .call(let f, let args):
                var out: [MathNode] = []
                for a in args { out.append(try expandRateOf(a, depth: depth, past: past)) }
                return .call(f, out)
            case .piecewise(let v, let c, let o):
                var vv: [MathNode] = [], cc: [MathNode] = []
                for a in v { vv.append(try expandRateOf(a, depth: depth, past: past)) }
                for a in c { cc.append(try expandRateOf(a, depth: depth, past: past)) }
                return .piecewise(vv, cc, try o.map { (x) throws(SBMLError) in try expandRateOf(x, depth: depth, past: past) })
            case .delay(let a, let t): return .delay(try expandRateOf(a, depth: depth, past: true), try expandRateOf(t, depth: depth, past: past))
            default: return node
            }
        }
        func prepare(_ node: MathNode, _ context: String) throws(SBMLError) -> MathNode {
            try expandRateOf(try exprCompiler.inline(node, context: context), depth: 0)
        }

        // Delays need a history of past values.
        let usesDelay = m.rules.contains { $0.math.contains(where: Self.isDelay) }
            || m.reactions.contains { $0.kineticLaw?.contains(where: Self.isDelay) ?? false }
            || m.events.contains { e in e.trigger.contains(where: Self.isDelay) || e.assignments.contains { $0.math.contains(where: Self.isDelay) } || (e.delay?.contains(where: Self.isDelay) ?? false) || (e.priority?.contains(where: Self.isDelay) ?? false) }
            || m.initialAssignments.contains { $0.math.contains(where: Self.isDelay) }
            || m.functions.contains { $0.body.contains(where: Self.isDelay) }
        let history: DelayHistory? = usesDelay ? DelayHistory() : nil
        exprCompiler = ExpressionCompiler(slots: slots, functions: functions, history: history, slotCount: slotNames.count)

        // Derived values, in dependency order.
        struct Node { var slot: Int; var name: String; var math: MathNode?; var eval: Eval?; var deps: Set<String>; var line: Int; var what: String = "" }
        var nodes: [Node] = []
        for s in m.species {
            guard let a = amountSlot[s.id] else { continue }
            let c = slots[s.compartment]!
            let e: Eval = s.hasOnlySubstanceUnits ? { $0[a] } : { $0[a] / $0[c] }
            let amount = MathNode.symbol("\(ModelCompiler.hidden)amount\(ModelCompiler.hidden)\(s.id)")
            let math: MathNode = s.hasOnlySubstanceUnits ? amount : .apply(.divide, [amount, .symbol(s.compartment)])
            nodes.append(Node(slot: slots[s.id]!, name: s.id, math: math, eval: e, deps: [s.compartment], line: s.line))
        }
        for r in m.rules where r.kind == .assignment {
            let math = try prepare(r.math, "assignment rule for '\(r.variable)'")
            nodes.append(Node(slot: slots[r.variable]!, name: r.variable, math: math, eval: nil, deps: math.symbols, line: r.line, what: "assignment rule for '\(r.variable)'"))
        }
        for r in m.reactions {
            let math = try prepare(laws[r.id]!, "kineticLaw of reaction '\(r.id)'")
            nodes.append(Node(slot: slots[r.id]!, name: r.id, math: math, eval: nil, deps: math.symbols, line: r.line, what: "kineticLaw of reaction '\(r.id)'"))
        }
        for sm in stoichMath {
            let math = try prepare(sm.math, "stoichiometryMath")
            nodes.append(Node(slot: slots[sm.name]!, name: sm.name, math: math, eval: nil, deps: math.symbols, line: sm.line, what: "stoichiometryMath"))
        }
        let order = try Self.order(nodes.map { ($0.name, $0.deps, $0.line) }, what: "assignment rules")
        var derived: [(slot: Int, eval: Eval)] = []
        for i in order {
            let n = nodes[i]
            if let e = n.eval { derived.append((n.slot, e)) } else {
                do {
                    derived.append((n.slot, try exprCompiler.compile(n.math!, context: n.what)))
                } catch {
                    throw SBMLError(error.code, error.message, value: error.value, line: error.line ?? n.line)
                }
            }
        }
        var rates: [Eval] = []
        var preparedRates: [MathNode] = []
        for name in stateNames {
            let node = try prepare(rateNode[name] ?? .number(0), "rate of '\(name)'")
            preparedRates.append(node)
            rates.append(try exprCompiler.compile(node, context: "rate of '\(name)'"))
        }

        // The Jacobian's sparsity: which states each rate depends on, through derived values.
        var sparsity: [(row: Int, column: Int)]?
        if !usesDelay && algebraicRules.isEmpty && !m.reactions.contains(where: \.fast) {
            var stateIndex: [String: Int] = [:]
            for (k, name) in stateNames.enumerated() { stateIndex[name] = k }
            var nodeDeps: [String: Set<String>] = [:]
            for n in nodes { nodeDeps[n.name] = n.deps }
            var memo: [String: Set<Int>] = [:]
            func reach(_ sym: String, _ depth: Int) -> Set<Int> {
                if let r = memo[sym] { return r }
                var out = Set<Int>()
                if let k = stateIndex[sym] { out.insert(k) }
                if depth < 200, let deps = nodeDeps[sym] {
                    for d in deps where d != sym { out.formUnion(reach(d, depth + 1)) }
                }
                memo[sym] = out
                return out
            }
            var pattern: [(row: Int, column: Int)] = []
            for k in stateNames.indices {
                let node = preparedRates[k]
                var cols = Set<Int>()
                for sym in node.symbols { cols.formUnion(reach(sym, 0)) }
                cols.insert(k)
                for c in cols.sorted() { pattern.append((k, c)) }
            }
            sparsity = pattern
        }

        // The tape: derived values and rates as one straight-line program, with the analytic Jacobian.
        var program: CompiledModel.Program?
        if history == nil && algebraicRules.isEmpty {
            var tb = TapeBuilder(slots: slots, slotCount: slotNames.count)
            do {
                for i in order {
                    guard let math = nodes[i].math else { throw TapeBuilder.Unsupported(what: nodes[i].name) }
                    try tb.emit(math, into: nodes[i].slot)
                }
                let derivedEnd = tb.instructionCount
                var rateRegisters: [Int32] = []
                for node in preparedRates { rateRegisters.append(try tb.compile(node)) }
                let valueEnd = tb.instructionCount
                var plan: TapeJacobian.Plan?
                if let sparsity {
                    plan = TapeJacobian.plan(builder: &tb, valueEnd: valueEnd, stateRegisters: stateSlots.map { Int32($0) },
                                             rateRegisters: rateRegisters, pattern: sparsity)
                }
                let end = tb.instructionCount
                let (tape, remap) = tb.finish()
                let jacobian = plan.map { TapeJacobian.make(plan: $0, partials: valueEnd..<end, remap: remap) }
                program = CompiledModel.Program(tape: tape, derivedEnd: derivedEnd, valueEnd: valueEnd,
                                                rateRegisters: rateRegisters.map { Int(remap($0)) }, jacobian: jacobian)
            } catch {
                program = nil
            }
        }

        // Fast reactions (rapid equilibrium).
        var fast: FastSubsystem?
        let fastReactions = m.reactions.filter(\.fast)
        if !fastReactions.isEmpty {
            var columns: [[(state: Int, coefficient: Eval)]] = []
            for r in fastReactions {
                var col: [(state: Int, coefficient: Eval)] = []
                for (sp, c) in fastTerms[r.id] ?? [] {
                    guard let info = speciesInfo[sp], let k = info.state, let s = speciesById[sp], !s.boundaryCondition, rateRule[sp] == nil else { continue }
                    var coef = c
                    if let cf = s.conversionFactor ?? m.conversionFactor { coef = .apply(.times, [c, .symbol(cf)]) }
                    col.append((k, try exprCompiler.compile(try prepare(coef, "fast reaction '\(r.id)'"), context: "stoichiometry in fast reaction '\(r.id)'")))
                }
                columns.append(col)
            }
            if !algebraicRules.isEmpty {
                throw SBMLError(.unsupported, "fast reactions together with algebraic rules", value: "fast", line: fastReactions[0].line)
            }
            // A piecewise rate law can switch to another branch whose equilibrium is elsewhere: the state
            // would have to jump there mid-run, which the equilibrium-holding correction does not do.
            for r in fastReactions {
                let law = try prepare(laws[r.id] ?? .number(0), "fast reaction '\(r.id)'")
                if law.contains(where: { if case .piecewise = $0 { return true }; return false }) {
                    throw SBMLError(.unsupported, "piecewise in the rate law of fast reaction '\(r.id)' (a switch of the fast equilibrium during the run)", value: r.id, line: r.line)
                }
            }
            fast = FastSubsystem(fluxSlots: fastReactions.map { slots[$0.id]! }, columns: columns, names: fastReactions.map(\.id))
        }

        // Algebraic rules.
        var algebraic: AlgebraicSystem?
        if !algebraicRules.isEmpty {
            var residuals: [Eval] = []
            for r in algebraicRules { residuals.append(try exprCompiler.compile(try prepare(r.math, "algebraic rule"), context: "algebraic rule (line \(r.line))")) }
            algebraic = AlgebraicSystem(unknownSlots: algebraicVariable.map { slots[$0]! }, residuals: residuals, names: algebraicVariable)
        }

        // Initial values: initial assignments, then assignment rules, then the attributes.
        var initMath: [String: (MathNode, Int)] = [:]
        for c in m.compartments { initMath[c.id] = (.number(c.size ?? 1), c.line) }
        for p in m.parameters { initMath[p.id] = (.number(p.value ?? .nan), p.line) }
        for s in m.species {
            let V: MathNode = .symbol(s.compartment)
            let e: MathNode
            if let c = s.initialConcentration { e = s.hasOnlySubstanceUnits ? .apply(.times, [.number(c), V]) : .number(c) }
            else if let a = s.initialAmount { e = s.hasOnlySubstanceUnits ? .number(a) : .apply(.divide, [.number(a), V]) }
            else { e = .number(.nan) }
            initMath[s.id] = (e, s.line)
        }
        for l in localInit { initMath[l.name] = (.number(l.value ?? .nan), 0) }
        for sr in srefInit { initMath[sr.name] = (.number(sr.value ?? 1), 0) }
        for sm in stoichMath { initMath[sm.name] = (sm.math, sm.line) }
        for r in m.reactions { initMath[r.id] = (laws[r.id]!, r.line) }
        for r in m.rules where r.kind == .assignment { initMath[r.variable] = (r.math, r.line) }
        for a in m.initialAssignments {
            if assignmentRule[a.symbol] != nil {
                throw SBMLError(.invalidSBML, "'\(a.symbol)' has both an initial assignment and an assignment rule", value: a.symbol, line: a.line)
            }
            initMath[a.symbol] = (a.math, a.line)
        }
        var initNodes: [(name: String, math: MathNode, line: Int)] = []
        for (name, v) in initMath.sorted(by: { (slots[$0.key] ?? 0) < (slots[$1.key] ?? 0) }) {
            initNodes.append((name, try prepare(v.0, "initial value of '\(name)'"), v.1))
        }
        let initOrder = try Self.order(initNodes.map { ($0.name, $0.math.symbols, $0.line) }, what: "initial assignments")
        var initialization: [(slot: Int, eval: Eval)] = []
        for i in initOrder {
            let n = initNodes[i]
            initialization.append((slots[n.name]!, try exprCompiler.compile(n.math, context: "initial value of '\(n.name)' (line \(n.line))")))
        }
        // Before the start, delay() reads the initial values with the initial assignments that depend on
        // time (directly or through others) evaluated at the earlier time.
        var timeDependent = Set<String>()
        var pastInitialization: [(slot: Int, eval: Eval)] = []
        for (k, i) in initOrder.enumerated() {
            let n = initNodes[i]
            if n.math.contains(where: { if case .time = $0 { return true }; return false }) || !n.math.symbols.isDisjoint(with: timeDependent) {
                timeDependent.insert(n.name)
                pastInitialization.append(initialization[k])
            }
        }
        // After the values, state species amounts follow from their values.
        for s in m.species {
            guard let a = amountSlot[s.id] else { continue }
            let ss = slots[s.id]!, c = slots[s.compartment]!
            let amount: Eval = s.hasOnlySubstanceUnits ? { $0[ss] } : { $0[ss] * $0[c] }
            initialization.append((a, amount))
            if timeDependent.contains(s.id) || timeDependent.contains(s.compartment) { pastInitialization.append((a, amount)) }
        }
        history?.pastInitialization = pastInitialization

        // Events.
        var events: [CompiledModel.CompiledEvent] = []
        for e in m.events {
            let ctx = "event '\(e.id)'"
            var assigns: [(target: String, eval: Eval)] = []
            for a in e.assignments {
                if assignmentRule[a.variable] != nil || algebraicSet.contains(a.variable) {
                    throw SBMLError(.invalidSBML, "event '\(e.id)' assigns '\(a.variable)', which a rule already determines", value: a.variable, line: a.line)
                }
                assigns.append((a.variable, try exprCompiler.compile(try prepare(a.math, ctx), context: "\(ctx), assignment to '\(a.variable)'")))
            }
            let trigger = try prepare(e.trigger, ctx)
            events.append(.init(
                id: e.id,
                trigger: try exprCompiler.compile(trigger, context: "trigger of \(ctx)"),
                mayHoldWithinStep: Self.mayHoldWithinStep(trigger),
                delay: try e.delay.map { (d) throws(SBMLError) in try exprCompiler.compile(try prepare(d, ctx), context: "delay of \(ctx)") },
                priority: try e.priority.map { (d) throws(SBMLError) in try exprCompiler.compile(try prepare(d, ctx), context: "priority of \(ctx)") },
                persistent: e.persistent, initialValue: e.initialValue, useValuesFromTriggerTime: e.useValuesFromTriggerTime,
                assignments: assigns))
        }
        return CompiledModel(
            model: m, slotOfSymbol: slots.filter { !$0.key.contains(ModelCompiler.hidden) }, slotCount: slotNames.count,
            stateSlots: stateSlots, stateNames: stateNames, derived: derived, rates: rates, events: events,
            algebraic: algebraic, fast: fast, history: history, initialization: initialization, speciesInfo: speciesInfo,
            stateOfSlot: stateOfSlot, hasDelays: usesDelay, sparsity: sparsity, program: program)
    }

    /// Whether a trigger combines conditions (and, xor, not, eq, neq, piecewise), so that it can be true
    /// only inside an integration step while false at both ends: such triggers are also checked at
    /// interior points of each step.
    static func mayHoldWithinStep(_ trigger: MathNode) -> Bool {
        trigger.contains { n in
            switch n {
            case .apply(let op, _): return [.and, .xor, .not, .eq, .neq].contains(op)
            case .piecewise: return true
            default: return false
            }
        }
    }

    static func isDelay(_ n: MathNode) -> Bool { if case .delay = n { return true }; return false }

    /// Topological order of named nodes by their dependencies on other nodes' names.
    static func order(_ nodes: [(name: String, deps: Set<String>, line: Int)], what: String) throws(SBMLError) -> [Int] {
        var index: [String: Int] = [:]
        for (i, n) in nodes.enumerated() { index[n.name] = i }
        var state = [UInt8](repeating: 0, count: nodes.count) // 0 new, 1 in progress, 2 done
        var out: [Int] = []
        out.reserveCapacity(nodes.count)
        for start in 0..<nodes.count where state[start] == 0 {
            // Iterative DFS.
            var stack: [(Int, [Int], Int)] = []
            func depsOf(_ i: Int) -> [Int] { nodes[i].deps.compactMap { index[$0] }.filter { $0 != i || true } }
            state[start] = 1
            stack.append((start, depsOf(start), 0))
            while !stack.isEmpty {
                let (i, ds, k) = stack[stack.count - 1]
                if k < ds.count {
                    stack[stack.count - 1].2 = k + 1
                    let j = ds[k]
                    if state[j] == 1 {
                        let cycle = stack.map { nodes[$0.0].name }.drop { $0 != nodes[j].name }.map { $0.replacingHidden }
                        throw SBMLError(.cyclicRules, "\(what) form a cycle: \(cycle.joined(separator: " -> ")) -> \(nodes[j].name.replacingHidden)", value: nodes[j].name.replacingHidden, line: nodes[j].line)
                    }
                    if state[j] == 0 {
                        state[j] = 1
                        stack.append((j, depsOf(j), 0))
                    }
                } else {
                    state[i] = 2
                    out.append(i)
                    stack.removeLast()
                }
            }
        }
        return out
    }
}

extension String {
    var replacingHidden: String {
        String(self.map { $0 == ModelCompiler.hidden ? "." : $0 })
    }
}
