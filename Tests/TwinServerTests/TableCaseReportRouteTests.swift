import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing
import TwinBank
import TwinCore
import TwinPopulation
@testable import TwinServer

/// `POST /api/v1/case-reports`: a table of counts in the body released with small counts suppressed (`twinbank report
/// cases --table FILE.csv`), as rows or as the command's CSV; every refusal.
@Suite struct TableCaseReportRouteTests {
    static let headers: [HTTPField.Name: String] = [.contentType: "application/json", HTTPField.Name("X-Purpose-Of-Use")!: "public-health"]
    static let csv = "group,2026-W09,2026-W10\nwest,12,3\neast,7,9\nnorth,20,15\n"
    static let rows = #"{"columns":["2026-W09","2026-W10"],"rows":[{"label":"west","counts":[12,3]},{"label":"east","counts":[7,9]},{"label":"north","counts":[20,15]}]}"#

    static func post(_ client: any TestClientProtocol, _ token: String, query: String = "", _ text: String, headers: [HTTPField.Name: String] = headers,
                     _ check: @escaping @Sendable (TestResponse) throws -> Void) async throws {
        try await client.execute(uri: "/api/v1/case-reports" + query, method: .post, headers: .auth(token, headers), body: body(text)) { r throws in try check(r) }
    }

    @Test func releasesATableAsTheCommandDoes() async throws {
        let f = try await ServerFixture.make(); defer { f.remove() }
        _ = try DashboardRouteTests.bank(f)
        let hana = try await f.token("hana", .publicHealthOfficer, scopes: ["user/*.rs"])
        // the command's release of the same table
        let released = try CaseReporting.release(try CaseReporting.table(csv: Self.csv), minimumCount: 5)
        let csvBody = String(decoding: try JSONSerialization.data(withJSONObject: ["tableCSV": Self.csv]), as: UTF8.self)
        try await f.test { client in
            for text in [Self.rows, csvBody] {
                try await Self.post(client, hana, text) { r throws in
                    #expect(r.status == .ok, "\(String(buffer: r.body))")
                    let j = try json(r)
                    #expect(j["minCount"] as? Int == 5 && j["columns"] as? [String] == ["2026-W09", "2026-W10"])
                    let rows = try #require(j["rows"] as? [[String: Any]])
                    #expect(rows.compactMap { $0["label"] as? String } == released.rowLabels)
                    for (i, row) in rows.enumerated() {
                        let cells = try #require(row["cells"] as? [[String: Any]])
                        #expect(cells.map { $0["count"] as? Int } == released.cells[i], "\(row)")
                        #expect(cells.map { $0["suppressed"] as? Bool } == released.cells[i].map { $0 == nil })
                        #expect((row["total"] as? [String: Any])?["count"] as? Int == released.rowTotals[i])
                    }
                    #expect((j["columnTotals"] as? [[String: Any]])?.map { $0["count"] as? Int } == released.columnTotals)
                    #expect((j["total"] as? [String: Any])?["count"] as? Int == released.total)
                    #expect(j["suppressed"] as? Int == released.primaryCount + released.complementaryCount)
                    #expect((j["suppressed"] as? Int ?? 0) >= 2, "west's 3 and one more")
                }
            }
            // minCount 1 suppresses nothing
            try await Self.post(client, hana, query: "?minCount=1", Self.rows) { r throws in
                let j = try json(r)
                #expect(j["suppressed"] as? Int == 0 && (j["total"] as? [String: Any])?["count"] as? Int == 66, "\(j)")
            }
        }
    }

    @Test func refusals() async throws {
        let f = try await ServerFixture.make(); defer { f.remove() }
        _ = try DashboardRouteTests.bank(f)
        let hana = try await f.token("hana", .publicHealthOfficer, scopes: ["user/*.rs"])
        let writer = try await f.token("hana", .publicHealthOfficer, scopes: ["user/*.c"])
        let bob = try await f.token("bob", .clinician)
        try await f.test { client in
            for (query, text, field, says) in [
                ("", #"{"columns":["w"],"tableCSV":"g,w\na,1"}"#, "columns", "header"),
                ("", #"{"tableCSV":"g,w\na,1","rows":[{"label":"a","counts":[1]}]}"#, "rows", "one of the two"),
                ("", "{}", "rows", "one of the two"),
                ("", #"{"columns":["w","v"],"rows":[{"label":"a","counts":[1]}]}"#, "rows", "rows of 2 counts"),
                ("", #"{"columns":["w"],"rows":[{"label":"a","counts":[-1]}]}"#, "rows", "at least 0"),
                ("", #"{"rows":[{"label":"a","counts":[1]}]}"#, "rows", "at least one row and one column"),
                ("", #"{"tableCSV":"g,w\na,1,2"}"#, "tableCSV", "line 2"),
                ("", #"{"tableCSV":"g,w\na,x"}"#, "tableCSV", "'x'"),
                ("", #"{"tableCSV":"g,w\n"}"#, "tableCSV", "no rows"),
                ("?minCount=0", Self.rows, "minCount", "1 or more"),
            ] {
                try await Self.post(client, hana, query: query, text) { r throws in
                    #expect(r.status == .badRequest, "\(says): \(String(buffer: r.body))")
                    let j = try json(r)
                    #expect(j["field"] as? String == field, "\(says): \(j)")
                    #expect((j["message"] as? String)?.contains(says) == true, "\(says): \(j)")
                }
            }
            try await Self.post(client, bob, Self.rows, headers: [.contentType: "application/json"]) { r throws in
                #expect(r.status == .forbidden, "\(String(buffer: r.body))")
                #expect(try json(r)["code"] as? String == "accessDenied")
            }
            try await Self.post(client, writer, Self.rows) { r throws in
                #expect(r.status == .forbidden)
                #expect(try json(r)["code"] as? String == "insufficientScope")
            }
            try await client.execute(uri: "/api/v1/case-reports", method: .post, headers: HTTPFields([HTTPField(name: .contentType, value: "application/json")]),
                                     body: body(Self.rows)) { r throws in
                #expect(r.status == .unauthorized)
            }
        }
    }
}
