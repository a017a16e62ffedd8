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
    /// Where a commit replayed by an import came from (nil for a commit made in this bank). Its author, time
    /// and message are the exporting bank's; its tree and pin are mapped to this bank.
    public var imported: ImportedCommit? = nil
}

/// The provenance of a commit replayed from another bank's bundle.
public struct ImportedCommit: Sendable, Hashable, Codable {
    /// The commit's id in the exporting bank.
    public var sourceCommit: ContentHash
    /// The branch it was on there.
    public var sourceBranch: String
    /// Its thread pin there (the exporting bank's sequence numbers).
    public var sourcePin: Int64
    /// The root hash of the bundle it came in.
    public var bundle: ContentHash
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

/// A twin or aggregate definition that differs from the head commit of the current branch.
public struct WorkingChange: Sendable, Hashable, Codable, CustomStringConvertible {
    public enum Kind: String, Sendable, Hashable, Codable {
        /// In the working state, not in the commit.
        case added
        /// In the commit, not in the working state.
        case removed
        /// In both, with different definitions.
        case changed
    }
    /// `twin/ID` or `aggregate/ID`.
    public var path: String
    public var kind: Kind
    public var description: String { "\(kind.rawValue) \(path)" }
}

/// What ``Bank/switchBranch(_:force:)`` did.
public struct BranchSwitch: Sendable, Hashable, Codable {
    /// The branch before and after.
    public var from: String
    public var to: String
    /// The commit whose definitions are now the working state; nil if the branch has no commit yet (the working
    /// state was kept).
    public var commit: ContentHash?
    /// Uncommitted changes discarded by a forced switch (empty otherwise).
    public var discarded: [WorkingChange]
    /// The tree object keeping the discarded working state, and the reference naming it
    /// (`discarded/BRANCH@MICROSECONDS`).
    public var discardedTree: ContentHash?
    public var discardedReference: String?
}

/// A branch and its head commit.
public struct BranchInfo: Sendable, Hashable, Codable {
    public var name: String
    /// nil for the current branch before its first commit.
    public var head: CommitInfo?
    /// Whether commits go to this branch now.
    public var current: Bool
}
