import Foundation
import Testing
import TwinBank
import TwinCore

/// Issue 23, item 3: switching branch switches the twin definitions seen.
@Suite struct BranchTests {
    func weight(_ bank: Bank, _ twin: TwinID = "a") throws -> Value? { try bank.twin(twin).twin.attributes["weight"] }

    @Test("switching branch switches twin and aggregate definitions; commits advance the current branch",
          arguments: StorageKind.allCases)
    func switchingSwitchesDefinitions(_ kind: StorageKind) throws {
        let bank = try makeBank(kind)
        try bank.createTwin(person("a", ["weight": .quantity(Quantity(70, "kg"))]))
        try bank.append([obs("a", "2024-01-01", 100)])
        let mainCommit = try bank.commit(message: "a on main")
        try bank.createBranch("trial")
        #expect(try bank.branches().current == "main")
        let s = try bank.switchBranch("trial")
        #expect(s.from == "main" && s.to == "trial" && s.commit == mainCommit.id && s.discarded.isEmpty)
        try bank.updateTwin(person("a", ["weight": .quantity(Quantity(80, "kg"))]))
        try bank.createTwin(person("b"))
        try bank.createAggregate("heavy", members: ["a"])
        try bank.append([obs("a", "2024-01-02", 120)])
        let trialCommit = try bank.commit(message: "heavier a on trial")
        #expect(trialCommit.names == ["trial"])
        #expect(try bank.resolveCommit("main").id == mainCommit.id, "a commit on trial does not move main")
        #expect(try bank.resolveCommit("trial").id == trialCommit.id)
        #expect(try bank.resolveCommit("trial").commit.parents == [mainCommit.id])

        try bank.switchBranch("main")
        #expect(try weight(bank) == .quantity(Quantity(70, "kg")))
        #expect(try bank.twinIDs() == ["a"])
        #expect(throws: BankError.self) { try bank.members(of: "heavy") }
        #expect(try bank.uncommittedChanges().isEmpty)
        // the thread is shared by all branches: both events are still there
        #expect(try bank.events(ThreadQuery(twin: "a")).count == 2)

        try bank.switchBranch("trial")
        #expect(try weight(bank) == .quantity(Quantity(80, "kg")))
        #expect(try bank.twinIDs() == ["a", "b"])
        #expect(try bank.members(of: "heavy").members == ["a"])
        // a commit now goes to trial again
        try bank.updateTwin(person("a", ["weight": .quantity(Quantity(85, "kg"))]))
        let next = try bank.commit(message: "even heavier")
        #expect(try bank.resolveCommit("trial").id == next.id)
        #expect(try bank.resolveCommit("main").id == mainCommit.id)
        #expect(try bank.twin("a", at: "main").twin.attributes["weight"] == .quantity(Quantity(70, "kg")))
    }

    @Test func uncommittedChangesRefuseTheSwitchNamingThem() throws {
        let bank = try makeBank(.sqlite)
        try bank.createTwin(person("a"))
        try bank.commit(message: "one")
        try bank.createBranch("trial")
        try bank.updateTwin(person("a", ["weight": .quantity(Quantity(80, "kg"))]))
        try bank.createTwin(person("c"))
        #expect(try bank.uncommittedChanges().map(\.description) == ["changed twin/a", "added twin/c"])
        let error = try #require(throws: BankError.self) { try bank.switchBranch("trial") }
        #expect(error.code == .uncommittedChanges)
        #expect(error.message.contains("changed twin/a") && error.message.contains("added twin/c"), "\(error.message)")
        // nothing moved: still on main, the changes are still there
        #expect(try bank.branches().current == "main")
        #expect(try weight(bank) == .quantity(Quantity(80, "kg")))
        #expect(try bank.twinIDs() == ["a", "c"])
    }

    @Test func aForcedSwitchDiscardsButKeepsTheDiscardedDefinitions() throws {
        let bank = try makeBank(.memory)
        try bank.createTwin(person("a"))
        try bank.commit(message: "one")
        try bank.createBranch("trial")
        try bank.updateTwin(person("a", ["weight": .quantity(Quantity(80, "kg"))]))
        let r = try bank.switchBranch("trial", force: true)
        #expect(r.discarded.map(\.description) == ["changed twin/a"])
        let reference = try #require(r.discardedReference)
        #expect(reference.hasPrefix("discarded/main@"))
        #expect(try weight(bank) == nil)
        // the discarded tree is stored and still names the modified definition
        let kept = try bank.storage.read { tx in try tx.ref(reference) }
        #expect(kept == r.discardedTree?.hex)
        #expect(try bank.storage.read { tx in try r.discardedTree.flatMap { try tx.object($0) } } != nil)
    }

    @Test("bad branch names and unknown branches are refused, naming them", arguments: [
        ("nope", "unknown branch 'nope': branches are main"),
        ("a b", "invalid branch name 'a b'"),
    ])
    func badBranch(_ name: String, _ message: String) throws {
        let bank = try makeBank(.memory)
        try bank.createTwin(person("a"))
        try bank.commit(message: "one")
        let error = try #require(throws: BankError.self) { try bank.switchBranch(name) }
        #expect(error.message.contains(message), "\(error.message)")
        #expect(try bank.branches().current == "main")
    }

    @Test func creatingAnExistingBranchIsRefused() throws {
        let bank = try makeBank(.memory)
        try bank.createTwin(person("a"))
        try bank.commit(message: "one")
        try bank.createBranch("trial")
        let error = try #require(throws: BankError.self) { try bank.createBranch("trial") }
        #expect(error.code == .invalidReference && error.message.contains("already exists"))
        #expect(try bank.branchHeads().branches.map(\.name) == ["main", "trial"])
        #expect(try bank.branchHeads().branches.map(\.current) == [true, false])
    }

    @Test func aBranchAtAnOlderCommitShowsThatCommitsDefinitions() throws {
        let bank = try makeBank(.sqlite)
        try bank.createTwin(person("a"))
        let first = try bank.commit(message: "one")
        try bank.createTwin(person("b"))
        try bank.commit(message: "two")
        try bank.createBranch("old", at: first.id.hex)
        try bank.switchBranch("old")
        #expect(try bank.twinIDs() == ["a"])
        try bank.switchBranch("main")
        #expect(try bank.twinIDs() == ["a", "b"])
    }
}

extension BranchTests {
    @Test func aTemplateVersionMadeOnAnotherBranchIsNeverReused() throws {
        let bank = try makeBank(.memory)
        try bank.createTwin(person("a"))
        try bank.commit(message: "one")
        try bank.createBranch("trial")
        try bank.switchBranch("trial")
        try bank.createTemplate(Twin(id: "adult", kind: .person, attributes: ["sex": .text("female")]))
        try bank.commit(message: "template on trial")
        try bank.switchBranch("main")
        #expect(throws: BankError.self) { try bank.twin("adult") }
        let made = try bank.createTemplate(Twin(id: "adult", kind: .person, attributes: ["sex": .text("male")]))
        #expect(made.twin.templateVersion == 2)
        #expect(try bank.templateVersions("adult") == [1, 2])
        var b = person("b")
        b.template = Twin.TemplateReference(id: "adult", version: 1)
        #expect(try bank.createTwin(b).twin.attributes["sex"] == .text("female"))
    }
}

extension BranchTests {
    /// The thread is shared by all branches: a twin defined on another branch keeps its events, so its id is not
    /// free on this one, and importing it here finds its events already present.
    @Test(arguments: StorageKind.allCases)
    func aTwinOfAnotherBranchKeepsItsEvents(_ kind: StorageKind) throws {
        let bank = try makeBank(kind)
        try bank.createTwin(person("a"))
        try bank.commit(message: "one")
        try bank.createBranch("trial")
        try bank.switchBranch("trial")
        try bank.createTwin(person("b"))
        try bank.append([obs("b", "2024-01-01", 100), obs("b", "2024-01-02", 110)])
        try bank.commit(message: "b on trial")
        let (bundle, _) = try bank.exportBundle(twin: "b")
        try bank.switchBranch("main")
        #expect(try bank.twinIDs() == ["a"])
        let error = try #require(throws: BankError.self) { try bank.createTwin(person("b")) }
        #expect(error.code == .duplicateTwin && error.message.contains("another branch"), "\(error.message)")
        let before = try bank.lastSequence()
        let r = try bank.importBundle(bundle)
        #expect(r.twinsCreated == ["b"] && r.eventsAdded == 0 && r.eventsAlreadyPresent == 2)
        #expect(try bank.lastSequence() == before)
        #expect(try bank.events(ThreadQuery(twin: "b")).count == 2)
    }
}
