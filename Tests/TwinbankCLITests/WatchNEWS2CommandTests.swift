import Foundation
import Testing

/// `twinbank watch --watcher news2 --once` on a temporary bank: vital signs written one by one by `thread append` (another
/// process) raise one NEWS2 alert when the set reaches 5, with the RCP response; a restart writes nothing; bad
/// options are named.
@Suite("twinbank watch --watcher news2")
struct WatchNEWS2CommandTests {
    let cli = CommandRunner()

    @Test func news2AlertsOnceAndBadOptionsAreNamed() throws {
        let (dir, bank) = try CommandRunner.temporaryBank()
        defer { try? FileManager.default.removeItem(at: dir) }
        let ok = { (args: [String]) throws -> String in try cli.ok(args) }
        _ = try ok(["init", "--bank", bank])
        _ = try ok(["twin", "create", "--bank", bank, "--id", "ward-7", "--kind", "person"])
        // temperature, ACVPU, air, systolic, pulse 95 (1), SpO2 95 % (1), then respiration rate 25 (3): only the last reaches 5
        let vitals: [(String, String, String?)] = [("8310-5", "37", "Cel"), ("67775-7", "Alert", nil), ("3151-8", "0", "L/min"), ("8480-6", "120", "mm[Hg]"),
                                                   ("8867-4", "95", "/min"), ("59408-5", "95", "%"), ("9279-1", "25", "/min")]
        for (k, (code, value, unit)) in vitals.enumerated() {
            _ = try ok(["thread", "append", "--bank", bank, "--twin", "ward-7", "--code", "loinc:\(code)", "--value", value]
                       + (unit.map { ["--unit", $0] } ?? []) + ["--at", String(format: "2024-01-01T09:%02d:00Z", k), "--source", "device:monitor-7"])
        }
        let lines = try ok(["watch", "--bank", bank, "--twin", "ward-7", "--watcher", "news2", "--once", "--json"]).split(separator: "\n")
        let notices = try lines.map { try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]) }
        #expect(notices.map { $0["category"] as? String } == ["alert", "recommendation"])
        #expect(notices.allSatisfy { $0["watcher"] as? String == "news2" && $0["error"] == nil })
        let text = notices.first?["text"] as? String ?? ""
        #expect(text.hasPrefix("NEWS2 5 (medium clinical risk): respiration rate 25 /min scores 3, SpO2 scale 1 95 % scores 1, pulse 95 /min scores 1."), "\(text)")
        #expect((notices.first?["derivedFrom"] as? [Any])?.count == 7)
        #expect((notices.last?["code"] as? String)?.contains("news2-urgent-response") == true)
        // a restart with both watchers: nothing new (the glucose watcher has no glucose to act on)
        let all = try ok(["thread", "query", "--bank", bank, "--twin", "ward-7", "--json"])
        #expect(try ok(["watch", "--bank", bank, "--twin", "ward-7", "--watcher", "news2", "--watcher", "glucose", "--once", "--json"]).isEmpty)
        #expect(try ok(["thread", "query", "--bank", bank, "--twin", "ward-7", "--json"]) == all)
        // bad options: named with their value
        for (args, words) in [(["--watcher", "sofa"], ["--watcher", "sofa"]), (["--quiet=-5"], ["--quiet", "-5"]),
                              (["--news2-threshold", "0"], ["--news2-threshold", "0"]), (["--news2-window", "0"], ["--news2-window"]),
                              (["--news2-scale2", "ward-8"], ["--news2-scale2", "ward-8"])] {
            let out = try cli.run(["watch", "--bank", bank, "--twin", "ward-7", "--once"] + args)
            #expect(out.status != 0 && words.allSatisfy { out.stderr.contains($0) }, "\(args): \(out.stderr)")
        }
    }
}
