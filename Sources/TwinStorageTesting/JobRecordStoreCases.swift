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
