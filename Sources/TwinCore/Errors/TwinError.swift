/// The error thrown by TwinCore when a value cannot be parsed or validated.
///
/// Every error names the problem (`code`), says what to do about it (`message`) and carries the offending
/// input (`value`) verbatim, so a command can print it as is. New codes may be added without breaking callers:
/// compare against the static members of ``Code`` rather than switching exhaustively.
public struct TwinError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What kind of problem this is. A struct over a private enum so that new codes are not a breaking change.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        private enum Base: String, Sendable, Hashable {
            case invalidIdentifier, invalidTime, invalidKind, invalidValue, invalidConcept, invalidUnit
            case incommensurableUnits, unitDoesNotFitCode, invalidSource, invalidCategory, invalidDuration, invalidCSV
            case outputExists, cannotWrite
        }
        private let base: Base
        private init(_ base: Base) { self.base = base }

        /// An identifier is empty, too long or contains a character outside `[A-Za-z0-9._:#-]`.
        public static let invalidIdentifier = Code(.invalidIdentifier)
        /// A time is not strict ISO 8601 or names an impossible date/time.
        public static let invalidTime = Code(.invalidTime)
        /// A twin kind word is not one of the known kinds.
        public static let invalidKind = Code(.invalidKind)
        /// An attribute or event value cannot be parsed.
        public static let invalidValue = Code(.invalidValue)
        /// A coded concept (`SYSTEM:CODE`, `SYSTEM|CODE|DISPLAY`) cannot be parsed.
        public static let invalidConcept = Code(.invalidConcept)
        /// A UCUM unit expression cannot be parsed.
        public static let invalidUnit = Code(.invalidUnit)
        /// Two units measure different things (for example `kg` and `mm[Hg]`).
        public static let incommensurableUnits = Code(.incommensurableUnits)
        /// A unit does not measure what a well-known code measures (for example heart rate in `kg`).
        public static let unitDoesNotFitCode = Code(.unitDoesNotFitCode)
        /// A data source (`KIND:ID`) cannot be parsed.
        public static let invalidSource = Code(.invalidSource)
        /// An event category word is not one of the known categories.
        public static let invalidCategory = Code(.invalidCategory)
        /// A duration such as `365d` cannot be parsed.
        public static let invalidDuration = Code(.invalidDuration)
        /// An output path is a folder, or a file the command would replace without being asked to (`--force`).
        public static let outputExists = Code(.outputExists)
        /// An output file or folder cannot be written (missing parent folder, permissions, a full disk).
        public static let cannotWrite = Code(.cannotWrite)
        /// A CSV file is malformed (an unterminated quote, text after a closing quote, bytes that are not UTF-8,
        /// a row with the wrong number of fields); the message names the line.
        public static let invalidCSV = Code(.invalidCSV)

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
