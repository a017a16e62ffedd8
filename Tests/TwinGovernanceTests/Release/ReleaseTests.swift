import Foundation
import Testing
import TwinBank
import TwinCore
import TwinGovernance

@Suite struct ReleaseTests {
    static func bank() throws -> (Bank, AggregateID) {
        let bank = Bank(storage: MemoryStorage(), clock: ManualClock(try Instant(parsing: "2026-01-01T00:00:00Z")))
        for i in 0..<6 {
            _ = try bank.createTwin(Twin(id: try TwinID("p\(i)"), kind: .person, attributes: [
                "name": .text("Name \(i)"), "gender": .text(i % 2 == 0 ? "female" : "male"),
                "birthDate": .date(try Instant(parsing: "19\(70 + i)-03-04")), "address": .text("\(i) Oak Rd, Salem, MA, 01970, US"),
            ]))
        }
        let id = AggregateID("six")
        _ = try bank.createAggregate(id, members: (0..<6).map { try TwinID("p\($0)") })
        return (bank, id)
    }

    @Test func releasesOnlyThePseudonymAndTheAskedFields() throws {
        let (bank, id) = try Self.bank()
        let key = try PseudonymKey(bytes: Array(repeating: 5, count: 32))
        let r = try Release.make(bank: bank, aggregate: id, key: key, anonymity: try KAnonymity(k: 3, quasiIdentifiers: ["birthYear", "sex"]))
        #expect(r.records.count == 6)
        #expect(r.records.allSatisfy { Set($0.fields.keys) == ["birthYear", "sex"] })
        #expect(Set(r.records.map(\.id)) == Set((0..<6).map { key.pseudonym("p\($0)", domain: "twin") }))
        let csv = Release.csv(r.records, columns: ["birthYear", "sex"])
        #expect(csv.hasPrefix("id,birthYear,sex\n") && !csv.contains("Name") && !csv.contains("Oak"))
    }

    @Test func aMisspeltQuasiIdentifierIsRefusedNamingIt() throws {
        let (bank, id) = try Self.bank()
        let key = try PseudonymKey(bytes: Array(repeating: 5, count: 32))
        let e = try #require(throws: GovernanceError.self) {
            try Release.make(bank: bank, aggregate: id, key: key, anonymity: try KAnonymity(k: 3, quasiIdentifiers: ["brithYear", "sex"]))
        }
        #expect(e.code == .invalidRelease && e.value == "brithYear" && e.message.contains("birthYear"))
    }
}
