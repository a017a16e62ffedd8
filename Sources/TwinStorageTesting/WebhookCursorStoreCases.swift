import Foundation
import Testing
import TwinBank

/// What every ``TwinBank/WebhookCursorStore`` must do (a server's webhook cursors in the bank): a cursor is created
/// where it is first advanced, moves forward, never back, one per URL; and, given `reopen`, the cursors are durable: a
/// store opened again over the same bank reads them.
public enum WebhookCursorStoreCases {
    public static func run(_ store: any WebhookCursorStore, reopen: (() throws -> any WebhookCursorStore)? = nil) throws {
        #expect(try store.cursors().isEmpty)
        let a = "https://ward.example/alerts", b = "http://127.0.0.1:9/hook?x=1"
        try store.advance(a, to: 12)
        try store.advance(b, to: 0)
        #expect(try store.cursors() == [a: 12, b: 0])
        try store.advance(a, to: 40)
        #expect(try store.cursors() == [a: 40, b: 0])
        // never back: a stale advance (another server that was behind) leaves the cursor where it is
        try store.advance(a, to: 39)
        try store.advance(b, to: 7)
        #expect(try store.cursors() == [a: 40, b: 7])
        if let reopen {
            #expect(try reopen().cursors() == [a: 40, b: 7])
        }
    }
}
