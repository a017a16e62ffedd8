import Foundation
import Testing
import TwinBank
import TwinCore

/// Issue 23, item 3: exchange without loss. A composite twin travels with its parts.
@Suite struct ExchangeWithoutLossTests {
    /// A person whose parts are two organ twins; the liver has a cell twin as its own part (parts are recursive).
    func composite(_ kind: StorageKind) throws -> Bank {
        let bank = try makeBank(kind)
        try bank.createTwin(Twin(id: "alice-hepatocyte", kind: .cell, attributes: ["type": .text("hepatocyte")]))
        try bank.createTwin(Twin(id: "alice-liver", kind: .organ, attributes: ["volume": .quantity(Quantity(1.5, "L"))],
                                 parts: [Twin.Part(role: "cell", twin: "alice-hepatocyte")]))
        try bank.createTwin(Twin(id: "alice-heart", kind: .organ))
        var alice = person("alice")
        alice.parts = [Twin.Part(role: "heart", twin: "alice-heart"), Twin.Part(role: "liver", twin: "alice-liver")]
        try bank.createTwin(alice)
        try bank.createTwin(person("bob"))
        try bank.append([obs("alice", "2024-01-01", 100), obs("alice-heart", "2024-01-01", heartRate, 70, "/min"),
                         obs("alice-heart", "2024-01-02", heartRate, 72, "/min", source: lab),
                         obs("alice-liver", "2024-01-01", Concept.loinc("1742-6", "ALT"), 30, "U/L"),
                         obs("alice-hepatocyte", "2024-01-01", glucose, 90), obs("bob", "2024-01-01", 95)])
        try bank.commit(message: "composite alice")
        try bank.retract(source: lab, reason: "wrong device", erase: false)
        return bank
    }

    @Test("a composite twin's export carries its organ twins, recursively, with their threads",
          arguments: [(StorageKind.memory, StorageKind.sqlite), (.sqlite, .memory)])
    func partsTravel(from: StorageKind, to: StorageKind) throws {
        let source = try composite(from)
        let (data, result) = try source.exportBundle(twin: "alice")
        // parts first, the composite last; bob (not a part) stays home
        #expect(result.twins == ["alice-heart", "alice-hepatocyte", "alice-liver", "alice"])
        let target = try makeBank(to)
        let r = try target.importBundle(data)
        #expect(Set(r.twinsCreated) == ["alice", "alice-heart", "alice-liver", "alice-hepatocyte"])
        #expect(throws: BankError.self) { try target.twin("bob") }
        #expect(try target.twin("alice").twin.parts == source.twin("alice").twin.parts)
        #expect(try target.twin("alice-liver").twin == source.twin("alice-liver").twin)
        for twin: TwinID in ["alice", "alice-heart", "alice-liver", "alice-hepatocyte"] {
            let a = try source.events(ThreadQuery(twin: twin, includeRetracted: true))
            let b = try target.events(ThreadQuery(twin: twin, includeRetracted: true))
            #expect(!a.isEmpty)
            #expect(a.map(\.id) == b.map(\.id), "\(twin)")
            #expect(a.map { $0.retractedAtSequence != nil } == b.map { $0.retractedAtSequence != nil }, "\(twin)")
            #expect(try source.state(of: twin).map(\.id) == target.state(of: twin).map(\.id), "\(twin)")
        }
        // importing again changes nothing
        let before = try target.lastSequence()
        let again = try target.importBundle(data)
        #expect(again.twinsCreated.isEmpty && again.eventsAdded == 0)
        #expect(try target.lastSequence() == before)
    }

    @Test func partsThatNameEachOtherAreExportedOnce() throws {
        let bank = try makeBank(.memory)
        try bank.createTwin(Twin(id: "left", kind: .organ))
        try bank.createTwin(Twin(id: "right", kind: .organ, parts: [Twin.Part(role: "twin", twin: "left")]))
        try bank.updateTwin(Twin(id: "left", kind: .organ, parts: [Twin.Part(role: "twin", twin: "right")]))
        try bank.createTwin(Twin(id: "pair", kind: .bodySystem, parts: [Twin.Part(role: "a", twin: "left"), Twin.Part(role: "b", twin: "right")]))
        let (data, result) = try bank.exportBundle(twin: "pair")
        #expect(result.twins.sorted() == ["left", "pair", "right"])
        let target = try makeBank(.memory)
        #expect(try Set(target.importBundle(data).twinsCreated) == ["left", "pair", "right"])
    }

    @Test func anAggregateExportCarriesItsMembersParts() throws {
        let source = try composite(.memory)
        try source.createAggregate("people", members: ["alice", "bob"])
        let (data, result) = try source.exportBundle(aggregate: "people")
        #expect(Set(result.twins) == ["alice", "alice-heart", "alice-liver", "alice-hepatocyte", "bob"])
        let target = try makeBank(.sqlite)
        try target.importBundle(data)
        #expect(try target.twin("alice-hepatocyte").twin.kind == .cell)
    }

    @Test func theGateIsAskedForEveryPart() throws {
        struct NoOrgans: AccessGate {
            func authorize(_ r: AccessRequest) throws {
                if r.action == .export, r.twin == "alice-liver" {
                    throw BankError(.accessDenied, "no export of alice-liver", value: "alice-liver")
                }
            }
        }
        let source = try composite(.memory)
        let gated = Bank(storage: source.storage, gate: NoOrgans(), clock: source.clock)
        #expect { try gated.exportBundle(twin: "alice") } throws: { ($0 as? BankError)?.code == .accessDenied }
        #expect(try gated.exportBundle(twin: "bob").result.twins == ["bob"])
    }
}

/// Issue 23, item 3: an imported bank's commit history is replayed as commits of this bank.
@Suite struct HistoryReplayTests {
    let exchange = ExchangeTests()

    /// The ids a twin's thread showed at a commit (its pin, as `thread query --commit` reads it).
    func ids(_ bank: Bank, _ twin: TwinID, at commit: String) throws -> [ContentHash] {
        let pin = try bank.resolveCommit(commit).commit.threadPin
        return try bank.events(ThreadQuery(twin: twin, knownAtSequence: pin)).map(\.id)
    }

    @Test(arguments: [(StorageKind.memory, StorageKind.sqlite), (.sqlite, .memory)])
    func historyIsReplayedAsCommits(from: StorageKind, to: StorageKind) throws {
        let source = try exchange.populated(from)
        let (data, _) = try source.exportBundle(twin: "alice-sim")
        let target = try makeBank(to)
        try target.createTwin(person("carol"))
        try target.append([obs("carol", "2023-06-01", 99)])
        let own = try target.commit(message: "carol here")
        let r = try target.importBundle(data)
        #expect(r.commitsReplayed == 2 && r.commitsAlreadyPresent == 0)
        let branch = try #require(r.branch)
        #expect(branch == "imported:twin:alice-sim")
        // the replayed commits keep message, author and time, and name where they came from
        let sourceLog = try source.log()
        let log = try target.log(branch)
        #expect(log.map(\.commit.message) == ["two", "one"])
        #expect(log.map(\.commit.author) == sourceLog.map(\.commit.author))
        #expect(log.map(\.commit.time) == sourceLog.map(\.commit.time))
        #expect(log.map { $0.commit.imported?.sourceCommit } == sourceLog.map(\.id))
        #expect(log.allSatisfy { $0.commit.imported?.bundle == r.root })
        // the parent chain is preserved, and starts fresh in this bank
        #expect(log[0].commit.parents == [log[1].id])
        #expect(log[1].commit.parents.isEmpty)
        // this bank's own branch and working state did not move
        #expect(try target.log().map(\.id) == [own.id])
        #expect(try target.branches().current == "main")
        // pins are mapped: the thread at each replayed commit is the thread at the source commit
        // (alice travels up to the fork's cut-off: her later events stayed home)
        let cutoff = try source.twin("alice-sim").fork!.parentSequence
        for (mine, theirs) in zip(log, sourceLog) {
            let pin = theirs.commit.threadPin
            let carried = try source.events(ThreadQuery(twin: "alice", knownAtSequence: pin)).filter { $0.sequence <= cutoff }.map(\.id)
            #expect(!carried.isEmpty)
            #expect(try ids(target, "alice", at: mine.id.hex) == carried, "\(mine.commit.message)")
        }
        #expect(try ids(target, "alice", at: log[1].id.hex) == ids(source, "alice", at: sourceLog[1].id.hex))
        #expect(try ids(target, "alice", at: log[1].id.hex) != ids(target, "alice", at: log[0].id.hex))
        #expect(try ids(target, "alice-sim", at: branch) == ids(source, "alice-sim", at: "HEAD"))
        // definitions at each replayed commit: alice-sim appears in the second
        #expect(try target.twinIDs(at: "\(branch)~1") == ["alice"])
        #expect(try target.twinIDs(at: branch) == ["alice", "alice-sim"])
        #expect(try target.twin("alice-sim", at: branch).fork?.parent == "alice")
        #expect(try target.diff("\(branch)~1", branch).added == ["twin/alice-sim"])
        // the fork's cut-off, mapped at the replayed head, shows the same parent events as the source did
        #expect(try target.state(of: "alice-sim").map(\.id) == source.state(of: "alice-sim").map(\.id))

        // importing again replays nothing
        let again = try target.importBundle(data)
        #expect(again.commitsReplayed == 0 && again.commitsAlreadyPresent == 2 && again.branch == branch)
        #expect(try target.log(branch).map(\.id) == log.map(\.id))
    }

    @Test func aNewerExportOfTheSameTwinFastForwardsTheImportedBranch() throws {
        let source = try exchange.populated(.memory)
        let target = try makeBank(.memory)
        let first = try target.importBundle(source.exportBundle(twin: "alice").data)
        try source.append([obs("alice", "2024-01-06", 130)])
        try source.commit(message: "three")
        let second = try target.importBundle(source.exportBundle(twin: "alice").data)
        #expect(second.branch == first.branch)
        #expect(second.commitsReplayed == 1 && second.commitsAlreadyPresent == 2)
        #expect(try target.log(second.branch!).map(\.commit.message) == ["three", "two", "one"])
    }

    @Test func switchingToTheImportedBranchShowsItsDefinitions() throws {
        let source = try exchange.populated(.memory)
        try source.updateTwin(person("bob", ["sex": .text("male"), "weight": .quantity(Quantity(90, "kg"))]))
        try source.commit(message: "bob weighed")
        let target = try makeBank(.sqlite)
        let r = try target.importBundle(source.exportBundle(twin: "bob").data)
        try target.commit(message: "bob imported")
        try target.switchBranch(r.branch!)
        #expect(try target.twinIDs() == ["bob"])
        #expect(try target.twin("bob").twin.attributes["weight"] == .quantity(Quantity(90, "kg")))
        try target.switchBranch("\(r.branch!)") // no-op: nothing uncommitted
        try target.switchBranch("main")
        #expect(try target.twinIDs() == ["bob"])
    }
}
