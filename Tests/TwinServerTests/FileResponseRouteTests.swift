import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing
import TwinBank
import TwinCore
@testable import TwinServer

/// The files the commands write, answered by the routes that compute them when `Accept` asks for them: the region
/// risk map's SVG choropleth (`twinbank risk --map FILE.svg`), the case reports' CSV (`report cases --out FILE.csv`).
@Suite struct FileResponseRouteTests {
    /// The elements of an XML document (it must parse), each `path` with the text of its `title`.
    final class Elements: NSObject, XMLParserDelegate {
        var names: [String] = []
        var pathTitles: [String] = []
        private var inPath = false, title = ""
        func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?, attributes: [String: String] = [:]) {
            names.append(name)
            if name == "path" { inPath = true; title = "" }
        }
        func parser(_ parser: XMLParser, foundCharacters string: String) { if inPath { title += string } }
        func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
            if name == "path" { inPath = false; pathTitles.append(title) }
        }
        static func parse(_ text: String) throws -> Elements {
            let e = Elements()
            let parser = XMLParser(data: Data(text.utf8))
            parser.delegate = e
            #expect(parser.parse(), "not well-formed XML: \(String(describing: parser.parserError))")
            return e
        }
    }

    static func lines(_ r: TestResponse) -> [String] { String(buffer: r.body).split(separator: "\n").map(String.init) }

    @Test func theRegionRiskMapAsSVG() async throws {
        let f = try await ServerFixture.make(); defer { f.remove() }
        try DashboardRouteTests.people(try DashboardRouteTests.bank(f))
        let hana = try await f.token("hana", .publicHealthOfficer, scopes: ["user/*.rs"])
        try await f.test { client in
            for accept in ["image/svg+xml", "application/json;q=0.5, image/svg+xml"] {
                var headers = HTTPFields.auth(hana, DashboardRouteTests.publicHealth)
                headers[.contentType] = "application/geo+json"
                headers[.accept] = accept
                try await client.execute(uri: "/api/v1/aggregates/town/risk-map?nameProperty=label", method: .post, headers: headers,
                                         body: body(RegionRiskMapRouteTests.regions)) { r throws in
                    #expect(r.status == .ok, "\(String(buffer: r.body))")
                    #expect(r.headers[.contentType]?.hasPrefix("image/svg+xml") == true, "\(r.headers)")
                    let svg = try Elements.parse(String(buffer: r.body))
                    #expect(svg.names.first == "svg")
                    #expect(svg.names.filter { $0 == "path" }.count == 3, "one path per region")
                    #expect(svg.pathTitles.map { String($0.prefix { $0 != ":" }) } == ["west", "east", "far"], "\(svg.pathTitles)")
                    #expect(svg.pathTitles[2] == "far: no data")
                }
            }
            // JSON when JSON is preferred, or nothing is asked
            for accept in ["application/json, image/svg+xml;q=0.9", "*/*"] {
                var headers = HTTPFields.auth(hana, DashboardRouteTests.publicHealth)
                headers[.contentType] = "application/geo+json"
                headers[.accept] = accept
                try await client.execute(uri: "/api/v1/aggregates/town/risk-map", method: .post, headers: headers, body: body(RegionRiskMapRouteTests.regions)) { r throws in
                    #expect(r.status == .ok)
                    #expect(try json(r)["type"] as? String == "FeatureCollection")
                }
            }
            // errors stay JSON
            var headers = HTTPFields.auth(hana, DashboardRouteTests.publicHealth)
            headers[.contentType] = "application/geo+json"
            headers[.accept] = "image/svg+xml"
            try await client.execute(uri: "/api/v1/aggregates/nothing/risk-map", method: .post, headers: headers, body: body(RegionRiskMapRouteTests.regions)) { r throws in
                #expect(r.status == .notFound)
            }
        }
    }

    @Test func theCaseReportsAsCSV() async throws {
        let f = try await ServerFixture.make(); defer { f.remove() }
        try DashboardRouteTests.people(try DashboardRouteTests.bank(f))
        let hana = try await f.token("hana", .publicHealthOfficer)
        let csv: [HTTPField.Name: String] = [.accept: "text/csv", HTTPField.Name("X-Purpose-Of-Use")!: "public-health"]
        try await f.test { client in
            // by age: a header, nine bands, a total line
            try await client.execute(uri: "/api/v1/aggregates/town/case-report?minCount=1&ageBands=0,50,60,70", method: .get, headers: .auth(hana, csv)) { r throws in
                #expect(r.status == .ok, "\(String(buffer: r.body))")
                #expect(r.headers[.contentType]?.hasPrefix("text/csv") == true)
                let lines = Self.lines(r)
                #expect(lines.count == 6, "\(lines)")
                #expect(lines.first?.hasPrefix("age,") == true && lines.first?.hasSuffix(",total") == true)
                #expect(lines.dropFirst().map { String($0.prefix { $0 != "," }) } == ["0-49", "50-59", "60-69", "70+", "total"])
                #expect(lines[2].hasSuffix(",1") && lines[3].hasSuffix(",1") && lines[5].hasSuffix(",2"), "\(lines)")
            }
            // by region
            var headers = HTTPFields.auth(hana, csv)
            headers[.contentType] = "application/geo+json"
            try await client.execute(uri: "/api/v1/aggregates/town/case-report?nameProperty=label&minCount=1", method: .post, headers: headers,
                                     body: body(RegionRiskMapRouteTests.regions)) { r throws in
                #expect(r.status == .ok, "\(String(buffer: r.body))")
                let lines = Self.lines(r)
                #expect(lines.first?.hasPrefix("region,") == true, "\(lines)")
                #expect(lines.contains { $0.hasPrefix("west,") && $0.hasSuffix(",2") }, "\(lines)")
                #expect(lines.last?.hasPrefix("total,") == true)
            }
            // a table: small counts suppressed by the word
            var table = HTTPFields.auth(hana, csv)
            table[.contentType] = "application/json"
            try await client.execute(uri: "/api/v1/case-reports", method: .post, headers: table, body: body(TableCaseReportRouteTests.rows)) { r throws in
                #expect(r.status == .ok, "\(String(buffer: r.body))")
                let lines = Self.lines(r)
                #expect(lines.first == "group,2026-W09,2026-W10,total", "\(lines)")
                #expect(lines.count == 5 && lines.dropFirst().map { String($0.prefix { $0 != "," }) } == ["west", "east", "north", "total"])
                #expect(lines[1].contains("suppressed"), "3 is below 5: \(lines)")
            }
            // errors stay JSON
            try await client.execute(uri: "/api/v1/aggregates/town/case-report?minCount=0", method: .get, headers: .auth(hana, csv)) { r throws in
                #expect(r.status == .badRequest)
                #expect(try json(r)["field"] as? String == "minCount")
            }
        }
    }
}
