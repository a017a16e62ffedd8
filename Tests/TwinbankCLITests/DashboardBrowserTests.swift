import Foundation
import Testing

/// The dashboard in a real browser: `twinbank serve --dashboard-link` on a bank with a twin's readings, a forecast
/// with its interval and an alert; headless Chromium opens the sign-in link, and the DOM it ends with must hold the
/// charts drawn from that twin's data. A screenshot is kept in `.build/test-artifacts/` (or `$TWINBANK_TEST_ARTIFACTS`).
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
        try runner.ok(["twin", "create", "--id", "p1", "--kind", "person", "--bank", bank, "--actor", me])
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
        csv += "2026-05-30T08:30:00Z,http://snomed.info/sct|226379006,45,g,record:diary,intervention\n"
        csv += "2026-05-30T10:25:00Z,urn:twinbank:alert|hypoglycaemia-predicted,Glucose predicted below 70 mg/dL,,model:uva-padova,alert\n"
        let file = dir.appendingPathComponent("p1.csv")
        try csv.write(to: file, atomically: true, encoding: .utf8)
        try runner.ok(["thread", "import", "--bank", bank, "--twin", "p1", "--csv", file.path, "--actor", me])

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
        #expect(dom.contains(#"id="chart-timeline""#) && dom.contains(#"data-points="2""#), "the timeline")
        let svgs = dom.components(separatedBy: "class=\"main-svg\"").count - 1
        #expect(svgs >= 2, "plotly drew \(svgs) charts")
        #expect(dom.contains("133 mg/dL"), "the latest reading is not in the table")
        #expect(dom.contains("Glucose predicted below 70 mg/dL"), "the alert is not in the table")
        #expect(dom.contains("30 events in the thread") == false && dom.contains("44 events in the thread"), "the event count")
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
    }
}
