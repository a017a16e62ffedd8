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
