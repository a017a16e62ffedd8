import Foundation

/// A server's job records (``JobRecordStore``, the table `server_jobs`) as a ``BackupAttachment`` named `jobs`: a
/// backup carries every record (its id, ordinal and bytes), and a restore puts them back as they were, so a server on
/// the restored bank lists the same jobs (those running when the backup was read are interrupted there, as after
/// a restart). Records are written in increasing ordinal and restored in groups of ``group``.
public final class JobRecordBackup: BackupAttachment, @unchecked Sendable {
    public let store: any JobRecordStore
    public var name: String { "jobs" }
    /// Records stored per call on restore.
    static let group = 500

    public init(store: any JobRecordStore) { self.store = store }

    struct Line: Codable {
        var id: String
        var ordinal: Int64
        /// The record's bytes, base64.
        var bytes: String
    }

    private var pending: [JobRecord] = []

    public func isEmpty() throws -> Bool { try store.records().isEmpty }

    public func exportRecords(_ emit: (String) throws -> Void) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        for r in try store.records() {
            try emit(String(decoding: try encoder.encode(Line(id: r.id, ordinal: r.ordinal, bytes: Data(r.bytes).base64EncodedString())), as: UTF8.self))
        }
    }

    public func restoreRecord(_ record: String) throws {
        guard let line = try? JSONDecoder().decode(Line.self, from: Data(record.utf8)), let bytes = Data(base64Encoded: line.bytes), !line.id.isEmpty else {
            throw BankError(.invalidBackup, "the backup's jobs hold a malformed record: \(record.prefix(120))", value: String(record.prefix(120)))
        }
        pending.append(JobRecord(id: line.id, ordinal: line.ordinal, bytes: [UInt8](bytes)))
        if pending.count >= Self.group { try flush() }
    }

    public func finishRestore() throws { try flush() }

    private func flush() throws {
        guard !pending.isEmpty else { return }
        try store.save(pending)
        pending.removeAll(keepingCapacity: true)
    }
}
