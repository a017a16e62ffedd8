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

/// `twinbank release`, `dp` and `representativeness` as routes over an aggregate.
@Suite struct ReleaseRouteTests {
    static let jsonBody: [HTTPField.Name: String] = [.contentType: "application/json"]

    /// Six people born 1970 to 1975, three women and three men, all in ZIP 627..: the aggregate `ward`; `all` the same.
    static func people(_ f: ServerFixture) throws {
        let bank = Bank(storage: try BankLocation(f.path).open(create: false).storage, actor: "alice")
        var ids: [TwinID] = []
        for k in 0 ..< 6 {
            let id = try TwinID("w\(k + 1)")
            ids.append(id)
            try bank.createTwin(Twin(id: id, kind: .person, attributes: [
                "name": .text("Person \(k)"), "birthDate": .date(try Instant(parsing: "197\(k)-03-01")),
                "gender": .text(k % 2 == 0 ? "female" : "male"), "address": .text("\(k) Main St, Springfield, IL, 62701"),
            ], origin: Instant(microseconds: 0)))
        }
        try bank.createAggregate("ward", members: ids)
        try bank.createAggregate("all", members: ids)
    }

    static func post(_ client: any TestClientProtocol, _ uri: String, _ token: String, _ text: String) async throws -> (HTTPResponse.Status, [String: Any], String) {
        try await client.execute(uri: uri, method: .post, headers: .auth(token, jsonBody), body: body(text)) { r throws in
            let t = String(buffer: r.body)
            return (r.status, (try? JSONSerialization.jsonObject(with: Data(t.utf8))) as? [String: Any] ?? [:], t)
        }
    }

    @Test func releasesAKAnonymousTable() async throws {
        let f = try await ServerFixture.make(); defer { f.remove() }
        try Self.people(f)
        let alice = try await f.token("alice", .admin)
        let bob = try await f.token("bob", .clinician)
        try await f.test { client in
            let (status, j, text) = try await Self.post(client, "/api/v1/aggregates/ward/releases", alice, #"{"k":2}"#)
            #expect(status == .ok, "\(text)")
            #expect(j["aggregate"] as? String == "ward" && j["k"] as? Int == 2 && j["refused"] as? Int == 0)
            #expect(j["quasiIdentifiers"] as? [String] == ["birthYear", "sex", "zip3"])
            let records = try #require(j["records"] as? [[String: Any]])
            let suppressed = j["suppressed"] as? Int ?? -1
            #expect(records.count + suppressed == 6 && suppressed == 0, "\(text)")
            #expect((j["after"] as? [String: Any])?["smallestClass"] as? Int ?? 0 >= 2)
            #expect((j["before"] as? [String: Any])?["unique"] as? Int == 6, "every birth year differs")
            for r in records {
                let fields = try #require(r["fields"] as? [String: String])
                #expect(Set(fields.keys) == ["birthYear", "sex", "zip3"], "\(fields)")
                #expect(fields["zip3"] == "627" || fields["zip3"] == "*")
                #expect(!(r["id"] as? String ?? "w").contains("w"), "a pseudonym, not the twin id")
            }
            // the bank's pseudonym key is kept: the same pseudonyms again
            let (_, again, _) = try await Self.post(client, "/api/v1/aggregates/ward/releases", alice, #"{"k":2}"#)
            #expect(Set((again["records"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String }) == Set(records.compactMap { $0["id"] as? String }))
            for (text, status, field) in [(#"{"k":0}"#, HTTPResponse.Status.badRequest, "k"), (#"{"k":"two"}"#, .badRequest, "k"),
                                          (#"{"k":2,"l":0,"sensitive":"race"}"#, .badRequest, "l"), (#"{"k":2,"l":2}"#, .badRequest, "sensitive"),
                                          (#"{"k":2,"quasiIdentifiers":[]}"#, .badRequest, "quasiIdentifiers"),
                                          (#"{"k":2,"quasiIdentifiers":["sex","sex"]}"#, .badRequest, "quasiIdentifiers"),
                                          (#"{"k":2,"sensitive":"sex"}"#, .badRequest, "sensitive"),
                                          (#"{"k":2,"maxSuppression":2}"#, .badRequest, "maxSuppression"),
                                          (#"{"k":100}"#, .unprocessableContent, "body"),
                                          (#"{"k":2,"quasiIdentifiers":["shoeSize"]}"#, .unprocessableContent, "body")] {
                let (s, e, t) = try await Self.post(client, "/api/v1/aggregates/ward/releases", alice, text)
                #expect(s == status, "\(text): \(t)")
                #expect(e["field"] as? String == field, "\(text): \(t)")
            }
            let (s1, _, _) = try await Self.post(client, "/api/v1/aggregates/nowhere/releases", alice, #"{"k":2}"#)
            #expect(s1 == .notFound)
            let (s2, e2, _) = try await Self.post(client, "/api/v1/aggregates/-ward/releases", alice, #"{"k":2}"#)
            #expect(s2 == .badRequest && e2["field"] as? String == "id")
            let (s3, _, t3) = try await Self.post(client, "/api/v1/aggregates/ward/releases", bob, #"{"k":2}"#)
            #expect(s3 == .forbidden, "\(t3)")
            try await client.execute(uri: "/api/v1/aggregates/ward/releases", method: .post, headers: HTTPFields([.init(name: .contentType, value: "application/json")]),
                                     body: body(#"{"k":2}"#)) { r throws in #expect(r.status == .unauthorized) }
        }
    }

    @Test func answersPrivatelyWithinTheBudget() async throws {
        let f = try await ServerFixture.make(); defer { f.remove() }
        try Self.people(f)
        let alice = try await f.token("alice", .admin)
        let bob = try await f.token("bob", .clinician)
        let uri = "/api/v1/aggregates/ward/dp-queries"
        try await f.test { client in
            var (status, j, text) = try await Self.post(client, uri, alice, #"{"query":"count","epsilon":0.1}"#)
            #expect(status == .ok, "\(text)")
            #expect(j["value"] is Int && j["sensitivity"] as? Int == 1 && j["query"] as? String == "count")
            var budget = try #require(j["budget"] as? [String: Any])
            #expect(budget["requester"] as? String == "alice" && budget["aggregate"] as? String == "ward")
            #expect(abs((budget["spent"] as? Double ?? 0) - 0.1) < 1e-9 && abs((budget["remaining"] as? Double ?? 0) - 0.9) < 1e-9)
            (status, j, text) = try await Self.post(client, uri, alice, #"{"query":"histogram","by":"sex","epsilon":0.1}"#)
            #expect(status == .ok, "\(text)")
            #expect((j["bins"] as? [[String: Any]])?.compactMap { $0["value"] as? String } == QueryVocabulary.genderValues + [PrivateAnswer.otherBin])
            (status, j, text) = try await Self.post(client, uri, alice, #"{"query":"sum","value":"age","lower":0,"upper":100,"epsilon":0.1}"#)
            #expect(status == .ok, "\(text)")
            #expect(j["sensitivity"] as? Int == 100)
            // 0.3 spent: 0.8 more is refused, nothing spent
            (status, j, text) = try await Self.post(client, uri, alice, #"{"query":"count","epsilon":0.8}"#)
            #expect(status == .tooManyRequests, "\(text)")
            #expect(j["code"] as? String == "budgetExhausted" && j["field"] as? String == "epsilon")
            for (text, field) in [(#"{"query":"count","epsilon":0}"#, "epsilon"), (#"{"query":"count","epsilon":-1}"#, "epsilon"),
                                  (#"{"query":"median","epsilon":0.1}"#, "query"), (#"{"query":"count"}"#, "epsilon"),
                                  (#"{"query":"count","epsilon":0.1,"by":"sex"}"#, "by"),
                                  (#"{"query":"sum","epsilon":0.1,"lower":0,"upper":1}"#, "value"),
                                  (#"{"query":"sum","epsilon":0.1,"value":"age","upper":1}"#, "lower"),
                                  (#"{"query":"sum","epsilon":0.1,"value":"age","lower":5,"upper":1}"#, "lower"),
                                  (#"{"query":"histogram","epsilon":0.1}"#, "by"),
                                  (#"{"query":"histogram","epsilon":0.1,"by":"state"}"#, "bins"),
                                  (#"{"query":"histogram","epsilon":0.1,"by":"state","bins":["IL","IL"]}"#, "bins"),
                                  (#"{"query":"histogram","epsilon":0.1,"by":"state","bins":["(other)"]}"#, "bins")] {
                let (s, e, t) = try await Self.post(client, uri, alice, text)
                #expect(s == .badRequest, "\(text): \(t)")
                #expect(e["field"] as? String == field, "\(text): \(t)")
            }
            let (s1, _, t1) = try await Self.post(client, uri, bob, #"{"query":"count","epsilon":0.1}"#)
            #expect(s1 == .forbidden, "\(t1)")
            let (s2, _, _) = try await Self.post(client, "/api/v1/aggregates/nowhere/dp-queries", alice, #"{"query":"count","epsilon":0.1}"#)
            #expect(s2 == .notFound)
            (status, j, text) = try await Self.post(client, uri, alice, #"{"query":"count","epsilon":0.1}"#)
            #expect(status == .ok, "\(text)")
            budget = try #require(j["budget"] as? [String: Any])
            #expect(abs((budget["spent"] as? Double ?? 0) - 0.4) < 1e-9, "only the answers given were charged: \(budget)")
        }
    }

    @Test func assessesRepresentativeness() async throws {
        let f = try await ServerFixture.make(); defer { f.remove() }
        try Self.people(f)
        let alice = try await f.token("alice", .admin)
        let bob = try await f.token("bob", .clinician)
        let uri = "/api/v1/aggregates/ward/representativeness"
        try await f.test { client in
            var (status, j, text) = try await Self.post(client, uri, alice, #"{"reference":"all"}"#)
            #expect(status == .ok, "\(text)")
            #expect(j["people"] as? Int == 6 && j["threshold"] as? Double == 0.5)
            var groups = try #require(j["groups"] as? [[String: Any]])
            let female = try #require(groups.first { $0["attribute"] as? String == "sex" && $0["value"] as? String == "female" })
            #expect(female["share"] as? Double == 0.5 && female["ratio"] as? Double == 1 && female["flag"] as? String == "ok")
            (status, j, text) = try await Self.post(client, uri, alice,
                                                    #"{"marginals":[{"attribute":"sex","value":"female","share":0.5},{"attribute":"sex","value":"male","share":0.3},{"attribute":"sex","value":"other","share":0.2}],"threshold":0.9}"#)
            #expect(status == .ok, "\(text)")
            groups = try #require(j["groups"] as? [[String: Any]])
            let other = try #require(groups.first { $0["value"] as? String == "other" })
            #expect(other["count"] as? Int == 0 && other["flag"] as? String == "absent")
            for (text, field) in [(#"{}"#, "body"), (#"{"reference":"all","marginals":[]}"#, "body"), (#"{"reference":"all","threshold":0}"#, "threshold"),
                                  (#"{"reference":"all","threshold":1.5}"#, "threshold"), (#"{"marginals":[]}"#, "marginals"),
                                  (#"{"marginals":[{"attribute":"sex","value":"female","share":2}]}"#, "marginals[0].share"),
                                  (#"{"marginals":[{"attribute":"sex","value":"f","share":0.5},{"attribute":"sex","value":"f","share":0.5}]}"#, "marginals[1]"),
                                  (#"{"reference":"all","conditions":["no code"]}"#, "conditions[0]"), (#"{"reference":"-all"}"#, "reference")] {
                let (s, e, t) = try await Self.post(client, uri, alice, text)
                #expect(s == .badRequest, "\(text): \(t)")
                #expect(e["field"] as? String == field, "\(text): \(t)")
            }
            let (s1, _, _) = try await Self.post(client, uri, alice, #"{"reference":"nowhere"}"#)
            #expect(s1 == .notFound)
            let (s2, _, t2) = try await Self.post(client, uri, bob, #"{"reference":"all"}"#)
            #expect(s2 == .forbidden, "\(t2)")
        }
    }
}
