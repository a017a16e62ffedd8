import TwinCore

/// What importing one FHIR file means for the bank, worked out before anything is written.
///
/// A transaction (and a collection, or a single resource) is one `Unit`: the bank writes it in one scope or
/// not at all. A batch has one unit per entry; units that fail are reported and the others are written.
public struct ImportPlan: Sendable {
    public struct Unit: Sendable {
        /// Person and organisation twins the unit creates or updates (organisations: create if absent).
        public var twins: [Twin] = []
        /// Twins that must already exist in the bank (subjects referenced as `Patient/ID` from outside the bundle).
        public var requiredTwins: [(twin: TwinID, fullUrl: String?, path: String)] = []
        /// Thread events to append (the bank skips those whose content hash it already has).
        public var events: [EventDraft] = []
        /// Resources that are kept as records rather than twins (Practitioner), keyed for deduplication.
        public var records: [Record] = []
        /// The entry (fullUrl, else path) each event comes from, parallel to `events`.
        public var eventEntries: [String] = []
        /// The FHIR path of each event's resource or component, parallel to `events`.
        public var eventPaths: [String] = []
        /// Values left out because their unit cannot be read or does not fit their code (see
        /// ``ImportPlanner/strict``).
        public var setAside: [ImportIssue] = []
        /// Entries of the bundle the unit stands for (fullUrls, or `entry[i]`).
        public var entries: [String] = []
    }

    /// A resource kept as a record: deduplicated by `key` (`Practitioner|system|value`).
    public struct Record: Sendable, Hashable {
        public var resourceType: String
        public var key: String
        public var json: JSONValue
    }

    public enum Atomicity: Sendable { case allOrNothing, perEntry }

    public var origin: String
    public var atomicity: Atomicity
    public var units: [Unit]
    /// Entries of a batch that could not be planned; the other units are still imported.
    public var failures: [FHIRError]
    /// Entries whose resource type does not map to twins (Claim, ExplanationOfBenefit, ImagingStudy ...),
    /// counted by type.
    public var skipped: [String: Int]
}
