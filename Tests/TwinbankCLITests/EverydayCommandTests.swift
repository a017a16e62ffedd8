import Foundation
import Testing

/// Issue 22, defect 9: what a person expects of a command the first morning.
@Suite("twinbank command: everyday expectations")
struct EverydayCommandTests {
    let cli = CommandRunner()

    func json(_ text: String) -> Any? { try? JSONSerialization.jsonObject(with: Data(text.utf8)) }

    @Test func versionIsPrinted() throws {
        let r = try cli.run(["--version"])
        #expect(r.status == 0)
        let v = r.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(v.split(separator: ".").count == 3 && v.allSatisfy { $0.isNumber || $0 == "." }, "\(r.stdout)")
    }

    @Test("a mistyped subcommand is named, with the closest one", arguments: [
        (["aggregate", "lst", "--bank", "b"], "unknown subcommand 'lst'; did you mean 'list'?"),
        (["twin", "lsit", "--bank", "b"], "unknown subcommand 'lsit'; did you mean 'list'?"),
        (["thread", "qurey", "--twin", "x"], "unknown subcommand 'qurey'; did you mean 'query'?"),
        (["fhir", "exprot", "--all"], "unknown subcommand 'exprot'; did you mean 'export'?"),
        (["sbml", "rnu", "m.xml"], "unknown subcommand 'rnu'; did you mean 'run'?"),
        (["exprot", "--bank", "b"], "unknown subcommand 'exprot'; did you mean 'export'?"),
        (["aggregate", "delte", "--id", "a"], "unknown subcommand 'delte'; did you mean 'delete'?"),
    ])
    func mistypedSubcommand(_ arguments: [String], _ message: String) throws {
        let r = try cli.run(arguments)
        #expect(r.status != 0)
        #expect(r.stderr.contains(message), "\(r.stderr)")
        #expect(!r.stderr.contains("Unknown option"), "\(r.stderr)")
    }

    @Test func anUnrelatedWordListsTheSubcommands() throws {
        let r = try cli.run(["aggregate", "zebra", "--bank", "b"])
        #expect(r.status != 0)
        #expect(r.stderr.contains("unknown subcommand 'zebra'"), "\(r.stderr)")
        #expect(r.stderr.contains("create") && r.stderr.contains("list") && r.stderr.contains("delete"), "\(r.stderr)")
    }

    @Test func correctSubcommandsStillParse() throws {
        #expect(try cli.run(["aggregate", "list", "--help"]).status == 0)
        #expect(try cli.run(["help", "aggregate"]).status == 0)
        #expect(try cli.run(["--help"]).status == 0)
    }

    @Test func everyWritingCommandSpeaksJSON() throws {
        let (dir, bank) = try CommandRunner.temporaryBank()
        defer { try? FileManager.default.removeItem(at: dir) }
        let initialised = json(try cli.ok(["init", "--bank", bank, "--json"])) as? [String: Any]
        #expect(initialised?["created"] as? Bool == true)
        try cli.ok(["twin", "create", "--bank", bank, "--id", "alice", "--kind", "person", "--attr", "birthDate=1980-04-02"])
        try cli.ok(["thread", "append", "--bank", bank, "--twin", "alice", "--code", "loinc:2339-0", "--value", "110",
                    "--unit", "mg/dL", "--at", "2024-01-01T07:00:00Z", "--source", "device:cgm-1"])
        let fork = json(try cli.ok(["fork", "--bank", bank, "--twin", "alice", "--at", "2024-01-01T08:00:00Z", "--name", "alice-f", "--json"])) as? [String: Any]
        #expect((fork?["twin"] as? [String: Any])?["id"] as? String == "alice-f")
        #expect(fork?["fork"] != nil)
        let aggregate = json(try cli.ok(["aggregate", "create", "--bank", bank, "--id", "c", "--member", "alice", "--json"])) as? [String: Any]
        #expect(aggregate?["members"] as? [String] == ["alice"])
        let commit = json(try cli.ok(["commit", "--bank", bank, "-m", "first", "--json"])) as? [String: Any]
        #expect((commit?["id"] as? String)?.count == 64)
        let tag = json(try cli.ok(["tag", "--bank", bank, "v1", "--json"])) as? [String: Any]
        #expect((tag?["names"] as? [String])?.contains("v1") == true || tag?["id"] as? String == commit?["id"] as? String)
        let retract = json(try cli.ok(["retract", "--bank", bank, "--source", "device:cgm-1", "--reason", "faulty", "--json"])) as? [String: Any]
        #expect(retract?["eventsRetracted"] as? Int == 1)
        let bundle = dir.appendingPathComponent("alice.bundle").path
        let exported = json(try cli.ok(["export", "--bank", bank, "--twin", "alice", "--out", bundle, "--json"])) as? [String: Any]
        #expect(exported?["root"] != nil)
        let other = dir.appendingPathComponent("other.sqlite").path
        try cli.ok(["init", "--bank", other])
        let imported = json(try cli.ok(["import", "--bank", other, bundle, "--json"])) as? [String: Any]
        #expect(imported?["root"] != nil)
        let deleted = json(try cli.ok(["aggregate", "delete", "--bank", bank, "--id", "c", "--json"])) as? [String: Any]
        #expect(deleted?["id"] as? String == "c")
    }

    @Test func aggregatesAreListedAndDeletedKeepingHistory() throws {
        let (dir, bank) = try CommandRunner.temporaryBank()
        defer { try? FileManager.default.removeItem(at: dir) }
        try cli.ok(["init", "--bank", bank])
        try cli.ok(["twin", "create", "--bank", bank, "--id", "alice", "--kind", "person"])
        #expect(try cli.ok(["aggregate", "list", "--bank", bank]).contains("(no aggregates)"))
        try cli.ok(["aggregate", "create", "--bank", bank, "--id", "mine", "--member", "alice", "--description", "my cohort"])
        try cli.ok(["aggregate", "create", "--bank", bank, "--id", "people", "--where", "kind = person"])
        let listed = try cli.ok(["aggregate", "list", "--bank", bank])
        #expect(listed.contains("mine") && listed.contains("my cohort") && listed.contains("people") && listed.contains("where kind = person"))
        let first = (json(try cli.ok(["commit", "--bank", bank, "-m", "two cohorts", "--json"])) as? [String: Any])?["id"] as? String ?? ""

        // An unknown id is refused, naming it and what exists; nothing changes.
        let unknown = try cli.run(["aggregate", "delete", "--bank", bank, "--id", "mien"])
        #expect(unknown.status != 0)
        #expect(unknown.stderr.contains("mien") && unknown.stderr.contains("mine"), "\(unknown.stderr)")

        try cli.ok(["aggregate", "delete", "--bank", bank, "--id", "mine"])
        let after = (json(try cli.ok(["aggregate", "list", "--bank", bank, "--json"])) as? [[String: Any]])?.compactMap { $0["id"] as? String }
        #expect(after == ["people"])
        #expect(try cli.run(["aggregate", "show", "--bank", bank, "--id", "mine"]).status != 0)
        // A deletion is a change: it can be committed, and the diff shows it removed.
        let second = (json(try cli.ok(["commit", "--bank", bank, "-m", "drop mine", "--json"])) as? [String: Any])?["id"] as? String ?? ""
        let diff = json(try cli.ok(["diff", "--bank", bank, first, second, "--json"])) as? [String: Any]
        #expect((diff?["removed"] as? [String])?.contains("aggregate/mine") == true, "\(String(describing: diff))")
        // The earlier commit still holds it, with its members.
        let then = try cli.ok(["aggregate", "show", "--bank", bank, "--id", "mine", "--at", String(first.prefix(12))])
        #expect(then.contains("alice"))
        #expect(try cli.ok(["aggregate", "list", "--bank", bank, "--at", String(first.prefix(12))]).contains("mine"))
        // The id can be used again.
        try cli.ok(["aggregate", "create", "--bank", bank, "--id", "mine", "--member", "alice"])
    }

    @Test func namesStandBesideIDs() throws {
        let (dir, bank) = try CommandRunner.temporaryBank()
        defer { try? FileManager.default.removeItem(at: dir) }
        try cli.ok(["init", "--bank", bank])
        try cli.ok(["twin", "create", "--bank", bank, "--id", "p-1", "--kind", "person", "--attr", "name=Alice Smith"])
        try cli.ok(["twin", "create", "--bank", bank, "--id", "p-2", "--kind", "person"])
        let list = try cli.ok(["twin", "list", "--bank", bank])
        #expect(list.contains("p-1  (Alice Smith)"), "\(list)")
        #expect(list.split(separator: "\n").contains("p-2"))
        try cli.ok(["aggregate", "create", "--bank", bank, "--id", "all", "--member", "p-1", "p-2"])
        let shown = try cli.ok(["aggregate", "show", "--bank", bank, "--id", "all"])
        #expect(shown.contains("p-1  (Alice Smith)"), "\(shown)")
        // A FHIR patient's name, as import stores it.
        let patient = dir.appendingPathComponent("patient.json")
        try Data(#"{"resourceType":"Patient","id":"pat-9","name":[{"given":["Bob"],"family":"Jones"}],"birthDate":"1970-01-01"}"#.utf8).write(to: patient)
        try cli.ok(["fhir", "import", "--bank", bank, patient.path])
        #expect(try cli.ok(["twin", "list", "--bank", bank]).contains("Bob Jones"))
    }

    /// Runs a command, sends it SIGINT after `after` seconds, and returns its status and standard error.
    func interrupt(_ arguments: [String], after: Double) throws -> (status: Int32, stderr: String) {
        let process = Process()
        process.executableURL = CommandRunner.executable
        process.arguments = arguments
        let errPipe = Pipe()
        process.standardError = errPipe
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        Thread.sleep(forTimeInterval: after)
        process.interrupt()
        let err = errPipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: err, as: UTF8.self))
    }

    @Test func anInterruptedSimulationSaysSoAndWritesNothing() throws {
        let dir = try CommandRunner.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent("long.csv").path
        let r = try interrupt(["simulate", "glucose", "--hours", "8000", "--out", out], after: 1.5)
        #expect(r.status == 130, "\(r.stderr)")
        #expect(r.stderr.contains("interrupted: nothing written"), "\(r.stderr)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).isEmpty)
    }

    @Test func progressIsQuietWhenStandardErrorIsNotATerminal() throws {
        let dir = try CommandRunner.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        // Long enough (several seconds in a debug build) that a terminal shows progress (next test).
        let r = try cli.run(["simulate", "glucose", "--hours", "2000", "--out", dir.appendingPathComponent("t.csv").path])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stderr.isEmpty, "\(r.stderr)")
        let cases = dir.appendingPathComponent("cases")
        try FileManager.default.createDirectory(at: cases, withIntermediateDirectories: true)
        let suite = try cli.run(["sbml", "suite", cases.path, "--out", dir.appendingPathComponent("s.csv").path])
        #expect(suite.status == 0 && suite.stderr.isEmpty, "\(suite.stderr)")
    }

    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/script"),
                   "skipped: /usr/bin/script (util-linux), which gives the command a terminal, is missing"))
    func progressIsShownOnATerminal() throws {
        let dir = try CommandRunner.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        // script(1) gives the command a terminal; its output is what the terminal showed. The line shows at once
        // (TWINBANK_PROGRESS_AFTER=0): a fast machine finishes before the default two seconds.
        let command = "TWINBANK_PROGRESS_AFTER=0 '\(CommandRunner.executable.path)' simulate glucose --hours 4000 --out '\(dir.appendingPathComponent("t.csv").path)'"
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/script")
        process.arguments = ["-qec", command, "/dev/null"]
        let outPipe = Pipe()
        process.standardOutput = outPipe
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let shown = String(decoding: outPipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "\(shown)")
        #expect(shown.contains("simulate glucose: ") && shown.contains(" of 4000 hours"), "\(shown)")
    }

    @Test func theDemoSaysHowToPassItsData() throws {
        let dir = try CommandRunner.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        // Too few people is a clear error, not a crash.
        let few = try cli.run(["demo", "--bank", dir.appendingPathComponent("few.sqlite").path, "--people", "2"])
        #expect(few.status != 0 && few.stderr.contains("--people"), "\(few.stderr)")
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("few.sqlite").path))
        let r = try cli.run(["demo", "--bank", dir.appendingPathComponent("d.sqlite").path, "--people", "3",
                             "--data", dir.appendingPathComponent("nowhere").path])
        // a --data folder without the models is refused before anything is written, saying how to pass it
        #expect(r.status != 0, "\(r.stdout)")
        #expect(r.stderr.contains("nowhere") && r.stderr.contains("--data") && r.stderr.contains("TWINBANK_SHARED"), "\(r.stderr)")
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("d.sqlite").path))
    }
}
