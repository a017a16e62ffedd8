import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing
import TwinBank
import TwinCore
import TwinRun
@testable import TwinServer

/// An in-silico comparison as a job (`POST /api/v1/twins/{id}/comparisons`, `twinbank compare`): 202 with the job,
/// then the comparison recorded in the twin's thread as `comparisons/latest` serves it; refusals before the job.
@Suite struct ComparisonRouteTests {
    static let jsonBody: [HTTPField.Name: String] = [.contentType: "application/json"]

    /// A glucose twin bound to a virtual patient, with two meals on 2026-02-01.
    static func glucoseTwin(_ f: ServerFixture) throws {
        let bank = try DashboardRouteTests.bank(f)
        try bank.createTwin(Twin(id: "g1", kind: .person, attributes: ["virtualPatient": .text("adult#001")], origin: Instant(microseconds: 0)))
        try bank.append([(7.0, 45.0), (12.0, 70.0)].map { h, g in
            EventDraft(twin: "g1", effective: EffectiveTime(DashboardRouteTests.day.advanced(bySeconds: h * 3600)), category: .intervention,
                       code: GlucoseTwin.carbohydrateIntake, value: .quantity(Quantity(g, "g")), source: Source(.person, "g1"))
        })
    }

    static let request = #"{"options":["usual=","cautious-bolus=bolus=0.8"],"start":"2026-02-01T06:00:00Z","horizon":6,"ensemble":2,"seed":3}"#

    @Test func comparesAsAJobAndServesTheRecord() async throws {
        let f = try await ServerFixture.make(); defer { f.remove() }
        try Self.glucoseTwin(f)
        let alice = try await f.token("alice", .admin)
        try await f.test { client in
            let location = try await client.execute(uri: "/api/v1/twins/g1/comparisons", method: .post, headers: .auth(alice, Self.jsonBody),
                                                    body: body(Self.request)) { r throws in
                #expect(r.status == .accepted, "\(String(buffer: r.body))")
                #expect(try json(r)["kind"] as? String == "comparison")
                return try #require(r.headers[.location])
            }
            let job = try await JobRouteTests.finished(client, location, alice)
            #expect(job["state"] as? String == "succeeded", "\(job)")
            #expect(job["progress"] as? Double == 1)
            #expect(job["result"] == nil)
            let comparison = try #require(job["comparison"] as? [String: Any], "\(job)")
            #expect(comparison["twin"] as? String == "g1")
            #expect(comparison["effective"] as? String == "2026-02-01T06:00:00Z")
            let options = try #require(comparison["options"] as? [[String: Any]])
            #expect(Set(options.compactMap { $0["name"] as? String }) == ["usual", "cautious-bolus"])
            #expect(options.compactMap { $0["rank"] as? Int } == [1, 2])
            // the same record as the latest comparison the twin's thread holds
            try await client.execute(uri: "/api/v1/twins/g1/comparisons/latest", method: .get, headers: .auth(alice)) { r throws in
                #expect(r.status == .ok)
                let latest = try json(r)
                #expect(latest["event"] as? String == comparison["event"] as? String)
                #expect((latest["options"] as? [[String: Any]])?.compactMap { $0["fork"] as? String } == options.compactMap { $0["fork"] as? String })
            }
            // every option's fork exists
            for fork in options.compactMap({ $0["fork"] as? String }) {
                try await client.execute(uri: "/api/v1/twins/\(fork)", method: .get, headers: .auth(alice)) { r throws in #expect(r.status == .ok, "\(fork)") }
            }
        }
    }

    @Test func refusesBadRequestsBeforeQueueing() async throws {
        let f = try await ServerFixture.make(); defer { f.remove() }
        try Self.glucoseTwin(f)
        let alice = try await f.token("alice", .admin)
        let bob = try await f.token("bob", .clinician)
        let reader = try await f.token("alice", .admin, scopes: ["user/*.rs"])
        let mallory = try await f.token("mallory", .clinician)
        try await f.test { client in
            for (text, field) in [
                (#"{"options":[]}"#, "options"),
                (#"{"options":["usual=","usual="]}"#, "options[1]"),
                (#"{"options":["=bolus=2"]}"#, "options[0]"),
                (#"{"options":["usual=","x=basal=banana"]}"#, "options[1]"),
                (#"{"options":["usual="],"horizon":0}"#, "horizon"),
                (#"{"options":["usual="],"horizon":400}"#, "horizon"),
                (#"{"options":["usual="],"ensemble":1001}"#, "ensemble"),
                (#"{"options":["usual="],"ensemble":0}"#, "ensemble"),
                (#"{"options":["usual="],"seed":-1}"#, "seed"),
                (#"{"options":["usual="],"start":"yesterday-ish"}"#, "start"),
                (#"{"options":["usual="],"knownAt":"nope"}"#, "knownAt"),
                (#"{"options":["usual="],"model":"heart"}"#, "model"),
                (#"{"horizon":6}"#, "options"),
            ] {
                try await client.execute(uri: "/api/v1/twins/g1/comparisons", method: .post, headers: .auth(alice, Self.jsonBody), body: body(text)) { r throws in
                    #expect(r.status == .badRequest, "\(text): \(String(buffer: r.body))")
                    #expect(try json(r)["field"] as? String == field, "\(text): \(String(buffer: r.body))")
                }
            }
            // an unknown twin; the gate (a clinician comparing for research, a subject the policy does not know), a
            // read-only scope, no token
            try await client.execute(uri: "/api/v1/twins/nobody/comparisons", method: .post, headers: .auth(alice, Self.jsonBody), body: body(Self.request)) { r throws in
                #expect(r.status == .notFound)
                #expect(try json(r)["code"] as? String == "unknownTwin")
            }
            try await client.execute(uri: "/api/v1/twins/g1/comparisons", method: .post,
                                     headers: .auth(bob, Self.jsonBody.merging([HTTPField.Name("X-Purpose-Of-Use")!: "research"]) { a, _ in a }),
                                     body: body(Self.request)) { r throws in
                #expect(r.status == .forbidden, "\(String(buffer: r.body))")
                #expect(try json(r)["code"] as? String == "accessDenied")
            }
            try await client.execute(uri: "/api/v1/twins/g1/comparisons", method: .post, headers: .auth(mallory, Self.jsonBody), body: body(Self.request)) { r throws in
                #expect(r.status == .forbidden)
                #expect(try json(r)["code"] as? String == "accessDenied")
            }
            try await client.execute(uri: "/api/v1/twins/g1/comparisons", method: .post, headers: .auth(reader, Self.jsonBody), body: body(Self.request)) { r throws in
                #expect(r.status == .forbidden)
                #expect(try json(r)["code"] as? String == "insufficientScope")
            }
            try await client.execute(uri: "/api/v1/twins/g1/comparisons", method: .post, headers: HTTPFields([HTTPField(name: .contentType, value: "application/json")]),
                                     body: body(Self.request)) { r throws in
                #expect(r.status == .unauthorized)
            }
            // nothing was queued, nothing recorded
            #expect(try await JobRouteTests.ids(client, "/api/v1/jobs", alice).ids.isEmpty)
            try await client.execute(uri: "/api/v1/twins/g1/comparisons/latest", method: .get, headers: .auth(alice)) { r throws in
                #expect(r.status == .notFound)
            }
        }
    }
}
