import Foundation
import Testing
import TwinBank
import TwinCore
import TwinFHIR
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

/// A release with the members' clinical records: k-anonymous over the quasi-identifiers, every resource de-identified.
@Suite struct FHIRReleaseTests {
    @Test(.enabled(if: SyntheaFixture.available, "needs ../shared/data/synthea"))
    func clinicalRecordsAreReleasedDeidentifiedForTheKAnonymousMembersOnly() throws {
        let bank = Bank(storage: MemoryStorage(), clock: ManualClock(try Instant(parsing: "2026-06-01")))
        let files = Array(SyntheaFixture.bundles.prefix(12))
        _ = try FHIRImporter(bank: bank).importPaths(files.map(\.path))
        let people = try bank.twinIDs().filter { try bank.twin($0).twin.kind == .person }
        #expect(people.count == 12)
        _ = try bank.createAggregate("some", members: people)
        let key = try PseudonymKey(bytes: Array(repeating: 7, count: 32))
        let (bytes, result, count) = try FHIRRelease.bundle(bank: bank, aggregate: "some", key: key,
                                                            anonymity: try KAnonymity(k: 3, quasiIdentifiers: ["birthYear", "sex"], maxSuppression: 0.2))
        let bundle = try JSONReader().read(bytes)
        #expect(Validator().validate(bundle).isEmpty, "\(Validator().validate(bundle).prefix(3))")
        let resources = bundle["entry"]?.list.compactMap { $0["resource"] } ?? []
        #expect(resources.count == count && count > result.records.count * 10)
        // one generalised Patient per released record, joined to the tabular release by its identifier
        let patients = resources.filter { $0["resourceType"]?.stringValue == "Patient" }
        #expect(patients.count == result.records.count && result.records.count >= 12 - 2)
        #expect(Set(patients.compactMap { $0["identifier"]?[0]?["value"]?.stringValue }) == Set(result.records.map(\.id)))
        #expect(patients.allSatisfy { $0["name"] == nil && $0["address"] == nil && ($0["birthDate"] == nil || $0["birthDate"]?.stringValue?.count == 4) })
        // every reference to a Patient names a released one
        let patientIDs = Set(patients.compactMap { $0["id"]?.stringValue })
        let text = String(decoding: bytes, as: UTF8.self)
        let references = text.components(separatedBy: "\"Patient/").dropFirst().map { String($0.prefix { $0 != "\"" }) }
        #expect(!references.isEmpty && references.allSatisfy(patientIDs.contains))
        // nothing that names the people, where they live or their records' ids survives
        for url in files {
            let source = try JSONReader().read([UInt8](Data(contentsOf: url)))
            let entries = source["entry"]?.list.compactMap { $0["resource"] } ?? []
            guard let p = entries.first(where: { $0["resourceType"]?.stringValue == "Patient" }) else { continue }
            var secrets = (p["name"]?.list ?? []).flatMap { n in (n["given"]?.list.compactMap(\.stringValue) ?? []) + [n["family"]?.stringValue].compactMap { $0 } }
            secrets += (p["address"]?.list ?? []).flatMap { a in (a["line"]?.list.compactMap(\.stringValue) ?? []) + [a["city"]?.stringValue].compactMap { $0 } }
            secrets += (p["telecom"]?.list ?? []).compactMap { $0["value"]?.stringValue }
            secrets += (p["identifier"]?.list ?? []).compactMap { $0["value"]?.stringValue }
            secrets += entries.prefix(40).compactMap { $0["id"]?.stringValue }
            secrets.append(url.lastPathComponent)
            for s in secrets where s.count > 3 { #expect(!text.contains(s), "'\(s)' of \(url.lastPathComponent) is in the release") }
        }
        // no date finer than a year
        #expect(text.range(of: #""\d{4}-\d{2}"#, options: .regularExpression) == nil)
    }
}
