/// How a module uses a state variable of the global twin state.
public enum VariableAccess: String, Sendable, Hashable, Codable {
    /// The module reads the value. Someone must write it (a module or an engine input).
    case read
    /// The module owns this continuous variable and gives its derivative. At most one owner per variable.
    case owns
    /// The module adds a term to the derivative of a continuous variable (a drug's effect, a second
    /// clearance path). Any number of modules may add; the terms sum. The value may be owned by one module.
    case adds
    /// The module owns this discrete variable and sets it in `update` at its own rate. One owner only.
    case ownsDiscrete
}

/// One declared use of a state variable: its name, its unit (UCUM text, e.g. `"mg/dL"`), the access and,
/// for written variables, an optional default initial value.
public struct VariableDeclaration: Sendable, Hashable, Codable {
    public var name: String
    public var unit: String
    public var access: VariableAccess
    /// Default initial value for a variable this module writes (`owns`, `adds`, `ownsDiscrete`).
    public var initialValue: Double?

    public init(_ name: String, unit: String, access: VariableAccess, initialValue: Double? = nil) {
        self.name = name
        self.unit = unit
        self.access = access
        self.initialValue = initialValue
    }

    public static func reads(_ name: String, unit: String) -> VariableDeclaration {
        VariableDeclaration(name, unit: unit, access: .read)
    }
    public static func owns(_ name: String, unit: String, initialValue: Double? = nil) -> VariableDeclaration {
        VariableDeclaration(name, unit: unit, access: .owns, initialValue: initialValue)
    }
    public static func adds(_ name: String, unit: String) -> VariableDeclaration {
        VariableDeclaration(name, unit: unit, access: .adds)
    }
    public static func ownsDiscrete(_ name: String, unit: String, initialValue: Double? = nil) -> VariableDeclaration {
        VariableDeclaration(name, unit: unit, access: .ownsDiscrete, initialValue: initialValue)
    }
}

/// A named parameter with its value and unit, for documentation and the run's parameter hash.
public struct Parameter: Sendable, Hashable, Codable {
    public var name: String
    public var value: Double
    public var unit: String

    public init(_ name: String, value: Double, unit: String) {
        self.name = name
        self.value = value
        self.unit = unit
    }
}

/// Read access to the values of a module's declared variables, by position in its `variables` list.
/// Valid only during the call it is passed to.
public struct ModuleState {
    @usableFromInline let values: UnsafePointer<Double>
    @usableFromInline let map: UnsafePointer<Int>
    public let count: Int

    @usableFromInline init(values: UnsafePointer<Double>, map: UnsafePointer<Int>, count: Int) {
        self.values = values
        self.map = map
        self.count = count
    }

    /// The value of the module's `index`-th declared variable.
    @inlinable public subscript(_ index: Int) -> Double { values[map[index]] }
}

/// Write access to derivatives, by position in the module's `variables` list. Only `owns`/`adds`
/// declarations may be written; the engine reports a module that writes any other as an error.
/// Every derivative starts at zero before the modules run; write with `+=` so that the terms of an
/// owner and of the modules that add to the same variable sum (module order does not matter).
public struct ModuleDerivatives {
    @usableFromInline let dy: UnsafeMutablePointer<Double>
    @usableFromInline let map: UnsafePointer<Int>

    @usableFromInline init(dy: UnsafeMutablePointer<Double>, map: UnsafePointer<Int>) {
        self.dy = dy
        self.map = map
    }

    /// The derivative of the module's `index`-th declared variable (setting it adds the difference).
    @inlinable public subscript(_ index: Int) -> Double {
        get { dy[map[index]] }
        nonmutating set { dy[map[index]] = newValue }
    }
}

/// Write access for discrete updates, by position in the module's `variables` list (only `ownsDiscrete`
/// declarations may be written). Reads return the value before this tick's updates.
public struct ModuleUpdates {
    @usableFromInline let staged: UnsafeMutablePointer<Double>
    @usableFromInline let map: UnsafePointer<Int>

    @usableFromInline init(staged: UnsafeMutablePointer<Double>, map: UnsafePointer<Int>) {
        self.staged = staged
        self.map = map
    }

    @inlinable public subscript(_ index: Int) -> Double {
        get { staged[map[index]] }
        nonmutating set { staged[map[index]] = newValue }
    }
}

/// A biological process (or a device, a drug, a controller) in the modular framework of Masison et al.
///
/// ```swift
/// struct Clearance: Module {
///     let id = "clearance"
///     var k: Double
///     var variables: [VariableDeclaration] { [.owns("drug", unit: "mg", initialValue: 100)] }
///     var parameters: [Parameter] { [Parameter("k", value: k, unit: "1/h")] }
///     func derivatives(time: Double, state: ModuleState, derivatives: ModuleDerivatives) {
///         derivatives[0] += -k * state[0]          // index 0 = "drug" in `variables`
///     }
/// }
/// let engine = try ModuleEngine(modules: [Clearance(k: 0.2), SomeController()])
/// let run = try engine.run(from: 0, to: 24, output: .evenlySpaced(count: 97), seed: 42)
/// let drug = run.series(named: "drug")      // run.metadata records solver, tolerances, seed, modules
/// ```
///
/// (2021, PNAS, *A modular computational framework for medical digital twins*): it declares which state
/// variables of the global state it reads and writes, and never calls another module.
///
/// A module contributes derivatives of the continuous variables it owns or adds to (`derivatives`),
/// and/or updates the discrete variables it owns every `updateInterval` time units (`update`). The engine
/// composes the modules present; adding or removing one needs no change to the others.
public protocol Module: Sendable {
    /// A stable identifier (unique within an engine).
    var id: String { get }
    /// The module's version, recorded in run metadata.
    var version: String { get }
    /// Declared variables. Indices into `ModuleState`, `ModuleDerivatives`, `ModuleUpdates` are positions here.
    var variables: [VariableDeclaration] { get }
    /// Parameters (for metadata and the parameter hash). Default: none.
    var parameters: [Parameter] { get }
    /// The period of `update`, or `nil` for a purely continuous module. Ticks are at `t0 + k·updateInterval`.
    var updateInterval: Double? { get }

    /// Adds this module's terms to the derivatives. Must not allocate; called many times per step.
    func derivatives(time: Double, state: ModuleState, derivatives: ModuleDerivatives)

    /// Sets the discrete variables it owns at a tick. `random` is this module's own stream.
    func update(time: Double, state: ModuleState, updates: ModuleUpdates, random: inout Xoshiro256StarStar)
}

extension Module {
    public var version: String { "1" }
    public var parameters: [Parameter] { [] }
    public var updateInterval: Double? { nil }
    public func derivatives(time: Double, state: ModuleState, derivatives: ModuleDerivatives) {}
    public func update(time: Double, state: ModuleState, updates: ModuleUpdates, random: inout Xoshiro256StarStar) {}
}
