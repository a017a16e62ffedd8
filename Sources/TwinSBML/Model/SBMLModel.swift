/// An SBML model as read from a document (Level 2 versions 1-5, Level 3 versions 1-2 core, and the
/// hierarchical-composition package flattened into core). Values that the document leaves unset are `nil`;
/// the compiler applies the Level's defaults. Every element keeps the line where it starts, for errors.
public struct SBMLModel: Sendable {
    public var level: Int = 3
    public var version: Int = 2
    public var id: String = ""
    public var conversionFactor: String?
    public var functions: [FunctionDefinition] = []
    public var compartments: [Compartment] = []
    public var species: [Species] = []
    public var parameters: [Parameter] = []
    public var initialAssignments: [InitialAssignment] = []
    public var rules: [Rule] = []
    public var constraints: Int = 0
    public var reactions: [Reaction] = []
    public var events: [Event] = []

    public init() {}

    public struct FunctionDefinition: Sendable {
        public var id: String
        public var arguments: [String]
        public var body: MathNode
        public var line: Int
    }

    public struct Compartment: Sendable {
        public var id: String
        public var size: Double?
        public var spatialDimensions: Double?
        public var constant: Bool
        public var line: Int
    }

    public struct Species: Sendable {
        public var id: String
        public var compartment: String
        public var initialAmount: Double?
        public var initialConcentration: Double?
        public var hasOnlySubstanceUnits: Bool
        public var boundaryCondition: Bool
        public var constant: Bool
        public var conversionFactor: String?
        public var line: Int
    }

    public struct Parameter: Sendable {
        public var id: String
        public var value: Double?
        public var constant: Bool
        public var line: Int
    }

    public struct InitialAssignment: Sendable {
        public var symbol: String
        public var math: MathNode
        public var line: Int
    }

    public struct Rule: Sendable {
        public enum Kind: Sendable { case assignment, rate, algebraic }
        public var kind: Kind
        /// The variable (empty for algebraic rules).
        public var variable: String
        public var math: MathNode
        public var line: Int
    }

    public struct SpeciesReference: Sendable {
        /// The reference's own id (L2V2+), usable in math as its stoichiometry.
        public var id: String?
        public var species: String
        public var stoichiometry: Double?
        /// L2 `stoichiometryMath`.
        public var stoichiometryMath: MathNode?
        public var constant: Bool
        public var line: Int
    }

    public struct Reaction: Sendable {
        public var id: String
        public var reversible: Bool
        public var fast: Bool
        public var reactants: [SpeciesReference]
        public var products: [SpeciesReference]
        public var modifiers: [String]
        public var kineticLaw: MathNode?
        /// Local parameters (L3 `localParameter`, L2 parameters inside the kinetic law).
        public var localParameters: [(id: String, value: Double?)]
        public var line: Int
    }

    public struct EventAssignment: Sendable {
        public var variable: String
        public var math: MathNode
        public var line: Int
    }

    public struct Event: Sendable {
        public var id: String
        public var trigger: MathNode
        public var initialValue: Bool
        public var persistent: Bool
        public var delay: MathNode?
        public var priority: MathNode?
        public var useValuesFromTriggerTime: Bool
        public var assignments: [EventAssignment]
        public var line: Int
    }
}
