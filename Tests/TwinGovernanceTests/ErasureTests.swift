import Foundation
import Testing
import TwinBank
import TwinBankSQLite
import TwinCore
import TwinFHIR
import TwinGovernance
import TwinTesting

/// The right to erasure on a real bank file: after `Bank.erase(twin:reason:)` no byte of the erased values is left
/// in the bank file, its write-ahead log or its shared-memory file, the library refuses the twin or shows tombstones,
/// and the audit log still verifies.
@Suite struct ErasureTests {
    static let textMarker = "QZXTEXT7781"
    static let nameMarker = "QZXNAME7782"
    static let forkMarker = "QZXFORK7783"
    static let fhirMarker = "QZXFHIR7784"
    static let derivedMarker = "QZXDERIVED7785"
    static let noteMarker = "QZXNOTE7786"
    /// A number whose 8-byte IEEE representation occurs nowhere else.
    static let number = 7331.000_123_456_789
    static let note = Concept(system: "urn:test", code: "note")
    static let score = Concept(system: "urn:test", code: "score")

    struct Fixture {
        var bank: Bank
        var storage: SQLiteStorage
        var log: AuditLog
        var signer: AuditSigner
        var store: BankGovernanceStore
        var path: String
        var commit: ContentHash
    }

    /// A bank on disk: p1 imported from FHIR (a name with a marker, an observation, a Device record naming the
    /// patient), a text and a number with markers in p1's thread, a fork with its own marked event, a derived event
    /// in another twin, an explicit aggregate naming p1, p1's consent, p2 untouched; committed.
    func fixture(_ directory: URL) throws -> Fixture {
        let path = directory.appendingPathComponent("bank.sqlite").path
        let storage = try SQLiteStorage(path: path)
        let signer = AuditSigner()
        let log = try AuditLog(store: SQLiteAuditStore(storage), signer: signer)
        let store = BankGovernanceStore(storage: storage)
        let gate = GovernedGate(store: store, log: log, owner: "admin")
        let bank = Bank(storage: storage, gate: gate, actor: "admin", purpose: "operations")
        let bundle = try JSONReader().read(#"""
            {"resourceType": "Bundle", "type": "transaction", "entry": [
              {"fullUrl": "urn:uuid:p1", "resource": {"resourceType": "Patient", "id": "p1", "birthDate": "1970-03-04",
                "name": [{"family": "\#(Self.nameMarker)", "given": ["Ada"]}]}, "request": {"method": "POST", "url": "Patient"}},
              {"fullUrl": "urn:uuid:d1", "resource": {"resourceType": "Device", "id": "d1", "patient": {"reference": "urn:uuid:p1"},
                "deviceName": [{"name": "\#(Self.fhirMarker)", "type": "user-friendly-name"}]}, "request": {"method": "POST", "url": "Device"}},
              {"fullUrl": "urn:uuid:o1", "resource": {"resourceType": "Observation", "id": "o1", "status": "final",
                "code": {"coding": [{"system": "http://loinc.org", "code": "8867-4"}]}, "subject": {"reference": "urn:uuid:p1"},
                "effectiveDateTime": "2024-01-02T10:00:00Z", "valueQuantity": {"value": 61, "unit": "/min"}}, "request": {"method": "POST", "url": "Observation"}}
            ]}
            """#)
        _ = try FHIRImporter(bank: bank).importResource(bundle, origin: "test")
        _ = try bank.createTwin(Twin(id: "p2", kind: .person, attributes: ["name": .text("Bob")]))
        _ = try bank.createTwin(Twin(id: "cohort-stats", kind: .population))
        let at = try Instant(parsing: "2024-01-03T10:00:00Z")
        let own = try bank.append([
            EventDraft(twin: "p1", effective: EffectiveTime(at), category: .observation, code: Self.note, value: .text("said \(Self.textMarker)"),
                       source: Source(.device, "phone-\(Self.textMarker)"), provenance: Provenance(notes: Self.noteMarker)),
            EventDraft(twin: "p1", effective: EffectiveTime(at), category: .observation, code: Self.score, value: .quantity(Quantity(Self.number, "1")),
                       source: Source(.device, "scale")),
            .observation("p2", at: at, code: Self.score, Quantity(3, "1"), source: Source(.device, "scale")),
        ])
        // a long text (overflow pages), and a thousand readings of p1 and p2 interleaved, so pages split and cells move
        // before the erasure (where secure_delete alone leaves old copies behind)
        _ = try bank.append([EventDraft(twin: "p1", effective: EffectiveTime(at.advanced(byMicroseconds: 2)), category: .observation, code: Self.note,
                                        value: .text(String(repeating: "lorem ipsum ", count: 2000) + Self.textMarker), source: Source(.device, "scale"))])
        for batch in 0..<4 {
            var drafts: [EventDraft] = []
            for i in 0..<250 {
                let when = try Instant(parsing: "2023-06-01T00:00:00Z").advanced(byMicroseconds: Int64(batch * 250 + i) * 60_000_000)
                drafts.append(.observation(i % 2 == 0 ? "p1" : "p2", at: when, code: Self.score,
                                           Quantity(i % 2 == 0 ? Self.number : Double(i), "1"), source: Source(.device, i % 2 == 0 ? "scale" : "scale-2")))
            }
            _ = try bank.append(drafts)
        }
        // p2's rows grow (their retraction and a long reason are recorded in them): SQLite rewrites them and
        // rebalances the pages p1's rows share, moving p1's cells
        _ = try bank.retract(source: Source(.device, "scale-2"), reason: "miscalibrated: " + String(repeating: "the scale read high ", count: 6), erase: true)
        _ = try bank.fork("p1", at: at, as: "p1-what-if")
        _ = try bank.append([EventDraft(twin: "p1-what-if", effective: EffectiveTime(at.advanced(byMicroseconds: 1)), category: .prediction,
                                        code: Self.note, value: .text(Self.forkMarker), source: Source(.model, "what-if"))])
        _ = try bank.append([EventDraft(twin: "cohort-stats", effective: EffectiveTime(at), category: .prediction, code: Self.note,
                                        value: .text(Self.derivedMarker), source: Source(.model, "stats"),
                                        provenance: Provenance(derivedFrom: [own.ids[1]]))])
        _ = try bank.createAggregate("study", members: ["p1", "p2"])
        _ = try store.updateConsent(for: "p1", by: "admin", at: at) { $0.add(rule(.permit, [.research])) }
        let commit = try bank.commit(message: "before the erasure").id
        return Fixture(bank: bank, storage: storage, log: log, signer: signer, store: store, path: path, commit: commit)
    }

    /// The bytes of the bank file, its -wal and its -shm, one after the other.
    static func fileBytes(_ path: String) -> [UInt8] {
        var out: [UInt8] = []
        for p in [path, path + "-wal", path + "-shm"] {
            if let d = FileManager.default.contents(atPath: p) { out += Array(d) }
        }
        return out
    }

    static func contains(_ haystack: [UInt8], _ needle: [UInt8]) -> Bool {
        Data(haystack).range(of: Data(needle)) != nil
    }

    /// Every marker, as bytes: the texts and the number in both byte orders.
    static var markers: [(String, [UInt8])] {
        let bits = number.bitPattern
        return [textMarker, nameMarker, forkMarker, fhirMarker, derivedMarker, noteMarker].map { ($0, Array($0.utf8)) }
            + [("number, big-endian", withUnsafeBytes(of: bits.bigEndian) { Array($0) }),
               ("number, little-endian", withUnsafeBytes(of: bits.littleEndian) { Array($0) })]
    }

    @Test func noByteOfTheErasedValuesRemainsInTheFiles() throws {
        try TemporaryFiles.withDirectory("erasure") { dir in
            let f = try fixture(dir)
            let before = Self.fileBytes(f.path)
            for (name, bytes) in Self.markers where !name.hasPrefix("number") {
                #expect(Self.contains(before, bytes), "marker \(name) should be in the bank before the erasure")
            }
            // SQLite stores a REAL big-endian: the number is there in one byte order at least
            #expect(Self.markers.filter { $0.0.hasPrefix("number") }.contains { Self.contains(before, $0.1) })

            let report = try f.bank.erase(twin: "p1", reason: "GDPR art. 17 request 42")
            #expect(report.twins.map(\.twin) == ["p1", "p1-what-if"])
            #expect(report.twins.map(\.why) == ["requested", "fork of p1"])
            #expect(report.twins[0].eventsPurged == 504 && report.twins[1].eventsPurged == 1)
            #expect(report.twins[0].definitionVersionsRewritten >= 1 && report.twins[1].definitionVersionsRewritten >= 1)
            #expect(report.derivedEventsPurged == ["cohort-stats": 1])
            #expect(report.aggregatesChanged == ["study"] && report.aggregateVersionsRewritten >= 1)
            #expect(report.recordsRemoved.count == 1 && report.recordsRemoved[0].hasPrefix("fhir/Device/"))
            #expect(report.indexRowsRemoved > 0 && report.dictionaryEntriesDropped > 0)
            #expect(report.physical?.rebuilt == true && report.walTruncated == true && report.physical?.advice == nil)
            #expect(!report.dryRun)

            let after = Self.fileBytes(f.path)
            for (name, bytes) in Self.markers {
                #expect(!Self.contains(after, bytes), "marker \(name) is still in the bank files after the erasure")
            }

            // the library refuses the twin and its fork, naming the erasure
            for id: TwinID in ["p1", "p1-what-if"] {
                let e = #expect(throws: BankError.self) { try f.bank.events(ThreadQuery(twin: id)) }
                #expect(e?.code == .erasedTwin && e?.value == id.rawValue && e?.message.contains("erased") == true)
            }
            #expect(try !f.bank.twinIDs().contains("p1"))
            #expect(try f.bank.erasedTwinIDs() == ["p1", "p1-what-if"])
            #expect(try f.bank.erasure(of: "p1")?.reason == "GDPR art. 17 request 42")
            // an old commit resolves to a tombstone
            let old = try f.bank.twin("p1", at: f.commit.hex)
            #expect(old.erased != nil && old.twin.attributes.isEmpty && old.twin.parts.isEmpty && old.fork == nil)
            // the derived event is a tombstone; p2 is untouched
            let stats = try f.bank.events(ThreadQuery(twin: "cohort-stats"))
            #expect(stats.count == 1 && stats[0].value == nil && stats[0].code == Erasure.tombstoneCode && stats[0].provenance.derivedFrom.isEmpty)
            #expect(try f.bank.events(ThreadQuery(twin: "p2", code: Self.score.key, includeRetracted: true)).count == 501)
            // FHIR export: the population twin exports with its tombstone; the erased twin is refused, naming the erasure
            let exported = try FHIRExporter(bank: f.bank).bundle(twin: "cohort-stats")
            #expect(!JSONWriter().write(exported).isEmpty)
            let fhir = #expect(throws: FHIRError.self) { try FHIRExporter(bank: f.bank).bundle(twin: "p1") }
            #expect(fhir?.message.contains("erased") == true)
            // the aggregate, now and at the old commit, no longer names p1
            #expect(try f.bank.members(of: "study").members == ["p2"])
            #expect(try f.bank.aggregates(at: f.commit.hex).first { $0.id == "study" }?.members == ["p2"])
            // the id stays reserved
            let again = #expect(throws: BankError.self) { try f.bank.createTwin(Twin(id: "p1", kind: .person)) }
            #expect(again?.code == .erasedTwin)
            #expect(throws: BankError.self) { try f.bank.fork("p2", at: try Instant(parsing: "2024-01-03T10:00:00Z"), as: "p1") }
            let twice = #expect(throws: BankError.self) { try f.bank.erase(twin: "p1", reason: "again") }
            #expect(twice?.code == .erasedTwin)
            // governance records stay: the consent, and the audit log, which verifies and holds the erasure
            #expect(try f.store.consent(for: "p1") != nil)
            _ = try f.log.verify(publicKey: f.signer.publicKey)
            let erasures = try f.log.entries(matching: AuditQuery()).filter { $0.action == "erase" }
            #expect(Set(erasures.compactMap(\.twin)).isSuperset(of: ["p1", "p1-what-if"]))
            #expect(erasures.allSatisfy { $0.decision == .permit })
            // a FHIR AuditEvent records an erasure as a delete
            #expect(AuditEventExport.actionCode("erase") == "D")
        }
    }

    @Test func aDryRunChangesNothing() throws {
        try TemporaryFiles.withDirectory("erasure") { dir in
            let f = try fixture(dir)
            let dry = try f.bank.erase(twin: "p1", reason: "request 43", dryRun: true)
            #expect(dry.dryRun && dry.physical == nil)
            let bytes = Self.fileBytes(f.path)
            for (name, marker) in Self.markers where name != "number, little-endian" {
                #expect(Self.contains(bytes, marker), "marker \(name) should still be there after a dry run")
            }
            #expect(try f.bank.events(ThreadQuery(twin: "p1")).count == 504)
            #expect(try f.bank.members(of: "study").members == ["p1", "p2"])
            #expect(try f.bank.recordNames(prefix: "fhir/Device/").count == 1)
            #expect(try f.bank.erasedTwinIDs().isEmpty)
            // the erasure then does what the dry run said
            let real = try f.bank.erase(twin: "p1", reason: "request 43")
            #expect(real.twins == dry.twins && real.derivedEventsPurged == dry.derivedEventsPurged)
            #expect(real.aggregatesChanged == dry.aggregatesChanged && real.recordsRemoved == dry.recordsRemoved)
            #expect(real.indexRowsRemoved == dry.indexRowsRemoved && real.dictionaryEntriesDropped == dry.dictionaryEntriesDropped)
        }
    }

    @Test func aDenyChangesNothingAndIsAudited() throws {
        try TemporaryFiles.withDirectory("erasure") { dir in
            let f = try fixture(dir)
            let mallory = f.bank.acting(as: "mallory", purpose: "operations")
            let denied = #expect(throws: BankError.self) { try mallory.erase(twin: "p1", reason: "because") }
            #expect(denied?.code == .accessDenied && denied?.message.contains("mallory") == true)
            #expect(try f.bank.events(ThreadQuery(twin: "p1")).count == 504)
            #expect(try f.bank.erasedTwinIDs().isEmpty)
            let bytes = Self.fileBytes(f.path)
            for (name, marker) in Self.markers where name != "number, little-endian" {
                #expect(Self.contains(bytes, marker), "marker \(name) should still be there after a refused erasure")
            }
            let entries = try f.log.entries(matching: AuditQuery()).filter { $0.action == "erase" }
            #expect(entries.count == 1 && entries[0].actor == "mallory" && entries[0].decision == .deny)
            _ = try f.log.verify(publicKey: f.signer.publicKey)
        }
    }

    /// The default policy lets a patient erase their own twin (the right is the person's), and nobody else's.
    @Test func aPatientMayEraseTheirOwnTwin() throws {
        try TemporaryFiles.withDirectory("erasure") { dir in
            let f = try fixture(dir)
            try f.store.updatePolicy(initial: .default(owner: "admin")) { p in
                try p.assign(Caller(id: "ada", role: .patient, twins: ["p1", "p1-what-if"]))
                try p.assign(Caller(id: "bob", role: .patient, twins: ["p2"]))
            }
            let bob = f.bank.acting(as: "bob", purpose: "operations")
            #expect(throws: BankError.self) { try bob.erase(twin: "p1", reason: "not mine") }
            let report = try f.bank.acting(as: "ada", purpose: "operations").erase(twin: "p1", reason: "my request")
            #expect(report.twins.map(\.twin) == ["p1", "p1-what-if"])
        }
    }
}
