import Foundation
import Testing
import TwinBank
import TwinBankSQLite
import TwinCore
import TwinTesting

@Suite struct SQLiteStorageTests {
    func expectNotABank(_ path: String, create: Bool = false) {
        #expect {
            _ = try SQLiteStorage(path: path, create: create)
        } throws: { e in
            guard let e = e as? BankError else { return false }
            return e.code == .notABank && e.value == path && e.message.contains(path)
        }
    }

    @Test func foreignFilesAreRejectedClearly() throws {
        let dir = try TemporaryFiles.directory().path
        // missing without create
        expectNotABank(dir + "/missing.sqlite")
        #expect(!FileManager.default.fileExists(atPath: dir + "/missing.sqlite"))
        // a text file
        try Data("time,code,value\n".utf8).write(to: URL(fileURLWithPath: dir + "/text.sqlite"))
        expectNotABank(dir + "/text.sqlite", create: true)
        // random bytes
        var bytes = [UInt8](repeating: 0, count: 8192)
        for i in bytes.indices { bytes[i] = UInt8(truncatingIfNeeded: i &* 2_654_435_761 >> 7) }
        try Data(bytes).write(to: URL(fileURLWithPath: dir + "/random.sqlite"))
        expectNotABank(dir + "/random.sqlite", create: true)
        // a SQLite header followed by garbage (corrupted)
        var corrupted = Array("SQLite format 3\0".utf8)
        corrupted += bytes
        try Data(corrupted).write(to: URL(fileURLWithPath: dir + "/corrupt.sqlite"))
        expectNotABank(dir + "/corrupt.sqlite", create: true)
        // a directory
        expectNotABank(dir, create: true)
    }

    @Test func otherSQLiteDatabasesAreRejected() throws {
        let dir = try TemporaryFiles.directory().path
        let path = dir + "/other.sqlite"
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["python3", "-c", "import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); c.execute('create table t(x)'); c.commit()", path]
        try p.run(); p.waitUntilExit()
        try #require(p.terminationStatus == 0)
        expectNotABank(path, create: true)
    }

    @Test func bankFilesReopenWithTheirData() throws {
        let path = try TemporaryFiles.path("bank.sqlite")
        do {
            let bank = Bank(storage: try SQLiteStorage(path: path))
            try bank.createTwin(person("alice"))
            try bank.append([obs("alice", "2024-01-01", 100)])
            try bank.commit(message: "one")
        }
        let again = Bank(storage: try SQLiteStorage(path: path, create: false))
        #expect(try again.events(ThreadQuery(twin: "alice")).count == 1)
        #expect(try again.log().count == 1)
        try again.append([obs("alice", "2024-01-02", 100)])
        #expect(try again.state(of: "alice").first?.effective.start == t("2024-01-02"))
    }

    @Test func twoHandlesOnOneFileSeeEachOthersWrites() throws {
        let path = try TemporaryFiles.path("bank.sqlite")
        let a = Bank(storage: try SQLiteStorage(path: path))
        let b = Bank(storage: try SQLiteStorage(path: path, create: false))
        try a.createTwin(person("alice"))
        try b.append([EventDraft(twin: "alice", effective: EffectiveTime(t("2024-01-01")), code: Concept(system: "urn:x", code: "new", display: "d"),
                                 value: .text("hi"), source: Source(.person, "p"))])
        // a learns b's new dictionary entries (code, source) when reading
        #expect(try a.events(ThreadQuery(twin: "alice")).first?.value == .text("hi"))
    }

    /// More distinct sources than the storage caches (every FHIR record is a source): each event still reads
    /// back with its own source, in the writing transaction, after reopening, and from another handle.
    @Test func sourcesBeyondTheCacheReadBackExactly() throws {
        let path = try TemporaryFiles.path("bank.sqlite")
        let n = 60_000
        let bank = Bank(storage: try SQLiteStorage(path: path), clock: ManualClock(t("2026-01-01T00:00:00Z"), stepMicroseconds: 1))
        try bank.createTwin(person("alice"))
        let start = t("2024-01-01").microseconds
        let drafts = (0..<n).map { i in
            EventDraft.observation("alice", at: Instant(microseconds: start + Int64(i) * 60_000_000), code: glucose,
                                   Quantity(Double(100 + i % 50), "mg/dL"), source: Source(.record, "fhir/Observation/o\(i)"))
        }
        let inside = try bank.write { w in
            try w.append(drafts)
            return try w.events(ThreadQuery(twin: "alice")).map(\.source)
        }
        let expected = (0..<n).map { Source(.record, "fhir/Observation/o\($0)") }
        #expect(inside == expected)
        #expect(try bank.events(ThreadQuery(twin: "alice")).map(\.source) == expected)
        let reopened = Bank(storage: try SQLiteStorage(path: path, create: false))
        #expect(try reopened.events(ThreadQuery(twin: "alice")).map(\.source) == expected)
        // retraction by a source that is not cached finds its event
        let r = try reopened.retract(source: Source(.record, "fhir/Observation/o\(n - 1)"), reason: "test")
        #expect(r.eventsRetracted == 1)
    }
}
