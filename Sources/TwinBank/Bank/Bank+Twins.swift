import TwinCore

extension Bank {
    /// Creates a twin. If it names a template (``Twin/template``), the template version must exist (version 0
    /// means the latest, and is replaced by it); the template's attributes and parts are defaults the twin's own
    /// override. Parts must name existing twins.
    /// - Throws: ``BankError`` `duplicateTwin`, `unknownTwin` (a part), `unknownTemplate`.
    @discardableResult
    public func createTwin(_ twin: Twin) throws -> TwinRecord {
        try authorize(.write, twin.id)
        return try storage.write { tx in try createTwinInTransaction(twin, tx) }
    }

    func createTwinInTransaction(_ twin: Twin, _ tx: any StorageWriter) throws -> TwinRecord {
        try refuseErased(twin.id, tx)
        guard try tx.ref(Bank.twinRef(twin.id)) == nil else {
            throw BankError(.duplicateTwin, "duplicate twin id '\(twin.id)': a twin with this id already exists", value: twin.id.rawValue)
        }
        // the thread is shared by all branches: a twin made on another branch keeps its events here
        guard try tx.eventHashes(of: twin.id).isEmpty else {
            throw BankError(.duplicateTwin, "twin id '\(twin.id)' is taken: the thread has events of a twin '\(twin.id)' defined on another branch (switch to that branch, or choose another id)", value: twin.id.rawValue)
        }
        var t = twin
        if let ref = twin.template {
            let (version, template) = try resolveTemplate(ref, tx)
            t.template = Twin.TemplateReference(id: ref.id, version: version)
            t.attributes = template.twin.attributes.merging(twin.attributes) { _, own in own }
            if t.parts.isEmpty { t.parts = template.twin.parts }
            if t.origin == nil { t.origin = template.twin.origin }
            t.templateVersion = nil
        }
        try checkParts(t, tx)
        let record = TwinRecord(twin: t, created: clock.now())
        try storeRecord(record, tx)
        return record
    }

    /// Creates a reference twin (template), or a new version of an existing one. The version number is
    /// assigned: 1 for a new template, else the latest + 1. Each version stays readable for instantiation.
    /// - Throws: ``BankError`` `duplicateTwin` if a non-template twin has this id.
    @discardableResult
    public func createTemplate(_ twin: Twin) throws -> TwinRecord {
        try authorize(.write, twin.id)
        return try storage.write { tx in
            try refuseErased(twin.id, tx)
            let existing = try loadRecord(twin.id, tx)
            if let existing, !existing.twin.isTemplate {
                throw BankError(.duplicateTwin, "duplicate twin id '\(twin.id)': a twin that is not a template has this id", value: twin.id.rawValue)
            }
            var t = twin
            // versions already given (also on another branch, where this template's twin/ID is absent) are never reused
            let given = try tx.refs(prefix: "template/\(twin.id.rawValue)@").compactMap { Int($0.name.split(separator: "@").last ?? "") }
            t.templateVersion = Swift.max(existing?.twin.templateVersion ?? 0, given.max() ?? 0) + 1
            t.template = nil
            try checkParts(t, tx)
            let record = TwinRecord(twin: t, created: clock.now())
            let h = try storeObject(record, kind: "twin", tx)
            try tx.setRef(Bank.twinRef(t.id), h.hex)
            try tx.setRef("template/\(t.id.rawValue)@\(t.templateVersion!)", h.hex)
            return record
        }
    }

    /// Replaces a twin's definition (attributes, parts, bindings), keeping its fork link and creation time.
    /// For templates use ``createTemplate(_:)``, which makes a new version.
    /// - Throws: ``BankError`` `unknownTwin`.
    @discardableResult
    public func updateTwin(_ twin: Twin) throws -> TwinRecord {
        try authorize(.write, twin.id)
        return try storage.write { tx in try updateTwinInTransaction(twin, tx) }
    }

    func updateTwinInTransaction(_ twin: Twin, _ tx: any StorageWriter) throws -> TwinRecord {
        var record = try requireRecord(twin.id, tx)
        guard !record.twin.isTemplate else {
            throw BankError(.duplicateTwin, "twin '\(twin.id)' is a template: create a new version with createTemplate", value: twin.id.rawValue)
        }
        try checkParts(twin, tx)
        record.twin = twin
        try storeRecord(record, tx)
        return record
    }

    /// A twin as it is now, or as recorded in a commit (`at`: a commit id or prefix, branch, tag, `HEAD~n`).
    /// - Throws: ``BankError`` `unknownTwin`, `unknownCommit`.
    public func twin(_ id: TwinID, at commit: String? = nil) throws -> TwinRecord {
        try versionedTwin(id, at: commit).record
    }

    /// ``twin(_:at:)`` with the content hash (hex) the record is stored under. An erasure rewrites a record under
    /// its hash: a caller caching what it derives from a record (a server's ETag) by this hash must also check the
    /// record is the one it derived it from.
    /// - Throws: ``BankError`` `unknownTwin`, `unknownCommit`.
    public func versionedTwin(_ id: TwinID, at commit: String? = nil) throws -> (record: TwinRecord, hash: String) {
        try answeringRead(.read, id, narrowing: false) { filter, tx in
            // a definition cannot be filtered: a permit that holds data back refuses it (fail closed)
            if let filter { throw filteredPermitRefused(.read, id, filter) }
            let hex: String
            if let commit {
                let (_, c) = try resolveCommit(commit, tx)
                let tree = try loadTree(c.tree, tx)
                guard let h = tree[Bank.twinRef(id)] else {
                    throw BankError(.unknownTwin, "unknown twin '\(id)' at commit \(commit): it was not in the bank then", value: id.rawValue)
                }
                hex = h
            } else {
                guard let h = try tx.ref(Bank.twinRef(id)) else {
                    try refuseErased(id, tx)
                    throw BankError.unknownTwin(id)
                }
                hex = h
            }
            return (try loadRecord(hex: hex, tx), hex)
        }
    }

    /// The ids of all twins (including forks and templates), now or at a commit, sorted.
    public func twinIDs(at commit: String? = nil) throws -> [TwinID] {
        try authorize(.read, nil)
        return try storage.read { tx in
            let names: [String]
            if let commit {
                let (_, c) = try resolveCommit(commit, tx)
                names = try loadTree(c.tree, tx).keys.filter { $0.hasPrefix("twin/") }.sorted()
            } else {
                names = try tx.refs(prefix: "twin/").map(\.name)
            }
            return names.compactMap { try? TwinID(String($0.dropFirst(5))) }
        }
    }

    /// The ids of the twins forked from `parent` (directly), sorted. Asks the gate to `read` the parent and the bank's
    /// list of twins (as ``twinIDs(at:)``); the forks' own data stay behind their own decisions.
    /// - Throws: ``BankError`` `unknownTwin` for an unknown parent, `accessDenied`.
    public func forks(of parent: TwinID) throws -> [TwinID] {
        try authorize(.read, parent)
        try authorize(.read, nil)
        return try storage.read { tx in
            _ = try requireRecord(parent, tx)
            return try tx.refs(prefix: "twin/").compactMap { ref -> TwinID? in
                guard let id = try? TwinID(String(ref.name.dropFirst(5))), id != parent,
                      let record = try loadRecord(id, tx), record.fork?.parent == parent else { return nil }
                return id
            }.sorted()
        }
    }

    /// The versions of a template, ascending.
    public func templateVersions(_ id: TwinID) throws -> [Int] {
        try authorize(.read, id)
        return try storage.read { tx in
            try tx.refs(prefix: "template/\(id.rawValue)@").compactMap { Int($0.name.split(separator: "@").last ?? "") }.sorted()
        }
    }

    func resolveTemplate(_ ref: Twin.TemplateReference, _ tx: any StorageReader) throws -> (Int, TwinRecord) {
        var version = ref.version
        if version == 0 {
            let versions = try tx.refs(prefix: "template/\(ref.id.rawValue)@").compactMap { Int($0.name.split(separator: "@").last ?? "") }
            guard let latest = versions.max() else {
                throw BankError(.unknownTemplate, "unknown template '\(ref.id)': no template with this id", value: ref.id.rawValue)
            }
            version = latest
        }
        guard let hex = try tx.ref("template/\(ref.id.rawValue)@\(version)") else {
            let known = try tx.refs(prefix: "template/\(ref.id.rawValue)@").map { String($0.name.dropFirst(9)) }
            throw BankError(.unknownTemplate, "unknown template version '\(ref.id)@\(version)'" + (known.isEmpty ? ": no template with this id" : ": known versions are \(known.joined(separator: ", "))"), value: "\(ref.id)@\(version)")
        }
        return (version, try loadObject(TwinRecord.self, hex: hex, tx))
    }

    func checkParts(_ t: Twin, _ tx: any StorageReader) throws {
        for p in t.parts {
            guard p.twin != t.id else {
                throw BankError(.unknownTwin, "twin '\(t.id)' cannot be a part of itself (role '\(p.role)')", value: p.twin.rawValue)
            }
            guard try tx.ref(Bank.twinRef(p.twin)) != nil else {
                throw BankError(.unknownTwin, "unknown twin '\(p.twin)' given as part '\(p.role)': create it first", value: p.twin.rawValue)
            }
        }
    }
}
