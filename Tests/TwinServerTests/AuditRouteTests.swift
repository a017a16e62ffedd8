import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing
import TwinBank
import TwinBankAccess
import TwinCore
import TwinGovernance
import TwinServer

/// `audit head`, `audit log`, `audit prove` and `audit export` as routes: who may see which entries, pages, proofs that
/// verify offline with the bank's audit key, the FHIR AuditEvent Bundle.
@Suite struct AuditRouteTests {
    static func get(_ client: any TestClientProtocol, _ uri: String, _ token: String?) async throws -> (HTTPResponse.Status, [String: Any], String) {
        try await client.execute(uri: uri, method: .get, headers: token.map { .auth($0) } ?? [:]) { r throws in
            let text = String(buffer: r.body)
            let object = (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any] ?? [:]
            return (r.status, object, text)
        }
    }

    /// Every entry `uri` lists, following `nextCursor`, with the number of pages.
    static func all(_ client: any TestClientProtocol, _ uri: String, _ token: String) async throws -> (entries: [[String: Any]], pages: Int) {
        var out: [[String: Any]] = []
        var next: String? = nil
        var pages = 0
        repeat {
            let sep = uri.contains("?") ? "&" : "?"
            let (status, j, text) = try await get(client, uri + (next.map { "\(sep)cursor=\($0)" } ?? ""), token)
            #expect(status == .ok, "\(text)")
            out += try #require(j["items"] as? [[String: Any]])
            next = j["nextCursor"] as? String
            pages += 1
        } while next != nil && pages < 100
        return (out, pages)
    }

    /// Some decisions to list: bob reads p1 twice and p2 once.
    static func someReads(_ client: any TestClientProtocol, _ bob: String) async throws {
        for twin in ["p1", "p1", "p2"] {
            try await client.execute(uri: "/api/v1/twins/\(twin)", method: .get, headers: .auth(bob)) { r throws in #expect(r.status == .ok) }
        }
    }

    @Test func listsTheLogAPageAtATime() async throws {
        let f = try await ServerFixture.make(); defer { f.remove() }
        let alice = try await f.token("alice", .admin)
        let bob = try await f.token("bob", .clinician)
        try await f.test { client in
            try await Self.someReads(client, bob)
            let stored = try f.server.gate.log.entries(matching: AuditQuery()).count
            let (entries, pages) = try await Self.all(client, "/api/v1/audit/entries?limit=2", alice)
            let seqs = entries.compactMap { $0["seq"] as? Int }
            #expect(seqs.count == entries.count)
            // each page's asking is audited too, so the log grows while it is listed: every entry once, in order
            #expect(seqs == Array(0 ..< seqs.count), "\(seqs)")
            #expect(seqs.count >= stored && pages >= (stored + 1) / 2)
            let read = try #require(entries.first { $0["actor"] as? String == "bob" && $0["twin"] as? String == "p1" })
            #expect(read["action"] as? String == "read" && read["decision"] as? String == "permit" && read["role"] as? String == "clinician")
            #expect(read["purpose"] as? String == "treatment" && read["timeMicros"] is Int && read["time"] is String)
            // by twin, by time
            let p1 = try await Self.all(client, "/api/v1/audit/entries?twin=p1", alice).entries
            #expect(p1.count >= 2 && p1.allSatisfy { $0["twin"] as? String == "p1" })
            let (_, future, _) = try await Self.get(client, "/api/v1/audit/entries?from=2100-01-01", alice)
            #expect((future["items"] as? [Any])?.isEmpty == true && future["nextCursor"] == nil)
            let (_, past, _) = try await Self.get(client, "/api/v1/audit/entries?to=2000-01-01", alice)
            #expect((past["items"] as? [Any])?.isEmpty == true)
            let (_, p2, _) = try await Self.get(client, "/api/v1/audit/entries?twin=p2&from=2020-01-01&to=2100-01-01&limit=1000", alice)
            let p2Items = try #require(p2["items"] as? [[String: Any]])
            #expect(p2Items.filter { $0["actor"] as? String == "bob" }.count == 1 && p2Items.allSatisfy { $0["twin"] as? String == "p2" })
            // the head
            let (status, head, text) = try await Self.get(client, "/api/v1/audit/head", alice)
            #expect(status == .ok, "\(text)")
            #expect((head["size"] as? Int ?? 0) >= stored)
            #expect((head["root"] as? String)?.count == 64 && (head["signature"] as? String)?.count == 128)
            for (query, field) in [("limit=0", "limit"), ("limit=1001", "limit"), ("limit=many", "limit"), ("cursor=%21%21", "cursor"),
                                   ("cursor=\(Self.cursor("p1"))", "cursor"), ("twin=-p1", "twin"), ("from=someday", "from"), ("to=later", "to")] {
                let (status, j, text) = try await Self.get(client, "/api/v1/audit/entries?\(query)", alice)
                #expect(status == .badRequest, "\(query): \(text)")
                #expect(j["field"] as? String == field, "\(query): \(text)")
            }
        }
    }

    static func cursor(_ text: String) -> String {
        Data(text.utf8).base64EncodedString().replacingOccurrences(of: "=", with: "")
    }

    /// A twin's entries to whoever may read the twin (the patient on their own, a clinician for treatment); the whole
    /// log, and the head, to the admin only.
    @Test func whoMaySeeWhichEntries() async throws {
        let f = try await ServerFixture.make(); defer { f.remove() }
        _ = try BankGovernanceStore(storage: try BankLocation(f.path).open(create: false).storage).updatePolicy(initial: .default(owner: "alice")) { p in
            try p.assign(Caller(id: "pat", role: .patient, twins: ["p2"]))
        }
        let bob = try await f.token("bob", .clinician)
        let pat = try await f.token("pat", .patient)
        let claimed = try await f.token("bob", .admin)
        let mallory = try await f.token("mallory", .admin)
        let writeOnly = try await f.token("alice", .admin, scopes: ["user/*.cu"])
        try await f.test { client in
            try await Self.someReads(client, bob)
            let (s1, mine, t1) = try await Self.get(client, "/api/v1/audit/entries?twin=p2", pat)
            #expect(s1 == .ok, "\(t1)")
            let items = try #require(mine["items"] as? [[String: Any]])
            #expect(items.contains { $0["actor"] as? String == "bob" }, "the patient sees who read their twin")
            #expect(items.allSatisfy { $0["twin"] as? String == "p2" })
            let (s2, _, _) = try await Self.get(client, "/api/v1/audit/entries?twin=p1", bob)
            #expect(s2 == .ok, "a clinician reads p1, so its entries")
            for (uri, token, field) in [("/api/v1/audit/entries?twin=p1", pat, nil), ("/api/v1/audit/entries", pat, nil), ("/api/v1/audit/entries", bob, nil),
                                        ("/api/v1/audit/head", bob, nil), ("/api/v1/audit/export", bob, nil), ("/api/v1/audit/export?twin=p1", pat, nil),
                                        ("/api/v1/audit/entries", claimed, "role"), ("/api/v1/audit/entries", mallory, nil),
                                        ("/api/v1/audit/entries", writeOnly, "scope"), ("/api/v1/audit/head", writeOnly, "scope")] as [(String, String, String?)] {
                let (status, j, text) = try await Self.get(client, uri, token)
                #expect(status == .forbidden, "\(uri): \(text)")
                if let field { #expect(j["field"] as? String == field, "\(uri): \(text)") }
            }
            for uri in ["/api/v1/audit/entries", "/api/v1/audit/head", "/api/v1/audit/proofs/0", "/api/v1/audit/export"] {
                let (status, _, _) = try await Self.get(client, uri, nil)
                #expect(status == .unauthorized, "\(uri)")
            }
            // the refusals are in the log
            let denied = try f.server.gate.log.entries(matching: AuditQuery()).filter { $0.decision == .deny }
            #expect(denied.contains { $0.actor == "pat" && $0.twin == "p1" })
        }
    }

    @Test func provesAnEntryAsTheCommandDoes() async throws {
        let f = try await ServerFixture.make(); defer { f.remove() }
        let alice = try await f.token("alice", .admin)
        let bob = try await f.token("bob", .clinician)
        let key = try AuditSigner.PublicKey(file: AuditSigner.publicKeyPath(for: try BankLocation(f.path).auditKeyFile()))
        try await f.test { client in
            try await Self.someReads(client, bob)
            let (_, head, _) = try await Self.get(client, "/api/v1/audit/head", alice)  // an entry about no twin
            let entries = try f.server.gate.log.entries(matching: AuditQuery())
            let read = try #require(entries.first { $0.actor == "bob" && $0.twin == "p1" })
            let bankWide = try #require(entries.first { $0.twin == nil && $0.actor == "alice" })
            let (status, proof, text) = try await Self.get(client, "/api/v1/audit/proofs/\(read.sequence)", alice)
            #expect(status == .ok, "\(text)")
            #expect((proof["entry"] as? [String: Any])?["seq"] as? Int == Int(read.sequence))
            #expect(proof["leafIndex"] as? Int == Int(read.sequence))
            #expect(proof["leafHash"] as? String == read.leafHash.hex)
            #expect((proof["treeSize"] as? Int ?? 0) >= (head["size"] as? Int ?? Int.max))
            // the answer is the command's proof file: it verifies offline, signed head included
            let parsed = try InclusionProof(json: text)
            #expect(parsed.entry == read && parsed.head != nil)
            try parsed.verify(publicKey: key)
            // against an older tree: no head
            let (s2, _, t2) = try await Self.get(client, "/api/v1/audit/proofs/\(read.sequence)?size=\(read.sequence + 1)", alice)
            #expect(s2 == .ok, "\(t2)")
            let old = try InclusionProof(json: t2)
            #expect(old.head == nil && old.treeSize == read.sequence + 1)
            try old.verify(publicKey: nil)
            // a clinician may see the proof of an entry about p1, not of one about no twin
            let (s3, _, t3) = try await Self.get(client, "/api/v1/audit/proofs/\(read.sequence)", bob)
            #expect(s3 == .ok, "\(t3)")
            let (s4, _, t4) = try await Self.get(client, "/api/v1/audit/proofs/\(bankWide.sequence)", bob)
            #expect(s4 == .forbidden, "\(t4)")
            for (uri, status, field) in [("/api/v1/audit/proofs/100000", HTTPResponse.Status.notFound, "entry"),
                                         ("/api/v1/audit/proofs/5?size=3", .notFound, "entry"),
                                         ("/api/v1/audit/proofs/0?size=0", .badRequest, "size"),
                                         ("/api/v1/audit/proofs/0?size=100000", .badRequest, "size"),
                                         ("/api/v1/audit/proofs/-1", .badRequest, "entry")] {
                let (s, j, t) = try await Self.get(client, uri, alice)
                #expect(s == status, "\(uri): \(t)")
                #expect(j["field"] as? String == field, "\(uri): \(t)")
            }
        }
    }

    @Test func exportsAuditEvents() async throws {
        let f = try await ServerFixture.make(); defer { f.remove() }
        let alice = try await f.token("alice", .admin)
        let bob = try await f.token("bob", .clinician)
        try await f.test { client in
            try await Self.someReads(client, bob)
            let about = try f.server.gate.log.entries(matching: AuditQuery(twin: "p1")).count
            try await client.execute(uri: "/api/v1/audit/export?twin=p1", method: .get, headers: .auth(alice)) { r throws in
                #expect(r.status == .ok, "\(String(buffer: r.body))")
                #expect(r.headers[.contentType]?.hasPrefix("application/fhir+json") == true)
                let j = try json(r)
                #expect(j["resourceType"] as? String == "Bundle")
                let resources = try #require(j["entry"] as? [[String: Any]]).compactMap { $0["resource"] as? [String: Any] }
                #expect(resources.count >= about && about >= 2, "\(resources.count) \(about)")
                #expect(resources.allSatisfy { $0["resourceType"] as? String == "AuditEvent" })
            }
            let (status, empty, text) = try await Self.get(client, "/api/v1/audit/export?from=2100-01-01", alice)
            #expect(status == .ok, "\(text)")
            #expect((empty["entry"] as? [Any])?.count ?? 0 == 0)
            let (s2, j2, t2) = try await Self.get(client, "/api/v1/audit/export?twin=p1&from=nonsense", alice)
            #expect(s2 == .badRequest && j2["field"] as? String == "from", "\(t2)")
        }
    }
}
