import TwinSimulation

/// An SBML model compiled into closures over one array of values (slot 0 holds time), conforming to
/// `ODESystem`. The state vector holds species *amounts* (for species that are not constant and not set
/// by an assignment or algebraic rule) and the values of compartments, parameters and species
/// references that have rate rules. Everything else (assignment rules, concentrations, reaction rates,
/// algebraic variables) is recomputed from the state at each evaluation.
///
/// Not thread-safe: a compiled model owns its working buffers. Compile one per concurrent run.
public final class CompiledModel: ODESystem {
    /// The source model.
    public let model: SBMLModel
    public let dimension: Int
    public let variableNames: [String]

    /// Where each model id lives in the value array.
    public let slotOfSymbol: [String: Int]
    let slotCount: Int
    /// The working values: discrete variables (changed only by events) live here between evaluations.
    let values: UnsafeMutablePointer<Double>
    let scratch: UnsafeMutablePointer<Double>
    let stateSlots: [Int]
    let derived: [(slot: Int, eval: Eval)]
    let rates: [Eval]
    let events: [CompiledEvent]
    let algebraic: AlgebraicSystem?
    let fast: FastSubsystem?
    let history: DelayHistory?
    let initialization: [(slot: Int, eval: Eval)]
    /// Species info for output and event assignment: id -> (value slot, compartment slot, hOSU, state index).
    let speciesInfo: [String: SpeciesInfo]
    /// State index for a variable slot set by rate rules (compartments, parameters, species references).
    let stateOfSlot: [Int: Int]
    let parameterOverrides: [Int: Double]
    /// The slot of each reaction's rate, in the order of `model.reactions`.
    let reactionSlots: [(slot: Int, reaction: Int)]
    let hasDelays: Bool
    let sparsity: [(row: Int, column: Int)]?

    /// The structural pattern of the Jacobian (from the rates' dependencies through rules and reaction
    /// rates), or nil for models with delays, algebraic rules or fast reactions.
    public var jacobianSparsity: [(row: Int, column: Int)]? { sparsity }

    struct SpeciesInfo {
        var slot: Int
        var compartmentSlot: Int
        var onlySubstance: Bool
        var state: Int?
    }

    struct CompiledEvent {
        var id: String
        var trigger: Eval
        /// The trigger combines conditions and may hold only inside a step (see `ModelCompiler.mayHoldWithinStep`).
        var mayHoldWithinStep: Bool
        var delay: Eval?
        var priority: Eval?
        var persistent: Bool
        var initialValue: Bool
        var useValuesFromTriggerTime: Bool
        var assignments: [(target: String, eval: Eval)]
    }

    /// The derived values and rates as a tape (models without `delay()` and algebraic rules).
    struct Program {
        var tape: Tape
        /// Instructions `0..<derivedEnd` compute the derived values, `derivedEnd..<valueEnd` the rates.
        var derivedEnd: Int
        var valueEnd: Int
        var rateRegisters: [Int]
        var jacobian: TapeJacobian?
    }

    let program: Program?
    /// Discontinuities in time (see `Tape.timeSwitches`): the instructions computing them and their registers.
    private let switchProgram: [Int]
    private let switchRegisters: [Int]
    private var switchBase: [Double]
    /// Whether the right-hand side has piecewise switches that depend on time alone.
    var hasTimeSwitches: Bool { !switchRegisters.isEmpty }
    private let tape: Tape?
    private let derivedEnd: Int
    private let valueEnd: Int
    private let rateRegisters: UnsafeMutablePointer<Int>
    private let stateSlotPointer: UnsafeMutablePointer<Int>
    private let tapeJacobian: TapeJacobian?
    private let jacobianScratch: UnsafeMutablePointer<Double>?

    init(model: SBMLModel, slotOfSymbol: [String: Int], slotCount: Int, stateSlots: [Int], stateNames: [String],
         derived: [(slot: Int, eval: Eval)], rates: [Eval], events: [CompiledEvent], algebraic: AlgebraicSystem?,
         fast: FastSubsystem?, history: DelayHistory?, initialization: [(slot: Int, eval: Eval)],
         speciesInfo: [String: SpeciesInfo], stateOfSlot: [Int: Int], hasDelays: Bool, sparsity: [(row: Int, column: Int)]? = nil,
         program: Program? = nil) {
        self.sparsity = sparsity
        self.program = program
        tape = program?.tape
        derivedEnd = program?.derivedEnd ?? 0
        valueEnd = program?.valueEnd ?? 0
        tapeJacobian = sparsity == nil ? nil : program?.jacobian
        if let program {
            (switchProgram, switchRegisters) = program.tape.timeSwitches(end: program.valueEnd, stateSlots: stateSlots)
        } else {
            (switchProgram, switchRegisters) = ([], [])
        }
        switchBase = [Double](repeating: 0, count: switchRegisters.count)
        rateRegisters = .allocate(capacity: max(1, stateSlots.count))
        rateRegisters.initialize(repeating: 0, count: max(1, stateSlots.count))
        if let program { for (k, r) in program.rateRegisters.enumerated() { rateRegisters[k] = r } }
        stateSlotPointer = .allocate(capacity: max(1, stateSlots.count))
        stateSlotPointer.initialize(repeating: 0, count: max(1, stateSlots.count))
        for (k, s) in stateSlots.enumerated() { stateSlotPointer[k] = s }
        if tapeJacobian != nil, let sparsity {
            jacobianScratch = .allocate(capacity: max(1, sparsity.count))
            jacobianScratch?.initialize(repeating: 0, count: max(1, sparsity.count))
        } else {
            jacobianScratch = nil
        }
        self.model = model
        self.slotOfSymbol = slotOfSymbol
        self.slotCount = slotCount
        self.stateSlots = stateSlots
        self.variableNames = stateNames
        self.dimension = stateSlots.count
        self.derived = derived
        self.rates = rates
        self.events = events
        self.algebraic = algebraic
        self.fast = fast
        self.history = history
        self.initialization = initialization
        self.speciesInfo = speciesInfo
        self.stateOfSlot = stateOfSlot
        self.parameterOverrides = [:]
        reactionSlots = model.reactions.indices.compactMap { k in slotOfSymbol[model.reactions[k].id].map { ($0, k) } }
        self.hasDelays = hasDelays
        let registers = max(slotCount, program?.tape.registerCount ?? 0)
        values = .allocate(capacity: registers)
        values.initialize(repeating: 0, count: registers)
        program?.tape.loadConstants(values)
        scratch = .allocate(capacity: slotCount)
        scratch.initialize(repeating: 0, count: slotCount)
    }

    deinit {
        values.deallocate()
        scratch.deallocate()
        rateRegisters.deallocate()
        stateSlotPointer.deallocate()
        jacobianScratch?.deallocate()
    }

    /// Recomputes every derived value (assignment rules, concentrations, reaction rates, algebraic
    /// variables) in `buffer` from its time, state and discrete slots.
    func computeDerived(_ buffer: UnsafeMutablePointer<Double>) {
        if let tape, buffer == values {
            tape.run(buffer, 0..<derivedEnd)
        } else if let algebraic {
            algebraic.solve(buffer, derived: derived)
        } else {
            for d in derived { buffer[d.slot] = d.eval(buffer) }
        }
    }

    public func derivatives(t: Double, y: UnsafeBufferPointer<Double>, dy: UnsafeMutableBufferPointer<Double>) {
        let b = values
        if let tape {
            b[0] = t
            let n = dimension
            for k in 0..<n { b[stateSlotPointer[k]] = y[k] }
            tape.run(b, 0..<valueEnd)
            for k in 0..<n { dy[k] = b[rateRegisters[k]] }
            if let fast { fast.correct(model: self, t: t, y: y, dy: dy) }
            return
        }
        b[0] = t
        for k in 0..<stateSlots.count { b[stateSlots[k]] = y[k] }
        computeDerived(b)
        for k in 0..<rates.count { dy[k] = rates[k](b) }
        if let fast { fast.correct(model: self, t: t, y: y, dy: dy) }
    }

    /// The analytic sparse Jacobian (see `TapeJacobian`), in the order of `jacobianSparsity`; false when
    /// the model has none or an entry is not finite here (the solver then uses finite differences).
    public func sparseJacobian(t: Double, y: UnsafeBufferPointer<Double>, values out: UnsafeMutableBufferPointer<Double>) -> Bool {
        guard let tape, let tapeJacobian, out.count == tapeJacobian.patternCount else { return false }
        let b = values
        b[0] = t
        for k in 0..<dimension { b[stateSlotPointer[k]] = y[k] }
        tape.run(b, 0..<valueEnd)
        return tapeJacobian.evaluate(tape: tape, registers: b, into: out)
    }

    /// The analytic Jacobian as a dense row-major matrix (for small models on the stiff solver's dense
    /// path); false when the model has none.
    public func jacobian(t: Double, y: UnsafeBufferPointer<Double>, into jacobian: UnsafeMutableBufferPointer<Double>) -> Bool {
        guard let tapeJacobian, let sparsity, let scratch = jacobianScratch else { return false }
        let n = dimension
        guard jacobian.count == n * n else { return false }
        let values = UnsafeMutableBufferPointer(start: scratch, count: tapeJacobian.patternCount)
        guard sparseJacobian(t: t, y: y, values: values) else { return false }
        for i in 0..<(n * n) { jacobian[i] = 0 }
        for (k, p) in sparsity.enumerated() { jacobian[p.row * n + p.column] += values[k] }
        return true
    }

    /// The first switch of the right-hand side's time-only conditions in `(t0, t1]`, located by bisection
    /// to about 1e-14 relative: `lo` is the last time found with the values at `t0`, `hi` the first with
    /// different ones. Nil when the values at `t1` equal those at `t0` (a condition that switches twice
    /// within the interval is not seen). Overwrites derived values in the working buffer (callers reload).
    func timeSwitch(after t0: Double, before t1: Double) -> (lo: Double, hi: Double)? {
        guard let tape, !switchRegisters.isEmpty, t1 > t0 else { return nil }
        let b = values
        let saved = b[0]
        defer { b[0] = saved }
        b[0] = t0
        tape.run(b, indices: switchProgram)
        for (k, r) in switchRegisters.enumerated() { switchBase[k] = b[r] }
        func differs(_ t: Double) -> Bool {
            b[0] = t
            tape.run(b, indices: switchProgram)
            for (k, r) in switchRegisters.enumerated() where !(b[r] == switchBase[k] || (b[r].isNaN && switchBase[k].isNaN)) { return true }
            return false
        }
        guard differs(t1) else { return nil }
        return bisectChange(from: t0, to: t1, differs)
    }

    /// Whether the model runs on the tape, and whether it has the analytic Jacobian.
    var runsOnTape: Bool { tape != nil }
    var hasAnalyticJacobian: Bool { tapeJacobian != nil }

    /// The right-hand side through the compiled closures (the path models without a tape take), to
    /// check the tape against.
    func closureDerivatives(t: Double, y: UnsafeBufferPointer<Double>, dy: UnsafeMutableBufferPointer<Double>) {
        let b = values
        b[0] = t
        for k in 0..<stateSlots.count { b[stateSlots[k]] = y[k] }
        if let algebraic { algebraic.solve(b, derived: derived) } else { for d in derived { b[d.slot] = d.eval(b) } }
        for k in 0..<rates.count { dy[k] = rates[k](b) }
        if let fast { fast.correct(model: self, t: t, y: y, dy: dy) }
    }

    /// Loads a state into the working values at time t and recomputes derived values.
    func load(t: Double, y: UnsafeBufferPointer<Double>) {
        values[0] = t
        for k in 0..<stateSlots.count { values[stateSlots[k]] = y[k] }
        computeDerived(values)
    }

    /// The current state vector from the working values.
    func currentState() -> [Double] {
        stateSlots.map { values[$0] }
    }

    /// How to read one output variable from a value buffer (resolved once per run).
    struct OutputAccessor {
        enum Mode { case value, divide, multiply, undefined }
        var slot: Int
        var compartmentSlot: Int
        var mode: Mode

        @inline(__always)
        func value(_ buffer: UnsafeMutablePointer<Double>) -> Double {
            switch mode {
            case .value: return buffer[slot]
            case .divide: return buffer[slot] / buffer[compartmentSlot]
            case .multiply: return buffer[slot] * buffer[compartmentSlot]
            case .undefined: return .nan
            }
        }
    }

    /// The accessor for `output(_:concentration:buffer:)`'s value.
    func outputAccessor(_ id: String, concentration: Bool?) -> OutputAccessor {
        if let s = speciesInfo[id] {
            switch concentration {
            case .some(true): return .init(slot: s.slot, compartmentSlot: s.compartmentSlot, mode: s.onlySubstance ? .divide : .value)
            case .some(false): return .init(slot: s.slot, compartmentSlot: s.compartmentSlot, mode: s.onlySubstance ? .value : .multiply)
            case .none: return .init(slot: s.slot, compartmentSlot: 0, mode: .value)
            }
        }
        if let slot = slotOfSymbol[id] { return .init(slot: slot, compartmentSlot: 0, mode: .value) }
        return .init(slot: 0, compartmentSlot: 0, mode: .undefined)
    }

    /// The value of an output variable: species in amount or concentration units, or any other id.
    func output(_ id: String, concentration: Bool?, buffer: UnsafeMutablePointer<Double>) -> Double {
        if let s = speciesInfo[id] {
            let v = buffer[s.slot], size = buffer[s.compartmentSlot]
            switch concentration {
            case .some(true): return s.onlySubstance ? v / size : v
            case .some(false): return s.onlySubstance ? v : v * size
            case .none: return v
            }
        }
        if let slot = slotOfSymbol[id] { return buffer[slot] }
        return .nan
    }
}
