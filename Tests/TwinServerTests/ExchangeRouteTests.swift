import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing
import TwinBank
import TwinBankAccess
import TwinCore
import TwinServer

/// Exchange between banks over HTTP (`GET /api/v1/twins/{id}/bundle`, `GET /api/v1/aggregates/{id}/bundle`, `POST
/// /api/v1/bundles`, as `twinbank export` and `import`) and CSV threads (`POST /api/v1/twins/{id}/events/csv`, as
/// `twinbank thread import`): a twin carried from one server's bank to another's, all or nothing and idempotent; a
/// tampered bundle refused with nothing written; a CSV imported once, its rows skipped the second time, a bad row
/// refusing the file with its line named.
@Suite struct ExchangeRouteTests {
    static let bundleType = "application/octet-stream"

    static func observations(_ client: any TestClientProtocol, _ twin: String, _ token: String) async throws -> Int {
        try await client.execute(uri: "/api/v1/twins/\(twin)/events?category=observation", method: .get, headers: .auth(token)) { r throws in
            #expect(r.status == .ok)
            return try #require(try json(r)["items"] as? [[String: Any]]).count
        }
    }

    @Test func carriesATwinBetweenBanksAllOrNothing() async throws {
        let a = try await ServerFixture.make(); defer { a.remove() }
        let b = try await ServerFixture.make(); defer { b.remove() }
        // q1 exists in a's bank only, with three readings, in an aggregate
        let bankA = Bank(storage: try BankLocation(a.path).open(create: false).storage, actor: "alice")
        try bankA.createTwin(Twin(id: "q1", kind: .person, attributes: ["name": .text("Quinn")], origin: Instant(microseconds: 0)))
        try bankA.append((0..<3).map { k in
            .observation("q1", at: Instant(microseconds: 1_767_254_400_000_000 + Int64(k) * 3_600_000_000), code: ServerFixture.glucose,
                         Quantity(100 + Double(k), "mg/dL"), source: Source(.device, "cgm-9"))
        })
        try bankA.createAggregate("ward", members: ["q1"])
        let aliceA = try await a.token("alice", .admin), aliceB = try await b.token("alice", .admin)
        let (bundle, root) = try await a.test { client in
            try await client.execute(uri: "/api/v1/twins/q1/bundle", method: .get, headers: .auth(aliceA)) { r throws -> (String, String) in
                #expect(r.status == .ok, "\(String(buffer: r.body))")
                #expect(r.headers[.contentType] == Self.bundleType)
                let root = try #require(r.headers[HTTPField.Name("X-Bundle-Root")!])
                let text = String(buffer: r.body)
                let lines = text.split(separator: "\n")
                #expect(lines.count > 3)
                #expect(lines.allSatisfy { $0.count > 65 && $0.prefix(64).allSatisfy(\.isHexDigit) && $0.dropFirst(64).first == " " })
                return (text, root)
            }
        }
        #expect(root.count == 64)
        try await a.test { client in
            try await client.execute(uri: "/api/v1/aggregates/ward/bundle", method: .get, headers: .auth(aliceA)) { r throws in
                #expect(r.status == .ok)
                #expect(String(buffer: r.body).contains("\"q1\""))
            }
            try await client.execute(uri: "/api/v1/twins/nobody/bundle", method: .get, headers: .auth(aliceA)) { r throws in #expect(r.status == .notFound) }
            try await client.execute(uri: "/api/v1/aggregates/none/bundle", method: .get, headers: .auth(aliceA)) { r throws in #expect(r.status == .notFound) }
            try await client.execute(uri: "/api/v1/twins/q1/bundle", method: .get) { r throws in #expect(r.status == .unauthorized) }
        }
        try await b.test { client in
            let headers = HTTPFields.auth(aliceB, [.contentType: Self.bundleType])
            // one event line altered: refused, nothing written
            var lines = bundle.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            let k = try #require(lines.firstIndex { $0.contains("\"t\":\"event\"") && $0.contains("101") })
            lines[k] = lines[k].replacingOccurrences(of: "101", with: "181")
            try await client.execute(uri: "/api/v1/bundles", method: .post, headers: headers, body: body(lines.joined(separator: "\n"))) { r throws in
                #expect(r.status == .badRequest, "\(String(buffer: r.body))")
                let j = try json(r)
                #expect(j["field"] as? String == "body")
                #expect(["bundleHashMismatch", "invalidBundle"].contains(j["code"] as? String ?? ""))
            }
            try await client.execute(uri: "/api/v1/twins/q1", method: .get, headers: .auth(aliceB)) { r throws in #expect(r.status == .notFound, "nothing was imported") }
            try await client.execute(uri: "/api/v1/bundles", method: .post, headers: headers, body: body("not a bundle")) { r throws in
                #expect(r.status == .badRequest)
            }
            // the bundle as exported: q1 and its three readings; again: nothing new
            try await client.execute(uri: "/api/v1/bundles", method: .post, headers: headers, body: body(bundle)) { r throws in
                #expect(r.status == .created, "\(String(buffer: r.body))")
                let j = try json(r)
                #expect(j["root"] as? String == root)
                #expect(j["twinsCreated"] as? [String] == ["q1"])
                #expect(j["eventsAdded"] as? Int == 3)
            }
            #expect(try await Self.observations(client, "q1", aliceB) == 3)
            try await client.execute(uri: "/api/v1/bundles", method: .post, headers: headers, body: body(bundle)) { r throws in
                #expect(r.status == .created)
                let j = try json(r)
                #expect((j["twinsCreated"] as? [String])?.isEmpty == true)
                #expect(j["twinsUnchanged"] as? [String] == ["q1"])
                #expect(j["eventsAdded"] as? Int == 0 && j["eventsAlreadyPresent"] as? Int == 3)
            }
            // a read-only token cannot import
            let reader = try await b.token("alice", .admin, scopes: ["user/*.rs"])
            try await client.execute(uri: "/api/v1/bundles", method: .post, headers: .auth(reader, [.contentType: Self.bundleType]), body: body(bundle)) { r throws in
                #expect(r.status == .forbidden)
            }
        }
    }

    @Test func importsACSVThreadOnceAndRefusesABadRowWhole() async throws {
        let f = try await ServerFixture.make(); defer { f.remove() }
        let alice = try await f.token("alice", .admin)
        let reader = try await f.token("alice", .admin, scopes: ["user/*.rs"])
        let csv = "time,code,value,unit\n2026-01-02T08:00:00Z,loinc:2339-0,101,mg/dL\n2026-01-02T09:00:00Z,loinc:2339-0,118,mg/dL\n\"2026-01-02T10:00:00Z\",loinc:2339-0,131,mg/dL\r\n"
        try await f.test { client in
            let headers = HTTPFields.auth(alice, [.contentType: "text/csv"])
            #expect(try await Self.observations(client, "p2", alice) == 0)
            try await client.execute(uri: "/api/v1/twins/p2/events/csv?source=device:meter-3", method: .post, headers: headers, body: body(csv)) { r throws in
                #expect(r.status == .created, "\(String(buffer: r.body))")
                let j = try json(r)
                #expect(j["rows"] as? Int == 3 && j["count"] as? Int == 3 && j["skipped"] as? Int == 0)
            }
            try await client.execute(uri: "/api/v1/twins/p2/events?category=observation", method: .get, headers: .auth(alice)) { r throws in
                let items = try #require(try json(r)["items"] as? [[String: Any]])
                #expect(items.compactMap { ($0["source"] as? String) }.allSatisfy { $0 == "device:meter-3" }, "\(items.map { $0["source"] ?? "-" })")
            }
            try await client.execute(uri: "/api/v1/twins/p2/events/csv?source=device:meter-3", method: .post, headers: headers, body: body(csv)) { r throws in
                #expect(r.status == .created)
                let j = try json(r)
                #expect(j["count"] as? Int == 0 && j["skipped"] as? Int == 3, "posting the same file again adds nothing")
            }
            // a row in a unit that does not fit the code: the whole file refused, its line named, nothing written
            let bad = "time;code;value;unit\n2026-01-03T08:00:00Z;loinc:2339-0;99;mg/dL\n2026-01-03T09:00:00Z;loinc:2339-0;7;kg\n"
            try await client.execute(uri: "/api/v1/twins/p2/events/csv", method: .post, headers: headers, body: body(bad)) { r throws in
                #expect(r.status == .badRequest, "\(String(buffer: r.body))")
                let j = try json(r)
                #expect(j["field"] as? String == "body")
                #expect((j["message"] as? String)?.contains("line 3") == true, "the line: \(j["message"] ?? "")")
            }
            #expect(try await Self.observations(client, "p2", alice) == 3, "nothing of the bad file was written")
            for (query, field) in [("separator=pipe", "separator"), ("source=nokind", "source")] {
                try await client.execute(uri: "/api/v1/twins/p2/events/csv?\(query)", method: .post, headers: headers, body: body(csv)) { r throws in
                    #expect(r.status == .badRequest, "\(query)")
                    #expect(try json(r)["field"] as? String == field, "\(query): \(String(buffer: r.body))")
                }
            }
            try await client.execute(uri: "/api/v1/twins/nobody/events/csv", method: .post, headers: headers, body: body(csv)) { r throws in
                #expect(r.status == .notFound)
            }
            try await client.execute(uri: "/api/v1/twins/p2/events/csv", method: .post, headers: .auth(reader, [.contentType: "text/csv"]), body: body(csv)) { r throws in
                #expect(r.status == .forbidden)
                #expect(try json(r)["code"] as? String == "insufficientScope")
            }
            try await client.execute(uri: "/api/v1/twins/p2/events/csv", method: .post, headers: [.contentType: "text/csv"], body: body(csv)) { r throws in
                #expect(r.status == .unauthorized)
            }
        }
    }
}
