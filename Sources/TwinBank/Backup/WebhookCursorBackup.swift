import Foundation

/// A server's webhook cursors (``WebhookCursorStore``, the table `webhook_cursors`) as a ``BackupAttachment`` named
/// `webhooks`: a backup carries every URL's cursor (the bank sequence of its last alert delivered or abandoned), and a
/// restore puts them back, so a server on the restored bank goes on where the backed-up one had got to: the alerts
/// the backup holds after a URL's cursor are still owed to it, the ones at or before it are not sent again.
///
/// The cursors are read after the bank's snapshot, so one may be past the backup's last sequence (alerts delivered
/// meanwhile, which the backup does not hold). Given the restored bank's `storage`, a restore lowers such a cursor to
/// the restored bank's last sequence: its next alerts, numbered from there, are then delivered rather than skipped.
public final class WebhookCursorBackup: BackupAttachment, @unchecked Sendable {
    public let store: any WebhookCursorStore
    /// The bank restored into (its last sequence bounds the cursors restored); nil: cursors are restored as they are.
    public let storage: (any BankStorage)?
    public var name: String { "webhooks" }

    /// - Parameters:
    ///   - store: the cursors to back up, or to restore into (which must hold none).
    ///   - storage: for a restore, the bank restored into, whose last sequence bounds each cursor.
    public init(store: any WebhookCursorStore, storage: (any BankStorage)? = nil) {
        self.store = store
        self.storage = storage
    }

    struct Line: Codable {
        var url: String
        var sequence: Int64
    }

    private var lastSequence: Int64?

    public func isEmpty() throws -> Bool { try store.cursors().isEmpty }

    /// One line per URL, sorted by URL.
    public func exportRecords(_ emit: (String) throws -> Void) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        for (url, sequence) in try store.cursors().sorted(by: { $0.key < $1.key }) {
            try emit(String(decoding: try encoder.encode(Line(url: url, sequence: sequence)), as: UTF8.self))
        }
    }

    public func restoreRecord(_ record: String) throws {
        guard let line = try? JSONDecoder().decode(Line.self, from: Data(record.utf8)), !line.url.isEmpty, line.sequence >= 0 else {
            throw BankError(.invalidBackup, "the backup's webhooks hold a malformed cursor (a URL and a sequence number of at least 0): \(record.prefix(120))",
                            value: String(record.prefix(120)))
        }
        var sequence = line.sequence
        if let storage {
            if lastSequence == nil { lastSequence = try storage.read { tx in try tx.lastSequence() } }
            sequence = min(sequence, lastSequence!)
        }
        try store.advance(line.url, to: sequence)
    }

    public func finishRestore() throws {}
}
