/// The right-hand side composed from the modules of a `ModuleEngine`, over the global vector
/// `[continuous | discrete | inputs | sink]`. Holds the discrete values between ticks and the modules'
/// random streams. Confined to one run (not shared between tasks), hence `@unchecked Sendable`.
final class ComposedSystem: ODESystem, @unchecked Sendable {
    let modules: [any Module]
    let inputs: [EngineInput]
    let names: [String]
    let discreteNames: [String]
    let nc: Int, nd: Int, ni: Int
    /// Global vector used by `derivatives`.
    private let values: UnsafeMutablePointer<Double>
    /// Global vector used by discrete updates (continuous from the event state, discrete before the tick).
    private let readValues: UnsafeMutablePointer<Double>
    /// Derivative buffer with a sink slot at index `nc`.
    private let dyExt: UnsafeMutablePointer<Double>
    /// Per module: global index of each declared variable, derivative index (or nc = sink), update index
    /// (or sink), and the derivative indices it may write.
    private let valueMaps: [UnsafeMutablePointer<Int>]
    private let derivativeMaps: [UnsafeMutablePointer<Int>]
    private let updateMaps: [UnsafeMutablePointer<Int>]
    private let writtenDerivatives: [[Int]]
    private let writtenDiscrete: [[Int]]
    /// Number of declarations per module (cached: `variables` may build an array on every call).
    private let declarationCounts: [Int]
    private var randoms: [Xoshiro256StarStar]
    private var lastTickTime = -Double.infinity
    private var discreteLog: [(time: Double, values: [Double])] = []

    /// An error found inside a callback that cannot throw (reported by the engine after the solve).
    private(set) var pendingError: SimulationError?
    /// The latest non-finite derivative term seen: (module, variable, time).
    private var lastNonFinite: (module: String, variable: String, time: Double)?

    init(engine: ModuleEngine, discreteInitial: [Double], seed: UInt64) {
        modules = engine.modules
        inputs = engine.inputs
        let layout = engine.layout
        names = layout.continuous
        discreteNames = layout.discrete
        nc = layout.continuous.count
        nd = layout.discrete.count
        ni = layout.inputs.count
        let total = nc + nd + ni + 1
        values = .allocate(capacity: total)
        values.initialize(repeating: 0, count: total)
        readValues = .allocate(capacity: total)
        readValues.initialize(repeating: 0, count: total)
        dyExt = .allocate(capacity: nc + 1)
        dyExt.initialize(repeating: 0, count: nc + 1)
        var index: [String: Int] = [:]
        for (i, name) in layout.continuous.enumerated() { index[name] = i }
        for (i, name) in layout.discrete.enumerated() { index[name] = nc + i }
        for (i, name) in layout.inputs.enumerated() { index[name] = nc + nd + i }
        let sink = nc + nd + ni
        var vm: [UnsafeMutablePointer<Int>] = [], dm: [UnsafeMutablePointer<Int>] = [], um: [UnsafeMutablePointer<Int>] = []
        var wd: [[Int]] = [], wdisc: [[Int]] = []
        for module in engine.modules {
            let declarations = module.variables
            let v = UnsafeMutablePointer<Int>.allocate(capacity: Swift.max(declarations.count, 1))
            let d = UnsafeMutablePointer<Int>.allocate(capacity: Swift.max(declarations.count, 1))
            let u = UnsafeMutablePointer<Int>.allocate(capacity: Swift.max(declarations.count, 1))
            var writes: [Int] = [], discreteWrites: [Int] = []
            for (k, declaration) in declarations.enumerated() {
                let g = index[declaration.name] ?? sink
                v[k] = g
                switch declaration.access {
                case .owns, .adds:
                    d[k] = g
                    u[k] = sink
                    writes.append(g)
                case .ownsDiscrete:
                    d[k] = nc
                    u[k] = g
                    discreteWrites.append(g)
                case .read:
                    d[k] = nc
                    u[k] = sink
                }
            }
            vm.append(v); dm.append(d); um.append(u)
            wd.append(writes); wdisc.append(discreteWrites)
        }
        valueMaps = vm
        declarationCounts = engine.modules.map { $0.variables.count }
        derivativeMaps = dm
        updateMaps = um
        writtenDerivatives = wd
        writtenDiscrete = wdisc
        for i in 0..<nd { values[nc + i] = discreteInitial[i] }
        // One stream per module, from the seed and the module id (FNV-1a), so streams do not depend on
        // which other modules are present.
        randoms = engine.modules.map { module in
            var h: UInt64 = 0xCBF2_9CE4_8422_2325
            for byte in module.id.utf8 { h ^= UInt64(byte); h &*= 0x0000_0100_0000_01B3 }
            var mixer = SplitMix64(seed: seed ^ h)
            return Xoshiro256StarStar(seed: mixer.next())
        }
        discreteLog = [(-Double.infinity, discreteInitial)]
    }

    deinit {
        values.deallocate()
        readValues.deallocate()
        dyExt.deallocate()
        for p in valueMaps { p.deallocate() }
        for p in derivativeMaps { p.deallocate() }
        for p in updateMaps { p.deallocate() }
    }

    var dimension: Int { nc }
    var variableNames: [String] { names }

    func derivatives(t: Double, y: UnsafeBufferPointer<Double>, dy: UnsafeMutableBufferPointer<Double>) {
        for i in 0..<nc { values[i] = y[i] }
        for (k, input) in inputs.enumerated() { values[nc + nd + k] = input.value(t) }
        for i in 0...nc { dyExt[i] = 0 }
        for (m, module) in modules.enumerated() {
            module.derivatives(time: t, state: ModuleState(values: values, map: valueMaps[m], count: declarationCounts[m]),
                               derivatives: ModuleDerivatives(dy: dyExt, map: derivativeMaps[m]))
            if dyExt[nc] != 0 {
                if pendingError == nil {
                    pendingError = SimulationError(code: .conflictingWrite,
                                                   message: "module '\(module.id)' wrote a derivative of a variable it did not declare as owned or added",
                                                   module: module.id, time: t)
                }
                dyExt[nc] = 0
            }
            for g in writtenDerivatives[m] where !dyExt[g].isFinite {
                lastNonFinite = (module.id, names[g], t)
                break
            }
        }
        for i in 0..<nc { dy[i] = dyExt[i] }
        if pendingError != nil {
            // Make the solver stop: a NaN derivative ends the run; the engine reports pendingError instead.
            dy[0] = .nan
        }
    }

    /// Runs module `moduleIndex`'s discrete update at a tick (an event action).
    func scheduleUpdate(moduleIndex m: Int, context: inout EventContext) {
        let t = context.time
        if t != lastTickTime {
            // First update at this tick: freeze the pre-tick values for every module due now.
            lastTickTime = t
            for i in 0..<nc { readValues[i] = context.state[i] }
            for i in 0..<nd { readValues[nc + i] = values[nc + i] }
            for (k, input) in inputs.enumerated() { readValues[nc + nd + k] = input.value(t) }
        }
        let module = modules[m]
        let sink = nc + nd + ni
        values[sink] = 0
        module.update(time: t, state: ModuleState(values: readValues, map: valueMaps[m], count: declarationCounts[m]),
                      updates: ModuleUpdates(staged: values, map: updateMaps[m]), random: &randoms[m])
        if values[sink] != 0 {
            pendingError = SimulationError(code: .conflictingWrite,
                                           message: "module '\(module.id)' set a variable it does not own as discrete",
                                           module: module.id, time: t)
            context.stop = true
            return
        }
        for g in writtenDiscrete[m] where !values[g].isFinite {
            pendingError = SimulationError(code: .nonFiniteValue,
                                           message: "module '\(module.id)' set '\(discreteNames[g - nc])' to \(values[g]) at t = \(t)",
                                           variable: discreteNames[g - nc], module: module.id, time: t, value: "\(values[g])")
            context.stop = true
            return
        }
        let current = Array(UnsafeBufferPointer(start: values + nc, count: nd))
        if let last = discreteLog.last, last.time == t {
            discreteLog[discreteLog.count - 1].values = current
        } else {
            discreteLog.append((t, current))
        }
        context.requestRestart = true
    }

    /// Adds the module to a solver's non-finite error when a module's term was the cause.
    func attribute(_ error: SimulationError) -> SimulationError {
        guard error.code == .nonFiniteValue, let culprit = lastNonFinite else { return error }
        var enriched = error
        if error.variable == nil || error.variable == culprit.variable {
            enriched.module = culprit.module
            enriched.variable = culprit.variable
            enriched.message = "module '\(culprit.module)' produced a non-finite derivative of '\(culprit.variable)' at t = \(culprit.time) (\(error.message))"
        }
        return enriched
    }

    /// Discrete values at each time (right-continuous: a tick at exactly `t` is included).
    func sampleDiscrete(at times: [Double]) -> [Double] {
        guard nd > 0 else { return [] }
        var out: [Double] = []
        out.reserveCapacity(times.count * nd)
        var k = 0
        for t in times {
            while k + 1 < discreteLog.count && discreteLog[k + 1].time <= t { k += 1 }
            out.append(contentsOf: discreteLog[k].values)
        }
        return out
    }
}
