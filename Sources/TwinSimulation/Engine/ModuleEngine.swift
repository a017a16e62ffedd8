/// A value given to the engine from outside the modules (a patient attribute, a constant exposure, a
/// time-varying forcing such as a schedule of physical activity).
public struct EngineInput: Sendable {
    public var name: String
    public var unit: String
    /// The value as a function of time.
    public var value: @Sendable (Double) -> Double

    public init(name: String, unit: String, value: @escaping @Sendable (Double) -> Double) {
        self.name = name
        self.unit = unit
        self.value = value
    }

    /// A constant input.
    public static func constant(_ name: String, unit: String, _ value: Double) -> EngineInput {
        EngineInput(name: name, unit: unit, value: { _ in value })
    }
}

/// Where a variable of the global state lives.
public struct StateLayout: Sendable, Hashable {
    /// Continuous variables (the ODE state), in the order of first declaration across the modules.
    public var continuous: [String]
    /// Discrete variables, in the order of first declaration.
    public var discrete: [String]
    /// Inputs, in the order given.
    public var inputs: [String]
    /// The unit of every variable and input.
    public var units: [String: String]
    /// Which module owns each continuous or discrete variable (absent for add-only continuous variables).
    public var owners: [String: String]
}

/// The trajectory of a module-engine run: continuous variables from the solver and discrete variables
/// (piecewise constant, right-continuous) sampled at the same times.
public struct EngineRun: Sendable {
    public var solution: Solution
    public var discreteNames: [String]
    /// Row-major `solution.times.count × discreteNames.count`.
    public var discreteValues: [Double]
    public var metadata: RunMetadata

    public var times: [Double] { solution.times }

    /// The series of a continuous or discrete variable, or nil if there is none by that name.
    public func series(named name: String) -> [Double]? {
        if let s = solution.series(named: name) { return s }
        guard let k = discreteNames.firstIndex(of: name) else { return nil }
        let m = discreteNames.count
        return (0..<solution.times.count).map { discreteValues[$0 * m + k] }
    }
}

/// Composes modules over a global state and runs them: continuous parts with the ODE solvers, discrete
/// parts at their own rates (the solver steps exactly onto each tick, the updates are applied, the
/// integrator restarts). Construction checks the declarations:
/// - module ids are unique (`.duplicateModule`);
/// - every declaration and input of one variable uses the same unit (`.unitMismatch`);
/// - at most one module owns a variable; a variable is not both continuous and discrete
///   (`.conflictingWrite`, naming both modules);
/// - every read is written by some module or given as an input (`.unresolvedRead`, naming the module and
///   the variable);
/// - a module owning discrete variables has a positive `updateInterval`.
///
/// Discrete modules due at the same tick all read the state before that tick's updates (synchronous
/// update), so their order does not matter; ticks fire before caller-given time events at the same time. Each module draws from its own random stream, derived from
/// the run's seed and the module id, so adding or removing a module does not change the others' draws.
public struct ModuleEngine: Sendable {
    public let modules: [any Module]
    public let inputs: [EngineInput]
    public let layout: StateLayout
    /// Default initial values from the declarations.
    let defaults: [String: Double]

    public init(modules: [any Module], inputs: [EngineInput] = []) throws(SimulationError) {
        self.modules = modules
        self.inputs = inputs
        var ids = Set<String>()
        for module in modules {
            guard ids.insert(module.id).inserted else {
                throw SimulationError(code: .duplicateModule, message: "two modules have the id '\(module.id)'", module: module.id)
            }
        }
        var units: [String: (unit: String, by: String)] = [:]
        func checkUnit(_ name: String, _ unit: String, by who: String) throws(SimulationError) {
            if let existing = units[name] {
                guard existing.unit == unit else {
                    throw SimulationError(code: .unitMismatch,
                                          message: "'\(who)' declares '\(name)' in \(unit) but '\(existing.by)' uses \(existing.unit)",
                                          variable: name, module: who, value: unit)
                }
            } else {
                units[name] = (unit, who)
            }
        }
        var inputNames: [String] = []
        for input in inputs {
            guard !inputNames.contains(input.name) else {
                throw .invalid("input '\(input.name)' is given twice", value: input.name, variable: input.name)
            }
            inputNames.append(input.name)
            try checkUnit(input.name, input.unit, by: "input")
        }
        var continuous: [String] = [], discrete: [String] = []
        var owners: [String: String] = [:]
        var defaults: [String: Double] = [:]
        for module in modules {
            let declarations = module.variables
            var seen = Set<String>()
            for declaration in declarations {
                guard seen.insert(declaration.name).inserted else {
                    throw .invalid("module '\(module.id)' declares '\(declaration.name)' twice", value: declaration.name,
                                   variable: declaration.name)
                }
                try checkUnit(declaration.name, declaration.unit, by: module.id)
                if declaration.access != .read, inputNames.contains(declaration.name) {
                    throw SimulationError(code: .conflictingWrite,
                                          message: "module '\(module.id)' writes '\(declaration.name)', which is given as an input",
                                          variable: declaration.name, module: module.id)
                }
                switch declaration.access {
                case .read:
                    break
                case .owns, .adds:
                    if discrete.contains(declaration.name) {
                        throw SimulationError(code: .conflictingWrite,
                                              message: "module '\(module.id)' treats '\(declaration.name)' as continuous but '\(owners[declaration.name] ?? "?")' owns it as discrete",
                                              variable: declaration.name, module: module.id)
                    }
                    if declaration.access == .owns {
                        if let owner = owners[declaration.name] {
                            throw SimulationError(code: .conflictingWrite,
                                                  message: "modules '\(owner)' and '\(module.id)' both own '\(declaration.name)'; declare one of them as adding (.adds) if their derivative terms sum",
                                                  variable: declaration.name, module: module.id)
                        }
                        owners[declaration.name] = module.id
                    }
                    if !continuous.contains(declaration.name) { continuous.append(declaration.name) }
                case .ownsDiscrete:
                    if continuous.contains(declaration.name) {
                        throw SimulationError(code: .conflictingWrite,
                                              message: "module '\(module.id)' owns '\(declaration.name)' as discrete but it is continuous elsewhere",
                                              variable: declaration.name, module: module.id)
                    }
                    if let owner = owners[declaration.name] {
                        throw SimulationError(code: .conflictingWrite,
                                              message: "modules '\(owner)' and '\(module.id)' both own '\(declaration.name)'",
                                              variable: declaration.name, module: module.id)
                    }
                    owners[declaration.name] = module.id
                    discrete.append(declaration.name)
                    guard let interval = module.updateInterval, interval > 0, interval.isFinite else {
                        throw .invalid("module '\(module.id)' owns discrete variable '\(declaration.name)' but has no positive updateInterval",
                                       value: "\(module.updateInterval.map { "\($0)" } ?? "nil")", variable: declaration.name)
                    }
                }
                if declaration.access != .read, let value = declaration.initialValue { defaults[declaration.name] = value }
            }
            if let interval = module.updateInterval, !(interval > 0 && interval.isFinite) {
                throw .invalid("module '\(module.id)' has updateInterval \(interval); it must be positive", value: "\(interval)")
            }
        }
        let written = Set(continuous).union(discrete).union(inputNames)
        for module in modules {
            for declaration in module.variables where declaration.access == .read && !written.contains(declaration.name) {
                throw SimulationError(code: .unresolvedRead,
                                      message: "module '\(module.id)' reads '\(declaration.name)', which no module writes and no input gives",
                                      variable: declaration.name, module: module.id)
            }
        }
        layout = StateLayout(continuous: continuous, discrete: discrete, inputs: inputNames,
                             units: units.mapValues { $0.unit }, owners: owners)
        self.defaults = defaults
    }

    /// All parameters of all modules, prefixed by module id (`"glucose.Vg"`).
    public var parameters: [(name: String, value: Double)] {
        modules.flatMap { module in module.parameters.map { (name: module.id + "." + $0.name, value: $0.value) } }
    }

    /// The module identities, in order.
    public var moduleIdentities: [ModuleIdentity] { modules.map { ModuleIdentity(id: $0.id, version: $0.version) } }

    /// Runs the modules from `t0` to `tEnd`.
    ///
    /// - Parameters:
    ///   - initialValues: initial values by variable name; override the declarations' defaults. Every
    ///     continuous and discrete variable needs one (else `.invalidInput` naming it).
    ///   - seed: the seed of the run's random streams, recorded in the metadata.
    /// - Throws: `SimulationError`; a non-finite derivative names the module that produced it and the
    ///   variable; a non-finite discrete update names its module and variable.
    public func run(initialValues: [String: Double] = [:], from t0: Double, to tEnd: Double,
                    output: OutputTimes = .steps, options: SolverOptions = SolverOptions(),
                    seed: UInt64 = 0, events: [StateEvent] = [], timeEvents: [TimeEvent] = []) throws(SimulationError) -> EngineRun {
        for name in initialValues.keys where !layout.continuous.contains(name) && !layout.discrete.contains(name) {
            throw .invalid("initial value given for '\(name)', which no module writes", value: name, variable: name)
        }
        var y0: [Double] = []
        for name in layout.continuous {
            guard let value = initialValues[name] ?? defaults[name] else {
                throw .invalid("no initial value for continuous variable '\(name)'", value: name, variable: name)
            }
            y0.append(value)
        }
        var d0: [Double] = []
        for name in layout.discrete {
            guard let value = initialValues[name] ?? defaults[name] else {
                throw .invalid("no initial value for discrete variable '\(name)'", value: name, variable: name)
            }
            d0.append(value)
        }
        let system = ComposedSystem(engine: self, discreteInitial: d0, seed: seed)
        // Ticks of the discrete modules.
        var tickEvents: [TimeEvent] = []
        for (index, module) in modules.enumerated() {
            guard let interval = module.updateInterval else { continue }
            var times: [Double] = []
            var k = 0
            while true {
                let t = t0 + Double(k) * interval
                if t > tEnd { break }
                times.append(t)
                k += 1
            }
            let box = system
            tickEvents.append(TimeEvent(name: "tick:" + module.id, times: times, action: { context in
                box.scheduleUpdate(moduleIndex: index, context: &context)
            }))
        }
        let solver = ODESolver(options: options)
        let solution: Solution
        do {
            solution = try solver.solve(system, initialState: y0, from: t0, to: tEnd, output: output,
                                        events: events, timeEvents: tickEvents + timeEvents)
        } catch {
            if let pending = system.pendingError { throw pending }
            throw system.attribute(error)
        }
        if let pending = system.pendingError { throw pending }
        // Drop the internal tick records from the event log and statistics.
        var cleaned = solution
        cleaned.events = solution.events.filter { !$0.name.hasPrefix("tick:") }
        let discrete = system.sampleDiscrete(at: solution.times)
        let metadata = RunMetadata(options: options, seed: seed, modules: moduleIdentities, parameters: parameters,
                                   startTime: t0, endTime: tEnd)
        return EngineRun(solution: cleaned, discreteNames: layout.discrete, discreteValues: discrete, metadata: metadata)
    }

    /// The composed right-hand side as an `ODESystem` with the discrete variables frozen at `discreteValues`
    /// (for callers that drive a solver or a stepper themselves).
    public func system(discreteValues: [String: Double] = [:]) throws(SimulationError) -> some ODESystem {
        var d0: [Double] = []
        for name in layout.discrete {
            guard let value = discreteValues[name] ?? defaults[name] else {
                throw .invalid("no value for discrete variable '\(name)'", value: name, variable: name)
            }
            d0.append(value)
        }
        return ComposedSystem(engine: self, discreteInitial: d0, seed: 0)
    }
}
