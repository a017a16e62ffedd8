import Foundation
import Testing
import TwinTesting

/// The contract against the live server: schemathesis (PyPI) reads `openapi.yaml`, generates requests for every
/// operation (valid ones and invalid ones) and sends them, with an admin's token, to `twinbank serve` on a free
/// loopback port over a small demo-like bank (twins with readings, a fork, an aggregate, a commit). It must find
/// no 5xx and no response that breaks the contract (a status, header, content type or body the contract does not
/// allow). Short on purpose (few examples per operation, seeded): CI stays fast. Without schemathesis in the anchor
/// Python's venv (`.ci/run` installs it) the test reports itself skipped, saying why. By hand:
/// `TWINBANK_SCHEMATHESIS_EXAMPLES=50 TWINBANK_SCHEMATHESIS_REPORT=/tmp/st.txt swift test --skip-build --filter SchemathesisTests`.
@Suite struct SchemathesisTests {
    /// The `schemathesis` command beside the anchor Python, when it is installed there.
    static let schemathesis: String? = {
        guard let python = SharedFolder.anchorPython else { return nil }
        let st = URL(fileURLWithPath: python).deletingLastPathComponent().appendingPathComponent("schemathesis").path
        return FileManager.default.isExecutableFile(atPath: st) ? st : nil
    }()

    /// Examples per operation: 5 (CI), or `TWINBANK_SCHEMATHESIS_EXAMPLES` for a deeper run by hand.
    static let examples = ProcessInfo.processInfo.environment["TWINBANK_SCHEMATHESIS_EXAMPLES"].flatMap { Int($0) }.map(String.init) ?? "5"

    /// openapi.yaml at the package's root.
    static let contract = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("openapi.yaml")

    @Test(.enabled(if: schemathesis != nil, "schemathesis is not installed in the anchor Python's venv (.ci/run installs it; set TWINBANK_ANCHOR_PYTHON): the live contract test cannot run"))
    func theLiveServerKeepsItsContract() throws {
        let (dir, bank) = try CommandRunner.temporaryBank()
        defer { try? FileManager.default.removeItem(at: dir) }
        let runner = CommandRunner()
        let me = NSUserName()
        try runner.ok(["init", "--bank", bank, "--actor", me])
        for id in ["p1", "p2"] {
            try runner.ok(["twin", "create", "--id", id, "--kind", "person", "--attr", "sex=female", "--bank", bank, "--actor", me])
        }
        var csv = "time,code,value,unit,source,category\n"
        for k in 0..<24 {
            csv += String(format: "2026-05-30T%02d:%02d:00Z,http://loinc.org|2339-0,%d,mg/dL,device:cgm-1,observation\n", 8 + k / 12, (k % 12) * 5, 110 + k)
        }
        let file = dir.appendingPathComponent("p1.csv")
        try csv.write(to: file, atomically: true, encoding: .utf8)
        try runner.ok(["thread", "import", "--bank", bank, "--twin", "p1", "--csv", file.path, "--actor", me])
        try runner.ok(["fork", "--twin", "p1", "--at", "2026-05-30T09:00:00Z", "--name", "p1-fork", "--bank", bank, "--actor", me])
        try runner.ok(["aggregate", "create", "--id", "women", "--where", "sex = female", "--bank", bank, "--actor", me])
        try runner.ok(["commit", "-m", "the demo-like bank", "--bank", bank, "--actor", me])
        let token = try runner.ok(["token", "issue", "--bank", bank, "--role", "admin", "--subject", me, "--scope", "user/*.cruds"])
            .trimmingCharacters(in: .whitespacesAndNewlines)

        // logs at critical only: nothing fills the unread standard error while schemathesis runs
        let server = try runner.start(["serve", "--bank", bank, "--port", "0", "--log-level", "critical"])
        defer { _ = server.stop() }
        #expect(server.wait(seconds: 120) { $0.contains("serving on ") }, "the server did not start: \(server.printed)")
        let address = try #require(server.printed.split(separator: "\n").first { $0.hasPrefix("serving on ") }).dropFirst("serving on ".count)

        let report = dir.appendingPathComponent("schemathesis.txt")
        FileManager.default.createFile(atPath: report.path, contents: nil)
        let out = try FileHandle(forWritingTo: report)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try #require(Self.schemathesis))
        process.arguments = ["run", Self.contract.path, "--url", String(address),
                             "--header", "Authorization: Bearer \(token)",
                             "--checks", "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance,response_headers_conformance",
                             "--max-examples", Self.examples, "--seed", "1", "--workers", "1", "--request-timeout", "30", "--no-color"]
        process.environment = ProcessInfo.processInfo.environment.merging(["NO_COLOR": "1", "SCHEMATHESIS_HOOKS": ""]) { _, new in new }
        process.standardOutput = out
        process.standardError = out
        // its caches (.schemathesis, .hypothesis) go to the throwaway folder, not the working tree
        process.currentDirectoryURL = dir
        try process.run()
        process.waitUntilExit()
        try out.close()
        let text = (try? String(contentsOf: report, encoding: .utf8)) ?? ""
        if let keep = ProcessInfo.processInfo.environment["TWINBANK_SCHEMATHESIS_REPORT"] { try? text.write(toFile: keep, atomically: true, encoding: .utf8) }
        #expect(process.terminationStatus == 0, "schemathesis found problems:\n\(text.suffix(12_000))")
        // it did test the operations (not, say, a schema it could not load)
        #expect(text.contains("/api/v1/twins"), "schemathesis's report does not name the routes:\n\(text.suffix(4000))")
        #expect(server.process.isRunning, "the server died under schemathesis")
    }
}
