import Foundation
import Testing
import TwinBank
import TwinCore

/// `Bank.members(of:where:)`: an aggregate's members that also satisfy an expression, with nothing written.
@Suite struct AggregateFilterTests {
    @Test func restrictsTheMembersAndLeavesOutTheUnknownAndOutsiders() throws {
        let bank = Bank(storage: MemoryStorage(), clock: ManualClock(try Instant(parsing: "2026-01-01T00:00:00Z")))
        for (id, sex) in [("ann", "female"), ("bea", "female"), ("carl", "male"), ("dora", "female")] {
            _ = try bank.createTwin(Twin(id: try TwinID(id), kind: .person, attributes: ["sex": .text(sex)]))
        }
        _ = try bank.createTwin(Twin(id: TwinID("eve"), kind: .person))  // no sex: unknown
        let ward = AggregateID("ward")
        _ = try bank.createAggregate(ward, members: ["ann", "carl", "dora", "eve"].map { try TwinID($0) })
        let before = try bank.storage.read { try $0.refs(prefix: "") }.map { "\($0.name)=\($0.value)" }
        #expect(try bank.members(of: ward, where: "sex = female").map(\.rawValue) == ["ann", "dora"])  // not bea: not a member
        #expect(try bank.members(of: ward, where: "not sex = female").map(\.rawValue) == ["carl"])  // not eve: unknown
        let e = try #require(throws: BankError.self) { try bank.members(of: ward, where: "colour = blue") }
        #expect(e.code == .invalidQuery && e.message.contains("colour"))
        #expect(throws: BankError.self) { try bank.members(of: try AggregateID("nobody"), where: "sex = female") }
        #expect(try bank.storage.read { try $0.refs(prefix: "") }.map { "\($0.name)=\($0.value)" } == before)
    }
}
