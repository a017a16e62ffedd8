import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing
import TwinBank
import TwinCore
@testable import TwinServer

/// An outbreak simulation as a job (`POST /api/v1/outbreaks`, `twinbank outbreak --json`): 202, then the command's
/// report with its progress per run; bounded settings and the gate's refusals before the job is queued.
@Suite struct OutbreakRouteTests {
    static let jsonBody: [HTTPField.Name: String] = [.contentType: "application/json"]
    static let publicHealth: [HTTPField.Name: String] = [.contentType: "application/json", HTTPField.Name("X-Purpose-Of-Use")!: "public-health"]

    @Test func simulatesAnOutbreakAsAJob() async throws {
        let f = try await ServerFixture.make(); defer { f.remove() }
        let alice = try await f.token("alice", .admin)
        try await f.test { client in
            let location = try await client.execute(uri: "/api/v1/outbreaks", method: .post, headers: .auth(alice, Self.jsonBody),
                                                    body: body(#"{"agents":2000,"days":30,"runs":3,"seed":7,"scenario":{"beta":0.02,"initialInfections":10}}"#)) { r throws in
                #expect(r.status == .accepted, "\(String(buffer: r.body))")
                #expect(try json(r)["kind"] as? String == "outbreak")
                return try #require(r.headers[.location])
            }
            let job = try await JobRouteTests.finished(client, location, alice)
            #expect(job["state"] as? String == "succeeded", "\(job)")
            #expect(job["progress"] as? Double == 1)
            #expect(job["result"] == nil)
            let report = try #require(job["outbreak"] as? [String: Any], "\(job)")
            #expect(report["agents"] as? Int == 2000)
            #expect(report["days"] as? Int == 30)
            #expect(report["seed"] as? Int == 7)
            #expect(report["runs"] as? [Int] == [0, 1, 2])
            #expect((report["run_headlines"] as? [Any])?.count == 3)
            let daily = try #require(report["daily"] as? [String: Any])
            #expect((daily["day"] as? [Int])?.count == 31)
            let headline = try #require(report["headline"] as? [String: Any])
            #expect((headline["attack_rate"] as? [String: Any])?["median"] as? Double != nil, "\(headline)")
        }
    }

    @Test func refusesSettingsBeyondTheCapsAndCallersTheGateRefuses() async throws {
        let f = try await ServerFixture.make(); defer { f.remove() }
        let alice = try await f.token("alice", .admin)
        let bob = try await f.token("bob", .clinician)
        let writer = try await f.token("alice", .admin, scopes: ["user/*.c"])
        try await f.test { client in
            for (text, field) in [
                (#"{"agents":100001}"#, "agents"), (#"{"agents":0}"#, "agents"),
                (#"{"days":366}"#, "days"), (#"{"days":0}"#, "days"),
                (#"{"runs":21}"#, "runs"), (#"{"runs":0}"#, "runs"),
                (#"{"seed":-1}"#, "seed"),
                (#"{"scenario":{"beta":-1}}"#, "scenario"),
                (#"{"scenario":{"no such setting":1}}"#, "scenario"),
                (#"{"agents":"many"}"#, "agents"),
            ] {
                try await client.execute(uri: "/api/v1/outbreaks", method: .post, headers: .auth(alice, Self.jsonBody), body: body(text)) { r throws in
                    #expect(r.status == .badRequest, "\(text): \(String(buffer: r.body))")
                    #expect(try json(r)["field"] as? String == field, "\(text): \(String(buffer: r.body))")
                }
            }
            // a clinician (the default policy gives `aggregate` to public health, research and the admin); a token
            // that may not read; no token
            try await client.execute(uri: "/api/v1/outbreaks", method: .post, headers: .auth(bob, Self.jsonBody), body: body("{}")) { r throws in
                #expect(r.status == .forbidden, "\(String(buffer: r.body))")
                #expect(try json(r)["code"] as? String == "accessDenied")
            }
            try await client.execute(uri: "/api/v1/outbreaks", method: .post, headers: .auth(writer, Self.jsonBody), body: body("{}")) { r throws in
                #expect(r.status == .forbidden)
                #expect(try json(r)["code"] as? String == "insufficientScope")
            }
            try await client.execute(uri: "/api/v1/outbreaks", method: .post, headers: HTTPFields([HTTPField(name: .contentType, value: "application/json")]),
                                     body: body("{}")) { r throws in
                #expect(r.status == .unauthorized)
            }
            #expect(try await JobRouteTests.ids(client, "/api/v1/jobs", alice).ids.isEmpty)
        }
    }
}
