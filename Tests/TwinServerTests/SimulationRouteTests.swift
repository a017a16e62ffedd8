import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing
import TwinBank
import TwinCore
import TwinRun
@testable import TwinServer

/// A twin's model run as a job (`POST /api/v1/twins/{id}/simulations`): 202 with the job, then the trajectories in
/// its `simulation`, the thread's meals in the run; with `record`, the predictions in the thread; refusals before the
/// job is queued.
@Suite struct SimulationRouteTests {
    static let jsonBody: [HTTPField.Name: String] = [.contentType: "application/json"]
    static let request = #"{"start":"2026-02-01T06:00:00Z","hours":8,"every":30,"integration":"continuous"}"#

    @Test func runsTheTwinsModelAsAJob() async throws {
        let f = try await ServerFixture.make(); defer { f.remove() }
        try ComparisonRouteTests.glucoseTwin(f)
        let alice = try await f.token("alice", .admin)
        try await f.test { client in
            let location = try await client.execute(uri: "/api/v1/twins/g1/simulations", method: .post, headers: .auth(alice, Self.jsonBody),
                                                    body: body(Self.request)) { r throws in
                #expect(r.status == .accepted, "\(String(buffer: r.body))")
                #expect(try json(r)["kind"] as? String == "simulation")
                return try #require(r.headers[.location])
            }
            let job = try await JobRouteTests.finished(client, location, alice)
            #expect(job["state"] as? String == "succeeded", "\(job)")
            #expect(job["result"] == nil)
            let sim = try #require(job["simulation"] as? [String: Any], "\(job)")
            #expect(sim["twin"] as? String == "g1")
            #expect(sim["patient"] as? String == "adult#001")
            #expect(sim["model"] as? String == GlucoseTwin.modelID)
            #expect(sim["start"] as? String == "2026-02-01T06:00:00Z")
            // the meal at 07:00 and the one at 12:00 are within 06:00 + 8 h
            #expect(sim["mealsFromThread"] as? Int == 2)
            let times = try #require(sim["times"] as? [String])
            #expect(times.count == 17)  // minutes 0, 30, ..., 480
            #expect(times.first == "2026-02-01T06:00:00Z")
            #expect(times.last == "2026-02-01T14:00:00Z")
            let series = try #require(sim["series"] as? [[String: Any]])
            #expect(series.compactMap { $0["name"] as? String } == ["BG", "CHO", "insulin"])
            let bg = try #require(series[0]["values"] as? [Double])
            #expect(bg.count == 17)
            #expect(bg.allSatisfy { $0 > 20 && $0 < 600 })
            #expect((series[1]["values"] as? [Double])?.count == 16)  // no input after the last minute
            // the meal announced at 07:00 (minute 60) shows as carbohydrate at that point
            #expect(((series[1]["values"] as? [Double])?[2] ?? 0) > 0)
            let summary = try #require(sim["summary"] as? [String: Any])
            #expect((summary["totalInsulin"] as? Double ?? 0) > 0)
            #expect(sim["recorded"] == nil)
            // nothing was written to the thread
            try await client.execute(uri: "/api/v1/twins/g1/events?category=prediction", method: .get, headers: .auth(alice)) { r throws in
                #expect((try json(r)["items"] as? [Any])?.isEmpty == true)
            }
        }
    }

    @Test func recordsThePredictionsAndServesTheStates() async throws {
        let f = try await ServerFixture.make(); defer { f.remove() }
        try ComparisonRouteTests.glucoseTwin(f)
        let alice = try await f.token("alice", .admin)
        let reader = try await f.token("alice", .admin, scopes: ["user/*.rs"])
        try await f.test { client in
            let request = #"{"start":"2026-02-01T06:00:00Z","hours":2,"every":60,"states":true,"record":true,"controller":"basal","meals":"0.5:20","integration":"continuous"}"#
            // recording writes: a read-only scope is refused
            try await client.execute(uri: "/api/v1/twins/g1/simulations", method: .post, headers: .auth(reader, Self.jsonBody), body: body(request)) { r throws in
                #expect(r.status == .forbidden)
                #expect(try json(r)["code"] as? String == "insufficientScope")
            }
            let location = try await client.execute(uri: "/api/v1/twins/g1/simulations", method: .post, headers: .auth(alice, Self.jsonBody),
                                                    body: body(request)) { r throws in
                #expect(r.status == .accepted, "\(String(buffer: r.body))")
                return try #require(r.headers[.location])
            }
            let job = try await JobRouteTests.finished(client, location, alice)
            #expect(job["state"] as? String == "succeeded", "\(job)")
            let sim = try #require(job["simulation"] as? [String: Any], "\(job)")
            #expect(sim["mealsFromThread"] as? Int == 1)  // 07:00; the 12:00 meal is after the run
            let series = try #require(sim["series"] as? [[String: Any]])
            #expect(series.count == 16)  // BG, CHO, insulin, x1..x13
            #expect(series.last?["name"] as? String == "x13")
            #expect((series.last?["values"] as? [Double])?.count == 3)
            // the basal therapy alone: no boluses, a little insulin every minute
            let insulin = (series[2]["values"] as? [Double]) ?? []
            #expect(insulin.count == 2 && insulin.allSatisfy { $0 >= 0 && $0 < 0.1 } && insulin.contains { $0 > 0 }, "\(insulin)")
            #expect(sim["recorded"] as? Int == 3)
            try await client.execute(uri: "/api/v1/twins/g1/events?category=prediction", method: .get, headers: .auth(alice)) { r throws in
                let items = try #require(try json(r)["items"] as? [[String: Any]])
                #expect(items.count == 3, "\(items)")
            }
        }
    }

    @Test func aTwinWithoutAModelFailsTheJob() async throws {
        let f = try await ServerFixture.make(); defer { f.remove() }
        let alice = try await f.token("alice", .admin)
        try await f.test { client in
            let location = try await client.execute(uri: "/api/v1/twins/p1/simulations", method: .post, headers: .auth(alice, Self.jsonBody),
                                                    body: body("{}")) { r throws in
                #expect(r.status == .accepted, "\(String(buffer: r.body))")
                return try #require(r.headers[.location])
            }
            let job = try await JobRouteTests.finished(client, location, alice)
            #expect(job["state"] as? String == "failed", "\(job)")
            #expect((job["error"] as? [String: Any])?["code"] as? String == "missingBinding", "\(job)")
            #expect(job["simulation"] == nil)
        }
    }

    @Test func refusesBadRequestsBeforeQueueing() async throws {
        let f = try await ServerFixture.make(); defer { f.remove() }
        try ComparisonRouteTests.glucoseTwin(f)
        let alice = try await f.token("alice", .admin)
        let bob = try await f.token("bob", .clinician)
        let mallory = try await f.token("mallory", .clinician)
        let claimsAdmin = try await f.token("bob", .admin)
        let writer = try await f.token("alice", .admin, scopes: ["user/*.cu"])
        try await f.test { client in
            for (text, field) in [
                (#"{"hours":0}"#, "hours"),
                (#"{"hours":337}"#, "hours"),
                (#"{"every":0}"#, "every"),
                (#"{"every":1441}"#, "every"),
                (#"{"hours":336,"every":1}"#, "every"),  // 20,161 points, over the cap
                (#"{"meals":"7:45,banana"}"#, "meals"),
                (#"{"hours":6,"meals":"7:45"}"#, "meals"),  // after the run
                (#"{"basalScale":-1}"#, "basalScale"),
                (#"{"bolusScale":-0.5}"#, "bolusScale"),
                (#"{"start":"yesterday-ish"}"#, "start"),
                (#"{"controller":"pid"}"#, "controller"),
                (#"{"pump":"Omnipod"}"#, "pump"),
                (#"{"integration":"euler"}"#, "integration"),
                (#"{"hours":"long"}"#, "hours"),
            ] {
                try await client.execute(uri: "/api/v1/twins/g1/simulations", method: .post, headers: .auth(alice, Self.jsonBody), body: body(text)) { r throws in
                    #expect(r.status == .badRequest, "\(text): \(String(buffer: r.body))")
                    #expect(try json(r)["field"] as? String == field, "\(text): \(String(buffer: r.body))")
                }
            }
            try await client.execute(uri: "/api/v1/twins/g%20/simulations", method: .post, headers: .auth(alice, Self.jsonBody), body: body(Self.request)) { r throws in
                #expect(r.status == .badRequest)
                #expect(try json(r)["field"] as? String == "id")
            }
            try await client.execute(uri: "/api/v1/twins/nobody/simulations", method: .post, headers: .auth(alice, Self.jsonBody), body: body(Self.request)) { r throws in
                #expect(r.status == .notFound)
                #expect(try json(r)["code"] as? String == "unknownTwin")
            }
            // the gate: a clinician simulating for research, a subject the policy does not know, a token claiming a
            // role the policy does not give its subject
            try await client.execute(uri: "/api/v1/twins/g1/simulations", method: .post,
                                     headers: .auth(bob, Self.jsonBody.merging([HTTPField.Name("X-Purpose-Of-Use")!: "research"]) { a, _ in a }),
                                     body: body(Self.request)) { r throws in
                #expect(r.status == .forbidden, "\(String(buffer: r.body))")
                #expect(try json(r)["code"] as? String == "accessDenied")
            }
            try await client.execute(uri: "/api/v1/twins/g1/simulations", method: .post, headers: .auth(mallory, Self.jsonBody), body: body(Self.request)) { r throws in
                #expect(r.status == .forbidden)
                #expect(try json(r)["code"] as? String == "accessDenied")
            }
            try await client.execute(uri: "/api/v1/twins/g1/simulations", method: .post, headers: .auth(claimsAdmin, Self.jsonBody), body: body(Self.request)) { r throws in
                #expect(r.status == .forbidden)
                #expect(try json(r)["field"] as? String == "role")
            }
            // a write-only scope may not run (a run reads the thread)
            try await client.execute(uri: "/api/v1/twins/g1/simulations", method: .post, headers: .auth(writer, Self.jsonBody), body: body(Self.request)) { r throws in
                #expect(r.status == .forbidden)
                #expect(try json(r)["code"] as? String == "insufficientScope")
            }
            try await client.execute(uri: "/api/v1/twins/g1/simulations", method: .post, headers: HTTPFields([HTTPField(name: .contentType, value: "application/json")]),
                                     body: body(Self.request)) { r throws in
                #expect(r.status == .unauthorized)
            }
            // nothing was queued
            #expect(try await JobRouteTests.ids(client, "/api/v1/jobs", alice).ids.isEmpty)
        }
    }
}
