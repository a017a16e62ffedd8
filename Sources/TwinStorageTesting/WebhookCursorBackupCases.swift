import Foundation
import Testing
import TwinBank
import TwinCore

extension WebhookCursorStoreCases {
    /// A backup of `storage` carries the cursors of its store (the attachment `webhooks`, one line per URL) and a restore
    /// into the empty `target` puts them into `targetStore` as they were, but a cursor past the restored bank's last
    /// sequence (alerts delivered after the backup's snapshot) lowered to it; a restore into a target whose store holds a
    /// cursor is refused (`bankNotEmpty`), and so is one into a target that keeps no cursors (`invalidBackup`: the
    /// backup holds records it has nowhere to put). `storage` (an empty bank) is given a twin and three readings first.
    public static func backupRoundTrip(_ storage: any BankStorage, _ store: any WebhookCursorStore,
                                       into target: any BankStorage, _ targetStore: any WebhookCursorStore,
                                       orphan: any BankStorage) throws {
        let bank = Bank(storage: storage, actor: "tester")
        try bank.createTwin(Twin(id: try TwinID("w1"), kind: .person, origin: Instant(microseconds: 0)))
        let glucose = Concept(system: "http://loinc.org", code: "2339-0")
        try bank.append((1...3).map { i in
            .observation("w1", at: Instant(microseconds: Int64(i) * 60_000_000), code: glucose, Quantity(Double(100 + i), "mg/dL"), source: Source(.device, "cgm"))
        })
        let last = try storage.read { tx in try tx.lastSequence() }
        #expect(last >= 3)
        let a = "https://ward.example/alerts", b = "http://127.0.0.1:9/hook?x=1", ahead = "https://late.example/hook"
        try store.advance(a, to: last - 1)
        try store.advance(b, to: 0)
        try store.advance(ahead, to: last + 5)
        let file = BackupChecks.temporaryPath("webhooks.jsonl")
        defer { try? FileManager.default.removeItem(atPath: file) }
        let written = try BankBackup.write(from: storage, to: file, attachments: [WebhookCursorBackup(store: store)])
        #expect(written.counts.attachments["webhooks"] == 3)
        let text = try String(contentsOfFile: file, encoding: .utf8)
        #expect(text.contains("https://ward.example/alerts") && text.contains(#""name":"webhooks""#), "the URL as it is, one line per cursor")
        let restored = try BankBackup.restore(from: file, into: target, attachments: [WebhookCursorBackup(store: targetStore, storage: target)])
        #expect(restored.counts == written.counts && restored.sha256 == written.sha256)
        #expect(try target.read { tx in try tx.lastSequence() } == last)
        #expect(try targetStore.cursors() == [a: last - 1, b: 0, ahead: last])
        // again into the same target: its cursors are not empty
        let again = try #require(throws: BankError.self) {
            try BankBackup.restore(from: file, into: target, attachments: [WebhookCursorBackup(store: targetStore, storage: target)])
        }
        #expect(again.code == .bankNotEmpty && again.value == "webhooks")
        #expect(try targetStore.cursors() == [a: last - 1, b: 0, ahead: last])
        // into a bank without a cursor store
        let nowhere = try #require(throws: BankError.self) { try BankBackup.restore(from: file, into: orphan, attachments: []) }
        #expect(nowhere.code == .invalidBackup && nowhere.message.contains("webhooks"), "\(nowhere)")
    }
}
