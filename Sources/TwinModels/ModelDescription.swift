/// What a model is, for provenance: its id and version, its parameters (with values and units) and its state
/// variables (with units), and the literature it follows. A result written to a twin's thread carries this
/// description (or its hash) so the run can be identified and reproduced.
public struct ModelDescription: Sendable, Hashable, Codable {
    /// One parameter: name, value and UCUM-style unit.
    public struct Parameter: Sendable, Hashable, Codable {
        public var name: String
        public var value: Double
        public var unit: String
        public init(_ name: String, _ value: Double, _ unit: String) {
            self.name = name; self.value = value; self.unit = unit
        }
    }
    /// One state variable: name and unit.
    public struct State: Sendable, Hashable, Codable {
        public var name: String
        public var unit: String
        public init(_ name: String, _ unit: String) { self.name = name; self.unit = unit }
    }

    /// Stable identifier, e.g. `"uva-padova-t1d"`.
    public var id: String
    /// Version of the model's implementation; bumped whenever its equations or defaults change.
    public var version: String
    public var parameters: [Parameter]
    public var states: [State]
    /// The literature or software the model reproduces.
    public var source: String

    public init(id: String, version: String, parameters: [Parameter], states: [State], source: String) {
        self.id = id; self.version = version; self.parameters = parameters; self.states = states; self.source = source
    }

    /// A 64-bit FNV-1a hash of the id, version and every parameter's name, unit and bit pattern, as 16 hex digits.
    /// Equal descriptions give equal hashes on every platform and run (unlike `hashValue`).
    public var parameterHash: String {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        func mix(_ bytes: some Sequence<UInt8>) { for b in bytes { h ^= UInt64(b); h &*= 0x0000_0100_0000_01b3 } }
        mix(id.utf8); mix([0]); mix(version.utf8); mix([0])
        for p in parameters {
            mix(p.name.utf8); mix([0]); mix(p.unit.utf8); mix([0])
            withUnsafeBytes(of: p.value.bitPattern.littleEndian) { mix($0) }
        }
        let hex = String(h, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }
}

/// A model in the library that can describe itself for provenance.
public protocol DescribedModel {
    /// The model's id, version, parameters and states.
    var modelDescription: ModelDescription { get }
}
