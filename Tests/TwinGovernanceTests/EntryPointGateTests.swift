import Foundation
import Synchronization
import Testing
import TwinBank
import TwinBankSQLite
import TwinCalibration
import TwinCore
import TwinDemo
import TwinFHIR
import TwinGovernance
import TwinModels
import TwinPopulation
import TwinPrognostic
import TwinRun
import TwinSimulation
import TwinSync
import TwinTesting

// Issue 27 item 3, the libraries' half: every public entry point of the libraries that reads or writes a person's
// data held in a bank is refused, changes nothing and is audited, for an actor without a role and for a researcher
// the person has not consented to; and a scan of Sources/ proves the table lists every such entry point.

/// A gate that permits everything while open (to build the objects an entry point needs, such as a watch service,
/// as the same actor) and is the governed gate otherwise.
final class PreparingGate: AccessGate, @unchecked Sendable {
    let governed: GovernedGate
    private let open = Mutex(false)
    init(_ governed: GovernedGate) { self.governed = governed }
    func opened<T>(_ body: () throws -> T) rethrows -> T {
        open.withLock { $0 = true }
        defer { open.withLock { $0 = false } }
        return try body()
    }
    private var isOpen: Bool { open.withLock { $0 } }
    func authorize(_ request: AccessRequest) throws { if !isOpen { try governed.authorize(request) } }
    func decide(_ request: AccessRequest) throws -> (any AccessFilter)? { isOpen ? nil : try governed.decide(request) }
    func decideInTransaction(_ request: AccessRequest, _ tx: any StorageReader) throws -> (any AccessFilter)? {
        isOpen ? nil : try governed.decideInTransaction(request, tx)
    }
    func transactionEnded() throws { try governed.transactionEnded() }
    func answer<T>(_ request: AccessRequest, _ body: ((any AccessFilter)?) throws -> T) throws -> T {
        isOpen ? try body(nil) : try governed.answer(request, body)
    }
}

/// Where the fixture's bank lives: in memory (with a memory audit log), or in a SQLite file holding the audit log
/// too, written through the bank's own connection as the command does.
enum GateStorage: String, CaseIterable, Sendable { case memory, sqlite }

/// A bank with a person twin `p1` (glucose, heart rate, a meal, a location ping and a close contact), a fork
/// `p1-fork`, an aggregate `cohort`, a commit tagged `v1`, a FHIR record, and p1's consent (research by `res2`
/// only); its policy is the default with owner `owner`, `rita` and `res2` researchers; every decision goes to `audit`.
final class GateFixture: @unchecked Sendable {
    static let now = try! Instant(parsing: "2026-06-01T12:00:00Z")
    static let day = try! Instant(parsing: "2026-05-30T08:00:00Z")
    static let glucose = Concept(system: "http://loinc.org", code: "2339-0")
    static let heartRate = Concept(system: "http://loinc.org", code: "8867-4")
    static let carbs = GlucoseTwin.carbohydrateIntake

    let storage: any BankStorage
    let audit: any AuditStore
    let governed: GovernedGate
    let gate: PreparingGate
    let clock = ManualClock(GateFixture.now)
    let owner: Bank
    /// Made by the owner, for entry points that take what an earlier call produced.
    let run: GlucoseTwin.Run
    let thread: BoundThread
    /// What a watcher is given: every event of p1 (so each watcher finds its trigger and reads the bank).
    let update: ThreadUpdate
    let population: MemberPopulation
    let bundle: Data
    let problem: PEtabProblem
    let folder: URL

    init(_ kind: GateStorage = .memory) throws {
        folder = try TemporaryFiles.directory("gate")
        switch kind {
        case .memory:
            storage = MemoryStorage(); audit = MemoryAuditStore()
        case .sqlite:
            let sqlite = try SQLiteStorage(path: try TemporaryFiles.path("gate.twinbank", label: "gate-bank"))
            storage = sqlite; audit = SQLiteAuditStore(sqlite)
        }
        let store = BankGovernanceStore(storage: storage)
        _ = try store.updatePolicy(initial: .default(owner: "owner")) { p in
            try p.assign(Caller(id: "rita", role: .researcher, organisation: "uni"))
            try p.assign(Caller(id: "res2", role: .researcher, organisation: "pharma"))
        }
        governed = GovernedGate(store: store, log: try AuditLog(store: audit, signer: AuditSigner()), owner: "owner", clock: clock)
        gate = PreparingGate(governed)
        owner = Bank(storage: storage, gate: governed, clock: clock, actor: "owner", purpose: "treatment")
        try owner.createTwin(Twin(id: "p1", kind: .person, attributes: [
            "birthDate": .date(try Instant(parsing: "1970-03-01")), "gender": .text("female"),
            "virtualPatient": .text("adult#001"), "address": .text("1 Main St, Boston, MA 02115"),
        ]))
        let src = Source(.device, "meter")
        try owner.append([
            .observation("p1", at: Self.day, code: Self.glucose, Quantity(110, "mg/dL"), source: src),
            .observation("p1", at: Self.day.advanced(bySeconds: 600), code: Self.heartRate, Quantity(72, "/min"), source: src),
            EventDraft(twin: "p1", effective: EffectiveTime(Self.day.advanced(bySeconds: 1800)), category: .intervention, code: Self.carbs,
                       value: .quantity(Quantity(50, "g")), source: Source(.record, "diary")),
            EventDraft(twin: "p1", effective: EffectiveTime(Self.day.advanced(bySeconds: 3600)), code: LocationEvents.location,
                       value: .vector(Vector([45.5, 0.5], unit: "deg")), source: Source(.device, "phone")),
            EventDraft(twin: "p1", effective: EffectiveTime(Self.day.advanced(bySeconds: 3700)), code: LocationEvents.closeContact,
                       value: .text("p2"), source: Source(.model, "twinbank-trace")),
        ])
        try owner.fork("p1", at: Self.day.advanced(bySeconds: 7200), as: "p1-fork")
        try owner.createAggregate("cohort", members: ["p1"])
        _ = try owner.write { w in try w.storeRecordIfAbsent(named: "fhir/Location/l1", kind: "fhir", bytes: Array(#"{"resourceType":"Location","id":"l1"}"#.utf8)) }
        _ = try owner.commit(message: "fixture")
        _ = try owner.tag("v1")
        _ = try store.updateConsent(for: "p1", by: "p1", at: Self.now) { c in
            _ = c.add(ConsentRule(id: "", effect: .permit, purposes: [.research], actors: ["res2"], granted: Self.now))
        }
        run = try GlucoseTwin.simulate("p1", in: owner, start: Self.day, hours: 1)
        thread = try ThreadBinding.glucose.read("p1", in: owner)
        update = ThreadUpdate(twin: "p1", sequence: try owner.lastSequence(), recorded: Self.now, events: try owner.events(ThreadQuery(twin: "p1")))
        population = try MemberPopulation.build(members: ["p1"], in: owner, asOf: Self.now, seed: 1)
        bundle = try owner.exportBundle(twin: "p1").data
        problem = try PEtabProblem.load(yaml: SharedFolder.data("petab/Perelson_Science1996/Perelson_Science1996.yaml"))
    }

    /// The bank acting as `actor` for `purpose`, behind the governed gate.
    func bank(_ actor: String, _ purpose: String) -> Bank {
        Bank(storage: storage, gate: governed, clock: clock, actor: actor, purpose: purpose)
    }

    /// A path in the fixture's output folder (the test checks the folder stays empty).
    func out(_ name: String) -> String { folder.appendingPathComponent(name).path }

    /// What a refused call must leave as it was: the last sequence number and every reference.
    func snapshot() throws -> (Int64, [String: String]) {
        try storage.read { tx in (try tx.lastSequence(), Dictionary(try tx.refs(prefix: "").map { ($0.name, $0.value) }) { a, _ in a }) }
    }
}

/// One entry point: its name (`Type.name(labels:)`, as the completeness scan writes it), the refusal expected for
/// an actor without a role (`action` on `twin`, nil: bank-wide), the one expected for a researcher without the
/// person's consent (nil: the researcher is permitted it, as bank-wide metadata), and the call.
struct EntryPoint: Sendable, CustomTestStringConvertible {
    struct Refusal: Sendable, Equatable, CustomStringConvertible {
        var action: String
        var twin: String?
        var description: String { "\(action) \(twin ?? "-")" }
    }
    /// The row's name: the entry point's key, with ` [variant]` when one entry point has several rows.
    let name: String
    let refusal: Refusal
    let research: Refusal?
    /// For a researcher without the person's consent the call is not refused: it computes over a cohort
    /// (``TwinBank/Bank/cohort(of:where:for:)``), which leaves the person out (their refusal audited).
    let leavesOutOfCohort: Bool
    let call: @Sendable (Bank, GateFixture) async throws -> Void
    var testDescription: String { name }
    /// The entry point's key, as the completeness scan writes it.
    var key: String { name.components(separatedBy: " [").first ?? name }

    init(_ name: String, _ action: AccessRequest.Action, _ twin: TwinID?, research: (AccessRequest.Action, TwinID?)?? = .none,
         leavesOutOfCohort: Bool = false, _ call: @escaping @Sendable (Bank, GateFixture) async throws -> Void) {
        self.name = name
        self.leavesOutOfCohort = leavesOutOfCohort
        refusal = Refusal(action: action.name, twin: twin?.rawValue)
        switch research {
        case .none: self.research = refusal                         // the researcher is refused the same way
        case .some(nil): self.research = nil                        // permitted to the researcher
        case .some(let r?): self.research = Refusal(action: r.0.name, twin: r.1?.rawValue)
        }
        self.call = call
    }
}

/// The refusal the researcher meets on an aggregate's members: reading p1 (no consent for her).
private let readsP1: (AccessRequest.Action, TwinID?)?? = .some((.read, "p1"))
private let permitted: (AccessRequest.Action, TwinID?)?? = .some(nil)

private func day(_ h: Double) -> Instant { GateFixture.day.advanced(bySeconds: h * 3600) }
private let settings = ComparisonEngine.Settings(start: GateFixture.day, hours: 2, ensemble: 2, variation: 0.1, seed: 1)
private let draft = EventDraft.observation("p1", at: GateFixture.day.advanced(bySeconds: 60), code: GateFixture.glucose, Quantity(120, "mg/dL"), source: Source(.device, "meter"))

/// Every entry point of the libraries that reads or writes a person's data in a bank.
let entryPoints: [EntryPoint] = [
    // TwinBank: twins
    EntryPoint("Bank.createTwin(_:)", .write, "newcomer") { b, _ in try b.createTwin(Twin(id: "newcomer", kind: .person)) },
    EntryPoint("Bank.createTemplate(_:)", .write, "tmpl") { b, _ in try b.createTemplate(Twin(id: "tmpl", kind: .person)) },
    EntryPoint("Bank.updateTwin(_:)", .write, "p1") { b, _ in try b.updateTwin(Twin(id: "p1", kind: .person)) },
    EntryPoint("Bank.twin(_:at:)", .read, "p1") { b, _ in _ = try b.twin("p1") },
    EntryPoint("Bank.versionedTwin(_:at:)", .read, "p1") { b, _ in _ = try b.versionedTwin("p1") },
    EntryPoint("Bank.twinIDs(at:)", .read, nil, research: permitted) { b, _ in _ = try b.twinIDs() },
    EntryPoint("Bank.templateVersions(_:)", .read, "p1") { b, _ in _ = try b.templateVersions("p1") },
    EntryPoint("Bank.forks(of:)", .read, "p1") { b, _ in _ = try b.forks(of: "p1") },
    // TwinBank: the thread
    EntryPoint("Bank.append(_:)", .write, "p1") { b, _ in try b.append([draft]) },
    EntryPoint("Bank.append(_:) [nothing to append]", .read, nil, research: permitted) { b, _ in try b.append([]) },
    EntryPoint("Bank.append(_:idempotencyKey:)", .write, "p1") { b, _ in try b.append([draft], idempotencyKey: "entry-point-test") },
    EntryPoint("Bank.appendEach(_:)", .write, "p1") { b, _ in
        // each batch answers its own refusal; the gate's is the one batch's error
        if case .failure(let e) = try b.appendEach([AppendRequest([draft], idempotencyKey: "entry-point-each")])[0] { throw e }
    },
    EntryPoint("Bank.appendPipelined(_:depth:acknowledge:)", .write, "p1") { b, _ in
        // the pipeline's error names the batch; what refused it is the gate's error inside
        do { try b.appendPipelined([[draft]]) } catch let e as AppendPipelineError { throw e.error }
    },
    EntryPoint("Bank.importCSV(twin:text:defaultSource:separator:)", .write, "p1") { b, _ in
        try b.importCSV(twin: "p1", text: "time,code,value,unit\n2026-05-30T09:00:00Z,http://loinc.org|2339-0,100,mg/dL\n", defaultSource: Source(.record, "csv"))
    },
    EntryPoint("Bank.importCSV(twin:reader:defaultSource:batchSize:)", .write, "p1") { b, _ in
        try b.importCSV(twin: "p1", reader: CSVReader(text: "time,code,value,unit\n2026-05-30T09:00:00Z,http://loinc.org|2339-0,100,mg/dL\n", name: "t.csv"),
                        defaultSource: Source(.record, "csv"))
    },
    EntryPoint("Bank.events(_:)", .read, "p1") { b, _ in _ = try b.events(ThreadQuery(twin: "p1")) },
    EntryPoint("Bank.state(of:asOf:knownAt:knownAtSequence:code:category:)", .read, "p1") { b, _ in _ = try b.state(of: "p1") },
    // a scan over the bank: the bank-wide read first; a researcher is permitted it and p1, who has not consented, is left out
    EntryPoint("Bank.scanThreads(holding:among:limit:_:)", .read, nil, leavesOutOfCohort: true) { b, _ in
        _ = try b.scanThreads(holding: [GateFixture.glucose.key]) { _, reader in _ = try reader.events(ThreadQuery(twin: reader.twin)) }
    },
    EntryPoint("Bank.reading(_:_:)", .read, "p1") { b, _ in _ = try b.reading("p1") { _ in 0 } },
    EntryPoint("ThreadReader.events(_:)", .read, "p1") { b, _ in _ = try b.reading("p1") { r in try r.events(ThreadQuery(twin: "p1")) } },
    EntryPoint("ThreadReader.events(sequences:)", .read, "p1") { b, _ in _ = try b.reading("p1") { r in try r.events(sequences: 1...100) } },
    EntryPoint("ThreadReader.state(of:asOf:knownAt:knownAtSequence:code:category:)", .read, "p1") { b, _ in
        _ = try b.reading("p1") { r in try r.state(of: "p1", asOf: nil, knownAt: nil, knownAtSequence: nil, code: nil, category: nil) }
    },
    EntryPoint("Bank.effectiveRange(of:code:category:)", .read, "p1") { b, _ in _ = try b.effectiveRange(of: "p1") },
    EntryPoint("Bank.lastSequence()", .read, nil, research: permitted) { b, _ in _ = try b.lastSequence() },
    EntryPoint("Bank.events(of:sequences:)", .read, "p1") { b, _ in _ = try b.events(of: "p1", sequences: 1 ... 100) },
    EntryPoint("Bank.fork(_:at:as:)", .fork, "p1") { b, _ in try b.fork("p1", at: day(3), as: "p1-other") },
    EntryPoint("Bank.retract(source:reason:erase:)", .retract, nil) { b, _ in _ = try b.retract(source: Source(.device, "meter"), reason: "wrong meter") },
    EntryPoint("Bank.retract(event:reason:erase:twin:)", .retract, nil) { b, _ in _ = try b.retract(event: .sequence(1), reason: "wrong") },
    EntryPoint("Bank.retract(source:from:to:twin:reason:erase:)", .retract, nil) { b, _ in
        _ = try b.retract(source: Source(.device, "meter"), from: day(-1), to: day(2), twin: "p1", reason: "wrong")
    },
    // TwinBank: version control
    EntryPoint("Bank.commit(message:author:)", .commit, nil) { b, _ in _ = try b.commit(message: "x") },
    EntryPoint("Bank.resolveCommit(_:)", .read, nil, research: permitted) { b, _ in _ = try b.resolveCommit("v1") },
    EntryPoint("Bank.log(_:)", .read, nil, research: permitted) { b, _ in _ = try b.log() },
    EntryPoint("Bank.tag(_:at:)", .commit, nil) { b, _ in _ = try b.tag("v2") },
    EntryPoint("Bank.createBranch(_:at:)", .commit, nil) { b, _ in _ = try b.createBranch("side") },
    EntryPoint("Bank.uncommittedChanges()", .read, nil, research: permitted) { b, _ in _ = try b.uncommittedChanges() },
    EntryPoint("Bank.switchBranch(_:force:)", .commit, nil) { b, _ in _ = try b.switchBranch("main") },
    EntryPoint("Bank.branches()", .read, nil, research: permitted) { b, _ in _ = try b.branches() },
    EntryPoint("Bank.branchHeads()", .read, nil, research: permitted) { b, _ in _ = try b.branchHeads() },
    EntryPoint("Bank.tags()", .read, nil, research: permitted) { b, _ in _ = try b.tags() },
    EntryPoint("Bank.diff(_:_:)", .read, nil, research: permitted) { b, _ in _ = try b.diff("v1", "HEAD") },
    // TwinBank: aggregates
    EntryPoint("Bank.createAggregate(_:members:description:replace:)", .write, nil) { b, _ in _ = try b.createAggregate("more", members: ["p1"]) },
    EntryPoint("Bank.createAggregate(_:where:description:includeForks:replace:)", .write, nil) { b, _ in _ = try b.createAggregate("women", where: "gender = female") },
    EntryPoint("Bank.aggregateIDs(at:)", .read, nil, research: permitted) { b, _ in _ = try b.aggregateIDs() },
    EntryPoint("Bank.members(of:at:asOf:)", .read, nil, research: readsP1) { b, _ in _ = try b.members(of: "cohort") },
    EntryPoint("Bank.aggregates(at:)", .read, nil, research: permitted) { b, _ in _ = try b.aggregates() },
    EntryPoint("Bank.deleteAggregate(_:)", .write, nil) { b, _ in try b.deleteAggregate("cohort") },
    EntryPoint("Bank.members(of:where:)", .read, nil, research: readsP1) { b, _ in _ = try b.members(of: "cohort", where: "gender = female") },
    EntryPoint("Bank.cohort(of:where:for:)", .aggregate, nil, leavesOutOfCohort: true) { b, _ in _ = try b.cohort(of: "cohort", for: .aggregate) },
    // TwinBank: erasure
    EntryPoint("Bank.erase(twin:reason:dryRun:)", .erase, "p1") { b, _ in _ = try b.erase(twin: "p1", reason: "the person asked") },
    EntryPoint("Bank.erasure(of:)", .read, "p1") { b, _ in _ = try b.erasure(of: "p1") },
    EntryPoint("Bank.erasedTwinIDs()", .read, nil, research: permitted) { b, _ in _ = try b.erasedTwinIDs() },
    // TwinBank: exchange and records
    EntryPoint("Bank.exportBundle(twin:)", .export, "p1") { b, _ in _ = try b.exportBundle(twin: "p1") },
    EntryPoint("Bank.exportBundle(aggregate:)", .read, nil, research: readsP1) { b, _ in _ = try b.exportBundle(aggregate: "cohort") },
    EntryPoint("Bank.importBundle(_:)", .import, nil) { b, f in _ = try b.importBundle(f.bundle) },
    EntryPoint("Bank.exportBundle(twin:to:overwrite:)", .export, "p1") { b, f in _ = try b.exportBundle(twin: "p1", to: URL(fileURLWithPath: f.out("p1.tbb"))) },
    EntryPoint("Bank.exportBundle(aggregate:to:overwrite:)", .read, nil, research: readsP1) { b, f in
        _ = try b.exportBundle(aggregate: "cohort", to: URL(fileURLWithPath: f.out("cohort.tbb")))
    },
    EntryPoint("Bank.importBundle(contentsOf:)", .import, nil) { b, f in
        let url = try TemporaryFiles.directory("gate-in").appendingPathComponent("p1.tbb")
        try f.bundle.write(to: url)
        _ = try b.importBundle(contentsOf: url)
    },
    EntryPoint("Bank.backup(to:attachments:source:progress:)", .export, nil) { b, f in _ = try b.backup(to: f.out("bank.backup")) },
    EntryPoint("Bank.record(named:)", .read, nil, research: permitted) { b, _ in _ = try b.record(named: "fhir/Location/l1") },
    EntryPoint("Bank.recordNames(prefix:)", .read, nil, research: permitted) { b, _ in _ = try b.recordNames() },
    EntryPoint("Bank.write(_:)", .write, "p1") { b, _ in _ = try b.write { w in try w.append([draft]) } },
    EntryPoint("BankWriter.twin(_:)", .read, "p1") { b, _ in _ = try b.write { w in try w.twin("p1") } },
    EntryPoint("BankWriter.createTwin(_:)", .write, "newcomer") { b, _ in _ = try b.write { w in try w.createTwin(Twin(id: "newcomer", kind: .person)) } },
    EntryPoint("BankWriter.updateTwin(_:)", .write, "p1") { b, _ in _ = try b.write { w in try w.updateTwin(Twin(id: "p1", kind: .person)) } },
    EntryPoint("BankWriter.append(_:)", .write, "p1") { b, _ in _ = try b.write { w in try w.append([draft]) } },
    EntryPoint("BankWriter.append(_:) [nothing to append]", .read, nil, research: permitted) { b, _ in _ = try b.write { w in try w.append([]) } },
    EntryPoint("BankWriter.retract(event:reason:erase:twin:)", .retract, "p1") { b, _ in
        _ = try b.write { w in try w.retract(event: .sequence(1), reason: "wrong", twin: "p1") }
    },
    EntryPoint("BankWriter.retract(source:from:to:twin:reason:erase:)", .retract, nil) { b, _ in
        _ = try b.write { w in try w.retract(source: Source(.device, "meter"), from: day(-1), to: day(2), twin: "p1", reason: "wrong") }
    },
    EntryPoint("BankWriter.events(_:)", .read, "p1") { b, _ in _ = try b.write { w in try w.events(ThreadQuery(twin: "p1")) } },
    EntryPoint("BankWriter.state(of:asOf:knownAt:knownAtSequence:code:category:)", .read, "p1") { b, _ in _ = try b.write { w in try w.state(of: "p1") } },
    EntryPoint("BankWriter.record(named:)", .read, nil, research: permitted) { b, _ in _ = try b.write { w in try w.record(named: "fhir/Location/l1") } },
    EntryPoint("BankWriter.storeRecordIfAbsent(named:kind:bytes:)", .write, nil) { b, _ in
        _ = try b.write { w in try w.storeRecordIfAbsent(named: "fhir/Location/l2", kind: "fhir", bytes: [1]) }
    },

    // TwinFHIR
    EntryPoint("FHIRImporter.importPaths(_:progress:)", .read, "p9") { b, _ in
        let path = try FHIRFixture.patientFile()
        _ = try FHIRImporter(bank: b).importPaths([path])
    },
    EntryPoint("FHIRImporter.importFile(_:)", .read, "p9") { b, _ in _ = try FHIRImporter(bank: b).importFile(try FHIRFixture.patientFile()) },
    EntryPoint("FHIRImporter.importResource(_:origin:)", .read, "p9") { b, _ in
        _ = try FHIRImporter(bank: b).importResource(try JSONReader().read(FHIRFixture.patient), origin: "test")
    },
    EntryPoint("FHIRImporter.importResource(_:origin:precondition:entryPrecondition:)", .read, "p9") { b, _ in
        _ = try FHIRImporter(bank: b).importResource(try JSONReader().read(FHIRFixture.patient), origin: "test", precondition: { w in _ = try w.twin("p9") })
    },
    EntryPoint("FHIRExporter.resources(twin:)", .export, "p1") { b, _ in _ = try FHIRExporter(bank: b).resources(twin: "p1") },
    EntryPoint("FHIRExporter.bundle(twin:)", .export, "p1") { b, _ in _ = try FHIRExporter(bank: b).bundle(twin: "p1") },
    EntryPoint("FHIRExporter.writeNDJSON(twins:to:includeRecords:overwrite:)", .export, "p1") { b, f in
        _ = try FHIRExporter(bank: b).writeNDJSON(twins: ["p1"], to: f.out("ndjson"), includeRecords: true)
    },
    EntryPoint("FHIRRelease.bundle(bank:aggregate:key:anonymity:)", .release, nil, leavesOutOfCohort: true) { b, _ in
        _ = try FHIRRelease.bundle(bank: b, aggregate: "cohort", key: try PseudonymKey(bytes: Array(repeating: 7, count: 32)),
                                   anonymity: try KAnonymity(k: 1, quasiIdentifiers: ["birthYear", "sex"]))
    },
    EntryPoint("Matcher.evaluate(bank:twins:)", .match, nil) { b, _ in
        let c = try Criteria(json: try JSONReader().read(#"{"id": "t", "criteria": [{"id": "sex", "type": "sex", "values": ["female"]}]}"#))
        _ = try Matcher(criteria: c).evaluate(bank: b)
    },

    // TwinRun
    EntryPoint("DoseComparison.compare(_:in:options:start:hours:ensemble:variation:seed:startingFrom:knownAt:)", .simulate, "p1") { b, _ in
        _ = try await DoseComparison.compare("p1", in: b, options: [.init(name: "none")], start: GateFixture.day, hours: 2, ensemble: 2)
    },
    EntryPoint("DoseComparison.Model.init(twin:in:settings:)", .read, "p1") { b, _ in _ = try DoseComparison.Model(twin: "p1", in: b, settings: settings) },
    EntryPoint("InSilicoComparison.compare(_:in:options:start:hours:ensemble:variation:seed:startingFrom:knownAt:)", .simulate, "p1") { b, _ in
        _ = try await InSilicoComparison.compare("p1", in: b, options: [.init(name: "usual")], start: GateFixture.day, hours: 2, ensemble: 2)
    },
    EntryPoint("InSilicoComparison.Model.init(twin:in:settings:)", .read, "p1") { b, _ in _ = try InSilicoComparison.Model(twin: "p1", in: b, settings: settings) },
    EntryPoint("ComparisonEngine.compare(_:twin:in:options:settings:startingFrom:)", .simulate, "p1") { b, _ in
        _ = try await ComparisonEngine.compare(InSilicoComparison.Model.self, twin: "p1", in: b, options: [.init(name: "usual")], settings: settings)
    },
    EntryPoint("RecordedComparison.latest(of:in:)", .read, "p1") { b, _ in _ = try RecordedComparison.latest(of: "p1", in: b) },
    EntryPoint("ComparisonStart.estimate(for:kind:in:at:knownAt:)", .read, "p1") { b, _ in
        _ = try ComparisonStart.estimate(for: "p1", kind: .glucose, in: b, at: GateFixture.now)
    },
    EntryPoint("GlucoseTwin.scenario(for:in:start:hours:controller:extraMeals:)", .read, "p1") { b, _ in
        _ = try GlucoseTwin.scenario(for: "p1", in: b, start: GateFixture.day, hours: 2)
    },
    EntryPoint("GlucoseTwin.simulate(_:in:start:hours:controller:extraMeals:pump:integration:recordStates:)", .simulate, "p1") { b, _ in _ = try GlucoseTwin.simulate("p1", in: b, start: GateFixture.day, hours: 2) },
    EntryPoint("GlucoseTwin.record(_:to:in:every:)", .write, "p1") { b, f in try GlucoseTwin.record(f.run, to: "p1", in: b) },
    EntryPoint("ECGDerivation.derive(_:in:code:from:to:)", .read, "p1") { b, _ in _ = try ECGDerivation.derive("p1", in: b) },
    EntryPoint("ArterialPressureDerivation.derive(_:in:code:from:to:perBeat:)", .read, "p1") { b, _ in _ = try ArterialPressureDerivation.derive("p1", in: b) },
    EntryPoint("PredictionWriter.write(_:to:run:in:)", .write, "p1") { b, f in
        try PredictionWriter.write([.init(code: GateFixture.glucose, unit: "mg/dL", points: [(day(1), 100)])], to: "p1", run: f.run.provenance, in: b)
    },
    EntryPoint("SBMLBinding.run(for:in:start:hours:points:)", .simulate, "p1") { b, _ in
        let model = SharedFolder.data("petab/Perelson_Science1996/model_Perelson_Science1996.xml").path
        _ = try SBMLBinding(modelPath: model, modelID: "Perelson", outputs: [.init(variable: "V", code: GateFixture.glucose, unit: "1")])
            .run(for: "p1", in: b, start: GateFixture.day, hours: 1, points: 4)
    },

    // TwinSync
    EntryPoint("ThreadBinding.read(_:in:window:)", .read, "p1") { b, _ in _ = try ThreadBinding.glucose.read("p1", in: b) },
    EntryPoint("ThreadBinding.attach(_:to:in:)", .read, "p1") { b, _ in try ThreadBinding.attach(.glucose, to: "p1", in: b) },
    EntryPoint("PEtabThread.importMeasurements(_:named:into:in:origin:timeUnit:)", .read, "p1") { b, f in
        try PEtabThread.importMeasurements(f.problem, named: "Perelson", into: "p1", in: b, origin: day(-48))
    },
    EntryPoint("GlucoseSynchroniser.synchronise(_:in:options:)", .sync, "p1") { b, _ in _ = try await GlucoseSynchroniser.synchronise("p1", in: b) },
    EntryPoint("GlucoseSynchroniser.compute(_:in:options:)", .sync, "p1") { b, _ in _ = try await GlucoseSynchroniser.compute("p1", in: b) },
    EntryPoint("BindingSynchroniser.synchronise(_:in:binding:options:estimator:)", .sync, "p1") { b, _ in
        _ = try await BindingSynchroniser.synchronise("p1", in: b, binding: .glucose)
    },
    EntryPoint("BindingSynchroniser.compute(_:in:binding:options:estimator:)", .sync, "p1") { b, _ in
        _ = try await BindingSynchroniser.compute("p1", in: b, binding: .glucose)
    },
    EntryPoint("BindingSynchroniser.estimator(for:thread:in:horizon:seed:)", .read, "p1") { b, f in
        var thread = f.thread
        _ = try BindingSynchroniser.estimator(for: .glucose, thread: &thread, in: b, horizon: 1, seed: 1)
    },
    EntryPoint("EstimateEvents.latest(for:binding:parameters:in:at:knownAt:)", .read, "p1") { b, _ in
        _ = try EstimateEvents.latest(for: "p1", binding: "glucose", parameters: ["Vmx"], in: b)
    },
    EntryPoint("BindingWatcher.evaluate(_:in:)", .sync, "p1") { b, f in _ = try await BindingWatcher(binding: .glucose).evaluate(f.update, in: b) },
    EntryPoint("GlucoseForecastWatcher.evaluate(_:in:)", .read, "p1") { b, f in _ = try await GlucoseForecastWatcher().evaluate(f.update, in: b) },
    EntryPoint("NEWS2ThreadWatcher.assess(_:in:)", .read, "p1") { b, f in _ = try NEWS2ThreadWatcher().assess(f.update, in: b) },
    EntryPoint("NEWS2ThreadWatcher.evaluate(_:in:)", .read, "p1") { b, f in _ = try await NEWS2ThreadWatcher().evaluate(f.update, in: b) },
    EntryPoint("QuietPeriod.earlierAlerts(of:code:near:before:in:)", .read, "p1") { b, f in
        _ = try QuietPeriod.standard.earlierAlerts(of: "news2", code: GateFixture.heartRate.key, near: GateFixture.now, before: f.update, in: b)
    },
    EntryPoint("HeldEvents.unheld(_:twin:in:)", .read, "p1") { b, _ in _ = try HeldEvents.unheld([draft], twin: "p1", in: b) },
    EntryPoint("VitalSignSet.read(_:knownAt:windowMinutes:in:)", .read, "p1") { b, _ in _ = try VitalSignSet.read("p1", knownAt: GateFixture.now, in: b) },
    EntryPoint("WatchService.init(bank:twins:watchers:channel:interval:clock:)", .sync, "p1") { b, _ in
        _ = try WatchService(bank: b, twins: ["p1"], watchers: [try NEWS2ThreadWatcher()])
    },
    EntryPoint("WatchService.run()", .read, "p1") { b, f in try await f.watch(b).run() },
    EntryPoint("WatchService.runOnce()", .read, nil, research: readsP1) { b, f in _ = try await f.watch(b).runOnce() },
    EntryPoint("WatchService.serve(onNotice:)", .read, "p1") { b, f in try await f.watch(b).serve { _ in } },
    EntryPoint("WatchService.resumePoint(_:)", .read, "p1") { b, f in _ = try f.watch(b).resumePoint("p1") },
    EntryPoint("WatchService.catchUp(_:after:through:)", .read, "p1") { b, f in _ = try await f.watch(b).catchUp("p1", after: 0, through: 100) },
    // the live feed reads the bank's last sequence (bank-wide metadata, which a researcher may read), then each
    // subscribed twin's new events through the gate
    EntryPoint("LiveFeed.run()", .read, nil, research: permitted) { b, _ in try await LiveFeed(bank: b).run() },

    // TwinPopulation
    EntryPoint("HospitalTwins.network(bank:twins:asOf:model:)", .read, "p1") { b, _ in _ = try HospitalTwins.network(bank: b, twins: ["p1"]) },
    EntryPoint("HospitalTwins.network(bank:aggregate:asOf:model:)", .read, nil, research: readsP1) { b, _ in _ = try HospitalTwins.network(bank: b, aggregate: "cohort") },
    EntryPoint("ObservedContacts.read(_:in:criteria:)", .read, "p1") { b, f in
        _ = try ObservedContacts.read(f.population, in: b, criteria: try ProximityCriteria(distance: 10, window: 600))
    },
    EntryPoint("OutbreakThread.write(_:agents:seed:scenarioName:scenarioJSON:to:start:in:)", .read, "p1") { b, _ in
        try OutbreakThread.write(OutbreakEnsemble(runs: []), agents: 1, seed: 1, scenarioName: "default", scenarioJSON: nil, to: "p1", start: GateFixture.day, in: b)
    },
    EntryPoint("LocationEvents.pings(of:in:)", .read, "p1") { b, _ in _ = try LocationEvents.pings(of: ["p1"], in: b) },
    EntryPoint("ContactTracer.trace(bank:aggregate:cases:criteria:source:write:)", .read, "p1") { b, _ in
        _ = try ContactTracer.trace(bank: b, aggregate: "cohort", cases: ["p1"], criteria: try ProximityCriteria(distance: 10, window: 600))
    },
    EntryPoint("RiskTwins.read(bank:aggregate:regions:locator:from:to:)", .aggregate, nil, leavesOutOfCohort: true) { b, _ in
        let regions = try RiskFixture.regions()
        _ = try RiskTwins.read(bank: b, aggregate: "cohort", regions: regions, locator: regions.locator())
    },
    EntryPoint("ExposureScenario.withResidents(of:in:regions:)", .aggregate, nil, leavesOutOfCohort: true) { b, _ in
        let scenario = try ExposureScenario(json: Array(#"""
            {"regions": [{"name": "A", "population": 100}], "layers": [{"exposure": "noise", "values": {"A": 60}}],
             "outcomes": [{"name": "ihd", "exposure": "noise", "rr": 1.08, "rr_lower": 1.01, "rr_upper": 1.15, "increment": 10, "counterfactual": 53,
                           "incidence_per_100k": 500}], "changes": [{"exposure": "noise", "region": "A", "delta": -10}]}
            """#.utf8))
        _ = try scenario.withResidents(of: "cohort", in: b, regions: try RiskFixture.regions())
    },
    EntryPoint("RiskTwins.writeAlerts(_:regions:risks:counts:bank:)", .read, "p1") { b, _ in
        let (regions, counts, risks, alerts) = try RiskFixture.alerts()
        _ = try RiskTwins.writeAlerts(alerts, regions: regions, risks: risks, counts: counts, bank: b)
    },
    EntryPoint("RiskTwins.extent(bank:aggregate:)", .aggregate, nil, leavesOutOfCohort: true) { b, _ in _ = try RiskTwins.extent(bank: b, aggregate: "cohort") },
    EntryPoint("CaseReporting.casesByAgeBandAndWeek(bank:aggregate:bands:)", .aggregate, nil, leavesOutOfCohort: true) { b, _ in
        _ = try CaseReporting.casesByAgeBandAndWeek(bank: b, aggregate: "cohort")
    },
    EntryPoint("AggregateStatistics.series(of:in:code:every:from:to:)", .aggregate, nil, leavesOutOfCohort: true) { b, _ in
        _ = try AggregateStatistics.series(of: "cohort", in: b, code: GateFixture.glucose.key, every: .seconds(86400))
    },
    EntryPoint("AggregateDistribution.compute(of:in:code:bins:)", .aggregate, nil, leavesOutOfCohort: true) { b, _ in
        _ = try AggregateDistribution.compute(of: "cohort", in: b)
    },
    EntryPoint("AggregateRiskMap.grid(of:in:cellMeters:date:)", .aggregate, nil, leavesOutOfCohort: true) { b, _ in
        _ = try AggregateRiskMap.grid(of: "cohort", in: b, cellMeters: 1000)
    },
    EntryPoint("AggregateRiskMap.regions(_:of:in:date:)", .aggregate, nil, leavesOutOfCohort: true) { b, _ in
        // one region over the whole world
        let world = #"{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"name":"world"},"geometry":{"type":"Polygon","coordinates":[[[-179,-84],[179,-84],[179,84],[-179,84],[-179,-84]]]}}]}"#
        _ = try AggregateRiskMap.regions(try GeoRegions(geoJSON: Array(world.utf8), nameProperty: nil), of: "cohort", in: b)
    },
    EntryPoint("MemberPopulation.build(members:in:asOf:seed:marginals:)", .read, "p1") { b, _ in
        _ = try MemberPopulation.build(members: ["p1"], in: b, asOf: GateFixture.now, seed: 1)
    },
    EntryPoint("PopulationTwin.fromAggregate(_:in:id:seed:asOf:marginals:replace:)", .read, "ward") { b, _ in
        _ = try PopulationTwin.fromAggregate("cohort", in: b, id: "ward", seed: 1)
    },
    EntryPoint("PopulationTwin.memberPopulation(of:in:)", .read, "p1") { b, _ in _ = try PopulationTwin.memberPopulation(of: "p1", in: b) },
    EntryPoint("PopulationTwin.synthesize(in:id:size:seed:marginals:replace:)", .read, "town") { b, _ in
        _ = try PopulationTwin.synthesize(in: b, id: "town", size: 10, seed: 1, marginals: .covasimHybrid)
    },
    EntryPoint("PopulationTwin.population(of:in:)", .read, "p1") { b, _ in _ = try PopulationTwin.population(of: "p1", in: b) },
    EntryPoint("CloseContactWatcher.evaluate(_:in:)", .read, "p1") { b, f in _ = try await CloseContactWatcher().evaluate(f.update, in: b) },

    // TwinGovernance: releases and consent
    EntryPoint("PrivateQueries.count(aggregate:where:requester:epsilon:using:)", .aggregate, nil, leavesOutOfCohort: true) { b, f in
        var g = Xoshiro256StarStar(seed: 1)
        _ = try f.privateQueries(b).count(aggregate: "cohort", requester: b.actor, epsilon: 0.1, using: &g)
    },
    EntryPoint("PrivateQueries.sum(aggregate:where:value:lower:upper:requester:epsilon:using:)", .aggregate, nil, leavesOutOfCohort: true) { b, f in
        var g = Xoshiro256StarStar(seed: 1)
        _ = try f.privateQueries(b).sum(aggregate: "cohort", value: GateFixture.glucose.key.description, lower: 0, upper: 400, requester: b.actor, epsilon: 0.1, using: &g)
    },
    EntryPoint("PrivateQueries.histogram(aggregate:where:by:bins:requester:epsilon:using:)", .aggregate, nil, leavesOutOfCohort: true) { b, f in
        var g = Xoshiro256StarStar(seed: 1)
        _ = try f.privateQueries(b).histogram(aggregate: "cohort", by: "gender", bins: ["female", "male"], requester: b.actor, epsilon: 0.1, using: &g)
    },
    EntryPoint("Release.make(bank:aggregate:key:anonymity:)", .release, nil, leavesOutOfCohort: true) { b, _ in
        _ = try Release.make(bank: b, aggregate: "cohort", key: try PseudonymKey(bytes: Array(repeating: 7, count: 32)),
                             anonymity: try KAnonymity(k: 1, quasiIdentifiers: ["birthYear", "sex"]))
    },
    EntryPoint("Prognostic.fit(bank:aggregate:spec:seed:)", .aggregate, nil, leavesOutOfCohort: true) { b, _ in
        _ = try Prognostic.fit(bank: b, aggregate: "cohort", spec: try PrognosticSpec(outcome: GateFixture.glucose.key, horizonSeconds: 3600), seed: 1)
    },
    EntryPoint("Prognostic.predict(bank:twin:model:allowOutside:write:)", .read, "p1", research: readsP1) { b, _ in
        _ = try Prognostic.predict(bank: b, twin: "p1", model: "0123456789abcdef")
    },
    EntryPoint("Prognostic.analyzeTrial(bank:aggregate:arm:treatedValue:model:)", .aggregate, nil, leavesOutOfCohort: true) { b, _ in
        _ = try Prognostic.analyzeTrial(bank: b, aggregate: "cohort", arm: "arm", model: "0123456789abcdef")
    },
    EntryPoint("PrognosticStore.load(_:)", .read, nil, research: permitted) { b, _ in _ = try PrognosticStore(bank: b).load("0123456789abcdef") },
    EntryPoint("PrognosticStore.hashes()", .read, nil, research: permitted) { b, _ in _ = try PrognosticStore(bank: b).hashes() },
    EntryPoint("Representativeness.profile(bank:aggregate:conditions:)", .aggregate, nil, leavesOutOfCohort: true) { b, _ in
        _ = try Representativeness.profile(bank: b, aggregate: "cohort")
    },
    EntryPoint("Governance.consent(of:)", .read, "p1") { b, _ in _ = try Governance(bank: b, actor: b.actor).consent(of: "p1") },
    EntryPoint("Governance.consentHistory(of:)", .read, "p1") { b, _ in _ = try Governance(bank: b, actor: b.actor).consentHistory(of: "p1") },
    EntryPoint("Governance.record(_:twin:keepGrantedTimes:)", .read, "p1") { b, _ in
        _ = try Governance(bank: b, actor: b.actor).record([ConsentRule(id: "", effect: .permit, purposes: [.research], granted: GateFixture.now)], twin: "p1")
    },
    EntryPoint("Governance.revoke(twin:rule:)", .read, "p1") { b, _ in _ = try Governance(bank: b, actor: b.actor).revoke(twin: "p1", rule: nil) },
    EntryPoint("Governance.assign(_:)", .administer, nil) { b, _ in _ = try Governance(bank: b, actor: b.actor).assign(Caller(id: b.actor, role: .admin)) },
    EntryPoint("Governance.configure(optIn:optOut:epsilon:budgetWindowDays:)", .administer, nil) { b, _ in
        _ = try Governance(bank: b, actor: b.actor).configure(optOut: [.research])
    },
    EntryPoint("Governance.add(_:)", .administer, nil) { b, _ in
        _ = try Governance(bank: b, actor: b.actor).add(Grant(.researcher, actions: ["read"], purposes: [.commercial]))
    },

    // TwinDemo
    EntryPoint("Demo.run(in:say:)", .write, "adult-t1d") { b, _ in _ = try await Demo(dataDirectory: nil, people: 2, records: 0).run(in: b) { _ in } },
    EntryPoint("Demo.governanceStep(in:log:publicKey:consenting:other:admins:say:)", .administer, nil) { b, _ in
        let signer = AuditSigner()
        _ = try Demo().governanceStep(in: b, log: try AuditLog(store: MemoryAuditStore(), signer: signer), publicKey: signer.publicKey,
                                      consenting: "p1", other: "p1-fork") { _ in }
    },
]

extension GateFixture {
    /// A watch service on p1 for `bank`'s actor and purpose, made while its gate was open (as if the actor had been
    /// permitted then): every call afterwards meets the governed gate.
    func watch(_ bank: Bank) throws -> WatchService {
        let prepared = Bank(storage: storage, gate: gate, clock: clock, actor: bank.actor, purpose: bank.purpose)
        return try gate.opened { try WatchService(bank: prepared, twins: ["p1"], watchers: [try NEWS2ThreadWatcher()], interval: .milliseconds(10)) }
    }
    func privateQueries(_ bank: Bank) -> PrivateQueries {
        PrivateQueries(bank: bank, ledger: PrivacyLedger(storage: storage, clock: clock))
    }
}

enum FHIRFixture {
    static let patient = #"{"resourceType": "Patient", "id": "p9", "gender": "female", "birthDate": "1980-02-02"}"#
    static func patientFile() throws -> String {
        let path = try TemporaryFiles.path("p9.json", label: "gate-fhir")
        try patient.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }
}

enum RiskFixture {
    static func regions() throws -> GeoRegions {
        try GeoRegions([GeoRegion(name: "A", polygons: [GeoPolygon(exterior: [
            GeoPoint(lon: 0, lat: 45), GeoPoint(lon: 1, lat: 45), GeoPoint(lon: 1, lat: 46), GeoPoint(lon: 0, lat: 46), GeoPoint(lon: 0, lat: 45)])])])
    }
    /// One alert: p1 enters region A, at high risk.
    static func alerts() throws -> (GeoRegions, RegionalCounts, [RegionRisk], [RegionAlert]) {
        let regions = try regions()
        let counts = try RegionalCounts(regions: ["A"], start: GateFixture.day, days: 1)
        let risks = RegionalRisk.assess(counts)
        let pings = [LocationPing(person: "p1", time: day(1), latitude: 45.5, longitude: 0.5)]
        let alerts = RegionalRisk.alerts(pings: pings, locator: regions.locator(), levels: [.high], minimum: .high, from: day(0), to: day(2))
        return (regions, counts, risks, try #require(alerts.first.map { [$0] }))
    }
}

/// The actor named by an access-denied error, whichever library's error carries it.
func deniedActor(_ error: any Error) -> String? {
    if let e = error as? BankError, e.code == .accessDenied { return e.value }
    if let e = error as? FHIRError, e.code == .accessDenied { return e.value }
    return nil
}

@Suite struct EntryPointGateTests {
    /// Calls the entry point as `actor` for `purpose` and checks it was refused, changed nothing and was audited.
    /// `because`: a part of the deny's reason (which rule refused).
    func refuses(_ entry: EntryPoint, on kind: GateStorage, actor: String, purpose: String, expected: EntryPoint.Refusal, because: String) async throws {
        let f = try GateFixture(kind)
        let before = try f.snapshot()
        let logged = try f.audit.entryCount()
        let bank = f.bank(actor, purpose)
        var thrown: (any Error)?
        do { try await entry.call(bank, f) } catch { thrown = error }
        // (a) refused with the access-denied error naming the actor
        let error = try #require(thrown, "\(entry.name) answered \(actor) without refusing")
        #expect(deniedActor(error) == actor, "\(entry.name): \(error)")
        #expect("\(error)".contains(actor), "\(entry.name): \(error)")
        // (b) nothing changed: no event, no reference, no file
        let after = try f.snapshot()
        #expect(after.0 == before.0, "\(entry.name) appended events")
        #expect(after.1 == before.1, "\(entry.name) changed references: \(Set(after.1.keys).symmetricDifference(before.1.keys).sorted())")
        #expect(try FileManager.default.contentsOfDirectory(atPath: f.folder.path).isEmpty, "\(entry.name) wrote files")
        // (c) the refusal is in the audit log, naming the actor, the action and the twin; nothing about a person permitted
        let entries = try f.audit.entries(in: logged ..< f.audit.entryCount())
        let deny = try #require(entries.first { $0.decision == .deny }, "\(entry.name): no deny in the audit log")
        #expect(deny.actor == actor)
        #expect(EntryPoint.Refusal(action: deny.action, twin: deny.twin) == expected, "\(entry.name): refused \(deny.action) \(deny.twin ?? "-")")
        #expect(deny.reason.contains(because), "\(entry.name): \(deny.reason)")
        #expect(entries.filter { $0.decision != .deny && $0.twin != nil }.isEmpty, "\(entry.name) permitted \(entries.filter { $0.decision != .deny })")
    }

    @Test(arguments: entryPoints, GateStorage.allCases)
    func refusedToAnActorWithoutARole(_ entry: EntryPoint, _ kind: GateStorage) async throws {
        try await refuses(entry, on: kind, actor: "mallory", purpose: "treatment", expected: entry.refusal, because: "has no role in this bank's policy")
    }

    @Test(arguments: entryPoints.filter { $0.research != nil && !$0.leavesOutOfCohort }, GateStorage.allCases)
    func refusedToAResearcherWithoutConsent(_ entry: EntryPoint, _ kind: GateStorage) async throws {
        // reading a person's data for research needs their opt-in; what researchers may not do at all, the policy refuses
        let refusal = entry.research!
        let because = refusal.twin != nil && refusal.action == "read" ? "needs the person's consent (opt-in)" : "under the bank's policy"
        try await refuses(entry, on: kind, actor: "rita", purpose: "research", expected: refusal, because: because)
    }

    /// A computation over a cohort is not refused to a researcher whose request the policy permits: the person who
    /// has not consented is left out, their refusal audited, and nothing of theirs is recorded as permitted.
    @Test(arguments: entryPoints.filter(\.leavesOutOfCohort), GateStorage.allCases)
    func aCohortLeavesOutAPersonWhoDidNotConsent(_ entry: EntryPoint, _ kind: GateStorage) async throws {
        let f = try GateFixture(kind)
        let (sequence, refs) = try f.snapshot()
        let logged = try f.audit.entryCount()
        do { try await entry.call(f.bank("rita", "research"), f) } catch {
            #expect(deniedActor(error) == nil, "\(entry.name) refused rita outright: \(error)")
        }
        let entries = try f.audit.entries(in: logged ..< f.audit.entryCount())
        let p1 = try #require(entries.first { $0.twin == "p1" }, "\(entry.name): p1 was not asked about")
        #expect(p1.actor == "rita" && p1.decision == .deny && p1.reason.contains("needs the person's consent (opt-in)"), "\(entry.name): \(p1)")
        #expect(entries.filter { $0.twin != nil && $0.decision != .deny }.isEmpty, "\(entry.name) permitted \(entries)")
        // nothing changed but the requester's privacy budget (a spend is recorded even over no one)
        let after = try f.snapshot()
        #expect(after.0 == sequence)
        #expect(after.1.filter { !$0.key.hasPrefix("privacy/") } == refs.filter { !$0.key.hasPrefix("privacy/") })
    }

    /// A cohort's reads ask nothing more: what the cohort left out, they do not give.
    @Test func aCohortsReadsGiveNothingOfAPersonLeftOut() throws {
        let f = try GateFixture()
        let rita = f.bank("rita", "research")
        let cohort = try rita.cohort(of: "cohort", for: .aggregate)
        #expect(cohort.members.isEmpty && cohort.refused == ["p1"])
        #expect(try rita.latestValues(code: GateFixture.glucose.key, in: cohort).isEmpty)
        #expect(try rita.holders(of: GateFixture.glucose.key, in: cohort).isEmpty)
        #expect(try rita.memberCounts(ofCodesIn: cohort).isEmpty)
        #expect(throws: BankError.self) { try rita.events(of: "p1", in: cohort) }
        #expect(throws: BankError.self) { try rita.events(ThreadQuery(twin: "p1", code: GateFixture.glucose.key), in: cohort) }
        let all = try f.owner.cohort(of: "cohort", for: .aggregate)
        #expect(try f.owner.latestValues(code: GateFixture.glucose.key, in: all)["p1"] != nil)
        #expect(try f.owner.memberCounts(ofCodesIn: all)[GateFixture.glucose.key] == 1)
        #expect(try f.owner.events(ThreadQuery(twin: "p1", code: GateFixture.glucose.key), in: all).map(\.code) == [GateFixture.glucose])
    }

    /// The exempt `AuditEventExport.bundle(_:bank:)` never throws: it names each twin's Patient by the gated
    /// `Bank.twin`, and for an actor refused that read by the twin id alone (the refusal audited).
    @Test func theAuditExportReadsTwinsOnlyThroughTheGate() throws {
        let f = try GateFixture()
        var p1 = try f.owner.twin("p1").twin
        p1.attributes["fhir.id"] = .text("patient-7f3")
        try f.owner.updateTwin(p1)
        let entries = try f.audit.entries(in: 0 ..< f.audit.entryCount()).filter { $0.twin == "p1" }
        #expect(!entries.isEmpty)
        func text(_ bank: Bank) -> String { String(decoding: JSONWriter().write(AuditEventExport.bundle(entries, bank: bank)), as: UTF8.self) }
        #expect(text(f.owner).contains("Patient/patient-7f3"))
        let logged = try f.audit.entryCount()
        let refused = text(f.bank("mallory", "treatment"))
        #expect(!refused.contains("patient-7f3") && refused.contains("Patient/p1"))
        let denies = try f.audit.entries(in: logged ..< f.audit.entryCount())
        #expect(denies.map { "\($0.actor) \($0.action) \($0.twin ?? "-") \($0.decision)" } == ["mallory read p1 deny"])
    }

    @Test func theResearcherIsPermittedBankWideMetadataOnly() async throws {
        // the rows the researcher is not refused reveal nobody's data: they are bank-wide reads the policy gives her
        for entry in entryPoints where entry.research == nil {
            #expect(entry.refusal.twin == nil && entry.refusal.action == "read", "\(entry.name)")
        }
    }
}
