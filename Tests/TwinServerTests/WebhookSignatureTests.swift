import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing
import TwinBank
import TwinBankAccess
import TwinCore
import TwinGovernance
import TwinServer
import TwinTesting

/// Signed webhooks: a signature made for a body verifies and one for another body, an old or future time, a malformed
/// header or another secret does not; a local receiver that verifies accepts the server's real delivery of an alert and
/// refuses the same header over a tampered body and a correctly signed but old one; the secret file is made 0600.
@Suite struct WebhookSignatureTests {
    static let secret = [UInt8](repeating: 9, count: 32)

    @Test func aSignatureVerifiesOnlyForItsBodyTimeAndSecret() throws {
        let signer = try WebhookSigner(secret: Self.secret)
        let body = Array(#"{"type":"alert","twin":"p1"}"#.utf8)
        let now = Date(timeIntervalSince1970: 1_767_225_600)
        let t = Int64(now.timeIntervalSince1970)
        let header = signer.signature(body: body, time: t)
        #expect(header.hasPrefix("t=\(t),v1="))
        #expect(header.count == "t=\(t),v1=".count + 64)
        #expect(try WebhookSigner.verify(header: header, body: body, secret: Self.secret, now: now) == t)
        // the receiver's clock a little off either way, within the tolerance
        #expect(throws: Never.self) { try WebhookSigner.verify(header: header, body: body, secret: Self.secret, now: now.addingTimeInterval(299)) }
        #expect(throws: Never.self) { try WebhookSigner.verify(header: header, body: body, secret: Self.secret, now: now.addingTimeInterval(-299)) }

        func refused(_ code: WebhookSignatureError.Code, _ header: String, body other: [UInt8]? = nil, secret: [UInt8]? = nil, now at: Date? = nil) {
            do {
                try WebhookSigner.verify(header: header, body: other ?? body, secret: secret ?? Self.secret, now: at ?? now)
                Issue.record("\(header) verified; expected \(code)")
            } catch {
                #expect(error.code == code, "\(error)")
                #expect(!error.message.isEmpty)
            }
        }
        refused(.signatureMismatch, header, body: Array(#"{"type":"alert","twin":"p2"}"#.utf8))
        refused(.signatureMismatch, header, secret: [UInt8](repeating: 8, count: 32))
        refused(.outsideTolerance, header, now: now.addingTimeInterval(301))
        refused(.outsideTolerance, header, now: now.addingTimeInterval(-301))
        // the time is part of what is signed: moving it breaks the signature
        refused(.signatureMismatch, header.replacingOccurrences(of: "t=\(t)", with: "t=\(t + 1)"))
        refused(.malformedSignature, "v1=" + String(repeating: "0", count: 64))
        refused(.malformedSignature, "t=\(t)")
        refused(.malformedSignature, "t=soon,v1=" + String(repeating: "0", count: 64))
        refused(.malformedSignature, "t=\(t),v1=xyz")
        refused(.weakSecret, header, secret: [1, 2, 3])
        // while a secret is replaced, a header may carry two signatures: one matching is enough
        let old = try WebhookSigner(secret: [UInt8](repeating: 1, count: 32)).signature(body: body, time: t)
        let both = old + "," + header.split(separator: ",")[1]
        #expect(throws: Never.self) { try WebhookSigner.verify(header: both, body: body, secret: Self.secret, now: now) }
        #expect(throws: WebhookSignatureError.self) { _ = try WebhookSigner(secret: [UInt8](repeating: 1, count: 31)) }
        // one delivery id per alert and URL
        let url = URL(string: "https://ward.example/alerts")!
        #expect(WebhookSigner.deliveryID(url: url, event: "abc") == WebhookSigner.deliveryID(url: url, event: "abc"))
        #expect(WebhookSigner.deliveryID(url: url, event: "abc") != WebhookSigner.deliveryID(url: url, event: "abd"))
        #expect(WebhookSigner.deliveryID(url: URL(string: "https://other.example/")!, event: "abc") != WebhookSigner.deliveryID(url: url, event: "abc"))
    }

    /// A receiver that answers 204 to a POST whose signature verifies and 401 otherwise, recording each body and header.
    static func receiver(_ log: Shared<[(status: Int, signature: String, body: [UInt8])]>) -> Router<BasicRequestContext> {
        let router = Router()
        router.post("/hook") { request, _ -> HTTPResponse.Status in
            let body = [UInt8](buffer: try await request.body.collect(upTo: 1 << 20))
            let signature = request.headers[HTTPField.Name(WebhookSigner.signatureHeader)!] ?? ""
            let status: HTTPResponse.Status
            do {
                try WebhookSigner.verify(header: signature, body: body, secret: Self.secret)
                status = .noContent
            } catch {
                status = .unauthorized
            }
            log.withLock { $0.append((Int(status.code), signature, body)) }
            return status
        }
        return router
    }

    @Test func aReceiverAcceptsTheServersDeliveryAndRefusesATamperedOrOldOne() async throws {
        let log = Shared<[(status: Int, signature: String, body: [UInt8])]>([])
        let receiverApp = Application(router: Self.receiver(log), configuration: .init(address: .hostname("127.0.0.1", port: 0)))
        try await receiverApp.test(.live) { hook in
            let port = try #require(hook.port)
            var live = LiveLinkTests.fastLive
            live.webhooks = [URL(string: "http://127.0.0.1:\(port)/hook")!]
            live.webhookSigner = try WebhookSigner(secret: Self.secret)
            let f = try await ServerFixture.make(live: live); defer { f.remove() }
            let services = f.server.services
            let running = Task {
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for s in services { group.addTask { try await s.run() } }
                    try await group.waitForAll()
                }
            }
            defer { running.cancel() }
            let other = Bank(storage: try BankLocation(f.path).open(create: false).storage, actor: "alice")
            try other.append([.observation("p1", at: try Instant(parsing: "2026-01-04T09:00:00Z"), code: ServerFixture.glucose, Quantity(58, "mg/dL"),
                                           source: Source(.device, "cgm-1"))])
            let deadline = ContinuousClock.now + .seconds(120)
            while log.withLock({ $0.count }) < 1 && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(10)) }
            let delivered = try #require(log.withLock { $0.first })
            #expect(delivered.status == 204, "the server's own delivery verifies")

            // the same header over an altered body, then a body signed correctly but 10 minutes ago: both refused
            var tampered = String(decoding: delivered.body, as: UTF8.self)
            tampered = tampered.replacingOccurrences(of: "\"p1\"", with: "\"p2\"")
            #expect(tampered.utf8.elementsEqual(delivered.body) == false)
            let oldTime = Int64(Date().timeIntervalSince1970) - 600
            let old = try WebhookSigner(secret: Self.secret).signature(body: delivered.body, time: oldTime)
            for (signature, body) in [(delivered.signature, Array(tampered.utf8)), (old, delivered.body)] {
                try await hook.execute(uri: "/hook", method: .post, headers: [HTTPField.Name(WebhookSigner.signatureHeader)!: signature],
                                       body: ByteBuffer(bytes: body)) { r in
                    #expect(r.status == .unauthorized)
                }
            }
        }
        #expect(log.withLock { $0.map(\.status) }.suffix(2) == [401, 401])
    }

    @Test func theSecretFileIsMadePrivateAndAnOpenOneRefused() async throws {
        let directory = try TemporaryFiles.directory("webhook-secret"); defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("keys/webhook.key").path
        let signer = try await WebhookSigner.load(keyFile: WebhookSigner.keyFile(path: path))
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        #expect((attributes[.posixPermissions] as? Int).map { $0 & 0o777 } == 0o600)
        let secret = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        #expect(secret.count == 32)
        // the file's secret is the one that signs, and it is read again, not replaced
        let body = Array("{}".utf8)
        let t = Int64(Date().timeIntervalSince1970)
        #expect(throws: Never.self) { try WebhookSigner.verify(header: signer.signature(body: body, time: t), body: body, secret: secret) }
        let again = try await WebhookSigner.load(keyFile: WebhookSigner.keyFile(path: path))
        #expect(again.signature(body: body, time: t) == signer.signature(body: body, time: t))
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: path)
        await #expect(throws: GovernanceError.self) { _ = try await WebhookSigner.load(keyFile: WebhookSigner.keyFile(path: path)) }

        // a server with webhooks but no signer is refused (webhooks are always signed)
        var live = LiveLinkTests.fastLive
        live.webhooks = [URL(string: "http://127.0.0.1:9/hook")!]
        await #expect(throws: ServerError.self) { _ = try await ServerFixture.make(live: live) }
    }
}
