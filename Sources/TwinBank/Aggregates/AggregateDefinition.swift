import Foundation
import TwinCore

/// An aggregate: a versioned set of twins or instances, given explicitly (``members``) or by a query
/// (``query``, see ``AggregateQuery``). Stored as a content-addressed object and committed like twins.
public struct AggregateDefinition: Sendable, Hashable, Codable {
    public var id: AggregateID
    public var members: [TwinID]?
    public var query: String?
    public var description: String?
    /// Whether forks and comparison instances (twins made by `fork` or `compare` from another twin) can be
    /// members of the query. Nil (stored definitions before this field) and false: they are not. An explicit
    /// member list names whichever twins it names.
    public var includeForks: Bool?
    public init(id: AggregateID, members: [TwinID]? = nil, query: String? = nil, description: String? = nil, includeForks: Bool? = nil) {
        self.id = id; self.members = members; self.query = query; self.description = description; self.includeForks = includeForks
    }

    /// A few words saying how it is defined: `where QUERY` or `N explicit member(s)`.
    public var summary: String {
        if let query { return "where \(query)" + (includeForks == true ? " (forks included)" : "") }
        return "\(members?.count ?? 0) explicit member(s)"
    }
}

/// An aggregate's membership at a point, with how it was evaluated.
public struct AggregateMembership: Sendable, Hashable, Codable {
    public var definition: AggregateDefinition
    public var members: [TwinID]
    /// The effective time the query's windows are relative to, and the time `age` is computed at.
    public var asOf: Instant
    /// The commit the definitions and thread were read at (nil: now).
    public var commit: ContentHash?
    /// The twins the query could not decide because a value it compares is missing (for example `age` without
    /// a birth date, or no value of a code within the window): neither members nor counted out.
    public var unknown: [UndecidedTwin]
    /// How many forks and comparison instances the query left out (the definition does not include forks).
    public var forksExcluded: Int

    /// For each operand the undecided twins lack, how many of them lack it.
    public var unknownByOperand: [(operand: String, twins: Int)] {
        var counts: [String: Int] = [:]
        var order: [String] = []
        for u in unknown {
            for m in u.missing {
                if counts[m] == nil { order.append(m) }
                counts[m, default: 0] += 1
            }
        }
        return order.map { ($0, counts[$0]!) }
    }
}

/// A twin an aggregate query could not decide, and the operands (attribute, derived attribute or code) whose
/// value it does not have.
public struct UndecidedTwin: Sendable, Hashable, Codable {
    public var twin: TwinID
    public var missing: [String]
    public init(twin: TwinID, missing: [String]) { self.twin = twin; self.missing = missing }
}

extension Bank {
    static func aggregateRef(_ id: AggregateID) -> String { "aggregate/\(id.rawValue)" }

    /// Creates an aggregate with an explicit member list; every member must be an existing twin (forks too,
    /// when named). An existing aggregate with this id is redefined only with `replace`.
    /// - Throws: ``BankError`` `unknownTwin` naming the member; `duplicateAggregate` naming the id when it exists
    ///   and `replace` is false. Nothing is written when it throws.
    @discardableResult
    public func createAggregate(_ id: AggregateID, members: [TwinID], description: String? = nil, replace: Bool = false) throws -> AggregateDefinition {
        try authorize(.write, nil)
        return try storage.write { tx in
            if !replace { try refuseExistingAggregate(id, tx) }
            for m in members where try tx.ref(Bank.twinRef(m)) == nil {
                throw BankError(.unknownTwin, "unknown twin '\(m)' given as a member of aggregate '\(id)'", value: m.rawValue)
            }
            var unique: [TwinID] = []
            var seen = Set<TwinID>()
            for m in members where seen.insert(m).inserted { unique.append(m) }
            let def = AggregateDefinition(id: id, members: unique, description: description)
            try tx.setRef(Bank.aggregateRef(id), try storeObject(def, kind: "aggregate", tx).hex)
            return def
        }
    }

    /// Creates an aggregate defined by a query expression (see ``AggregateQuery``), after checking the query
    /// against the bank so that it cannot silently find nobody:
    /// - every attribute it names is an attribute some twin has (`sex` and `gender` are synonyms, see
    ///   ``QueryVocabulary``); `age` and `birthYear` need some twin with a `birthDate`;
    /// - every code it names has a value in some twin's thread;
    /// - a number compared with an attribute or code whose values have a unit carries a unit that converts to
    ///   it (`loinc:4548-4 > 6.5 %`, not `> 6.5`);
    /// - `sex`/`gender` is compared with `male`, `female`, `other`, `unknown` or a value some twin has.
    ///
    /// Forks and comparison instances are members only with `includeForks`. An existing aggregate with this
    /// id is redefined only with `replace`.
    /// - Throws: ``BankError`` `invalidQuery` naming the expression and the attribute, code or unit at fault,
    ///   with the attributes the bank has; `duplicateAggregate` naming the id. Nothing is written when it throws.
    @discardableResult
    public func createAggregate(_ id: AggregateID, where expression: String, description: String? = nil,
                                includeForks: Bool = false, replace: Bool = false) throws -> AggregateDefinition {
        let query = try AggregateQuery(parsing: expression)
        try authorize(.write, nil)
        return try storage.write { tx in
            if !replace { try refuseExistingAggregate(id, tx) }
            try check(query, tx)
            let def = AggregateDefinition(id: id, query: expression, description: description, includeForks: includeForks ? true : nil)
            try tx.setRef(Bank.aggregateRef(id), try storeObject(def, kind: "aggregate", tx).hex)
            return def
        }
    }

    func refuseExistingAggregate(_ id: AggregateID, _ tx: any StorageReader) throws {
        guard let hex = try tx.ref(Bank.aggregateRef(id)) else { return }
        let old = try? loadObject(AggregateDefinition.self, hex: hex, tx)
        throw BankError(.duplicateAggregate,
                        "aggregate '\(id)' already exists" + (old.map { " (\($0.summary))" } ?? "") + ": choose another id, or replace it (aggregate create --replace)",
                        value: id.rawValue)
    }

    /// Checks a query's attributes, codes and units against the twins of the bank (see ``createAggregate(_:where:description:includeForks:replace:)``).
    func check(_ query: AggregateQuery, _ tx: any StorageReader) throws {
        let comparisons = query.comparisons
        for c in comparisons where c.operand == .id && c.op == .eq {
            guard case .text(let text) = c.literal, let id = try? TwinID(text), try tx.ref(Bank.twinRef(id)) != nil else {
                throw BankError(.invalidQuery, "invalid aggregate query '\(query.text)': no twin has id '\(c.literalText)'", value: c.literalText)
            }
        }
        guard comparisons.contains(where: { $0.operand != .kind && $0.operand != .id }) else { return }
        // what the twins have: attribute names with their value types, units and texts
        struct Use { var types = Set<String>(); var units = Set<String>(); var texts = Set<String>() }
        var uses: [String: Use] = [:]
        var twinIDs: [TwinID] = []
        for record in try queryRecords(try tx.refs(prefix: "twin/").map(\.value), attributes: nil, tx) {
            twinIDs.append(record.id)
            if record.twin.isTemplate { continue }
            for (k, v) in record.twin.attributes {
                var u = uses[k] ?? Use()
                u.types.insert(v.typeName)
                switch v {
                case .quantity(let q) where !Bank.isPlainNumber(q.unit): u.units.insert(q.unit)
                case .text(let t) where u.texts.count < 1000: u.texts.insert(t.lowercased())
                default: break
                }
                uses[k] = u
            }
        }
        func fail(_ why: String, _ value: String) -> BankError {
            BankError(.invalidQuery, "invalid aggregate query '\(query.text)': \(why)", value: value)
        }
        func inventory() -> String {
            guard !twinIDs.isEmpty else { return "this bank has no twins yet" }
            let names = uses.keys.sorted()
            let shown = names.prefix(40).joined(separator: ", ") + (names.count > 40 ? ", ... (\(names.count) in all)" : "")
            return "attributes in this bank: " + (names.isEmpty ? "none" : shown) + "; derived: "
                + QueryVocabulary.Derived.allCases.map(\.rawValue).joined(separator: ", ")
        }
        func sentence(_ c: AggregateQuery.Comparison) -> String { "'\(c.operand) \(c.op.rawValue) \(c.literalText)'" }
        func checkUnit(_ c: AggregateQuery.Comparison, of name: String, recordedIn units: [String], code: CodeKey? = nil) throws {
            guard case .quantity(let q) = c.literal, let first = units.first else { return }
            if c.bareNumber {
                throw fail("\(sentence(c)) has no unit, but \(name) is recorded in \(units.map { "'\($0)'" }.joined(separator: ", ")) in this bank: write the unit, as in '\(c.operand) \(c.op.rawValue) \(c.literalText) \(first)'", c.literalText)
            }
            guard units.contains(where: { AggregateQuery.convert(q, to: $0, for: code) != nil }) else {
                throw fail("\(sentence(c)): '\(q.unit)' does not convert to the unit \(name) is recorded in (\(units.map { "'\($0)'" }.joined(separator: ", ")))", q.unit)
            }
        }
        var twinSet: Set<TwinID>? = nil
        for c in comparisons {
            switch c.operand {
            case .kind, .id: continue
            case .attribute(let word):
                let names = QueryVocabulary.names(for: word)
                let found = names.compactMap { uses[$0] }
                guard !found.isEmpty else {
                    let alias = names.count > 1 ? " (nor '\(names.dropFirst().joined(separator: "', '"))')" : ""
                    let near = uses.keys.filter { $0.lowercased() == word.lowercased() }.sorted()
                    let hint = near.isEmpty ? "" : "; did you mean '\(near[0])'?"
                    throw fail("no twin has attribute '\(word)'\(alias)\(hint); \(inventory())", word)
                }
                // a literal of another type than every value of the attribute (`birthDate < 1980`) compares with nothing
                let types = found.reduce(into: Set<String>()) { $0.formUnion($1.types) }
                if types.count == 1, let type = types.first, ["quantity", "date", "boolean"].contains(type), c.literal.typeName != type {
                    let example = type == "date" ? "a date such as 1980-01-01" : (type == "boolean" ? "true or false" : "a number with its unit")
                    throw fail("\(sentence(c)): '\(word)' is a \(type) in this bank and '\(c.literalText)' is not; compare it with \(example)", c.literalText)
                }
                try checkUnit(c, of: "'\(word)'", recordedIn: found.flatMap(\.units).sorted())
                if QueryVocabulary.isGender(word), case .text(let v) = c.literal {
                    let known = Set(QueryVocabulary.genderValues).union(found.flatMap(\.texts))
                    guard known.contains(v.lowercased()) else {
                        throw fail("'\(v)' is not a value of \(word) (administrative gender): use \(QueryVocabulary.genderValues.joined(separator: ", "))", v)
                    }
                }
            case .derived(let d):
                guard uses[d.source]?.types.contains("date") == true else {
                    throw fail("'\(d.rawValue)' is derived from the \(d.source) attribute (a date), which no twin in this bank has; \(inventory())", d.rawValue)
                }
            case .code(let key):
                if let unit = try tx.unit(for: key) {
                    guard case .quantity = c.literal else {
                        throw fail("\(sentence(c)): \(key) has quantities in '\(unit)' in this bank and '\(c.literalText)' is not one; compare it with a number and its unit", c.literalText)
                    }
                    if !Bank.isPlainNumber(unit) { try checkUnit(c, of: key.description, recordedIn: [unit], code: key) }
                    continue
                }
                // a twin of this branch has it (the thread also holds the events of twins defined on other branches)
                if twinSet == nil { twinSet = Set(twinIDs) }
                guard !(try tx.twins(withCode: key)).isDisjoint(with: twinSet!) else {
                    throw fail("no twin has any value of \(key) in this bank" + (twinIDs.isEmpty ? " (it has no twins yet)" : ""), key.description)
                }
            }
        }
    }

    /// Whether a unit is a plain number (`1`, or an annotation alone such as `{score}`): a bare number compares with it.
    static func isPlainNumber(_ unit: String) -> Bool {
        guard let u = try? UCUMUnit(parsing: unit) else { return false }
        return u.isCommensurable(with: .one) && u.factor == 1 && u.offset == 0
    }

    /// The ids of all aggregates (now or at a commit).
    public func aggregateIDs(at commit: String? = nil) throws -> [AggregateID] {
        try authorize(.read, nil)
        return try storage.read { tx in
            let names: [String]
            if let commit {
                let (_, c) = try resolveCommit(commit, tx)
                names = try loadTree(c.tree, tx).keys.filter { $0.hasPrefix("aggregate/") }.sorted()
            } else {
                names = try tx.refs(prefix: "aggregate/").map(\.name)
            }
            return names.compactMap { try? AggregateID(String($0.dropFirst(10))) }
        }
    }

    /// Several stored objects, in the order of their hashes' hex forms, read from storage together (one bulk
    /// read, however many there are).
    /// - Throws: ``BankError`` `storageFailure` naming an object that is missing.
    func loadObjects<T: Decodable>(_ type: T.Type, hexes: [String], _ tx: any StorageReader) throws -> [T] {
        var hashes: [ContentHash] = []
        hashes.reserveCapacity(hexes.count)
        for hex in hexes {
            guard let h = ContentHash(hex: hex) else { throw BankError(.storageFailure, "object \(hex) is missing from the bank", value: hex) }
            hashes.append(h)
        }
        let found = try tx.objects(hashes)
        return try hashes.map { h in
            guard let bytes = found[h] else { throw BankError(.storageFailure, "object \(h.hex) is missing from the bank", value: h.hex) }
            return try ObjectCodec.decode(type, from: bytes)
        }
    }

    /// Twin records as a query reads them, in the order of their hashes' hex forms, in one bulk read: id, kind,
    /// template version, fork and creation time, and of the attributes only those named in `attributes` (nil:
    /// all); parts, template, data sources, models and origin are left out. Read from the bytes by
    /// ``TwinRecordReader`` (Foundation's `JSONDecoder` was half of a query's time); a record it does not read is
    /// decoded with `JSONDecoder` (``QueryRecord``, or ``TwinRecord`` for all attributes), which gives the same.
    /// - Throws: ``BankError`` `storageFailure` naming a missing object; the decoding error of a malformed one.
    func queryRecords(_ hexes: [String], attributes: Set<String>?, _ tx: any StorageReader) throws -> [TwinRecord] {
        var hashes: [ContentHash] = []
        hashes.reserveCapacity(hexes.count)
        for hex in hexes {
            guard let h = ContentHash(hex: hex) else { throw BankError(.storageFailure, "object \(hex) is missing from the bank", value: hex) }
            hashes.append(h)
        }
        let found = try tx.objects(hashes)
        let reader = TwinRecordReader(attributes: attributes)
        var decoder: JSONDecoder?
        return try hashes.map { h in
            guard let bytes = found[h] else { throw BankError(.storageFailure, "object \(h.hex) is missing from the bank", value: h.hex) }
            if let record = reader.read(bytes) { return record }
            guard let attributes else { return try ObjectCodec.decode(TwinRecord.self, from: bytes) }
            if decoder == nil {
                decoder = JSONDecoder()
                decoder!.userInfo[QueryRecord.attributesKey] = attributes
            }
            return try decoder!.decode(QueryRecord.self, from: Data(bytes)).record
        }
    }

    /// An aggregate's definition and members, now or at a commit. At a commit, the definitions are those of
    /// the commit, the thread is as known at its pin, and query windows are relative to the commit's time
    /// (unless `asOf` is given). Retracted data and values flagged implausible never count.
    ///
    /// A query is answered with a number of storage reads that does not grow with the number of twins: the
    /// twin records in one bulk read, and per code it compares, the twins that have the code
    /// (``StorageReader/twins(withCode:)``) and every twin's latest plausible value
    /// (``StorageReader/latestValues(code:category:atOrBefore:from:maxSequence:visibility:plausibleOnly:)``) in one
    /// query each; only forks, which read their parents' rows up to their cut-off, take a lookup each.
    /// - Throws: ``BankError`` `unknownAggregate`, `unknownCommit`.
    public func members(of id: AggregateID, at commit: String? = nil, asOf: Instant? = nil) throws -> AggregateMembership {
        try members(of: id, at: commit, asOf: asOf, reading: .bulk)
    }

    /// The membership, asking the gate for `action` bank-wide and, with `perMember`, for each member and undecided
    /// twin (a deny refuses the whole call).
    func members(of id: AggregateID, at commit: String?, asOf: Instant?, reading: ValueReading,
                 action: AccessRequest.Action = .read, perMember: Bool = true) throws -> AggregateMembership {
        try authorize(action, nil)
        return try readAsking { tx in
            var tree: [String: String]? = nil
            var pin: Int64? = nil
            var commitID: ContentHash? = nil
            var time = asOf ?? clock.now()
            if let commit {
                let (cid, c) = try resolveCommit(commit, tx)
                tree = try loadTree(c.tree, tx)
                pin = c.threadPin
                commitID = cid
                if asOf == nil { time = c.time }
            }
            let defHex: String?
            if let tree { defHex = tree[Bank.aggregateRef(id)] } else { defHex = try tx.ref(Bank.aggregateRef(id)) }
            guard let defHex else {
                throw BankError(.unknownAggregate, "unknown aggregate '\(id)'" + (commit.map { " at commit \($0)" } ?? ""), value: id.rawValue)
            }
            let def = try loadObject(AggregateDefinition.self, hex: defHex, tx)
            var members: [TwinID] = []
            var unknown: [UndecidedTwin] = []
            var forksExcluded = 0
            if let explicit = def.members {
                members = explicit
            } else if let q = def.query {
                let query = try AggregateQuery(parsing: q)
                let vis: Visibility = pin.map { .knownAt($0) } ?? .current
                let twinRefs: [(String, String)]
                if let tree {
                    // an erased twin is no member at any commit (its definitions there are tombstones)
                    let erased = Set(try tx.refs(prefix: "erased/").map { "twin/" + $0.name.dropFirst("erased/".count) })
                    twinRefs = tree.filter { $0.key.hasPrefix("twin/") && !erased.contains($0.key) }.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
                } else {
                    twinRefs = try tx.refs(prefix: "twin/").map { ($0.name, $0.value) }
                }
                var records: [TwinRecord] = []
                for record in try queryRecords(twinRefs.map(\.1), attributes: query.attributesRead, tx) {
                    if record.twin.isTemplate { continue }
                    if record.fork != nil && def.includeForks != true { forksExcluded += 1; continue }
                    records.append(record)
                }
                let kinds = try OperandKinds(query, records, tx)
                let values = try LatestValues(query, records, asOf: time, visibility: vis, reading: reading, bank: self, tx)
                let conversions = AggregateQuery.Conversions()
                for (index, record) in records.enumerated() {
                    let ctx = EvaluationContext(record: record, index: index, asOf: time, kinds: kinds, values: values, conversions: conversions)
                    let result = try query.evaluate(ctx)
                    switch result.truth {
                    case .yes: members.append(record.id)
                    // unknown only for lack of values twins of its kind do not record (an organisation's sex): not counted
                    case .unknown where !result.missing.isEmpty: unknown.append(UndecidedTwin(twin: record.id, missing: result.missing))
                    case .unknown, .no: break
                    }
                }
            }
            if perMember {
                for m in members { try authorizeInTransaction(action, m, tx) }
                for u in unknown { try authorizeInTransaction(action, u.twin, tx) }
            }
            return AggregateMembership(definition: def, members: members, asOf: time, commit: commitID, unknown: unknown, forksExcluded: forksExcluded)
        }
    }
}

/// A stored ``TwinRecord`` decoded for a query: its twin's id, kind and template version, its fork and creation
/// time, and only the attributes named in the decoder's `userInfo[attributesKey]` (a `Set<String>`), read from
/// the canonical encoding of ``TwinCore/Twin`` (attributes as a list of `{key, value}`, the last of a key winning).
struct QueryRecord: Decodable {
    static let attributesKey = CodingUserInfoKey(rawValue: "twinbank.aggregate.attributes")!
    var record: TwinRecord

    private enum Keys: String, CodingKey { case twin, fork, created }
    private enum TwinKeys: String, CodingKey { case id, kind, attributes, templateVersion }
    private enum AttributeKeys: String, CodingKey { case key, value }

    init(from decoder: any Decoder) throws {
        let wanted = decoder.userInfo[QueryRecord.attributesKey] as? Set<String> ?? []
        let c = try decoder.container(keyedBy: Keys.self)
        let t = try c.nestedContainer(keyedBy: TwinKeys.self, forKey: .twin)
        var twin = Twin(id: try t.decode(TwinID.self, forKey: .id), kind: try t.decode(Twin.Kind.self, forKey: .kind))
        twin.templateVersion = try t.decodeIfPresent(Int.self, forKey: .templateVersion)
        if !wanted.isEmpty, t.contains(.attributes), !(try t.decodeNil(forKey: .attributes)) {
            var list = try t.nestedUnkeyedContainer(forKey: .attributes)
            while !list.isAtEnd {
                let a = try list.nestedContainer(keyedBy: AttributeKeys.self)
                let key = try a.decode(String.self, forKey: .key)
                if wanted.contains(key) { twin.attributes[key] = try a.decode(Value.self, forKey: .value) }
            }
        }
        record = TwinRecord(twin: twin, fork: try c.decodeIfPresent(ForkInfo.self, forKey: .fork), created: try c.decode(Instant.self, forKey: .created))
    }
}

/// What a query is evaluated against: one twin, and the latest values of the query's codes, relative to an instant.
struct EvaluationContext {
    let record: TwinRecord
    /// The record's place in the evaluated records (what ``LatestValues`` is indexed by).
    let index: Int
    let asOf: Instant
    let kinds: OperandKinds
    let values: LatestValues
    /// Shared by the twins of one evaluation.
    let conversions: AggregateQuery.Conversions

    /// The twin's latest plausible value of the code as of the evaluation time, if its effective time lies within the window.
    func latest(_ code: CodeKey, within: TimeSpan?) -> LatestValue? {
        guard let e = values.latest(code, at: index) else { return nil }
        if let within, e.effective < asOf.advanced(byMicroseconds: -within.microseconds) { return nil }
        return e
    }
}

/// How an aggregate query reads its twins' thread values.
enum ValueReading: Sendable {
    /// One bulk storage query per code for all twins; a lookup per fork and code (forks read their parents' rows).
    case bulk
    /// A lookup per twin and code along its lineage: the reference the bulk reading must equal (tests compare them).
    case perTwin
}

/// The latest plausible value, as of the evaluation time and at a visibility, of every code a query compares,
/// for each evaluated twin (any category; retracted rows and events flagged implausible skipped; a fork's
/// along its lineage).
struct LatestValues {
    /// The codes, and for each, the latest value of every evaluated twin (aligned with the records).
    private var codes: [CodeKey] = []
    private var columns: [[LatestValue?]] = []

    init(_ query: AggregateQuery, _ records: [TwinRecord], asOf: Instant, visibility: Visibility, reading: ValueReading,
         bank: Bank, _ tx: any StorageReader) throws {
        // per code, the earliest start of its comparisons' windows (nil: some comparison of it has none); each
        // comparison still applies its own window (EvaluationContext.latest)
        var lowest: [CodeKey: Instant?] = [:]
        for c in query.comparisons {
            guard case .code(let key) = c.operand else { continue }
            let start = c.window.map { asOf.advanced(byMicroseconds: -$0.microseconds) }
            if let seen = lowest[key] {
                if let s = seen, let start { lowest[key] = min(s, start) } else { lowest[key] = .some(nil) }
            } else {
                lowest[key] = .some(start)
            }
        }
        for (key, from) in lowest {
            var column = [LatestValue?](repeating: nil, count: records.count)
            if reading == .bulk {
                let all = try tx.latestValues(code: key, category: nil, atOrBefore: asOf, from: from, maxSequence: nil,
                                              visibility: visibility, plausibleOnly: true)
                for (i, r) in records.enumerated() where r.fork == nil { column[i] = all[r.id] }
            }
            for (i, r) in records.enumerated() where reading == .perTwin || r.fork != nil {
                let segments = try bank.lineage(r.id, tx)
                if let e = try bank.latestInTransaction(segments, code: key, category: nil, asOf: asOf, vis: visibility, plausibleOnly: true, tx) {
                    column[i] = LatestValue(e)
                }
            }
            codes.append(key)
            columns.append(column)
        }
    }

    /// The latest value of the code of the twin at this index of the records (nil: none as of the evaluation time).
    func latest(_ code: CodeKey, at index: Int) -> LatestValue? {
        for (i, c) in codes.enumerated() where c == code { return columns[i][index] }
        return nil
    }
}

/// Which kinds of twin record each operand of a query: those of which some evaluated twin has a value. A twin
/// lacking a value its kind records is *unknown*; one lacking a value no twin of its kind has (an
/// organisation's `sex`) is unknown too, but not counted among the undecided.
struct OperandKinds {
    private var byOperand: [AggregateQuery.Operand: Set<Twin.Kind>] = [:]

    init(_ query: AggregateQuery, _ records: [TwinRecord], _ tx: any StorageReader) throws {
        var codes: [CodeKey: Set<Twin.Kind>] = [:]
        let wanted = Set(query.comparisons.compactMap { c -> CodeKey? in if case .code(let k) = c.operand { k } else { nil } })
        for k in wanted {
            let having = try tx.twins(withCode: k)
            var kinds = Set<Twin.Kind>()
            // a kind already found needs no more lookups (most twins are of one or two kinds)
            for r in records where !kinds.contains(r.twin.kind) && having.contains(r.id) { kinds.insert(r.twin.kind) }
            codes[k] = kinds
        }
        for c in query.comparisons {
            var kinds = Set<Twin.Kind>()
            switch c.operand {
            case .kind, .id: continue
            case .attribute(let word):
                let names = QueryVocabulary.names(for: word)
                for r in records where !kinds.contains(r.twin.kind) && names.contains(where: { r.twin.attributes[$0] != nil }) { kinds.insert(r.twin.kind) }
            case .derived(let d):
                for r in records where !kinds.contains(r.twin.kind) && r.twin.attributes[d.source]?.date != nil { kinds.insert(r.twin.kind) }
            case .code(let key):
                // a fork's values live in its parent's rows, and its kind is its parent's
                kinds = codes[key] ?? []
            }
            byOperand[c.operand] = kinds
        }
    }

    /// Whether twins of this kind record the operand.
    func records(_ operand: AggregateQuery.Operand, kind: Twin.Kind) -> Bool { byOperand[operand]?.contains(kind) ?? true }
}
