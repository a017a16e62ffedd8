import Testing
import TwinBank
import TwinCore

/// Listing and deleting aggregates (issue 22, defect 9): a deletion is a definition change like any other,
/// recorded by the next commit, with earlier commits keeping the aggregate.
@Suite struct AggregateCatalogueTests {
    @Test(arguments: StorageKind.allCases)
    func deletionIsRecordedByTheNextCommitAndHistoryKeepsIt(_ kind: StorageKind) throws {
        let bank = try makeBank(kind)
        let alice = try TwinID("alice"), bob = try TwinID("bob")
        try bank.createTwin(person(alice))
        try bank.createTwin(person(bob))
        #expect(try bank.aggregates().isEmpty)
        let mine = try AggregateID("mine"), all = try AggregateID("all")
        try bank.createAggregate(mine, members: [alice], description: "mine")
        try bank.createAggregate(all, where: "kind = person")
        #expect(try bank.aggregates().map(\.id) == [all, mine])
        let first = try bank.commit(message: "two")

        // An unknown id changes nothing and names what exists.
        do {
            try bank.deleteAggregate(try AggregateID("mien"))
            Issue.record("deleting an unknown aggregate succeeded")
        } catch let e as BankError {
            #expect(e.code == .unknownAggregate)
            #expect(e.message.contains("mien") && e.message.contains("mine"))
        }
        #expect(try bank.aggregates().count == 2)

        let deleted = try bank.deleteAggregate(mine)
        #expect(deleted.members == [alice])
        #expect(try bank.aggregates().map(\.id) == [all])
        #expect(throws: BankError.self) { try bank.members(of: mine) }
        let second = try bank.commit(message: "drop mine")
        let diff = try bank.diff(first.id.hex, second.id.hex)
        #expect(diff.removed.contains("aggregate/mine"))
        // Earlier commits still hold it, with the same members.
        #expect(try bank.members(of: mine, at: first.id.hex).members == [alice])
        #expect(try bank.aggregates(at: first.id.hex).map(\.id) == [all, mine])
        #expect(try bank.aggregates(at: second.id.hex).map(\.id) == [all])
        // The id may be used again.
        try bank.createAggregate(mine, members: [bob])
        #expect(try bank.members(of: mine).members == [bob])
        #expect(try bank.members(of: mine, at: first.id.hex).members == [alice])
    }
}
