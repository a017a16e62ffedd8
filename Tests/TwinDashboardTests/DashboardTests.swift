import Foundation
import Testing
import TwinDashboard

@Suite struct DashboardTests {
    @Test func theRootIsThePage() throws {
        let index = try #require(Dashboard.asset(at: "/"))
        #expect(index.path == "index.html")
        #expect(index.contentType == "text/html; charset=utf-8")
        #expect(String(decoding: index.bytes, as: UTF8.self).contains("<title>Twinbank</title>"))
        #expect(Dashboard.asset(at: "")?.path == "index.html")
        #expect(Dashboard.asset(at: "/index.html")?.path == "index.html")
    }

    /// Every script and stylesheet the page loads is one of the dashboard's files (nothing from a CDN).
    @Test func thePageLoadsOnlyItsOwnFiles() throws {
        let html = String(decoding: try #require(Dashboard.asset(at: "/")).bytes, as: UTF8.self)
        let refs = try Regex(##"(?:src|href)="([^"#]+)""##)
        var loaded: [String] = []
        for m in html.matches(of: refs) { loaded.append(String(m.output[1].substring ?? "")) }
        #expect(loaded.contains("app.js") && loaded.contains("app.css") && loaded.contains("vendor/plotly-4.1.1.min.js"))
        for ref in loaded {
            #expect(!ref.contains("://"), "the page loads \(ref) from elsewhere")
            #expect(Dashboard.asset(at: ref) != nil, "the page loads \(ref), which the dashboard does not have")
        }
    }

    @Test func plotlyIsVendoredWithItsLicence() throws {
        let js = try #require(Dashboard.asset(at: "vendor/plotly-4.1.1.min.js"))
        #expect(js.contentType == "text/javascript; charset=utf-8")
        #expect(String(decoding: js.bytes.prefix(200), as: UTF8.self).contains("plotly.js v4.1.1"))
        let licence = String(decoding: try #require(Dashboard.asset(at: "vendor/plotly-LICENSE.txt")).bytes, as: UTF8.self)
        #expect(licence.hasPrefix("MIT License"))
    }

    @Test(arguments: ["/../Package.swift", "../README.md", "/vendor/../../Package.swift", "/nothing.html", "/Dashboard.swift", "//etc/passwd"])
    func nothingElseIsServed(_ path: String) {
        #expect(Dashboard.asset(at: path) == nil)
    }
}
