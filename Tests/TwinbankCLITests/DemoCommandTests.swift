import Foundation
import TwinSBML
import Testing

/// `twinbank demo` as the README runs it: no options, in a fresh folder, twice.
@Suite("twinbank command: demo")
struct DemoCommandTests {
    @Test func runsWithDefaultsAndAgainOverItsOwnBank() throws {
        let dir = try CommandRunner.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        var cli = CommandRunner()
        cli.workingDirectory = dir
        let first = try cli.run(["demo", "--people", "3"])
        #expect(first.status == 0, "\(first.stderr)")
        #expect(first.stdout.contains("Done:"))
        #expect(FileManager.default.fileExists(atPath: dir.appendingPathComponent("twinbank.sqlite").path))
        // Step 11's risk map is beside the bank, and the demo says where to open it.
        let svg = dir.appendingPathComponent("twinbank-demo-risk.svg"), geo = dir.appendingPathComponent("twinbank-demo-risk.geojson")
        #expect(first.stdout.contains("11. Outbreak: population twin demo-town"))
        #expect(first.stdout.contains("open ./twinbank-demo-risk.svg"))
        #expect(throws: Never.self) { _ = try XMLDocumentParser.parse([UInt8](Data(contentsOf: svg))) }
        let map = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: geo)) as? [String: Any])
        #expect(map["type"] as? String == "FeatureCollection")
        #expect((map["features"] as? [Any])?.isEmpty == false)
        // Step 12: a consent, a researcher's query refused by the decision point, the consenting person's thread
        // filtered to vital signs, and the refusal's inclusion proof verified; the signed audit log verifies
        #expect(first.stdout.contains("14. Governance: person-01 consents to research on vital signs only"), "\(first.stdout)")
        // the cardiac twin: heart rate from its ECG strip, and the baroreflex holding pressure after a blood loss
        #expect(first.stdout.contains("12. Cardiac twin person-01-heart:"), "\(first.stdout)")
        #expect(first.stdout.contains("beats, heart rate 7"), "\(first.stdout)")
        #expect(first.stdout.contains("predicts losing 375 mL over 6.4 min"), "\(first.stdout)")
        // the prognostic twin: fitted on the cohort, evaluated on held-out people, a prediction for someone outside it
        #expect(first.stdout.contains("13. Prognostic twin: systolic pressure a year ahead"), "\(first.stdout)")
        #expect(first.stdout.contains("held-out people: MAE"), "\(first.stdout)")
        #expect(first.stdout.contains("bp-new, not in the cohort:"), "\(first.stdout)")
        #expect(first.stdout.contains("rita reads person-02's thread for research: refused (access denied: rita may not read twin person-02"))
        #expect(first.stdout.contains("verified with the public key alone"))
        let audit = try cli.run(["audit", "verify"])
        #expect(audit.status == 0 && audit.stdout.contains("audit log verified"), "\(audit.stdout)\(audit.stderr)")
        // the person who ran the demo stays the bank's admin (the stored policy makes them one)
        #expect(try cli.run(["thread", "query", "--twin", "person-02"]).status == 0)
        // A second run replaces the bank it made itself.
        let second = try cli.run(["demo", "--people", "3"])
        #expect(second.status == 0, "\(second.stderr)")
        #expect(second.stdout.contains("open ./twinbank-demo-risk.svg"), "the demo replaces its own map")
        let log = try cli.run(["log", "--json"])
        #expect(log.status == 0)
        #expect(((try? JSONSerialization.jsonObject(with: Data(log.stdout.utf8))) as? [Any])?.count == 2)

        // It never overwrites a bank it did not create.
        let other = dir.appendingPathComponent("mine.sqlite").path
        #expect(try cli.run(["init", "--bank", other]).status == 0)
        #expect(try cli.run(["twin", "create", "--bank", other, "--id", "keep-me", "--kind", "person"]).status == 0)
        let refused = try cli.run(["demo", "--bank", other])
        #expect(refused.status != 0)
        #expect(refused.stderr.contains(other))
        #expect(try cli.run(["twin", "list", "--bank", other]).stdout.contains("keep-me"))
    }
}
