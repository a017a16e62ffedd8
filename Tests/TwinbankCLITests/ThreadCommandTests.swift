import Foundation
import Testing

/// `thread append`, `thread import`, `thread query`, `retract` and `simulate` as a user types them (issue 22,
/// defects 6, 7 and 8).
@Suite("twinbank command: values, CSV import and time")
struct ThreadCommandTests {
    let dir: URL
    let bank: String
    let cli = CommandRunner()

    init() throws {
        (dir, bank) = try CommandRunner.temporaryBank()
        _ = try cli.ok(["init", "--bank", bank])
        _ = try cli.ok(["twin", "create", "--bank", bank, "--id", "alice", "--kind", "person", "--attr", "birthDate=1980-04-02"])
    }

    func fails(_ args: [String]) throws -> String {
        let out = try cli.run(args)
        #expect(out.status != 0, "\(args.joined(separator: " ")) should have failed, printed: \(out.stdout)")
        return out.stderr + out.stdout
    }

    func events(_ extra: [String] = []) throws -> [[String: Any]] {
        let text = try cli.ok(["thread", "query", "--bank", bank, "--twin", "alice", "--json"] + extra)
        return (try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [[String: Any]]) ?? []
    }

    func append(_ value: [String], code: String = "loinc:2339-0", unit: String? = "mg/dL", at: String = "2024-01-07T07:00Z") -> [String] {
        ["thread", "append", "--bank", bank, "--twin", "alice", "--code", code] + value + (unit.map { ["--unit", $0] } ?? []) + ["--at", at, "--source", "device:cgm-1"]
    }

    func write(_ text: String, _ name: String) throws -> String {
        let url = dir.appendingPathComponent(name)
        try Data(text.utf8).write(to: url)
        return url.path
    }

    // MARK: Defect 6

    @Test func textForGlucoseIsRefusedAndNothingIsWritten() throws {
        defer { try? FileManager.default.removeItem(at: dir) }
        let error = try fails(append(["--value", "abc"]))
        #expect(error.contains("'abc'") && error.contains("'mg/dL' says it is a quantity"), "\(error)")
        #expect(try fails(append(["--value", "abc"], unit: nil)).contains("'abc'"))
        #expect(try events().isEmpty)
    }

    @Test func implausibleGlucoseIsStoredFlaggedWithAWarning() throws {
        defer { try? FileManager.default.removeItem(at: dir) }
        let run = try cli.run(append(["--value", "5000"]))
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stderr.contains("implausible") && run.stderr.contains("5000 mg/dL"), "\(run.stderr)")
        _ = try cli.ok(append(["--value", "110"], at: "2024-01-07T07:05Z"))
        let listed = try cli.ok(["thread", "query", "--bank", bank, "--twin", "alice"])
        #expect(listed.contains("5000 mg/dL") && listed.contains("(implausible)  #1"), "\(listed)")
        #expect(try events(["--hide-implausible"]).count == 1)
        #expect(try events(["--category", "observation"]).count == 2)
    }

    @Test(arguments: [["--value", "-50"], ["--value=-50"]])
    func negativeValuesParse(value: [String]) throws {
        defer { try? FileManager.default.removeItem(at: dir) }
        let run = try cli.run(append(value, code: "local:base-excess", unit: "mmol/L"))
        #expect(run.status == 0, "\(run.stderr)")
        let e = try events()
        #expect((e.first?["value"] as? [String: Any])?["value"] as? Double == -50)
    }

    @Test func retractOneEventOrARangeWithAReason() throws {
        defer { try? FileManager.default.removeItem(at: dir) }
        for (hour, v) in [("07", "110"), ("08", "115"), ("09", "120"), ("10", "125")] {
            _ = try cli.ok(append(["--value", v], at: "2024-01-07T\(hour):00Z"))
        }
        let seq = try events().first { ($0["value"] as? [String: Any])?["value"] as? Double == 115 }?["sequence"] as? Int
        let one = try cli.ok(["retract", "--bank", bank, "--event", "\(try #require(seq))", "--reason", "typed 115 for 151"])
        #expect(one.contains("retracted event"))
        #expect(try events(["--code", "loinc:2339-0"]).count == 3)
        let range = try cli.ok(["retract", "--bank", bank, "--source", "device:cgm-1", "--from", "2024-01-07T09:00Z", "--to", "2024-01-07T10:00Z",
                                "--reason", "sensor off the skin", "--json"])
        #expect((try JSONSerialization.jsonObject(with: Data(range.utf8)) as? [String: Any])?["eventsRetracted"] as? Int == 2)
        let left = try events(["--code", "loinc:2339-0"])
        #expect(left.count == 1 && (left[0]["value"] as? [String: Any])?["value"] as? Double == 110)
        #expect(try fails(["retract", "--bank", bank, "--event", "abc", "--reason", "x"]).contains("'abc'"))
        #expect(try fails(["retract", "--bank", bank, "--source", "device:cgm-1", "--from", "2024-01-07", "--reason", "x"]).contains("--to"))
    }

    // MARK: Defect 7

    @Test func windowsLineEndsSemicolonsReorderedColumnsAndCategories() throws {
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = try write("\u{FEFF}code;time;value;unit;category\r\nloinc:2339-0;2024-01-07T07:00Z;110;mg/dL;\r\nloinc:9059-7;2024-01-07T07:30Z;45;g;intervention\r\n", "export.csv")
        let out = try cli.ok(["thread", "import", "--bank", bank, "--twin", "alice", "--csv", file])
        #expect(out.contains("imported 2 events"), "\(out)")
        #expect(try events(["--category", "intervention"]).count == 1)
        #expect(try events(["--category", "observation"]).count == 1)
    }

    @Test func aGrowingExportImportsOnlyItsNewRows() throws {
        defer { try? FileManager.default.removeItem(at: dir) }
        var text = "time,code,value,unit,source\n"
        for m in 0..<10 { text += "2024-01-07T07:\(10 + m):00Z,loinc:2339-0,\(100 + m),mg/dL,device:cgm-1\n" }
        let file = try write(text, "cgm.csv")
        _ = try cli.ok(["thread", "import", "--bank", bank, "--twin", "alice", "--csv", file])
        for m in 10..<15 { text += "2024-01-07T07:\(10 + m):00Z,loinc:2339-0,\(100 + m),mg/dL,device:cgm-1\n" }
        _ = try write(text, "cgm.csv")
        let again = try cli.ok(["thread", "import", "--bank", bank, "--twin", "alice", "--csv", file])
        #expect(again.contains("imported 5 events") && again.contains("10 of 15 rows were already in the thread"), "\(again)")
        #expect(try events().count == 15)
    }

    @Test(arguments: [
        ("time,code,value,unit\n", "no rows"),
        ("time,code,value,color\n2024-01-07,loinc:2339-0,1,red\n", "'color'"),
        ("when,code,value\n2024-01-07,loinc:2339-0,100\n", "missing required column 'time'"),
        ("time,code,value,unit\r\n2024-01-07T07:00Z,loinc:2339-0,100,mg/dL\r\n2024-01-07T25:00Z,loinc:2339-0,100,mg/dL\r\n", "line 3, column 'time'"),
    ])
    func badFilesFailNamingWhereAndWriteNothing(text: String, expected: String) throws {
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = try write(text, "bad.csv")
        #expect(try fails(["thread", "import", "--bank", bank, "--twin", "alice", "--csv", file]).contains(expected))
        #expect(try events().isEmpty)
    }

    // MARK: Validation at every door (issue 23, item 4)

    @Test(arguments: [
        (["--value", "abc"], "loinc:8867-4", "/min", ["'abc'", "'/min'", "not a number"]),
        (["--value", "abc"], "loinc:99999-9", "mg", ["'abc'", "'mg'", "not a number"]),
        (["--value", "1e308"], "loinc:8867-4", "/min", ["1e+308", "beyond any plausible magnitude"]),
        (["--value", "-3e16"], "local:anything", "mg", ["-3e+16", "beyond any plausible magnitude"]),
    ])
    func appendRefusesAValueThatCannotBeWhatItsCodeAndUnitSay(value: [String], code: String, unit: String, expected: [String]) throws {
        defer { try? FileManager.default.removeItem(at: dir) }
        let error = try fails(append(value, code: code, unit: unit))
        for e in expected { #expect(error.contains(e), "\(error)") }
        #expect(!error.contains("abc /min"))
        #expect(try events().isEmpty)
    }

    @Test func appendRefusesAnObservationFromTheFutureButNotAPrediction() throws {
        defer { try? FileManager.default.removeItem(at: dir) }
        let error = try fails(append(["--value", "110"], at: "2099-01-07T07:00Z"))
        #expect(error.contains("2099-01-07T07:00:00Z") && error.contains("in the future of the bank's clock") && error.contains("the event (") && !error.contains("row 1"), "\(error)")
        #expect(try fails(append(["--value", "110"], at: "+1h")).contains("in the future"))
        #expect(try events().isEmpty)
        // within the skew, and a prediction or a planned meal, are fine
        _ = try cli.ok(append(["--value", "110"], at: "+2m"))
        _ = try cli.ok(append(["--value", "120"], at: "2099-01-07T07:00Z") + ["--category", "prediction"])
        _ = try cli.ok(append(["--value", "45"], code: "loinc:9059-7", unit: "g", at: "+3h") + ["--category", "intervention"])
        #expect(try events().count == 3)
    }

    @Test(arguments: [
        ("time,code,value,unit\n2024-01-07T07:00Z,loinc:8867-4,70,/min\n2024-01-07T07:05Z,loinc:8867-4,abc,/min\n", ["line 3, column 'value'", "'abc'", "'/min'"]),
        ("time,code,value,unit\n2024-01-07T07:00Z,loinc:99999-9,7,mg\n2024-01-07T07:05Z,loinc:99999-9,abc,mg\n", ["line 3, column 'value'", "'abc'", "'mg'"]),
        ("time,code,value,unit\n2024-01-07T07:00Z,loinc:8867-4,70,/min\n2024-01-07T07:05Z,loinc:8867-4,1e308,/min\n", ["line 3", "1e+308", "beyond any plausible magnitude"]),
        ("time,code,value,unit\n2024-01-07T07:00Z,loinc:8867-4,70,/min\n2099-01-07T07:05Z,loinc:8867-4,72,/min\n", ["line 3", "2099-01-07T07:05:00Z", "in the future of the bank's clock"]),
    ])
    func importRefusesBadRowsNamingTheLineAndWritesNothing(text: String, expected: [String]) throws {
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = try write(text, "door.csv")
        let error = try fails(["thread", "import", "--bank", bank, "--twin", "alice", "--csv", file])
        for e in expected { #expect(error.contains(e), "\(error)") }
        #expect(try events().isEmpty)
    }

    @Test func importFlagsAnImplausibleHeartRate() throws {
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = try write("time,code,value,unit\n2024-01-07T07:00Z,loinc:8867-4,70,/min\n2024-01-07T07:05Z,loinc:8867-4,900,/min\n", "hr.csv")
        let run = try cli.run(["thread", "import", "--bank", bank, "--twin", "alice", "--csv", file])
        #expect(run.status == 0 && run.stderr.contains("line 3: stored with the implausible flag") && run.stderr.contains("10-350 /min"), "\(run.stderr)")
        #expect(try events(["--hide-implausible"]).count == 1)
    }

    @Test func aSeparatorCanBeNamed() throws {
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = try write("time\tcode\tvalue\tunit\n2024-01-07T07:00Z\tloinc:2339-0\t110\tmg/dL\n", "tabs.tsv")
        _ = try cli.ok(["thread", "import", "--bank", bank, "--twin", "alice", "--csv", file, "--separator", "tab"])
        #expect(try fails(["thread", "import", "--bank", bank, "--twin", "alice", "--csv", file, "--separator", "|"]).contains("'|'"))
        #expect(try events().count == 1)
    }

    // MARK: Defect 8

    @Test func aDateAsUpperBoundIsTheEndOfThatDay() throws {
        defer { try? FileManager.default.removeItem(at: dir) }
        _ = try cli.ok(append(["--value", "110"], at: "2024-01-07T18:00Z"))
        _ = try cli.ok(append(["--value", "120"], at: "2024-01-08T00:00Z"))
        #expect(try events(["--from", "2024-01-07", "--to", "2024-01-07"]).count == 1)
        #expect(try events(["--from", "2024-01-08"]).count == 1)
        #expect(try events(["--to", "now"]).count == 2)
        #expect(try events(["--from", "-1d"]).isEmpty)
        #expect(try events(["--from=-1d"]).isEmpty)
        #expect(try fails(["thread", "query", "--bank", bank, "--twin", "alice", "--to", "soon"]).contains("'soon'"))
    }

    @Test func appendTakesRelativeTimes() throws {
        defer { try? FileManager.default.removeItem(at: dir) }
        _ = try cli.ok(append(["--value", "110"], at: "-2h"))
        #expect(try events(["--from", "today"]).count + events(["--from", "yesterday", "--to", "yesterday"]).count == 1)
    }

    @Test(arguments: [("07:30", "ambiguous"), ("1:45,30:20", "not within the run"), ("07:30=abc", "HH:MM=GRAMS")])
    func mealsThatDoNotMeanWhatTheySay(meals: String, expected: String) throws {
        defer { try? FileManager.default.removeItem(at: dir) }
        let error = try fails(["simulate", "glucose", "--meals", meals, "--hours", "24", "--out", dir.appendingPathComponent("t.csv").path])
        #expect(error.contains(expected), "\(error)")
    }

    @Test func clockMealsAndTheCommonStartFormat() throws {
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent("t.csv").path
        _ = try cli.ok(["simulate", "glucose", "--meals", "00:30=45", "--hours", "1", "--start", "2024-01-07T06:00:00Z", "--out", out])
        let rows = try String(contentsOfFile: out, encoding: .utf8).split(separator: "\n")
        #expect(rows[1].hasPrefix("2024-01-07 06:00:00"))
        let meal = rows.dropFirst().first { $0.split(separator: ",")[2] != "0.0" && $0.split(separator: ",")[2] != "0" }
        #expect(meal?.hasPrefix("2024-01-07 06:30:00") == true, "\(meal ?? "no meal row")")
        #expect(try fails(["simulate", "glucose", "--start", "soon", "--hours", "1"]).contains("'soon'"))
    }
}
