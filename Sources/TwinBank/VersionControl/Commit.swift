import TwinCore

/// A commit object: a snapshot of every twin and aggregate definition (the tree), its parents, who, when,
/// why, and the thread pin (the bank's last sequence number at commit), so reading at a commit reproduces
/// the thread as it was then.
public struct Commit: Sendable, Hashable, Codable {
    /// Hash of the tree object (path -> object hash).
    public var tree: ContentHash
    public var parents: [ContentHash]
    public var author: String
    public var time: Instant
    public var message: String
    /// The bank's last sequence number at commit time.
    public var threadPin: Int64
}

/// A commit with its id (the SHA-256 of its canonical encoding).
public struct CommitInfo: Sendable, Hashable, Codable {
    public var id: ContentHash
    public var commit: Commit
    /// Branch and tag names pointing at it.
    public var names: [String]
}

/// Differences between two commits.
public struct BankDiff: Sendable, Hashable, Codable {
    public struct Change: Sendable, Hashable, Codable {
        /// `twin/ID` or `aggregate/ID`.
        public var path: String
        /// Attribute-level changes (twins): key, old and new value (nil = absent).
        public var attributes: [AttributeChange]
        /// Other fields that changed (`kind`, `parts`, `template`, `members`, `query` ...).
        public var fields: [String]
    }
    public struct AttributeChange: Sendable, Hashable, Codable {
        public var key: String
        public var old: Value?
        public var new: Value?
    }
    public var from: ContentHash
    public var to: ContentHash
    public var added: [String]
    public var removed: [String]
    public var changed: [Change]
    /// Thread pins of the two commits.
    public var fromPin: Int64
    public var toPin: Int64
    /// Number of thread events recorded between the pins (either direction), per twin.
    public var eventsPerTwin: [String: Int]
    /// The first events between the pins (at most 1000), in sequence order.
    public var events: [Event]
}
