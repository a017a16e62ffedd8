import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing
import TwinBank
import TwinBankAccess
import TwinCore
import TwinGovernance
import TwinSimulation
@testable import TwinServer

/// Prognostic twins and cardiac derivations over HTTP: `POST /api/v1/aggregates/{id}/prognostic-models` (`prognostic
/// fit`), `POST /api/v1/twins/{id}/prognoses` (`prognostic predict`), `POST /api/v1/aggregates/{id}/trial-analyses`
/// (`trial analyze`) and `POST /api/v1/twins/{id}/cardiac-derivations` (`cardiac derive`); every refusal.
@Suite(.serialized) struct PrognosticRouteTests {
    static let systolic = Concept(system: "http://loinc.org", code: "8480-6", display: "Systolic blood pressure")
    static let bmi = Concept(system: "http://loinc.org", code: "39156-5", display: "BMI")
    static let research: [HTTPField.Name: String] = [.contentType: "application/json", HTTPField.Name("X-Purpose-Of-Use")!: "research"]
    static let jsonBody: [HTTPField.Name: String] = [.contentType: "application/json"]
    static let fit = #"{"outcome":"loinc:8480-6","horizon":"365d","window":"60d","covariates":["loinc:39156-5"],"seed":3}"#

    /// As TwinRun's prognostic tests: `people` twins with systolic pressure every ~4 months for 4 years and a BMI,
    /// in aggregate `cohort`; half `arm` treated (their pressure 6 lower in the last months), half control.
    static func cohort(_ bank: Bank, people: Int) throws {
        let start = try Instant(parsing: "2018-01-01"), year = 365.25 * 86_400
        var rng = Xoshiro256StarStar(seed: 11)
        var ids: [TwinID] = []
        for i in 0..<people {
            let id = try TwinID("t\(i)")
            let age = 35 + 40 * rng.uniform(), male = rng.uniform() < 0.5, treated = i % 2 == 0
            try bank.createTwin(Twin(id: id, kind: .person, attributes: [
                "birthDate": .date(start.advanced(bySeconds: -age * year)), "gender": .text(male ? "male" : "female"),
                "arm": .text(treated ? "treated" : "control"),
            ], origin: Instant(microseconds: 0)))
            let level = 8 * rng.normal(), slope = 1 + rng.normal(), bmi0 = 27 + 4 * rng.normal()
            var drafts: [EventDraft] = []
            var t = 0.0
            while t < 4 * year {
                var sbp = 118 + 0.4 * (age - 50) + (male ? 4 : 0) + level + slope * t / year + 4 * rng.normal() + 0.3 * (bmi0 - 27)
                if treated, t / year > 3.3 { sbp -= 6 }
                let time = start.advanced(bySeconds: t)
                drafts.append(.observation(id, at: time, code: systolic, Quantity(sbp.rounded(), "mm[Hg]"), source: Source(.device, "cuff")))
                drafts.append(.observation(id, at: time, code: bmi, Quantity(bmi0 + 0.2 * rng.normal(), "kg/m2"), source: Source(.device, "scale")))
                t += (100 + 40 * rng.uniform()) * 86_400
            }
            try bank.append(drafts)
            ids.append(id)
        }
        try bank.createAggregate("cohort", members: ids)
    }

    static func post(_ client: any TestClientProtocol, _ uri: String, _ token: String, _ text: String, headers: [HTTPField.Name: String] = jsonBody,
                     _ check: @escaping @Sendable (TestResponse) throws -> Void) async throws {
        try await client.execute(uri: uri, method: .post, headers: .auth(token, headers), body: body(text)) { r throws in try check(r) }
    }

    static func predictions(_ client: any TestClientProtocol, _ token: String, _ twin: String) async throws -> Int {
        try await client.execute(uri: "/api/v1/twins/\(twin)/events?category=prediction", method: .get, headers: .auth(token)) { r throws in
            #expect(r.status == .ok, "\(String(buffer: r.body))")
            return try #require(try json(r)["items"] as? [Any]).count
        }
    }

    @Test func fitsPredictsAndAnalysesATrial() async throws {
        let f = try await ServerFixture.make(); defer { f.remove() }
        let bank = try DashboardRouteTests.bank(f)
        try Self.cohort(bank, people: 60)
        _ = try Governance(bank: bank, actor: "alice", owner: "alice").assign(Caller(id: "rita", role: .researcher))
        let alice = try await f.token("alice", .admin)
        let rita = try await f.token("rita", .researcher)
        try await f.test { client in
            // fit: stored, named by its hash, held-out figures
            let model = try await client.execute(uri: "/api/v1/aggregates/cohort/prognostic-models", method: .post, headers: .auth(alice, Self.jsonBody), body: body(Self.fit)) { r throws -> [String: Any] in
                #expect(r.status == .created, "\(String(buffer: r.body))")
                return try json(r)
            }
            let hash = try #require(model["hash"] as? String)
            #expect(hash.count == 64)
            #expect(model["outcome"] as? String == "loinc:8480-6" && model["horizonSeconds"] as? Double == 365 * 86_400, "\(model)")
            #expect(["ridge", "mixed", "boosted", "sequence"].contains(model["kind"] as? String ?? ""))
            let cohort = try #require(model["cohort"] as? [String: Any])
            #expect((cohort["members"] as? [String])?.count == 60 && (cohort["test"] as? [String])?.isEmpty == false)
            #expect((model["metrics"] as? [[String: Any]])?.contains { $0["split"] as? String == "test" } == true)
            // the same fit again is the same model
            try await Self.post(client, "/api/v1/aggregates/cohort/prognostic-models", alice, Self.fit) { r throws in
                #expect(try json(r)["hash"] as? String == hash)
            }
            // predict for a fitting person inside the ranges: written once
            let fitting = try #require(cohort["fitting"] as? [String])
            var twin: String?
            for id in fitting where twin == nil {
                let ok = try await client.execute(uri: "/api/v1/twins/\(id)/prognoses", method: .post, headers: .auth(alice, Self.jsonBody),
                                                  body: body(#"{"model":"\#(hash.prefix(12))","write":false}"#)) { r throws in r.status == .ok }
                if ok { twin = id }
            }
            let inside = try #require(twin)
            var events: [String] = []
            for _ in 0..<2 {
                let e = try await client.execute(uri: "/api/v1/twins/\(inside)/prognoses", method: .post, headers: .auth(alice, Self.jsonBody), body: body(#"{"model":"\#(hash)"}"#)) { r throws -> String in
                    #expect(r.status == .ok, "\(String(buffer: r.body))")
                    let p = try json(r)
                    #expect(p["twin"] as? String == inside && p["model"] as? String == hash && p["unit"] as? String == "mm[Hg]")
                    let (v, lo, hi) = (p["value"] as? Double ?? .nan, p["lower"] as? Double ?? .nan, p["upper"] as? Double ?? .nan)
                    #expect(lo < v && v < hi, "\(p)")
                    #expect((p["features"] as? [[String: Any]])?.isEmpty == false)
                    #expect((p["outsideTrainingRange"] as? [Any])?.isEmpty == true)
                    return try #require(p["event"] as? String)
                }
                events.append(e)
            }
            #expect(events[0] == events[1], "the same prediction, not a second")
            #expect(try await Self.predictions(client, alice, inside) == 1)
            // the trial (asked as `aggregate`; for research the members would need to have opted in: the researcher is
            // refused every member, so no arm is left)
            try await Self.post(client, "/api/v1/aggregates/cohort/trial-analyses", rita, #"{"arm":"arm","outcome":"loinc:8480-6","prognostic":"\#(hash)"}"#, headers: Self.research) { r throws in
                #expect(r.status == .unprocessableContent, "\(String(buffer: r.body))")
            }
            try await Self.post(client, "/api/v1/aggregates/cohort/trial-analyses", alice, #"{"arm":"arm","outcome":"loinc:8480-6","prognostic":"\#(hash)"}"#) { r throws in
                #expect(r.status == .ok, "\(String(buffer: r.body))")
                let j = try json(r)
                #expect(j["treatedValue"] as? String == "treated" && j["controlValue"] as? String == "control")
                let analysed = (j["treated"] as? Int ?? 0) + (j["control"] as? Int ?? 0)
                #expect(analysed + ((j["leftOut"] as? [Any])?.count ?? -1) == 60, "\(j)")
                let adjusted = try #require(j["adjusted"] as? [String: Any])
                let unadjusted = try #require(j["unadjusted"] as? [String: Any])
                #expect((adjusted["standardError"] as? Double ?? .infinity) < (unadjusted["standardError"] as? Double ?? 0), "\(j)")
            }
        }
    }

    @Test func prognosticRefusals() async throws {
        let f = try await ServerFixture.make(); defer { f.remove() }
        let bank = try DashboardRouteTests.bank(f)
        try Self.cohort(bank, people: 30)
        let alice = try await f.token("alice", .admin)
        let reader = try await f.token("alice", .admin, scopes: ["user/*.rs"])
        let bob = try await f.token("bob", .clinician)
        let hana = try await f.token("hana", .publicHealthOfficer)
        try await f.test { client in
            let hash = try await client.execute(uri: "/api/v1/aggregates/cohort/prognostic-models", method: .post, headers: .auth(alice, Self.jsonBody), body: body(Self.fit)) { r throws -> String in
                #expect(r.status == .created, "\(String(buffer: r.body))")
                return try #require(try json(r)["hash"] as? String)
            }
            let fits = "/api/v1/aggregates/cohort/prognostic-models"
            for (text, field) in [
                (#"{"outcome":"nothing","horizon":"365d"}"#, "outcome"),
                (#"{"outcome":"loinc:8480-6","horizon":"soon"}"#, "horizon"),
                (#"{"outcome":"loinc:8480-6","horizon":"-5d"}"#, "horizon"),
                (#"{"outcome":"loinc:8480-6","horizon":"365d","window":"x"}"#, "window"),
                (#"{"outcome":"loinc:8480-6","horizon":"365d","covariates":["?"]}"#, "covariates[0]"),
                (#"{"outcome":"loinc:8480-6","horizon":"365d","seed":-1}"#, "seed"),
                (#"{"horizon":"365d"}"#, "outcome"),
            ] {
                try await Self.post(client, fits, alice, text) { r throws in
                    #expect(r.status == .badRequest, "\(text): \(String(buffer: r.body))")
                    #expect(try json(r)["field"] as? String == field, "\(text): \(String(buffer: r.body))")
                }
            }
            try await Self.post(client, "/api/v1/aggregates/nowhere/prognostic-models", alice, Self.fit) { r throws in #expect(r.status == .notFound) }
            // too few people with an example: the pair p1, p2 have no pressure
            try bank.createAggregate("pair", members: ["p1", "p2"])
            try await Self.post(client, "/api/v1/aggregates/pair/prognostic-models", alice, Self.fit) { r throws in
                #expect(r.status == .unprocessableContent, "\(String(buffer: r.body))")
            }
            // predictions: a bad or unknown model, an unknown twin, a twin without the outcome, permissions
            for (text, field) in [(#"{"model":"xyz"}"#, "model"), (#"{"model":"0123456789abcdef"}"#, "model"), (#"{}"#, "model")] {
                try await Self.post(client, "/api/v1/twins/t1/prognoses", alice, text) { r throws in
                    #expect(r.status == .badRequest, "\(text): \(String(buffer: r.body))")
                    #expect(try json(r)["field"] as? String == field)
                }
            }
            try await Self.post(client, "/api/v1/twins/nobody/prognoses", alice, #"{"model":"\#(hash)"}"#) { r throws in #expect(r.status == .notFound) }
            try await Self.post(client, "/api/v1/twins/p1/prognoses", alice, #"{"model":"\#(hash)"}"#) { r throws in
                #expect(r.status == .unprocessableContent, "\(String(buffer: r.body))")
            }
            try await Self.post(client, "/api/v1/twins/t1/prognoses", reader, #"{"model":"\#(hash)"}"#) { r throws in
                #expect(r.status == .forbidden)
                #expect(try json(r)["code"] as? String == "insufficientScope")
            }
            try await Self.post(client, "/api/v1/twins/t1/prognoses", hana, #"{"model":"\#(hash)"}"#, headers: DashboardRouteTests.publicHealth.merging([.contentType: "application/json"]) { $1 }) { r throws in
                #expect(r.status == .forbidden, "\(String(buffer: r.body))")
            }
            #expect(try await Self.predictions(client, alice, "t1") == 0, "nothing written")
            // fitting: the clinician has no `aggregate`; a read scope cannot store a model
            try await Self.post(client, fits, bob, Self.fit) { r throws in #expect(r.status == .forbidden, "\(String(buffer: r.body))") }
            try await Self.post(client, fits, reader, Self.fit) { r throws in #expect(r.status == .forbidden) }
            // trials: the outcome must be the model's; the arm must take two values; unknown model; permissions
            let trials = "/api/v1/aggregates/cohort/trial-analyses"
            for (text, status, field) in [
                (#"{"arm":"arm","outcome":"loinc:39156-5","prognostic":"\#(hash)"}"#, HTTPResponse.Status.badRequest, "outcome"),
                (#"{"arm":"arm","outcome":"loinc:8480-6","prognostic":"0123456789abcdef"}"#, .badRequest, "prognostic"),
                (#"{"arm":" ","outcome":"loinc:8480-6","prognostic":"\#(hash)"}"#, .badRequest, "arm"),
                (#"{"arm":"gender","outcome":"loinc:8480-6","prognostic":"\#(hash)"}"#, .unprocessableContent, nil),
                (#"{"arm":"arm","treated":"nobody","outcome":"loinc:8480-6","prognostic":"\#(hash)"}"#, .unprocessableContent, nil),
            ] as [(String, HTTPResponse.Status, String?)] {
                try await Self.post(client, trials, alice, text) { r throws in
                    #expect(r.status == status, "\(text): \(String(buffer: r.body))")
                    #expect(try json(r)["field"] as? String == field, "\(text): \(String(buffer: r.body))")
                }
            }
            try await Self.post(client, "/api/v1/aggregates/nowhere/trial-analyses", alice, #"{"arm":"arm","outcome":"loinc:8480-6","prognostic":"\#(hash)"}"#) { r throws in
                #expect(r.status == .notFound)
            }
            try await Self.post(client, trials, bob, #"{"arm":"arm","outcome":"loinc:8480-6","prognostic":"\#(hash)"}"#) { r throws in #expect(r.status == .forbidden) }
            try await client.execute(uri: trials, method: .post, headers: HTTPFields([HTTPField(name: .contentType, value: "application/json")]),
                                     body: body(#"{"arm":"arm","outcome":"loinc:8480-6","prognostic":"\#(hash)"}"#)) { r throws in
                #expect(r.status == .unauthorized)
            }
        }
    }

    /// A synthetic ECG at `rate` Hz (as TwinRun's tests): a narrow R wave on each beat, a T wave 250 ms after it, a drift.
    static func strip(beats: [Int], samples: Int, rate: Double) -> [Double] {
        var x = (0..<samples).map { 0.2 * sin(2 * Double.pi * 0.3 * Double($0) / rate) }
        for b in beats {
            for k in -15...15 where b + k >= 0 && b + k < samples { x[b + k] += exp(-pow(Double(k) / rate / 0.008, 2)) }
            let t = b + Int(0.25 * rate)
            for k in -40...40 where t + k >= 0 && t + k < samples { x[t + k] += 0.3 * exp(-pow(Double(k) / rate / 0.04, 2)) }
        }
        return x
    }

    @Test func derivesTheCardiacDataOnce() async throws {
        let f = try await ServerFixture.make(); defer { f.remove() }
        let bank = try DashboardRouteTests.bank(f)
        let t0 = try Instant(parsing: "2026-03-01T08:00:00Z")
        try bank.createTwin(Twin(id: "heart", kind: .person, origin: Instant(microseconds: 0)))
        // 30 s at 250 Hz, 75 beats a minute (intervals 800, 840, 760 ms); and a 2 s strip, too short
        var beatList: [Int] = [120]
        while true { let next = beatList.last! + [200, 210, 190][beatList.count % 3]; if next >= 7450 { break }; beatList.append(next) }
        let beats = beatList
        let values = Self.strip(beats: beats, samples: 7500, rate: 250)
        let lead = Concept(system: "urn:oid:2.16.840.1.113883.6.24", code: "131329", display: "MDC_ECG_ELEC_POTL_I")
        try bank.append([
            EventDraft(twin: "heart", effective: EffectiveTime(t0, end: t0.advanced(bySeconds: 30)), category: .observation, code: lead,
                       value: .vector(Vector(values, unit: "mV")), source: Source(.device, "holter-1")),
            EventDraft(twin: "heart", effective: EffectiveTime(t0.advanced(bySeconds: 60), end: t0.advanced(bySeconds: 62)), category: .observation,
                       code: lead, value: .vector(Vector(Array(values.prefix(500)), unit: "mV")), source: Source(.device, "holter-1")),
        ])
        let alice = try await f.token("alice", .admin)
        let bob = try await f.token("bob", .clinician)
        let reader = try await f.token("bob", .clinician, scopes: ["user/*.rs"])
        let uri = "/api/v1/twins/heart/cardiac-derivations"
        try await f.test { client in
            for (token, appended) in [(bob, 3), (alice, 0)] {
                try await Self.post(client, uri, token, "{}") { r throws in
                    #expect(r.status == .ok, "\(String(buffer: r.body))")
                    let j = try json(r)
                    let ecg = try #require(j["ecg"] as? [String: Any])
                    let derived = try #require(ecg["derived"] as? [[String: Any]])
                    #expect(derived.count == 1)
                    #expect(derived.first?["beats"] as? Int == beats.count)
                    #expect(abs((derived.first?["heartRate"] as? Double ?? 0) - 75) < 0.5, "\(derived)")
                    #expect((derived.first?["appended"] as? [Any])?.count == appended)
                    #expect((ecg["skipped"] as? [[String: Any]])?.count == 1, "the 2 s strip")
                    #expect(((j["arterialPressure"] as? [String: Any])?["derived"] as? [Any])?.isEmpty == true)
                }
            }
            try await client.execute(uri: "/api/v1/twins/heart/events?code=loinc:8867-4", method: .get, headers: .auth(alice)) { r throws in
                #expect((try json(r)["items"] as? [Any])?.count == 1, "\(String(buffer: r.body))")
            }
            for (text, field) in [(#"{"code":"?"}"#, "code"), (#"{"from":"someday"}"#, "from"), (#"{"to":"someday"}"#, "to")] {
                try await Self.post(client, uri, alice, text) { r throws in
                    #expect(r.status == .badRequest, "\(text): \(String(buffer: r.body))")
                    #expect(try json(r)["field"] as? String == field)
                }
            }
            try await Self.post(client, "/api/v1/twins/nobody/cardiac-derivations", alice, "{}") { r throws in #expect(r.status == .notFound) }
            try await Self.post(client, uri, reader, "{}") { r throws in #expect(r.status == .forbidden) }
            try await Self.post(client, uri, bob, "{}", headers: Self.research) { r throws in #expect(r.status == .forbidden) }
            try await client.execute(uri: uri, method: .post, headers: HTTPFields([HTTPField(name: .contentType, value: "application/json")]), body: body("{}")) { r throws in
                #expect(r.status == .unauthorized)
            }
        }
    }
}
