import Foundation
import Testing
import TwinBank

/// What every ``TwinBank/JobRecordStore`` must do (a server's job records in the bank): a record saved is read back
/// as saved, in increasing ordinal; saving an id again replaces its record; deleted ids are gone (unknown ones are
/// ignored); and, given `reopen`, the records are durable: a store opened again over the same bank reads them.
public enum JobRecordStoreCases {
    public static func run(_ store: any JobRecordStore, reopen: (() throws -> any JobRecordStore)? = nil) throws {
        #expect(try store.records().isEmpty)
        let a = JobRecord(id: "job-a", ordinal: 2, bytes: Array(#"{"state":"queued"}"#.utf8))
        let b = JobRecord(id: "job-b", ordinal: 1, bytes: [0, 1, 2, 255])
        let c = JobRecord(id: "job-c", ordinal: 3, bytes: [])
        try store.save([a, b])
        try store.save([c])
        #expect(try store.records() == [b, a, c])
        // saving again replaces
        let a2 = JobRecord(id: "job-a", ordinal: 2, bytes: Array(#"{"state":"running"}"#.utf8))
        try store.save([a2])
        #expect(try store.records() == [b, a2, c])
        // deleting: the named ones go, an unknown id is ignored, nothing else changes
        try store.delete(["job-b", "no-such-job"])
        #expect(try store.records() == [a2, c])
        try store.save([])
        try store.delete([])
        #expect(try store.records() == [a2, c])
        if let reopen {
            #expect(try reopen().records() == [a2, c])
        }
    }
}

extension JobRecordStoreCases {
    /// A backup of `storage` carries the records of its job store (the attachment `jobs`, written in increasing
    /// ordinal) and a restore into the empty `target` puts them into `targetStore` as they were; a restore into a
    /// target whose job store holds something is refused (`bankNotEmpty`), and so is one into a target that keeps no
    /// jobs (`invalidBackup`: the backup holds records it has nowhere to put).
    public static func backupRoundTrip(_ storage: any BankStorage, _ store: any JobRecordStore,
                                       into target: any BankStorage, _ targetStore: any JobRecordStore,
                                       orphan: any BankStorage) throws {
        let records = [JobRecord(id: "job-b", ordinal: 1, bytes: [0, 1, 2, 255]),
                       JobRecord(id: "job-a", ordinal: 2, bytes: Array(#"{"state":"running"}"#.utf8)),
                       JobRecord(id: "job-c", ordinal: 3, bytes: [])]
        try store.save(records)
        let file = BackupChecks.temporaryPath("jobs.jsonl")
        defer { try? FileManager.default.removeItem(atPath: file) }
        let written = try BankBackup.write(from: storage, to: file, attachments: [JobRecordBackup(store: store)])
        #expect(written.counts.attachments["jobs"] == 3)
        let restored = try BankBackup.restore(from: file, into: target, attachments: [JobRecordBackup(store: targetStore)])
        #expect(restored.counts == written.counts && restored.sha256 == written.sha256)
        #expect(try targetStore.records() == records)
        // again into the same target: its jobs are not empty
        let again = try #require(throws: BankError.self) {
            try BankBackup.restore(from: file, into: target, attachments: [JobRecordBackup(store: targetStore)])
        }
        #expect(again.code == .bankNotEmpty && again.value == "jobs")
        #expect(try targetStore.records() == records)
        // into a bank without a job store
        let nowhere = try #require(throws: BankError.self) { try BankBackup.restore(from: file, into: orphan, attachments: []) }
        #expect(nowhere.code == .invalidBackup && nowhere.message.contains("jobs"), "\(nowhere)")
    }
}
