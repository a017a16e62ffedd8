import Foundation
import Testing
import TwinBank
import TwinCore

func expectBankError(_ code: BankError.Code, naming value: String, _ body: () throws -> Void) {
    #expect {
        try body()
    } throws: { e in
        guard let e = e as? BankError else { return false }
        return e.code == code && e.value == value && e.message.contains(value)
    }
}

@Suite struct BankTests {
    @Test(arguments: StorageKind.allCases)
    func twinsAndTemplates(kind: StorageKind) throws {
        let bank = try makeBank(kind)
        var template = Twin(id: "adult-female", kind: .person, attributes: ["sex": .text("female"), "height": .quantity(Quantity(165, "cm"))])
        #expect(try bank.createTemplate(template).twin.templateVersion == 1)
        template.attributes["height"] = .quantity(Quantity(166, "cm"))
        #expect(try bank.createTemplate(template).twin.templateVersion == 2)
        #expect(try bank.templateVersions("adult-female") == [1, 2])
        var alice = person("alice")
        alice.template = try Twin.TemplateReference(parsing: "adult-female@1")
        let r = try bank.createTwin(alice)
        #expect(r.twin.template == Twin.TemplateReference(id: "adult-female", version: 1))
        #expect(r.twin.attributes["height"] == .quantity(Quantity(165, "cm")))
        var bob = person("bob")
        bob.template = try Twin.TemplateReference(parsing: "adult-female")
        #expect(try bank.createTwin(bob).twin.template?.version == 2)
        let liver = Twin(id: "alice-liver", kind: .organ)
        try bank.createTwin(liver)
        var body = Twin(id: "alice-body", kind: .person, parts: [Twin.Part(role: "liver", twin: "alice-liver")])
        try bank.createTwin(body)
        #expect(try bank.twin("alice-body").twin.parts.first?.twin == "alice-liver")

        expectBankError(.duplicateTwin, naming: "alice") { try bank.createTwin(person("alice")) }
        body.id = "x"; body.parts = [Twin.Part(role: "heart", twin: "nope")]
        expectBankError(.unknownTwin, naming: "nope") { try bank.createTwin(body) }
        var c = person("carol"); c.template = Twin.TemplateReference(id: "adult-female", version: 9)
        expectBankError(.unknownTemplate, naming: "adult-female@9") { try bank.createTwin(c) }
        expectBankError(.unknownTwin, naming: "zed") { _ = try bank.twin("zed") }
        #expect(try bank.twinIDs() == ["adult-female", "alice", "alice-body", "alice-liver", "bob"])
    }

    /// Glucose in mmol/L for a code first recorded in mg/dL converts through glucose's molar mass, and HbA1c in
    /// mmol/mol for one first in % through the IFCC-NGSP master equation: both are accepted and stored as given.
    /// A fraction and a substance ratio of any other code are refused, naming the code and the units.
    @Test(arguments: StorageKind.allCases)
    func unitsConvertingThroughTheAnalyteAreAccepted(kind: StorageKind) throws {
        let bank = try makeBank(kind)
        try bank.createTwin(person("alice"))
        try bank.append([obs("alice", "2024-01-01T07:00Z", 100)])
        try bank.append([obs("alice", "2024-01-01T08:00Z", 5.5, "mmol/L")])
        let stored = try bank.events(ThreadQuery(twin: "alice", code: glucose.key)).compactMap(\.value?.quantity)
        #expect(stored == [Quantity(100, "mg/dL"), Quantity(5.5, "mmol/L")])
        let a1c = Concept.loinc("4548-4")
        try bank.append([obs("alice", "2024-01-01T07:00Z", a1c, 6.5, "%"), obs("alice", "2024-02-01T07:00Z", a1c, 48, "mmol/mol")])
        let local = Concept(system: "urn:twinbank:local", code: "ratio")
        try bank.append([obs("alice", "2024-01-01T07:00Z", local, 5, "%")])
        expectBankError(.unitMismatch, naming: "mmol/mol") { try bank.append([obs("alice", "2024-01-02T07:00Z", local, 50, "mmol/mol")]) }
        do {
            try bank.append([obs("alice", "2024-01-02T07:00Z", local, 50, "mmol/mol")])
        } catch let e as BankError {
            #expect(e.message.contains("no analyte-specific conversion is known") && e.message.contains("'%'"), "\(e.message)")
        }
        // oxygen saturation is a fraction: mmol/mol does not fit it
        expectBankError(.unitMismatch, naming: "mmol/mol") { try bank.append([obs("alice", "2024-01-02T07:00Z", .loinc("59408-5"), 50, "mmol/mol")]) }
    }

    @Test(arguments: StorageKind.allCases)
    func appendValidatesAndRejectsWholeBatch(kind: StorageKind) throws {
        let bank = try makeBank(kind)
        try bank.createTwin(person("alice"))
        try bank.append([obs("alice", "2024-01-01T07:00Z", 100)])
        func rejected(_ code: BankError.Code, _ value: String, _ drafts: [EventDraft]) {
            expectBankError(code, naming: value) { try bank.append(drafts) }
        }
        rejected(.unknownTwin, "bob", [obs("alice", "2024-01-02", 1), obs("bob", "2024-01-01", 1)])
        rejected(.unitMismatch, "kg", [obs("alice", "2024-01-02", heartRate, 60, "kg")])
        rejected(.unitMismatch, "kgg", [obs("alice", "2024-01-02", 60, "kgg")])
        rejected(.beforeTwinExisted, "1970-01-01T00:00:00Z", [obs("alice", "1970-01-01", 1)])
        // a code without a molar mass: first seen in mg/dL in this batch, then mmol/L
        let analyteX = Concept(system: "urn:twinbank:local", code: "analyte-x")
        rejected(.unitMismatch, "mmol/L", [obs("alice", "2024-01-02", analyteX, 5, "mg/dL"), obs("alice", "2024-01-03", analyteX, 5.5, "mmol/L")])
        let dup = obs("alice", "2024-01-01T07:00Z", 100)
        expectBankError(.duplicateEvent, naming: EventHasherHex.of(dup)) { try bank.append([dup]) }
        let d2 = obs("alice", "2024-03-01", 90)
        expectBankError(.duplicateEvent, naming: EventHasherHex.of(d2)) { try bank.append([d2, d2]) }
        // nothing of the rejected batches was written
        #expect(try bank.events(ThreadQuery(twin: "alice")).count == 1)
        // a commensurable unit is fine
        try bank.append([obs("alice", "2024-01-03", 1, "g/L")])
        #expect(try bank.events(ThreadQuery(twin: "alice")).count == 2)
    }

    @Test(arguments: StorageKind.allCases)
    func stateAsOfAndKnownAt(kind: StorageKind) throws {
        let clock = ManualClock(t("2026-01-01T00:00Z"))
        let bank = Bank(storage: try kind.make(), clock: clock)
        try bank.createTwin(person("alice"))
        try bank.append([obs("alice", "2024-01-01T08:00Z", 100), obs("alice", "2024-01-01T12:00Z", 140),
                         obs("alice", "2024-01-01T09:00Z", heartRate, 70, "/min")])
        clock.set(t("2026-01-02T00:00Z"))
        // a late-arriving correction for 10:00, recorded a day later
        try bank.append([obs("alice", "2024-01-01T10:00Z", 120, source: lab)])
        let s11 = try bank.state(of: "alice", asOf: t("2024-01-01T11:00Z"))
        #expect(s11.map { $0.value?.quantity?.value } == [120, 70])
        let known = try bank.state(of: "alice", asOf: t("2024-01-01T11:00Z"), knownAt: t("2026-01-01T12:00Z"))
        #expect(known.map { $0.value?.quantity?.value } == [100, 70])
        #expect(try bank.state(of: "alice").first?.value?.quantity?.value == 140)
        #expect(try bank.state(of: "alice", asOf: t("2023-01-01")).isEmpty)
        let q = try bank.events(ThreadQuery(twin: "alice", code: glucose.key, from: t("2024-01-01T09:00Z"), to: t("2024-01-01T12:00Z")))
        #expect(q.map { $0.value?.quantity?.value } == [120, 140])
        #expect(try bank.events(ThreadQuery(twin: "alice", knownAt: t("2025-01-01"))).isEmpty)
    }

    @Test(arguments: StorageKind.allCases)
    func forksAreCopyOnWrite(kind: StorageKind) throws {
        let bank = try makeBank(kind)
        try bank.createTwin(person("alice"))
        try bank.append([obs("alice", "2024-01-01", 100), obs("alice", "2024-01-03", 130)])
        let f = try bank.fork("alice", at: t("2024-01-02"), as: "alice-what-if")
        #expect(f.fork?.parent == "alice")
        try bank.append([obs("alice-what-if", "2024-01-04", 90, source: Source(.model, "sim@1"))])
        try bank.append([obs("alice", "2024-01-01T12:00Z", 110)]) // after the fork: not seen by the fork
        #expect(try bank.events(ThreadQuery(twin: "alice-what-if")).map { $0.value?.quantity?.value } == [100, 90])
        #expect(try bank.events(ThreadQuery(twin: "alice")).map { $0.value?.quantity?.value } == [100, 110, 130])
        // fork of a fork
        try bank.fork("alice-what-if", at: t("2024-01-05"), as: "deeper")
        try bank.append([obs("deeper", "2024-01-06", 80, source: Source(.model, "sim@1"))])
        #expect(try bank.events(ThreadQuery(twin: "deeper")).map { $0.value?.quantity?.value } == [100, 90, 80])
        #expect(try bank.state(of: "deeper", asOf: t("2024-01-04T12:00Z")).first?.value?.quantity?.value == 90)
        expectBankError(.beforeTwinExisted, naming: "1970-01-01T00:00:00Z") { try bank.fork("alice", at: t("1970-01-01"), as: "early") }
        expectBankError(.duplicateTwin, naming: "deeper") { try bank.fork("alice", at: t("2024-01-02"), as: "deeper") }
        expectBankError(.unknownTwin, naming: "nobody") { try bank.fork("nobody", at: t("2024-01-02"), as: "n2") }
        // the direct forks of a twin (not a fork's forks), sorted
        try bank.fork("alice", at: t("2024-01-02"), as: "alice-another")
        #expect(try bank.forks(of: "alice") == ["alice-another", "alice-what-if"])
        #expect(try bank.forks(of: "alice-what-if") == ["deeper"])
        #expect(try bank.forks(of: "deeper").isEmpty)
        expectBankError(.unknownTwin, naming: "nobody") { _ = try bank.forks(of: "nobody") }
    }

    @Test(arguments: StorageKind.allCases)
    func retractionAndErase(kind: StorageKind) throws {
        let clock = ManualClock(t("2026-01-01T00:00Z"), stepMicroseconds: 1_000_000)
        let bank = Bank(storage: try kind.make(), clock: clock)
        try bank.createTwin(person("alice")); try bank.createTwin(person("bob"))
        try bank.append([obs("alice", "2024-01-01", 100), obs("alice", "2024-01-02", 200, source: lab), obs("bob", "2024-01-01", 300)])
        try bank.fork("alice", at: t("2024-06-01"), as: "alice-fork")
        let before = clock.now()
        let r = try bank.retract(source: cgm, reason: "sensor fault")
        #expect(r.twins == ["alice", "bob"] && r.eventsRetracted == 2)
        #expect(try bank.state(of: "alice").first?.value?.quantity?.value == 200)
        #expect(try bank.events(ThreadQuery(twin: "alice", code: glucose.key)).count == 1)
        #expect(try bank.events(ThreadQuery(twin: "alice-fork", code: glucose.key)).count == 1)
        #expect(try bank.state(of: "bob").isEmpty)
        let retractions = try bank.events(ThreadQuery(twin: "bob", category: .retraction))
        #expect(retractions.count == 1 && retractions[0].value == .text("sensor fault"))
        // what was known before the retraction is still reproducible
        #expect(try bank.events(ThreadQuery(twin: "alice", code: glucose.key, knownAt: before)).count == 2)
        expectBankError(.invalidEvent, naming: "device:cgm-7") { try bank.retract(source: cgm, reason: "again") }
        expectBankError(.invalidEvent, naming: "device:none") { try bank.retract(source: Source(.device, "none"), reason: "x") }
        // erase purges payloads, keeps tombstones, also of earlier retracted events
        try bank.retract(source: cgm, reason: "privacy", erase: true)
        let tomb = try bank.events(ThreadQuery(twin: "alice", code: glucose.key, knownAt: before))
        #expect(tomb.count == 2)
        let erased = tomb.first { $0.source == cgm }!
        #expect(erased.value == nil && erased.erasure == "privacy")
    }

    @Test(arguments: StorageKind.allCases)
    func versionControl(kind: StorageKind) throws {
        let bank = try makeBank(kind)
        try bank.createTwin(person("alice", ["sex": .text("female")]))
        let c1 = try bank.commit(message: "first")
        try bank.append([obs("alice", "2024-01-01", 100)])
        var a = try bank.twin("alice").twin
        a.attributes["weight"] = .quantity(Quantity(72, "kg"))
        a.attributes["sex"] = .text("f")
        try bank.updateTwin(a)
        try bank.createTwin(person("bob"))
        let c2 = try bank.commit(message: "second", author: "dr-x")
        #expect(c2.commit.parents == [c1.id])
        #expect(try bank.log().map(\.commit.message) == ["second", "first"])
        #expect(try bank.twin("alice", at: String(c1.id.hex.prefix(8))).twin.attributes["weight"] == nil)
        #expect(try bank.twin("alice", at: "HEAD").twin.attributes["weight"] != nil)
        #expect(try bank.twin("alice", at: "HEAD~1").twin.attributes["sex"] == .text("female"))
        expectBankError(.unknownTwin, naming: "bob") { _ = try bank.twin("bob", at: c1.id.hex) }
        try bank.tag("v1", at: c1.id.hex)
        #expect(try bank.resolveCommit("v1").id == c1.id)
        expectBankError(.invalidReference, naming: "v1") { try bank.tag("v1") }
        expectBankError(.unknownCommit, naming: "nope") { _ = try bank.resolveCommit("nope") }
        expectBankError(.nothingToCommit, naming: "main") { try bank.commit(message: "again") }
        let d = try bank.diff("v1", "HEAD")
        #expect(d.added == ["twin/bob"] && d.removed.isEmpty)
        #expect(d.changed.count == 1 && d.changed[0].path == "twin/alice")
        #expect(Set(d.changed[0].attributes.map(\.key)) == ["weight", "sex"])
        #expect(d.eventsPerTwin == ["alice": 1])
        // thread as known at a commit's pin
        try bank.append([obs("alice", "2024-01-02", 110)])
        #expect(try bank.events(ThreadQuery(twin: "alice", knownAtSequence: c2.commit.threadPin)).count == 1)
        #expect(try bank.events(ThreadQuery(twin: "alice")).count == 2)
    }

    @Test(arguments: StorageKind.allCases)
    func aggregates(kind: StorageKind) throws {
        let clock = ManualClock(t("2025-06-01T00:00Z"), stepMicroseconds: 1_000)
        let bank = Bank(storage: try kind.make(), clock: clock)
        let hba1c = Concept.loinc("4548-4")
        try bank.createTwin(person("ann", ["sex": .text("female")]))
        try bank.createTwin(person("bea", ["sex": .text("female")]))
        try bank.createTwin(person("cid", ["sex": .text("male")]))
        try bank.createTwin(Twin(id: "virus", kind: .pathogen, attributes: ["sex": .text("female")]))
        try bank.append([obs("ann", "2025-01-01", hba1c, 7.2, "%"), obs("bea", "2025-01-01", hba1c, 5.9, "%"),
                         obs("cid", "2025-01-01", hba1c, 8.0, "%"), obs("bea", "2023-01-01", hba1c, 9.0, "%", source: lab)])
        try bank.createAggregate("diabetic-women", where: "kind = person and sex = female and loinc:4548-4 > 6.5 % within 365d")
        try bank.createAggregate("family", members: ["ann", "cid"])
        #expect(try bank.members(of: "diabetic-women").members == ["ann"])
        #expect(try bank.members(of: "family").members == ["ann", "cid"])
        let c1 = try bank.commit(message: "cohort")
        // a retraction removes ann's value: she leaves the aggregate now, but not at the commit
        try bank.retract(source: cgm, reason: "bad sensor")
        #expect(try bank.members(of: "diabetic-women").members.isEmpty)
        #expect(try bank.members(of: "diabetic-women", at: c1.id.hex).members == ["ann"])
        // cgm values are retracted: only bea's older lab value (9 %) remains; a twin without a value is unknown
        try bank.createAggregate("q2", where: "loinc:4548-4 >= 8.5 % or (not sex = female and id != cid)")
        #expect(try bank.members(of: "q2", asOf: t("2025-06-01")).members == ["bea"])
        try bank.createAggregate("q3", where: "loinc:4548-4 >= 8.5 % within 365d or not sex = female")
        #expect(try bank.members(of: "q3", asOf: t("2025-06-01")).members == ["cid"])
        expectBankError(.invalidQuery, naming: "sex = ") { try bank.createAggregate("bad", where: "sex = ") }
        expectBankError(.invalidQuery, naming: "kind = robot") { try bank.createAggregate("bad", where: "kind = robot") }
        expectBankError(.invalidQuery, naming: "(sex = f") { try bank.createAggregate("bad", where: "(sex = f") }
        expectBankError(.unknownTwin, naming: "zed") { try bank.createAggregate("bad", members: ["zed"]) }
        expectBankError(.unknownAggregate, naming: "nope") { _ = try bank.members(of: "nope") }
    }

    @Test func accessGateSeesEveryAccess() throws {
        final class Recorder: AccessGate, @unchecked Sendable {
            let lock = NSLock()
            var requests: [AccessRequest] = []
            func authorize(_ r: AccessRequest) throws {
                lock.lock(); defer { lock.unlock() }
                requests.append(r)
                if r.twin == "secret" && r.action == .read { throw BankError(.accessDenied, "no consent for secret", value: "secret") }
            }
        }
        let gate = Recorder()
        let bank = try makeBank(.memory, gate: gate)
        try bank.createTwin(person("secret"))
        try bank.append([obs("secret", "2024-01-01", 1)])
        expectBankError(.accessDenied, naming: "secret") { _ = try bank.events(ThreadQuery(twin: "secret")) }
        expectBankError(.accessDenied, naming: "secret") { _ = try bank.state(of: "secret") }
        expectBankError(.accessDenied, naming: "secret") { _ = try bank.twin("secret") }
        #expect(gate.requests.map(\.action).contains(.write))
        #expect(gate.requests.allSatisfy { $0.actor == "local" && $0.purpose == "care" })
    }

    @Test func csvImport() throws {
        let bank = try makeBank(.memory)
        try bank.createTwin(person("alice"))
        let csv = "time,code,value,unit,source\n2024-01-01T07:00Z,loinc:2339-0,100,mg/dL,device:cgm-7\n2024-01-01T08:00Z,loinc:8867-4,72,/min,\n\"2024-01-01T09:00Z\",snomed:1234,\"hello, world\",,person:dr-x\n"
        let r = try bank.importCSV(twin: "alice", text: csv, defaultSource: Source(.import, "file.csv"))
        #expect(r.count == 3)
        let e = try bank.events(ThreadQuery(twin: "alice"))
        #expect(e[1].source == Source(.import, "file.csv"))
        #expect(e[2].value == .text("hello, world"))
        expectBankError(.invalidCSV, naming: "2024-13-01") {
            try bank.importCSV(twin: "alice", text: "time,code,value,unit\n2024-01-02,loinc:2339-0,100,mg/dL\n2024-13-01,loinc:2339-0,100,mg/dL\n", defaultSource: cgm)
        }
        expectBankError(.unitMismatch, naming: "kg") {
            try bank.importCSV(twin: "alice", text: "time,code,value,unit\n2024-01-02,loinc:8867-4,1,kg\n", defaultSource: cgm)
        }
        #expect(try bank.events(ThreadQuery(twin: "alice")).count == 3)
    }
}

enum EventHasherHex {
    static func of(_ d: EventDraft) -> String { var h = EventHasher(); return h.hash(d).hex }
}
