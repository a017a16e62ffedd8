/// The identity of a module in a run.
public struct ModuleIdentity: Sendable, Hashable, Codable {
    public var id: String
    public var version: String

    public init(id: String, version: String) {
        self.id = id
        self.version = version
    }
}

/// What is needed to reproduce a simulation: solver and tolerances, seed, modules and a hash of the
/// parameters. The bank stores it as the provenance of predictions.
public struct RunMetadata: Sendable, Hashable, Codable {
    /// The method's name (`SolverMethod.displayName`).
    public var solver: String
    public var relativeTolerance: Double
    /// The absolute tolerance as text (a number, or the per-component list).
    public var absoluteTolerance: String
    /// The seed of the run's random generator, if the run used randomness.
    public var seed: UInt64?
    /// The modules of the run (empty for a plain ODE system).
    public var modules: [ModuleIdentity]
    /// `RunMetadata.parameterHash` of the run's parameters.
    public var parameterHash: String
    public var startTime: Double
    public var endTime: Double

    public init(solver: String, relativeTolerance: Double, absoluteTolerance: String, seed: UInt64?,
                modules: [ModuleIdentity], parameterHash: String, startTime: Double, endTime: Double) {
        self.solver = solver
        self.relativeTolerance = relativeTolerance
        self.absoluteTolerance = absoluteTolerance
        self.seed = seed
        self.modules = modules
        self.parameterHash = parameterHash
        self.startTime = startTime
        self.endTime = endTime
    }

    /// Metadata for a run with `options` over `[startTime, endTime]`.
    public init(options: SolverOptions, seed: UInt64? = nil, modules: [ModuleIdentity] = [],
                parameters: [(name: String, value: Double)], startTime: Double, endTime: Double) {
        self.init(solver: options.method.displayName, relativeTolerance: options.relativeTolerance,
                  absoluteTolerance: options.absoluteToleranceDescription, seed: seed, modules: modules,
                  parameterHash: Self.parameterHash(parameters), startTime: startTime, endTime: endTime)
    }

    /// A stable 64-bit FNV-1a hash (16 hex digits) of the parameters, independent of their order: the
    /// pairs are sorted by name and each contributes its UTF-8 name and the bit pattern of its value.
    /// Equal parameter sets give equal hashes on every platform; `0.0` and `-0.0` differ, as do NaN
    /// payloads. Not cryptographic: it identifies, it does not protect.
    public static func parameterHash(_ parameters: [(name: String, value: Double)]) -> String {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        @inline(__always) func mix(_ byte: UInt8) {
            hash ^= UInt64(byte)
            hash &*= 0x0000_0100_0000_01B3
        }
        for (name, value) in parameters.sorted(by: { $0.name < $1.name }) {
            for byte in name.utf8 { mix(byte) }
            mix(0x3D)   // "="
            var bits = value.bitPattern
            for _ in 0..<8 {
                mix(UInt8(truncatingIfNeeded: bits))
                bits >>= 8
            }
            mix(0x3B)   // ";"
        }
        let digits = String(hash, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }

    /// The parameter hash of a list of `Parameter`s.
    public static func parameterHash(_ parameters: [Parameter]) -> String {
        parameterHash(parameters.map { (name: $0.name, value: $0.value) })
    }
}
