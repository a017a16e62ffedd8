import TwinCore

extension Bank {
    struct TreeEntry: Codable { var path: String; var hash: String }

    func loadTree(_ hash: ContentHash, _ tx: any StorageReader) throws -> [String: String] {
        let entries = try loadObject([TreeEntry].self, hex: hash.hex, tx)
        return Dictionary(entries.map { ($0.path, $0.hash) }, uniquingKeysWith: { a, _ in a })
    }

    /// The working state a commit records: every twin and aggregate definition, and the governance objects
    /// (the bank's `policy` and each twin's `consent/ID`, written by TwinGovernance).
    func currentTree(_ tx: any StorageReader) throws -> [TreeEntry] {
        let refs = try tx.refs(prefix: "twin/") + tx.refs(prefix: "aggregate/") + tx.refs(prefix: "consent/")
            + tx.refs(prefix: "policy").filter { $0.name == "policy" }
        return refs.map { TreeEntry(path: $0.name, hash: $0.value) }.sorted { $0.path < $1.path }
    }

    func headBranch(_ tx: any StorageReader) throws -> String { try tx.ref("HEAD") ?? "main" }

    static func checkRefName(_ name: String, what: String) throws {
        do { _ = try TwinID(name) } catch {
            throw BankError(.invalidReference, "invalid \(what) name '\(name)': use letters, digits and . _ : # - only", value: name)
        }
    }

    /// Commits the current definitions of all twins and aggregates, with the thread pinned at the bank's last
    /// sequence number, on the current branch (`main` unless switched).
    /// - Throws: ``BankError`` `nothingToCommit` when neither the definitions nor the thread changed since the
    ///   branch's last commit.
    @discardableResult
    public func commit(message: String, author: String? = nil) throws -> CommitInfo {
        try authorize(.commit, nil)
        return try storage.write { tx in
            let branch = try headBranch(tx)
            let tree = try currentTree(tx)
            let treeHash = try storeObject(tree, kind: "tree", tx)
            let pin = try tx.lastSequence()
            var parents: [ContentHash] = []
            if let hex = try tx.ref("branch/\(branch)"), let p = ContentHash(hex: hex) {
                let parent = try loadObject(Commit.self, hex: hex, tx)
                if parent.tree == treeHash && parent.threadPin == pin {
                    throw BankError(.nothingToCommit, "nothing to commit on branch '\(branch)': no twin, aggregate or thread changed since \(p.abbreviated())", value: branch)
                }
                parents = [p]
            }
            var time = clock.now()
            if let p = parents.first, let parent = try? loadObject(Commit.self, hex: p.hex, tx), time <= parent.time {
                time = parent.time.advanced(byMicroseconds: 1)
            }
            let c = Commit(tree: treeHash, parents: parents, author: author ?? actor, time: time, message: message, threadPin: pin)
            let id = try storeObject(c, kind: "commit", tx)
            try tx.setRef("branch/\(branch)", id.hex)
            try tx.setRef("commit/\(id.hex)", "")
            return CommitInfo(id: id, commit: c, names: [branch])
        }
    }

    /// Resolves a commit name: empty or `HEAD` (the current branch), a branch, a tag, a commit id or a unique
    /// prefix of at least 4 hex digits, optionally followed by `~N` (N first-parents back).
    /// - Throws: ``BankError`` `unknownCommit` or `ambiguousCommit` naming the text.
    public func resolveCommit(_ name: String) throws -> CommitInfo {
        try authorize(.read, nil)
        return try storage.read { tx in
            let (id, c) = try resolveCommit(name, tx)
            return CommitInfo(id: id, commit: c, names: try names(of: id, tx))
        }
    }

    func resolveCommit(_ text: String, _ tx: any StorageReader) throws -> (ContentHash, Commit) {
        var name = text
        var back = 0
        if let tilde = text.lastIndex(of: "~") {
            let n = text[text.index(after: tilde)...]
            guard let k = n.isEmpty ? 1 : Int(n), k >= 0 else {
                throw BankError(.unknownCommit, "malformed commit reference '\(text)': expected NAME~N", value: text)
            }
            back = k; name = String(text[..<tilde])
        }
        var hex: String?
        if name.isEmpty || name == "HEAD" {
            let b = try headBranch(tx)
            hex = try tx.ref("branch/\(b)")
            if hex == nil { throw BankError(.unknownCommit, "no commits yet on branch '\(b)'", value: text) }
        } else if let h = try tx.ref("branch/\(name)") { hex = h }
        else if let h = try tx.ref("tag/\(name)") { hex = h }
        else if name.count >= 4, name.allSatisfy(\.isHexDigit) {
            let matches = try tx.refs(prefix: "commit/\(name.lowercased())")
            if matches.count > 1 {
                throw BankError(.ambiguousCommit, "ambiguous commit '\(name)': \(matches.count) commits start with it; give more digits", value: text)
            }
            hex = matches.first.map { String($0.name.dropFirst(7)) }
        }
        guard let hex, var id = ContentHash(hex: hex) else {
            throw BankError(.unknownCommit, "unknown commit '\(text)': not a branch, tag or commit id", value: text)
        }
        var c = try loadObject(Commit.self, hex: id.hex, tx)
        for _ in 0..<back {
            guard let p = c.parents.first else {
                throw BankError(.unknownCommit, "unknown commit '\(text)': history is shorter than \(back) commits", value: text)
            }
            id = p
            c = try loadObject(Commit.self, hex: p.hex, tx)
        }
        return (id, c)
    }

    func names(of id: ContentHash, _ tx: any StorageReader) throws -> [String] {
        let hex = id.hex
        return try (tx.refs(prefix: "branch/") + tx.refs(prefix: "tag/")).filter { $0.value == hex }.map {
            $0.name.hasPrefix("branch/") ? String($0.name.dropFirst(7)) : "tag:" + $0.name.dropFirst(4)
        }
    }

    /// The history reachable from a commit (default: the current branch), newest first.
    public func log(_ from: String? = nil) throws -> [CommitInfo] {
        try authorize(.read, nil)
        return try storage.read { tx in
            let start: (ContentHash, Commit)
            do { start = try resolveCommit(from ?? "HEAD", tx) } catch let e as BankError where from == nil && e.code == .unknownCommit {
                return []
            }
            var out: [CommitInfo] = []
            var seen = Set<ContentHash>()
            var frontier = [start]
            while !frontier.isEmpty {
                frontier.sort { $0.1.time > $1.1.time }
                let (id, c) = frontier.removeFirst()
                guard seen.insert(id).inserted else { continue }
                out.append(CommitInfo(id: id, commit: c, names: try names(of: id, tx)))
                for p in c.parents where !seen.contains(p) { frontier.append((p, try loadObject(Commit.self, hex: p.hex, tx))) }
            }
            return out
        }
    }

    /// Tags a commit (default: HEAD). Tags do not move: re-tagging another commit is an error.
    /// - Throws: ``BankError`` `invalidReference`, `unknownCommit`.
    @discardableResult
    public func tag(_ name: String, at commit: String? = nil) throws -> CommitInfo {
        try Bank.checkRefName(name, what: "tag")
        try authorize(.commit, nil)
        return try storage.write { tx in
            let (id, c) = try resolveCommit(commit ?? "HEAD", tx)
            if let existing = try tx.ref("tag/\(name)"), existing != id.hex {
                throw BankError(.invalidReference, "tag '\(name)' already exists on commit \(existing.prefix(12))", value: name)
            }
            try tx.setRef("tag/\(name)", id.hex)
            return CommitInfo(id: id, commit: c, names: try names(of: id, tx))
        }
    }

    /// Creates a branch at a commit (default: the head of the current branch). The working state and the
    /// current branch do not change; ``switchBranch(_:force:)`` moves to it.
    /// - Throws: ``BankError`` `invalidReference` (a bad name, or the branch exists), `unknownCommit`.
    @discardableResult
    public func createBranch(_ name: String, at commit: String? = nil) throws -> CommitInfo {
        try Bank.checkRefName(name, what: "branch")
        try authorize(.commit, nil)
        return try storage.write { tx in
            if let existing = try tx.ref("branch/\(name)") {
                throw BankError(.invalidReference, "branch '\(name)' already exists (at commit \(existing.prefix(12)))", value: name)
            }
            let (id, c) = try resolveCommit(commit ?? "HEAD", tx)
            try tx.setRef("branch/\(name)", id.hex)
            return CommitInfo(id: id, commit: c, names: try names(of: id, tx))
        }
    }

    /// The twin and aggregate definitions that differ from the head commit of the current branch (everything,
    /// if the branch has no commit yet), sorted by path. Thread events are not listed: the thread is shared by
    /// all branches and never lost by switching.
    public func uncommittedChanges() throws -> [WorkingChange] {
        try authorize(.read, nil)
        return try storage.read { tx in try uncommittedChanges(tx) }
    }

    func uncommittedChanges(_ tx: any StorageReader) throws -> [WorkingChange] {
        var committed: [String: String] = [:]
        let branch = try headBranch(tx)
        if let hex = try tx.ref("branch/\(branch)") {
            committed = try loadTree(try loadObject(Commit.self, hex: hex, tx).tree, tx)
        }
        let working = Dictionary(try currentTree(tx).map { ($0.path, $0.hash) }, uniquingKeysWith: { a, _ in a })
        var changes: [WorkingChange] = []
        for (path, hash) in working {
            if let c = committed[path] { if c != hash { changes.append(WorkingChange(path: path, kind: .changed)) } }
            else { changes.append(WorkingChange(path: path, kind: .added)) }
        }
        for path in committed.keys where working[path] == nil {
            // an erased twin's absence is no change a switch could lose (it cannot come back)
            if path.hasPrefix("twin/"), try tx.ref(Bank.erasedRef(String(path.dropFirst(5)))) != nil { continue }
            changes.append(WorkingChange(path: path, kind: .removed))
        }
        return changes.sorted { $0.path < $1.path }
    }

    /// Switches to a branch: commits go to it from now on, and the working state (every twin and aggregate
    /// definition) becomes the one of the branch's head commit, so `twin show`, queries and aggregates see the
    /// branch's definitions. The thread is append-only and bitemporal and is shared by all branches (a commit pins
    /// it by sequence number); switching never adds or removes events.
    ///
    /// Uncommitted definition changes (see ``uncommittedChanges()``) would be lost, so the switch is refused,
    /// naming them, unless `force`. With `force` they are discarded from the working state but not destroyed:
    /// the result lists them and the discarded working state is kept as a tree object under the reference
    /// `discarded/BRANCH@MICROSECONDS`. A branch without commits (only `main` on a new bank) keeps the working state.
    /// - Throws: ``BankError`` `invalidReference` (a bad name or an unknown branch, naming the known ones),
    ///   `uncommittedChanges` (naming each changed path).
    @discardableResult
    public func switchBranch(_ name: String, force: Bool = false) throws -> BranchSwitch {
        try Bank.checkRefName(name, what: "branch")
        try authorize(.commit, nil)
        return try storage.write { tx in
            let from = try headBranch(tx)
            let targetHex = try tx.ref("branch/\(name)")
            guard name == "main" || targetHex != nil else {
                let known = try tx.refs(prefix: "branch/").map { String($0.name.dropFirst(7)) }
                throw BankError(.invalidReference, "unknown branch '\(name)'" + (known.isEmpty ? ": the bank has no branches yet (commit first)" : ": branches are \(known.joined(separator: ", "))"), value: name)
            }
            var result = BranchSwitch(from: from, to: name, commit: nil, discarded: [], discardedTree: nil, discardedReference: nil)
            if let targetHex, let target = ContentHash(hex: targetHex) {
                let changes = try uncommittedChanges(tx)
                if !changes.isEmpty {
                    guard force else {
                        let list = changes.prefix(20).map(\.description).joined(separator: ", ") + (changes.count > 20 ? " and \(changes.count - 20) more" : "")
                        throw BankError(.uncommittedChanges, "cannot switch to branch '\(name)': \(changes.count) uncommitted change(s) on branch '\(from)' would be lost (\(list)); commit them first, or switch with force (--force) to discard them", value: from)
                    }
                    let kept = try storeObject(try currentTree(tx), kind: "tree", tx)
                    let reference = "discarded/\(from)@\(clock.now().microseconds)"
                    try tx.setRef(reference, kept.hex)
                    result.discarded = changes
                    result.discardedTree = kept
                    result.discardedReference = reference
                }
                let commit = try loadObject(Commit.self, hex: target.hex, tx)
                let tree = try loadTree(commit.tree, tx)
                for entry in try currentTree(tx) where tree[entry.path] != entry.hash {
                    try tx.setRef(entry.path, tree[entry.path])
                }
                for (path, hash) in tree {
                    // an erased twin stays erased on every branch (its definitions there are tombstones)
                    if path.hasPrefix("twin/"), try tx.ref(Bank.erasedRef(String(path.dropFirst(5)))) != nil { continue }
                    if try tx.ref(path) != hash { try tx.setRef(path, hash) }
                }
                result.commit = target
            }
            try tx.setRef("HEAD", name)
            return result
        }
    }

    /// Branch names (sorted) and the current one.
    public func branches() throws -> (current: String, all: [String]) {
        try authorize(.read, nil)
        return try storage.read { tx in
            (try headBranch(tx), try tx.refs(prefix: "branch/").map { String($0.name.dropFirst(7)) })
        }
    }

    /// Every branch with its head commit (nil for `main` before its first commit), sorted by name, and the
    /// current branch.
    public func branchHeads() throws -> (current: String, branches: [BranchInfo]) {
        try authorize(.read, nil)
        return try storage.read { tx in
            let current = try headBranch(tx)
            var out: [BranchInfo] = []
            for r in try tx.refs(prefix: "branch/") {
                guard let id = ContentHash(hex: r.value) else { continue }
                let c = try loadObject(Commit.self, hex: r.value, tx)
                out.append(BranchInfo(name: String(r.name.dropFirst(7)), head: CommitInfo(id: id, commit: c, names: try names(of: id, tx)), current: r.name == "branch/\(current)"))
            }
            if !out.contains(where: { $0.name == current }) { out.append(BranchInfo(name: current, head: nil, current: true)) }
            return (current, out.sorted { $0.name < $1.name })
        }
    }

    /// Tag names and their commits.
    public func tags() throws -> [(name: String, commit: ContentHash)] {
        try authorize(.read, nil)
        return try storage.read { tx in
            try tx.refs(prefix: "tag/").compactMap { r in ContentHash(hex: r.value).map { (String(r.name.dropFirst(4)), $0) } }
        }
    }

    /// Differences between commits `a` and `b`: definitions added, removed and changed (with attribute-level
    /// changes for twins) and the thread events recorded between their pins.
    public func diff(_ a: String, _ b: String) throws -> BankDiff {
        try authorize(.read, nil)
        return try storage.read { tx in
            let (ia, ca) = try resolveCommit(a, tx)
            let (ib, cb) = try resolveCommit(b, tx)
            let ta = try loadTree(ca.tree, tx), tb = try loadTree(cb.tree, tx)
            let added = tb.keys.filter { ta[$0] == nil }.sorted()
            let removed = ta.keys.filter { tb[$0] == nil }.sorted()
            var changed: [BankDiff.Change] = []
            for path in ta.keys.sorted() {
                guard let hb = tb[path], let ha = ta[path], ha != hb else { continue }
                if path.hasPrefix("twin/") {
                    let ra = try loadObject(TwinRecord.self, hex: ha, tx), rb = try loadObject(TwinRecord.self, hex: hb, tx)
                    var attrs: [BankDiff.AttributeChange] = []
                    for k in Set(ra.twin.attributes.keys).union(rb.twin.attributes.keys).sorted() where ra.twin.attributes[k] != rb.twin.attributes[k] {
                        attrs.append(.init(key: k, old: ra.twin.attributes[k], new: rb.twin.attributes[k]))
                    }
                    var fields: [String] = []
                    if ra.twin.kind != rb.twin.kind { fields.append("kind") }
                    if ra.twin.parts != rb.twin.parts { fields.append("parts") }
                    if ra.twin.template != rb.twin.template { fields.append("template") }
                    if ra.twin.templateVersion != rb.twin.templateVersion { fields.append("templateVersion") }
                    if ra.twin.dataSources != rb.twin.dataSources { fields.append("dataSources") }
                    if ra.twin.models != rb.twin.models { fields.append("models") }
                    if ra.twin.origin != rb.twin.origin { fields.append("origin") }
                    if ra.fork != rb.fork { fields.append("fork") }
                    changed.append(.init(path: path, attributes: attrs, fields: fields))
                } else if !path.hasPrefix("aggregate/") {
                    // A governance object (the policy, a twin's consent): its content changed.
                    changed.append(.init(path: path, attributes: [], fields: ["content"]))
                } else {
                    let da = try loadObject(AggregateDefinition.self, hex: ha, tx), db = try loadObject(AggregateDefinition.self, hex: hb, tx)
                    var fields: [String] = []
                    if da.members != db.members { fields.append("members") }
                    if da.query != db.query { fields.append("query") }
                    if da.description != db.description { fields.append("description") }
                    changed.append(.init(path: path, attributes: [], fields: fields))
                }
            }
            let lo = min(ca.threadPin, cb.threadPin), hi = max(ca.threadPin, cb.threadPin)
            var perTwin: [String: Int] = [:]
            var sample: [Event] = []
            if hi > lo {
                var next = lo + 1
                while next <= hi {
                    let chunk = try tx.events(sequences: next...hi, limit: 50_000)
                    guard let last = chunk.last else { break }
                    for e in chunk { perTwin[e.twin.rawValue, default: 0] += 1 }
                    if sample.count < 1000 { sample += chunk.prefix(1000 - sample.count) }
                    next = last.sequence + 1
                }
            }
            return BankDiff(from: ia, to: ib, added: added, removed: removed, changed: changed,
                            fromPin: ca.threadPin, toPin: cb.threadPin, eventsPerTwin: perTwin, events: sample)
        }
    }
}
