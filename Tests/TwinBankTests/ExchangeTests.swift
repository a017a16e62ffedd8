import Foundation
import Testing
import TwinBank
import TwinCore

@Suite struct ExchangeTests {
    func populated(_ kind: StorageKind) throws -> Bank {
        let bank = try makeBank(kind)
        try bank.createTemplate(Twin(id: "adult", kind: .person, attributes: ["sex": .text("female")]))
        var alice = person("alice")
        alice.template = Twin.TemplateReference(id: "adult", version: 1)
        try bank.createTwin(alice)
        try bank.createTwin(person("bob", ["sex": .text("male")]))
        try bank.append([obs("alice", "2024-01-01", 100), obs("alice", "2024-01-02", 110, source: lab),
                         obs("alice", "2024-01-03", heartRate, 70, "/min"), obs("bob", "2024-01-01", 90)])
        try bank.commit(message: "one")
        try bank.retract(source: lab, reason: "wrong patient", erase: true)
        try bank.fork("alice", at: t("2024-01-02T12:00Z"), as: "alice-sim")
        var d = EventDraft(twin: "alice-sim", effective: EffectiveTime(t("2024-01-04")), category: .prediction, code: glucose,
                           value: .quantity(Quantity(150, "mg/dL")), source: Source(.model, "uva-padova@1"))
        d.provenance = Provenance(model: "uva-padova", modelVersion: "1", seed: 7)
        try bank.append([d, obs("alice", "2024-01-05", 120)])
        try bank.createAggregate("women", where: "sex = female", includeForks: true)
        try bank.commit(message: "two")
        return bank
    }

    @Test(arguments: [(StorageKind.memory, StorageKind.sqlite), (.sqlite, .memory)])
    func exportImportRoundTrip(from: StorageKind, to: StorageKind) throws {
        let source = try populated(from)
        let (data, result) = try source.exportBundle(twin: "alice-sim")
        #expect(result.twins == ["alice", "alice-sim"])
        let target = try makeBank(to)
        let r1 = try target.importBundle(data)
        #expect(Set(r1.twinsCreated) == ["alice", "alice-sim"])
        #expect(r1.eventsAdded == result.events)
        // the fork's view and the parent's view are reproduced (values, codes, sources, retraction, erasure)
        // the parent travels only up to the fork's cut-off
        let cutoff = try source.twin("alice-sim").fork!.parentSequence
        #expect(try target.events(ThreadQuery(twin: "alice", includeRetracted: true)).map(\.id)
                == source.events(ThreadQuery(twin: "alice", includeRetracted: true)).filter { $0.sequence <= cutoff }.map(\.id))
        for twin: TwinID in ["alice-sim"] {
            let a = try source.events(ThreadQuery(twin: twin, includeRetracted: true))
            let b = try target.events(ThreadQuery(twin: twin, includeRetracted: true))
            #expect(a.map(\.id) == b.map(\.id), "\(twin)")
            #expect(a.map(\.value) == b.map(\.value))
            #expect(a.map(\.erasure) == b.map(\.erasure))
            #expect(a.map { $0.retractedAtSequence != nil } == b.map { $0.retractedAtSequence != nil })
            #expect(try source.state(of: twin).map(\.id) == target.state(of: twin).map(\.id))
        }
        #expect(try target.twin("alice").twin.template == Twin.TemplateReference(id: "adult", version: 1))
        #expect(try target.log(try #require(r1.branch)).map(\.commit.message) == ["two", "one"])
        // importing twice changes nothing
        let before = try target.lastSequence()
        let r2 = try target.importBundle(data)
        #expect(r2.eventsAdded == 0 && r2.twinsCreated.isEmpty && r2.eventsAlreadyPresent == result.events)
        #expect(try target.lastSequence() == before)
    }

    @Test func aggregateExport() throws {
        let source = try populated(.memory)
        let (data, result) = try source.exportBundle(aggregate: "women")
        #expect(Set(result.twins) == ["alice", "alice-sim"])
        let target = try makeBank(.sqlite)
        let r = try target.importBundle(data)
        #expect(r.aggregates == ["women"])
        #expect(try target.members(of: "women").members == ["alice", "alice-sim"])
    }

    @Test func everyChangedByteIsRejected() throws {
        let source = try populated(.memory)
        let (data, _) = try source.exportBundle(twin: "alice-sim")
        let bytes = [UInt8](data)
        // flip bytes at many positions spread over the whole bundle: every one must be rejected, naming what failed
        var positions = Array(stride(from: 0, to: bytes.count, by: max(1, bytes.count / 97)))
        positions.append(bytes.count - 2)
        for p in positions {
            var tampered = bytes
            tampered[p] = tampered[p] == UInt8(ascii: "0") ? UInt8(ascii: "1") : (tampered[p] == 10 ? 32 : UInt8(ascii: "0"))
            let target = try makeBank(.memory)
            #expect(throws: BankError.self, "byte \(p)") { try target.importBundle(Data(tampered)) }
            #expect(try target.twinIDs().isEmpty)
        }
        // a changed event value is reported as that event's content mismatch when the line hash is recomputed
        let text = String(decoding: data, as: UTF8.self)
        var lines = text.split(separator: "\n").map(String.init)
        let i = lines.firstIndex { $0.contains("\"t\":\"event\"") && $0.contains("\"value\":100") }!
        var json = String(lines[i].dropFirst(65)).replacingOccurrences(of: "\"value\":100", with: "\"value\":101")
        let h = EventHasher.sha256(Array(json.utf8)).hex
        lines[i] = h + " " + json
        json = lines.joined(separator: "\n") + "\n"
        #expect {
            try makeBank(.memory).importBundle(Data(json.utf8))
        } throws: { e in
            let m = "\(e)"
            return m.contains("event") && m.contains("twin 'alice'") && m.contains("expected") && m.contains("actual")
        }
        // and a line changed without touching its hash names the line and both hashes
        var lines2 = text.split(separator: "\n").map(String.init)
        lines2[i] = lines2[i].replacingOccurrences(of: "\"value\":100", with: "\"value\":101")
        #expect {
            try makeBank(.memory).importBundle(Data((lines2.joined(separator: "\n") + "\n").utf8))
        } throws: { e in
            guard let e = e as? BankError else { return false }
            return e.code == .bundleHashMismatch && e.value == "line \(i + 1)" && e.message.contains("expected") && e.message.contains("actual")
        }
    }

    @Test func conflictingTwinIsRejectedWholly() throws {
        let source = try populated(.memory)
        let (data, _) = try source.exportBundle(twin: "alice-sim")
        let target = try makeBank(.memory)
        try target.createTwin(person("alice", ["sex": .text("male")]))
        #expect(throws: BankError.self) { try target.importBundle(data) }
        #expect(try target.twinIDs() == ["alice"])
        #expect(try target.lastSequence() == 0)
    }
}
