/// The error thrown by TwinPopulation: populations, outbreaks, contact tracing, regional risk, hospital
/// assignment and exposure scenarios.
///
/// Every error names the problem (`code`), says what to do about it (`message`) and carries the offending
/// value (`value`) verbatim. Compare against the static members of ``Code`` rather than switching
/// exhaustively: new codes may be added without breaking callers.
public struct PopulationError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What kind of problem this is. A struct over a private enum so that new codes are not a breaking change.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        private enum Base: String, Sendable, Hashable {
            case invalidArgument, invalidPings, invalidCases, invalidInstance, invalidScenario, invalidMarginals
            case invalidGeoJSON, tooLarge, unsupported
        }
        private let base: Base
        private init(_ base: Base) { self.base = base }

        /// An argument is out of its allowed range (a negative distance, a zero population, `--shard 3/2`...).
        public static let invalidArgument = Code(.invalidArgument)
        /// A location ping is malformed: an impossible latitude or longitude, a time that is not a number.
        public static let invalidPings = Code(.invalidPings)
        /// An index-case list is malformed.
        public static let invalidCases = Code(.invalidCases)
        /// A hospital or patient instance is malformed (a negative capacity, a severity outside 1...3).
        public static let invalidInstance = Code(.invalidInstance)
        /// An outbreak or city scenario names an unknown intervention or key, or a rate out of range.
        public static let invalidScenario = Code(.invalidScenario)
        /// A marginals file (age pyramid, household, school and workplace sizes) is malformed.
        public static let invalidMarginals = Code(.invalidMarginals)
        /// A GeoJSON region file is malformed: an unclosed or self-intersecting ring, a bad coordinate.
        public static let invalidGeoJSON = Code(.invalidGeoJSON)
        /// A population or input is too large for this machine's memory.
        public static let tooLarge = Code(.tooLarge)
        /// A valid input uses a feature this implementation does not support (yet).
        public static let unsupported = Code(.unsupported)

        public var description: String { base.rawValue }
    }

    /// What kind of problem this is.
    public var code: Code
    /// A sentence a person can act on.
    public var message: String
    /// The offending input, verbatim.
    public var value: String?

    public init(_ code: Code, _ message: String, value: String? = nil) {
        self.code = code
        self.message = message
        self.value = value
    }

    public var description: String { message }
}
