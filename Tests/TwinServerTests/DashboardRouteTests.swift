import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing
import TwinBank
import TwinBankAccess
import TwinCore
import TwinGovernance
import TwinRun
import TwinServer

/// The routes behind the dashboard's comparison, aggregate and map pages: a twin's latest in-silico comparison
/// (read), an aggregate's distributions and its risk map on a grid (aggregate), each refused without the right
/// token, scope or role.
@Suite struct DashboardRouteTests {
    static let publicHealth: [HTTPField.Name: String] = [HTTPField.Name("X-Purpose-Of-Use")!: "public-health"]
    static let day = try! Instant(parsing: "2026-02-01T00:00:00Z")

    /// The fixture's bank opened beside the server, ungoverned (as its maker), with hana a public-health officer.
    static func bank(_ f: ServerFixture) throws -> Bank {
        let bank = Bank(storage: try BankLocation(f.path).open(create: false).storage, actor: "alice")
        _ = try Governance(bank: bank, actor: "alice", owner: "alice").assign(Caller(id: "hana", role: .publicHealthOfficer))
        return bank
    }

    /// Four people around one place (d4 has no location): birth dates, sex, two glucose readings each (the latest
    /// 100, 110, 120, 130 mg/dL), d1 and d2 confirmed cases; the aggregate `town` of all four, and `pair` (p1, p2:
    /// no location).
    static func people(_ bank: Bank) throws {
        let places: [(Double, Double)?] = [(51.5000, -0.1200), (51.5004, -0.1203), (51.5100, -0.1000), nil]
        for (k, place) in places.enumerated() {
            var attributes: [String: Value] = ["birthDate": .date(try Instant(parsing: "19\(60 + 10 * k)-06-01")),
                                               "sex": .text(k == 3 ? "male" : "female"), "weight": .quantity(Quantity(Double(60 + 5 * k), "kg"))]
            if let (lat, lon) = place { attributes["home_lat"] = .quantity(Quantity(lat, "deg")); attributes["home_lon"] = .quantity(Quantity(lon, "deg")) }
            let id = try TwinID("d\(k + 1)")
            try bank.createTwin(Twin(id: id, kind: .person, attributes: attributes, origin: Instant(microseconds: 0)))
            try bank.append([
                .observation(id, at: day, code: ServerFixture.glucose, Quantity(90, "mg/dL"), source: Source(.device, "cgm")),
                .observation(id, at: day.advanced(bySeconds: 3600), code: ServerFixture.glucose, Quantity(Double(100 + 10 * k), "mg/dL"), source: Source(.device, "cgm")),
            ])
        }
        let confirmed = Concept(system: "urn:twinbank:local", code: "case.confirmed", display: "confirmed case")
        try bank.append(["d1", "d2"].map { EventDraft(twin: $0, effective: EffectiveTime(day.advanced(bySeconds: 7200)), category: .observation,
                                                          code: confirmed, value: .boolean(true), source: Source(.record, "lab")) })
        try bank.createAggregate("town", members: ["d1", "d2", "d3", "d4"])
        try bank.createAggregate("pair", members: ["p1", "p2"])
    }

    @Test func servesATwinsLatestComparison() async throws {
        let f = try await ServerFixture.make(); defer { f.remove() }
        let bank = try Self.bank(f)
        // a glucose twin bound to a virtual patient with three meals, compared over 6 hours on 2 plausible patients
        try bank.createTwin(Twin(id: "g1", kind: .person, attributes: ["virtualPatient": .text("adult#001")], origin: Instant(microseconds: 0)))
        try bank.append([(7.0, 45.0), (12.0, 70.0)].map { h, g in
            EventDraft(twin: "g1", effective: EffectiveTime(Self.day.advanced(bySeconds: h * 3600)), category: .intervention,
                       code: GlucoseTwin.carbohydrateIntake, value: .quantity(Quantity(g, "g")), source: Source(.person, "g1"))
        })
        let compared = try await InSilicoComparison.compare("g1", in: bank, options: [.init(name: "usual"), try .init(parsing: "cautious-bolus=bolus=0.8")],
                                                            start: Self.day.advanced(bySeconds: 6 * 3600), hours: 6, ensemble: 2, seed: 3)
        let bob = try await f.token("bob", .clinician, scopes: ["user/*.rs"])
        let writer = try await f.token("bob", .clinician, scopes: ["user/*.c"])
        let mallory = try await f.token("mallory", .clinician)
        try await f.test { client in
            try await client.execute(uri: "/api/v1/twins/g1/comparisons/latest", method: .get, headers: .auth(bob)) { r throws in
                #expect(r.status == .ok, "\(String(buffer: r.body))")
                let j = try json(r)
                #expect(j["twin"] as? String == "g1")
                #expect(j["effective"] as? String == "2026-02-01T06:00:00Z")
                let options = try #require(j["options"] as? [[String: Any]])
                #expect(options.compactMap { $0["rank"] as? Int } == [1, 2])
                for o in compared.options {
                    let served = try #require(options.first { $0["name"] as? String == o.name }, "option \(o.name) missing")
                    #expect(served["rank"] as? Int == o.rank)
                    #expect(served["fork"] as? String == o.fork.rawValue)
                    #expect((served["figures"] as? String)?.hasPrefix("time in range ") == true, "\(served)")
                }
            }
            // a twin with no comparison, an unknown twin
            try await client.execute(uri: "/api/v1/twins/p1/comparisons/latest", method: .get, headers: .auth(bob)) { r throws in
                #expect(r.status == .notFound)
                #expect(try json(r)["code"] as? String == "notFound")
            }
            try await client.execute(uri: "/api/v1/twins/nobody/comparisons/latest", method: .get, headers: .auth(bob)) { r throws in
                #expect(r.status == .notFound)
                #expect(try json(r)["code"] as? String == "unknownTwin")
            }
            // refused: a token that may not read, a subject the policy does not know, no token
            try await client.execute(uri: "/api/v1/twins/g1/comparisons/latest", method: .get, headers: .auth(writer)) { r throws in
                #expect(r.status == .forbidden)
                #expect(try json(r)["code"] as? String == "insufficientScope")
            }
            try await client.execute(uri: "/api/v1/twins/g1/comparisons/latest", method: .get, headers: .auth(mallory)) { r throws in
                #expect(r.status == .forbidden)
                #expect(try json(r)["code"] as? String == "accessDenied")
            }
            try await client.execute(uri: "/api/v1/twins/g1/comparisons/latest", method: .get) { r throws in #expect(r.status == .unauthorized) }
        }
    }

    @Test func servesAnAggregatesDistributions() async throws {
        let f = try await ServerFixture.make(); defer { f.remove() }
        let bank = try Self.bank(f)
        try Self.people(bank)
        let hana = try await f.token("hana", .publicHealthOfficer, scopes: ["user/*.rs"])
        let hanaAsAdmin = try await f.token("hana", .admin)
        let bob = try await f.token("bob", .clinician)
        try await f.test { client in
            try await client.execute(uri: "/api/v1/aggregates/town/distribution", method: .get, headers: .auth(hana, Self.publicHealth)) { r throws in
                #expect(r.status == .ok, "\(String(buffer: r.body))")
                let j = try json(r)
                #expect(j["members"] as? Int == 4 && j["refused"] as? Int == 0)
                // the most held numeric code by default; each member's latest value counted once
                #expect(j["code"] as? String == "http://loinc.org|2339-0")
                let values = try #require(j["values"] as? [String: Any])
                #expect(values["count"] as? Int == 4 && values["unit"] as? String == "mg/dL")
                #expect(values["minimum"] as? Double == 100 && values["maximum"] as? Double == 130 && values["mean"] as? Double == 115)
                let bins = try #require(values["bins"] as? [[String: Any]])
                #expect(bins.compactMap { $0["count"] as? Int }.reduce(0, +) == 4)
                let attributes = try #require(j["attributes"] as? [[String: Any]])
                #expect(attributes.compactMap { $0["name"] as? String } == ["age", "weight"])
                #expect(attributes.first?["count"] as? Int == 4)
                let sex = try #require((j["categories"] as? [[String: Any]])?.first { $0["name"] as? String == "sex" })
                #expect((sex["counts"] as? [[String: Any]])?.compactMap { $0["value"] as? String } == ["female", "male"])
                #expect((sex["counts"] as? [[String: Any]])?.compactMap { $0["count"] as? Int } == [3, 1])
                // where people live is a map's, not a histogram's
                #expect(!attributes.contains { ($0["name"] as? String)?.hasPrefix("home_") == true })
            }
            try await client.execute(uri: "/api/v1/aggregates/town/distribution?code=loinc:2339-0&bins=2", method: .get, headers: .auth(hana, Self.publicHealth)) { r throws in
                #expect(r.status == .ok, "\(String(buffer: r.body))")
                #expect(((try json(r)["values"] as? [String: Any])?["bins"] as? [Any])?.count ?? 0 <= 3)
            }
            try await client.execute(uri: "/api/v1/aggregates/town/distribution?bins=0", method: .get, headers: .auth(hana, Self.publicHealth)) { r throws in
                #expect(r.status == .badRequest)
                #expect(try json(r)["field"] as? String == "bins")
            }
            try await client.execute(uri: "/api/v1/aggregates/town/distribution?code=no%20code", method: .get, headers: .auth(hana, Self.publicHealth)) { r throws in
                #expect(r.status == .badRequest)
                #expect(try json(r)["field"] as? String == "code")
            }
            try await client.execute(uri: "/api/v1/aggregates/nothing/distribution", method: .get, headers: .auth(hana, Self.publicHealth)) { r throws in
                #expect(r.status == .notFound)
                #expect(try json(r)["code"] as? String == "unknownAggregate")
            }
            // refused: a clinician may not compute over an aggregate; a token claiming another role than the policy's
            try await client.execute(uri: "/api/v1/aggregates/town/distribution", method: .get, headers: .auth(bob)) { r throws in
                #expect(r.status == .forbidden)
                #expect(try json(r)["code"] as? String == "accessDenied")
            }
            try await client.execute(uri: "/api/v1/aggregates/town/distribution", method: .get, headers: .auth(hanaAsAdmin, Self.publicHealth)) { r throws in
                #expect(r.status == .forbidden)
                #expect(try json(r)["field"] as? String == "role")
            }
            try await client.execute(uri: "/api/v1/aggregates/town/distribution", method: .get) { r throws in #expect(r.status == .unauthorized) }
        }
    }

    @Test func servesAnAggregatesRiskMap() async throws {
        let f = try await ServerFixture.make(); defer { f.remove() }
        let bank = try Self.bank(f)
        try Self.people(bank)
        let hana = try await f.token("hana", .publicHealthOfficer, scopes: ["user/*.rs"])
        let bob = try await f.token("bob", .clinician)
        let map = "/api/v1/aggregates/town/risk-map"
        try await f.test { client in
            try await client.execute(uri: map + "?grid=500m", method: .get, headers: .auth(hana, Self.publicHealth)) { r throws in
                #expect(r.status == .ok, "\(String(buffer: r.body))")
                let j = try json(r)
                #expect(j["type"] as? String == "FeatureCollection" && j["grid"] as? String == "500")
                #expect(j["located"] as? Int == 3 && j["unlocated"] as? Int == 1)
                #expect(j["date"] as? String == "2026-02-01")
                let features = try #require(j["features"] as? [[String: Any]])
                // only cells where someone lives; d1 and d2 share one
                #expect(features.count == 2, "\(features)")
                let properties = features.compactMap { $0["properties"] as? [String: Any] }
                #expect(properties.compactMap { $0["population"] as? Int }.sorted() == [1, 2])
                #expect(properties.compactMap { $0["cases7d"] as? Int }.reduce(0, +) == 2)
                for feature in features {
                    let geometry = try #require(feature["geometry"] as? [String: Any])
                    #expect(geometry["type"] as? String == "Polygon")
                    #expect(((geometry["coordinates"] as? [[[Double]]])?.first?.count) == 5, "a cell is a closed ring of 4 corners")
                }
            }
            // no one located: an empty map that says so
            try await client.execute(uri: "/api/v1/aggregates/pair/risk-map", method: .get, headers: .auth(hana, Self.publicHealth)) { r throws in
                #expect(r.status == .ok, "\(String(buffer: r.body))")
                let j = try json(r)
                #expect(j["located"] as? Int == 0 && j["unlocated"] as? Int == 2 && (j["features"] as? [Any])?.isEmpty == true)
                #expect(j["date"] == nil)
            }
            for (query, field) in [("grid=wide", "grid"), ("grid=1m", "grid"), ("date=2025-01-01", "date"), ("date=someday", "date")] {
                try await client.execute(uri: map + "?" + query, method: .get, headers: .auth(hana, Self.publicHealth)) { r throws in
                    #expect(r.status == .badRequest, "\(query): \(String(buffer: r.body))")
                    #expect(try json(r)["field"] as? String == field, "\(query)")
                }
            }
            try await client.execute(uri: "/api/v1/aggregates/nothing/risk-map", method: .get, headers: .auth(hana, Self.publicHealth)) { r throws in
                #expect(r.status == .notFound)
            }
            try await client.execute(uri: map, method: .get, headers: .auth(bob)) { r throws in
                #expect(r.status == .forbidden)
                #expect(try json(r)["code"] as? String == "accessDenied")
            }
            try await client.execute(uri: map, method: .get) { r throws in #expect(r.status == .unauthorized) }
        }
    }
}
