import Foundation
import Testing

/// `twinbank watch --once` on a temporary bank: a falling CGM trace after a large bolus, written by `thread append` (another
/// process) raises an alert and a recommendation, printed as JSON lines and written to the thread; a second
/// run (a restart) prints and writes nothing.
@Suite("twinbank watch")
struct WatchCommandTests {
    let cli = CommandRunner()

    @Test func alertsOncePrintedAsJSONLinesAndWrittenToTheThread() throws {
        let (dir, bank) = try CommandRunner.temporaryBank()
        defer { try? FileManager.default.removeItem(at: dir) }
        let ok = { (args: [String]) throws -> String in try cli.ok(args) }
        try bolusAndFallingReadings(in: bank, count: 19)
        let lines = try ok(["watch", "--bank", bank, "--twin", "pat", "--once", "--json"]).split(separator: "\n")
        let notices = try lines.map { try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]) }
        let alerts = notices.filter { $0["category"] as? String == "alert" }
        #expect(!alerts.isEmpty)
        #expect(notices.contains { $0["category"] as? String == "recommendation" })
        for n in notices {
            #expect(n["twin"] as? String == "pat" && n["watcher"] as? String == "glucose-forecast")
            #expect(((n["derivedFrom"] as? [Any])?.count ?? 0) > 0)
        }
        #expect((alerts.first?["text"] as? String)?.contains("Hypoglycaemia predicted") == true)
        let thread = try ok(["thread", "query", "--bank", bank, "--twin", "pat", "--category", "alert", "--json"])
        let written = try #require(try JSONSerialization.jsonObject(with: Data(thread.utf8)) as? [Any])
        #expect(written.count == alerts.count)
        // a restart: nothing new printed or written
        let all = try ok(["thread", "query", "--bank", bank, "--twin", "pat", "--json"])
        #expect(try ok(["watch", "--bank", bank, "--twin", "pat", "--once", "--json"]).isEmpty)
        #expect(try ok(["thread", "query", "--bank", bank, "--twin", "pat", "--json"]) == all)
        // bad input: named
        let unknown = try cli.run(["watch", "--bank", bank, "--twin", "nobody", "--once"])
        #expect(unknown.status != 0 && unknown.stderr.contains("nobody"))
        let interval = try cli.run(["watch", "--bank", bank, "--twin", "pat", "--interval", "0"])
        #expect(interval.status != 0 && interval.stderr.contains("--interval"))
    }

    /// The watcher on the particle posterior: the same trace, `--prior cohort --particles`: every update's forecast says
    /// it came from the SMC posterior with its seed; a restart writes nothing; the options are checked.
    @Test func particlePosteriorWatcher() throws {
        let (dir, bank) = try CommandRunner.temporaryBank()
        defer { try? FileManager.default.removeItem(at: dir) }
        let ok = { (args: [String]) throws -> String in try cli.ok(args) }
        try bolusAndFallingReadings(in: bank, count: 7)
        _ = try ok(["watch", "--bank", bank, "--twin", "pat", "--once", "--json", "--prior", "cohort", "--particles", "24", "--seed", "3"])
        let written = try ok(["thread", "query", "--bank", bank, "--twin", "pat", "--category", "prediction", "--json"])
        let predictions = try #require(try JSONSerialization.jsonObject(with: Data(written.utf8)) as? [[String: Any]])
        #expect(!predictions.isEmpty)
        for p in predictions {
            let provenance = try #require(p["provenance"] as? [String: Any])
            #expect((provenance["notes"] as? String)?.contains("filter=SMC(24) seed=3") == true, "\(provenance)")
            #expect((provenance["notes"] as? String)?.contains("watch=glucose-forecast") == true, "\(provenance)")
        }
        let all = try ok(["thread", "query", "--bank", bank, "--twin", "pat", "--json"])
        #expect(try ok(["watch", "--bank", bank, "--twin", "pat", "--once", "--json", "--prior", "cohort", "--particles", "24", "--seed", "3"]).isEmpty)
        #expect(try ok(["thread", "query", "--bank", bank, "--twin", "pat", "--json"]) == all)
        for (args, named) in [(["--particles", "24"], "--prior cohort"), (["--prior", "cohort", "--particles", "5"], "--particles"),
                              (["--prior", "cohort", "--particles", "24", "--recalibrate", "60"], "--recalibrate")] {
            let bad = try cli.run(["watch", "--bank", bank, "--twin", "pat", "--once"] + args)
            #expect(bad.status != 0 && bad.stderr.contains(named), "\(args): \(bad.stderr)")
        }
    }

    /// A watch left running on a bank file sees a `thread append` by another process at its next poll and keeps
    /// recording its accesses in the audit log the other process appends to as well; SIGTERM stops it.
    @Test func aRunningWatchSeesAnotherProcessesAppend() throws {
        let (dir, bank) = try CommandRunner.temporaryBank()
        defer { try? FileManager.default.removeItem(at: dir) }
        try bolusAndFallingReadings(in: bank, count: 1)
        let watch = try cli.start(["watch", "--bank", bank, "--twin", "pat", "--interval", "0.2", "--json"])
        defer { _ = watch.stop() }
        // caught up once the first reading's forecast is written
        let deadline = Date().addingTimeInterval(60)
        func predictions() throws -> Int {
            let json = try cli.ok(["thread", "query", "--bank", bank, "--twin", "pat", "--category", "prediction", "--json"])
            return (try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [Any])?.count ?? 0
        }
        while try predictions() == 0 {
            try #require(Date() < deadline && watch.process.isRunning, "the watch did not process the first reading: \(watch.stop().stderr)")
            Thread.sleep(forTimeInterval: 0.2)
        }
        try cli.ok(["thread", "append", "--bank", bank, "--twin", "pat", "--code", "loinc:2339-0", "--value", "50", "--unit", "mg/dL",
                    "--at", "2024-01-01T06:05:00Z", "--source", "device:cgm-1"])
        #expect(watch.wait(seconds: 30) { $0.contains("hypoglycaemia-reading") }, "\(watch.printed)")
        let end = watch.stop()
        #expect(end.reason == .exit && end.status == 0, "\(end.reason) \(end.status): \(end.stderr)")
        #expect(try cli.ok(["audit", "verify", "--bank", bank]).contains("verified"))
    }

    /// A new bank holding twin `pat` (virtualPatient adult#001): a 12 IU bolus at 06:00, then `count` CGM readings
    /// every 5 minutes falling from 160 mg/dL by 5 each, every one its own upload (`thread append`, another process).
    private func bolusAndFallingReadings(in bank: String, count: Int) throws {
        _ = try cli.ok(["init", "--bank", bank])
        _ = try cli.ok(["twin", "create", "--bank", bank, "--id", "pat", "--kind", "person", "--attr", "virtualPatient=adult#001"])
        _ = try cli.ok(["thread", "append", "--bank", bank, "--twin", "pat", "--code", "snomed:67866001", "--value", "12", "--unit", "[IU]",
                        "--at", "2024-01-01T06:00:00Z", "--category", "intervention", "--source", "device:pump-1"])
        for k in 0..<count {
            _ = try cli.ok(["thread", "append", "--bank", bank, "--twin", "pat", "--code", "loinc:2339-0", "--value", "\(160 - 5 * k)", "--unit", "mg/dL",
                            "--at", String(format: "2024-01-01T%02d:%02d:00Z", 6 + k * 5 / 60, (k * 5) % 60), "--source", "device:cgm-1"])
        }
    }
}
