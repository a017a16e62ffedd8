import Foundation
import Testing

/// The dashboard in a real browser: `twinbank serve --dashboard-link` on a bank with a twin's readings, a forecast
/// with its interval, an alert and an in-silico comparison (`twinbank compare`), and an aggregate of four located
/// people; headless Chromium opens the sign-in link, and the DOM it ends with must hold the charts drawn from that
/// twin's data and comparison, and the aggregate's distributions and risk map. Screenshots are kept in
/// `.build/test-artifacts/` (or `$TWINBANK_TEST_ARTIFACTS`).
/// Without Chromium (Debian's `chromium`, which `.ci/run` installs) the test reports itself skipped, saying why.
@Suite struct DashboardBrowserTests {
    /// Chromium on PATH (or `$TWINBANK_CHROMIUM`), nil when there is none.
    static let browser: String? = {
        let env = ProcessInfo.processInfo.environment
        if let given = env["TWINBANK_CHROMIUM"], FileManager.default.isExecutableFile(atPath: given) { return given }
        for dir in (env["PATH"] ?? "/usr/bin").split(separator: ":") {
            for name in ["chromium", "chromium-browser", "google-chrome", "google-chrome-stable"] {
                let path = "\(dir)/\(name)"
                if FileManager.default.isExecutableFile(atPath: path) { return path }
            }
        }
        return nil
    }()

    /// Where screenshots are kept: `$TWINBANK_TEST_ARTIFACTS`, else `test-artifacts` in the build folder.
    static var artifacts: URL {
        if let given = ProcessInfo.processInfo.environment["TWINBANK_TEST_ARTIFACTS"] { return URL(fileURLWithPath: given) }
        var dir = CommandRunner.executable.deletingLastPathComponent()
        while dir.path != "/", dir.lastPathComponent != ".build" { dir.deleteLastPathComponent() }
        return (dir.path == "/" ? CommandRunner.executable.deletingLastPathComponent() : dir).appendingPathComponent("test-artifacts")
    }

    /// Runs headless Chromium on `url` with `arguments` (`--dump-dom`, `--screenshot=...`), a profile of its own and at
    /// most two and a half minutes a try; returns what it printed. A run that prints nothing (seen once in the whole suite's parallel run,
    /// where every process competes for two cores) is tried once more; if that prints nothing too, the returned text is
    /// empty and `Chromium.account` says how long each try ran and what Chromium wrote on stderr.
    static func chromium(_ url: String, _ arguments: [String], profile: URL) throws -> (text: String, account: String) {
        var account = ""
        for attempt in 1...2 {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: try #require(browser))
            process.arguments = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                                 "--user-data-dir=\(profile.path)", "--hide-scrollbars", "--window-size=1280,1500",
                                 "--virtual-time-budget=20000"] + arguments + [url]
            let out = Pipe(), err = Pipe()
            process.standardOutput = out
            process.standardError = err
            let collected = Collected(), stderr = Collected()
            out.fileHandleForReading.readabilityHandler = { h in collected.append(h.availableData) }
            err.fileHandleForReading.readabilityHandler = { h in stderr.append(h.availableData) }
            let started = Date()
            try process.run()
            let deadline = started.addingTimeInterval(150)
            while process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.1) }
            let timedOut = process.isRunning
            if timedOut { process.terminate(); process.waitUntilExit() }
            out.fileHandleForReading.readabilityHandler = nil
            err.fileHandleForReading.readabilityHandler = nil
            collected.append(out.fileHandleForReading.readDataToEndOfFile())
            stderr.append(err.fileHandleForReading.readDataToEndOfFile())
            let seconds = String(format: "%.1f", Date().timeIntervalSince(started))
            account += "try \(attempt): \(timedOut ? "stopped after" : "exited \(process.terminationStatus) after") \(seconds) s, "
                + "\(collected.text.utf8.count) bytes out; stderr: \(stderr.text.suffix(1500))\n"
            if !collected.text.isEmpty || arguments.contains(where: { $0.hasPrefix("--screenshot") }) && !timedOut {
                return (collected.text, account)
            }
        }
        return ("", account)
    }

    /// The attributes of the element with `id` in `dom` (as Chromium dumps it: `name="value"`), empty if there is none.
    static func attributes(of id: String, in dom: String) -> [String: String] {
        guard let at = dom.range(of: #"id="\#(id)""#) else { return [:] }
        let start = dom[..<at.lowerBound].lastIndex(of: "<") ?? at.lowerBound
        let tag = dom[start...].prefix { $0 != ">" }
        var out: [String: String] = [:]
        for m in tag.matches(of: /([a-zA-Z-]+)="([^"]*)"/) { out[String(m.1)] = String(m.2) }
        return out
    }

    final class Collected: @unchecked Sendable {
        private let lock = NSLock()
        private var data = Data()
        func append(_ d: Data) { lock.lock(); data.append(d); lock.unlock() }
        var text: String { lock.lock(); defer { lock.unlock() }; return String(decoding: data, as: UTF8.self) }
    }

    @Test(.enabled(if: browser != nil, "no Chromium on PATH (Debian's chromium, which .ci/run installs; or set TWINBANK_CHROMIUM): the dashboard's browser test cannot run"))
    func theDashboardDrawsATwinsThread() throws {
        let (dir, bank) = try CommandRunner.temporaryBank()
        defer { try? FileManager.default.removeItem(at: dir) }
        // how long each step took, printed at the end: in the whole suite's parallel run this test has taken 400-500 s
        let began = Date()
        var phases: [String] = []
        func phase(_ name: String) { phases.append(String(format: "%@ %.1f s", name, Date().timeIntervalSince(began))) }
        defer { print("DashboardBrowserTests: " + phases.joined(separator: ", ")) }
        let runner = CommandRunner()
        let me = NSUserName()
        try runner.ok(["init", "--bank", bank, "--actor", me])
        // p1 is bound to a virtual patient, so `compare` can simulate it
        try runner.ok(["twin", "create", "--id", "p1", "--kind", "person", "--attr", "virtualPatient=adult#001", "--bank", bank, "--actor", me])
        // 24 readings, a 6-point forecast with its interval, a meal and an alert
        var csv = "time,code,value,unit,source,category\n"
        for k in 0..<24 {
            csv += String(format: "2026-05-30T%02d:%02d:00Z,http://loinc.org|2339-0,%d,mg/dL,device:cgm-1,observation\n", 8 + k / 12, (k % 12) * 5, 110 + k)
        }
        for k in 0..<6 {
            let t = String(format: "2026-05-30T10:%02d:00Z", k * 5)
            csv += "\(t),http://loinc.org|2339-0,\(134 - k),mg/dL,model:uva-padova,prediction\n"
            csv += "\(t),urn:twinbank:forecast|glucose-lower,\(124 - 3 * k),mg/dL,model:uva-padova,prediction\n"
            csv += "\(t),urn:twinbank:forecast|glucose-upper,\(144 + 2 * k),mg/dL,model:uva-padova,prediction\n"
        }
        csv += "2026-05-30T08:30:00Z,http://loinc.org|9059-7,45,g,record:diary,intervention\n"
        csv += "2026-05-30T10:25:00Z,urn:twinbank:alert|hypoglycaemia-predicted,Glucose predicted below 70 mg/dL,,model:uva-padova,alert\n"
        let file = dir.appendingPathComponent("p1.csv")
        try csv.write(to: file, atomically: true, encoding: .utf8)
        try runner.ok(["thread", "import", "--bank", bank, "--twin", "p1", "--csv", file.path, "--actor", me])
        // two options compared on forks over 3 hours (2 plausible patients): a recommendation in p1's thread
        try runner.ok(["compare", "--bank", bank, "--twin", "p1", "--option", "usual=", "--option", "cautious-bolus=bolus=0.8",
                       "--start", "2026-05-30T08:00:00Z", "--horizon", "3h", "--ensemble", "2", "--actor", me])
        // an aggregate of four people (three with a home), each with a glucose reading, two of them confirmed cases
        let homes: [(lat: Double, lon: Double)?] = [(51.5000, -0.1200), (51.5004, -0.1203), (51.5100, -0.1000), nil]
        for (k, home) in homes.enumerated() {
            let id = "a\(k + 1)"
            var attributes = ["--attr", "sex=\(k == 3 ? "male" : "female")", "--attr", "birthDate=19\(60 + 10 * k)-06-01"]
            if let (lat, lon) = home { attributes += ["--attr", "home_lat=\(lat)", "--attr", "home_lon=\(lon)"] }
            try runner.ok(["twin", "create", "--id", id, "--kind", "person", "--bank", bank, "--actor", me] + attributes)
            var people = "time,code,value,unit,source,category\n2026-05-30T08:00:00Z,http://loinc.org|2339-0,\(100 + 10 * k),mg/dL,device:cgm,observation\n"
            if k < 2 { people += "2026-05-30T09:00:00Z,urn:twinbank:local|case.confirmed,true,,record:lab,observation\n" }
            let file = dir.appendingPathComponent("\(id).csv")
            try people.write(to: file, atomically: true, encoding: .utf8)
            try runner.ok(["thread", "import", "--bank", bank, "--twin", id, "--csv", file.path, "--actor", me])
        }
        try runner.ok(["aggregate", "create", "--id", "town", "--member", "a1", "a2", "a3", "a4", "--bank", bank, "--actor", me])

        phase("bank ready")
        let server = try runner.start(["serve", "--bank", bank, "--port", "0", "--dashboard-link", "--log-level", "warning"])
        defer { _ = server.stop() }
        #expect(server.wait(seconds: 120) { $0.contains("sign in: ") }, "the server printed no sign-in link: \(server.printed)")
        let printed = server.printed
        let link = try #require(printed.split(separator: "\n").first { $0.hasPrefix("sign in: ") }).dropFirst("sign in: ".count)
        let base = try #require(printed.split(separator: "\n").first { $0.hasPrefix("dashboard: ") }).dropFirst("dashboard: ".count)
        #expect(link.hasPrefix(base + "#token="))

        phase("server ready")
        let profile = dir.appendingPathComponent("chromium-profile")
        // signed out, the page asks for a token and shows nothing else
        let (signedOut, signedOutAccount) = try Self.chromium(String(base), ["--dump-dom"], profile: profile)
        #expect(signedOut.contains("<h1>Sign in</h1>"), "\(signedOut.prefix(2000))\nChromium: \(signedOutAccount)\nserver: \(server.printed.suffix(2000))")
        phase("signed-out page")
        if signedOut.isEmpty { return }  // Chromium printed nothing twice: said above, with its account; the rest would only wait as long again
        #expect(!signedOut.contains("main-svg"))

        // signed in on p1's page: the glucose chart holds the 24 readings and the 6 forecast points (the interval's
        // ends are drawn as its band), the timeline the meal and the alert, the table the latest reading and the alert
        let url = link + "&next=/twins/p1"
        let (dom, domAccount) = try Self.chromium(String(url), ["--dump-dom"], profile: profile)
        phase("twin page")
        #expect(dom.contains("<h1>p1 (person)</h1>"), "\(dom.prefix(3000))\nChromium: \(domAccount)\nserver: \(server.printed.suffix(2000))")
        #expect(dom.contains(#"id="chart-mg_dL""#) && dom.contains(#"data-points="42""#), "the glucose chart: \(dom.prefix(3000))")
        #expect(dom.contains("Glucose prediction interval") || dom.contains("2339-0 prediction interval"), "no forecast band in the chart's legend")
        #expect(dom.contains(#"id="chart-timeline""#) && dom.contains(#"data-points="3""#), "the timeline (the meal, the alert, the comparison)")
        let svgs = dom.components(separatedBy: "class=\"main-svg\"").count - 1
        #expect(svgs >= 2, "plotly drew \(svgs) charts")
        #expect(dom.contains("133 mg/dL"), "the latest reading is not in the table")
        #expect(dom.contains("Glucose predicted below 70 mg/dL"), "the alert is not in the table")
        #expect(dom.contains("45 events in the thread"), "the event count")
        // the forks beside the comparison: its options ranked in a table, each linking to its fork, and one chart with a
        // trace per option drawn from the forks' predictions (3 hours every 5 minutes: 36 points each)
        for name in ["usual", "cautious-bolus"] {
            #expect(dom.range(of: ##"href="#/twins/p1\.cmp[0-9]+\.\##(name)""##, options: .regularExpression) != nil, "the fork of \(name) is not linked")
        }
        #expect(dom.contains(#"id="fork-list""#) && dom.contains(#"id="comparison-table""#), "the forks and the comparison table")
        #expect(dom.contains("time in range "), "the comparison's figures")
        let trajectories = Self.attributes(of: "comparison-chart-mg_dL", in: dom)
        #expect(trajectories["data-traces"] == "2", "the options' trajectories: \(trajectories)")
        #expect((Int(trajectories["data-points"] ?? "") ?? 0) >= 2 * 36, "the options' trajectories: \(trajectories)")
        // the page follows the twin's event stream (not polling): the stream opened with the page's token
        #expect(dom.contains("Live: new events appear as they are recorded"), "the live stream did not open: \(dom.components(separatedBy: "id=\"live\"").dropFirst().first?.prefix(200) ?? "no live line")")

        try FileManager.default.createDirectory(at: Self.artifacts, withIntermediateDirectories: true)
        let shot = Self.artifacts.appendingPathComponent("dashboard-twin.png")
        try? FileManager.default.removeItem(at: shot)
        let (_, shotAccount) = try Self.chromium(String(url), ["--screenshot=\(shot.path)"], profile: profile)
        phase("screenshot")
        guard let png = try? Data(contentsOf: shot) else {
            Issue.record("Chromium wrote no screenshot at \(shot.path): \(shotAccount)")
            return
        }
        #expect(png.starts(with: [0x89, 0x50, 0x4E, 0x47]), "the screenshot is not a PNG")
        #expect(png.count > 20_000, "the screenshot is \(png.count) bytes: blank?")

        // the aggregate's page: its members, the histogram of their latest glucose (4 members), their age and sex, and
        // the risk map of the three located people (two cells at 1 km)
        let (aggregate, aggregateAccount) = try Self.chromium(String(link + "&next=/aggregates/town"), ["--dump-dom"], profile: profile)
        phase("aggregate page")
        #expect(aggregate.contains("<h1>Aggregate town</h1>"), "\(aggregate.prefix(3000))\nChromium: \(aggregateAccount)\nserver: \(server.printed.suffix(2000))")
        #expect(aggregate.contains("Members (4)"), "the members")
        #expect(Self.attributes(of: "histogram-values", in: aggregate)["data-points"] == "4", "the glucose histogram: \(aggregate.components(separatedBy: "id=\"distribution\"").dropFirst().first?.prefix(1500) ?? "no distribution")")
        #expect(aggregate.contains(#"id="histogram-age""#) && aggregate.contains(#"id="categories-sex""#), "the age and sex charts")
        #expect(aggregate.contains("http://loinc.org|2339-0 (4 members)"), "the code picker")
        #expect(Self.attributes(of: "risk-map-chart", in: aggregate)["data-cells"] == "2", "the risk map: \(aggregate.components(separatedBy: "id=\"risk-map\"").dropFirst().first?.prefix(1500) ?? "no map")")
        #expect(aggregate.contains("3 people located in 2 cells"), "the map's summary")
        let aggregateSVGs = aggregate.components(separatedBy: "class=\"main-svg\"").count - 1
        #expect(aggregateSVGs >= 4, "plotly drew \(aggregateSVGs) charts on the aggregate page")

        // the risk map over GeoJSON regions (carried by the page's link, as a file the user loads is drawn): west holds
        // a1 and a2 (both confirmed cases), east holds a3, and nobody lives in far; each region drew, the table lists all three
        let regions = #"{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"name":"west"},"geometry":{"type":"Polygon","coordinates":[[[-0.13,51.49],[-0.11,51.49],[-0.11,51.505],[-0.13,51.505],[-0.13,51.49]]]}},{"type":"Feature","properties":{"name":"east"},"geometry":{"type":"Polygon","coordinates":[[[-0.105,51.505],[-0.095,51.505],[-0.095,51.515],[-0.105,51.515],[-0.105,51.505]]]}},{"type":"Feature","properties":{"name":"far"},"geometry":{"type":"MultiPolygon","coordinates":[[[[1.0,52.0],[1.1,52.0],[1.1,52.1],[1.0,52.1],[1.0,52.0]]]]}}]}"#
        let encode = { (s: String) in s.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? s }
        let regionLink = link + "&next=" + encode("/aggregates/town?regions=" + encode(regions))
        let (regional, regionalAccount) = try Self.chromium(String(regionLink), ["--dump-dom"], profile: profile)
        phase("region map")
        let regionChart = Self.attributes(of: "region-map-chart", in: regional)
        #expect(regionChart["data-regions"] == "3", "the region map: \(regional.components(separatedBy: "id=\"region-map\"").dropFirst().first?.prefix(1500) ?? "no region map")\nChromium: \(regionalAccount)")
        #expect(regionChart["aria-label"]?.contains("3 regions") == true, "the region map's label: \(regionChart)")
        #expect(regional.contains("3 people located in them"), "the region map's summary")
        let regionMap = regional.components(separatedBy: "id=\"region-map-chart\"").dropFirst().first ?? ""
        #expect(regionMap.contains("class=\"main-svg\""), "plotly drew no region map")
        let regionTable = regional.components(separatedBy: "id=\"region-table\"").dropFirst().first?.components(separatedBy: "</table>").first ?? ""
        for name in ["west", "east", "far"] { #expect(regionTable.contains(">\(name)</th>"), "\(name) is not in the regions' table") }
        #expect(regional.contains(#"<label for="region-file">"#) && regional.contains(#"id="region-file""#), "the file input and its label")
    }
}
