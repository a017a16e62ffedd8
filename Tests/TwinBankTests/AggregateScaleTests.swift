import Foundation
import Testing
@testable import TwinBank
import TwinCore

/// Aggregates at scale (issue 23, item 6): a query is answered with bulk storage reads whose number does not
/// grow with the number of twins, and gives exactly what the lookup per twin and code gives, on a bank with
/// forks, retractions, implausible values, HbA1c in % and mmol/mol, windows and commits.
@Suite struct AggregateScaleTests {
    static let hba1c = Concept.loinc("4548-4", "Hemoglobin A1c")
    static let lab = Source(.record, "lab-1")
    static let lateLab = Source(.record, "lab-x")

    static let queries = [
        "loinc:4548-4 > 6.5 %",
        "loinc:4548-4 > 6.5 % within 365d",
        "loinc:4548-4 >= 48 mmol/mol within 180d",
        "sex = female and loinc:4548-4 > 6.5 %",
        "not loinc:4548-4 <= 6.5 %",
        "loinc:2339-0 > 7 mmol/L or loinc:4548-4 > 7 %",
        "age > 40 and (loinc:2339-0 >= 126 mg/dL within 90d or loinc:4548-4 > 48 mmol/mol within 400d)",
        "kind = person and loinc:4548-4 > 6.5 % within 365d and loinc:4548-4 < 9 % within 2000d",
        "loinc:4548-4 > 25 %",
    ]

    /// People with HbA1c in % and mmol/mol and glucose in mg/dL and mmol/L, an organisation, aggregates of every
    /// query (with and without forks) committed, then: later values (one flagged implausible), a retracted
    /// source, forks (one with its own value), a second commit. Returns the bank and the first commit.
    static func mixedBank(_ kind: StorageKind) throws -> (Bank, String) {
        let bank = try makeBank(kind, now: "2026-01-01")
        try bank.createTwin(person("ann", birth: "1981-07-23", ["sex": .text("female")]))
        try bank.createTwin(person("bea", birth: "1996-12-18", ["gender": .text("female")]))
        try bank.createTwin(person("cid", birth: "1975-10-12", ["sex": .text("male")]))
        try bank.createTwin(person("dan", birth: "1946-10-19", ["sex": .text("male")]))
        try bank.createTwin(person("eve", birth: "1990-01-01", ["sex": .text("female")]))
        try bank.createTwin(person("fay", birth: "1960-05-05", ["sex": .text("female")]))
        try bank.createTwin(person("gus", birth: "1970-03-03", ["sex": .text("male")]))
        try bank.createTwin(Twin(id: "clinic", kind: .organisation, attributes: ["name": .text("Clinic")]))
        try bank.createTemplate(person("adult", birth: "1980-01-01", ["sex": .text("female"), "name": .text("a template")]))
        try bank.append([obs("ann", "2025-06-01", hba1c, 7.1, "%", source: lab), obs("bea", "2025-03-01", hba1c, 53, "mmol/mol", source: lab),
                         obs("cid", "2023-01-01", hba1c, 8.0, "%", source: lab), obs("cid", "2025-10-01", glucose, 130, "mg/dL", source: lab),
                         obs("dan", "2025-05-01", hba1c, 6.8, "%", source: lab), obs("eve", "2024-06-01", hba1c, 5.5, "%", source: lab),
                         obs("eve", "2025-09-01", hba1c, 9.0, "%", source: lateLab), obs("fay", "2025-12-15", glucose, 7.5, "mmol/L", source: lab)])
        for (i, q) in queries.enumerated() {
            try bank.createAggregate(try AggregateID("q\(i)"), where: q)
            try bank.createAggregate(try AggregateID("q\(i)-forks"), where: q, includeForks: true)
        }
        let first = try bank.commit(message: "first").id.hex
        try bank.append([obs("ann", "2025-11-01", hba1c, 6.0, "%", source: lab), obs("gus", "2025-10-01", hba1c, 7.5, "%", source: lab),
                         obs("dan", "2025-12-01", hba1c, 30, "%", source: lab)])
        try bank.retract(source: lateLab, reason: "wrong patient")
        try bank.fork("ann", at: t("2025-07-01"), as: "ann-then")
        try bank.fork("dan", at: t("2025-12-20"), as: "dan-then")
        try bank.append([obs("ann-then", "2025-08-01", hba1c, 5.0, "%", source: lab)])
        try bank.fork("ann-then", at: t("2025-06-15"), as: "ann-then-then")
        _ = try bank.commit(message: "second")
        return (bank, first)
    }

    @Test(arguments: StorageKind.allCases)
    func bulkReadingEqualsTheLookupPerTwin(kind: StorageKind) throws {
        let (bank, first) = try Self.mixedBank(kind)
        // (now is given: the test clock steps at every reading)
        for id in try bank.aggregateIDs() {
            for (commit, asOf) in [(nil, t("2026-01-01T01:00:00Z")), (nil, t("2025-08-01")), (nil, t("2025-12-31")), (first, nil), (first, t("2025-07-01"))] as [(String?, Instant?)] {
                let bulk = try bank.members(of: id, at: commit, asOf: asOf, reading: .bulk)
                let perTwin = try bank.members(of: id, at: commit, asOf: asOf, reading: .perTwin)
                #expect(bulk == perTwin, "\(id) at \(commit ?? "now") as of \(asOf.map { "\($0)" } ?? "-")")
                #expect(try bank.members(of: id, at: commit, asOf: asOf) == bulk)
            }
        }
        // and what they give is right: on 2026-01-01, ann's latest is 6.0 %, bea's 53 mmol/mol (7.0 %), cid's 8.0 % is
        // older than a year, dan's 30 % is flagged (his 6.8 % counts), eve's 9.0 % is retracted (her 5.5 % is old)
        let recent = try bank.members(of: "q1")
        #expect(recent.members == ["bea", "dan", "gus"])
        #expect(recent.unknown.map(\.twin) == ["cid", "eve", "fay"])
        #expect(recent.forksExcluded == 3)
        let withForks = try bank.members(of: "q0-forks")
        // ann-then's own 5.0 % hides ann's 7.1 %; ann-then-then forked before it and sees the 7.1 %
        #expect(withForks.members == ["ann-then-then", "bea", "cid", "dan", "dan-then", "gus"])
        #expect(withForks.unknown.map(\.twin) == ["fay"])
        // at the first commit: no 6.0 % for ann yet, eve's 9.0 % not yet retracted, gus has no value
        let then = try bank.members(of: "q0", at: first)
        #expect(then.members == ["ann", "bea", "cid", "dan", "eve"])
        #expect(then.unknown.map(\.twin) == ["fay", "gus"])
    }

    /// A query decodes of each twin record only the attributes it reads; what it decodes equals the full record.
    @Test(arguments: StorageKind.allCases)
    func queryRecordsAreTheRecordsWithTheAttributesRead(kind: StorageKind) throws {
        let (bank, _) = try Self.mixedBank(kind)
        let query = try AggregateQuery(parsing: "sex = female and age > 40 and name = x and loinc:4548-4 > 6.5 %")
        #expect(query.attributesRead == ["sex", "gender", "birthDate", "deceased", "name"])
        try bank.storage.read { tx in
            let hexes = try tx.refs(prefix: "twin/").map(\.value)
            let full = try bank.loadObjects(TwinRecord.self, hexes: hexes, tx)
            let slim = try bank.queryRecords(hexes, attributes: query.attributesRead, tx)
            #expect(full.count == slim.count && full.contains { $0.twin.isTemplate } && full.contains { $0.fork != nil })
            for (f, s) in zip(full, slim) {
                #expect(s.id == f.id && s.twin.kind == f.twin.kind && s.twin.isTemplate == f.twin.isTemplate && s.fork == f.fork && s.created == f.created)
                #expect(s.twin.attributes == f.twin.attributes.filter { query.attributesRead.contains($0.key) })
            }
            #expect(try bank.queryRecords(hexes, attributes: [], tx).allSatisfy { $0.twin.attributes.isEmpty })
        }
    }

    /// A value flagged implausible is left out of aggregates, as README's "Data quality" says: the twin is
    /// evaluated on its latest plausible value (the lookup per twin read the flagged one: dan was a member of
    /// `HbA1c > 25 %` for his 30 %).
    @Test(arguments: StorageKind.allCases)
    func implausibleValuesAreLeftOut(kind: StorageKind) throws {
        let (bank, _) = try Self.mixedBank(kind)
        let over25 = try bank.members(of: "q8")
        #expect(over25.members.isEmpty)
        #expect(try bank.members(of: "q8-forks").members.isEmpty)
        // the flagged value is still in dan's thread, marked
        #expect(try bank.events(ThreadQuery(twin: "dan", code: Self.hba1c.key)).contains { $0.isFlaggedImplausible })
    }

    /// `count` people, each with sex, birth date, two HbA1c results and a glucose reading.
    static func people(_ kind: StorageKind, _ count: Int) throws -> Bank {
        let bank = try makeBank(kind, now: "2026-01-01")
        try bank.write { w in
            var drafts: [EventDraft] = []
            for i in 0..<count {
                let id = try TwinID("p\(i)")
                try w.createTwin(person(id, birth: i % 3 == 0 ? "1950-01-01" : "1990-01-01", ["sex": .text(i % 2 == 0 ? "female" : "male")]))
                drafts += [obs(id, "2025-01-01", hba1c, 6 + Double(i % 5) * 0.5, "%", source: lab),
                           obs(id, "2025-06-01", hba1c, 50 + Double(i % 7) * 3, "mmol/mol", source: lab),
                           obs(id, "2025-09-01", glucose, 90 + Double(i % 9) * 10, "mg/dL", source: lab)]
            }
            try w.append(drafts)
        }
        return bank
    }

    /// The number of storage reads of `aggregate create` and of a query's members does not grow with the number
    /// of twins (it grew by several per twin and code before).
    @Test(arguments: StorageKind.allCases)
    func storageReadsDoNotGrowWithTheTwins(kind: StorageKind) throws {
        let query = "sex = female and age > 40 and loinc:4548-4 > 6.5 % within 365d and loinc:2339-0 < 150 mg/dL"
        var created: [Int] = [], evaluated: [Int] = [], perTwin: [Int] = [], sizes: [Int] = []
        for count in [4, 40] {
            let bank = try Self.people(kind, count)
            let counting = CountingStorage(bank.storage)
            let counted = Bank(storage: counting, clock: bank.clock)
            try counted.createAggregate("cohort", where: query)
            created.append(counting.reads)
            counting.reset()
            let m = try counted.members(of: "cohort", asOf: t("2026-01-01"))
            evaluated.append(counting.reads)
            #expect(counting.counts["latest"] == nil && counting.counts["object"] == 1 && counting.counts["latestValues"] == 2, "\(counting.counts)")
            counting.reset()
            #expect(try counted.members(of: "cohort", at: nil, asOf: t("2026-01-01"), reading: .perTwin) == m)
            perTwin.append(counting.reads)
            sizes.append(m.members.count)
        }
        #expect(sizes[1] > sizes[0] && sizes[0] > 0)
        #expect(created[0] == created[1], "aggregate create: \(created) reads for 4 and 40 twins")
        #expect(evaluated[0] == evaluated[1], "members: \(evaluated) reads for 4 and 40 twins")
        #expect(evaluated[1] <= 8)
        // the lookup per twin and code grows with the twins: what the bulk reading replaced
        #expect(perTwin[1] > perTwin[0] + 36 * 2)
    }
}
