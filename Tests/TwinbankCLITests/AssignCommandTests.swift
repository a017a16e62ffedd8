import Foundation
import Testing
import TwinTesting

/// `twinbank assign`: the anchor's files in, the optimal cost, the solver's time and the overflow out.
@Suite("twinbank command: assign")
struct AssignCommandTests {
    static let hospitals = """
    {"model": {"distance": "euclidean, km", "severityWeight": [1.0, 2.0, 4.0], "unplacedPenalty": [500.0, 2000.0, 8000.0],
               "wards": ["general", "icu", "icu_vent"]},
     "hospitals": [{"id": 0, "x_km": 0.0, "y_km": 0.0, "capacity": {"general": 1, "icu": 0, "icu_vent": 1}},
                   {"id": 1, "x_km": 10.0, "y_km": 0.0, "capacity": {"general": 1, "icu": 1, "icu_vent": 0}}]}
    """
    static let patients = """
    {"patients": [{"id": 0, "x_km": 1.0, "y_km": 0.0, "severity": 1}, {"id": 1, "x_km": 2.0, "y_km": 0.0, "severity": 1},
                  {"id": 2, "x_km": 3.0, "y_km": 0.0, "severity": 1}, {"id": 3, "x_km": 9.0, "y_km": 0.0, "severity": 2},
                  {"id": 4, "x_km": 8.0, "y_km": 0.0, "severity": 2}, {"id": 5, "x_km": 0.0, "y_km": 1.0, "severity": 3},
                  {"id": 6, "x_km": 0.0, "y_km": 2.0, "severity": 3}]}
    """

    static func files(_ dir: URL, hospitals: String = hospitals, patients: String = patients) throws -> (h: String, p: String) {
        let h = dir.appendingPathComponent("H.json"), p = dir.appendingPathComponent("P.json")
        try Data(hospitals.utf8).write(to: h)
        try Data(patients.utf8).write(to: p)
        return (h.path, p.path)
    }

    @Test func printsTheCostTheTimeAndTheOverflow() throws {
        let dir = try CommandRunner.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let (h, p) = try Self.files(dir)
        let text = try CommandRunner().ok(["assign", "--hospitals", h, "--patients", p])
        #expect(text.contains("cost 10514.0\n"), "\(text)")
        #expect(text.contains("solve_seconds "))
        #expect(text.contains("placed 4 of 7 patients in 2 hospitals"))
        #expect(text.contains("overflow 3 (severity 1 (general): 1, severity 2 (icu): 1, severity 3 (icu_vent): 1)"), "\(text)")
        #expect(text.contains("unplaced patients: 1, 4, 6"))

        let json = try CommandRunner().ok(["assign", "--hospitals", h, "--patients", p, "--json"])
        let d = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        #expect((d["cost"] as? NSNumber)?.doubleValue == 10514)
        #expect(((d["solve_seconds"] as? NSNumber)?.doubleValue ?? -1) >= 0)
        #expect((d["overflow"] as? NSNumber)?.intValue == 3)
        #expect(d["overflow_by_severity"] as? [String: Int] == ["1": 1, "2": 1, "3": 1])
        #expect(d["overflow_patients"] as? [Int] == [1, 4, 6])
    }

    @Test func outWritesTheAnchorsSolutionFormatAndRefusesToOverwrite() throws {
        let dir = try CommandRunner.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let (h, p) = try Self.files(dir)
        let out = dir.appendingPathComponent("S.json").path
        try CommandRunner().ok(["assign", "--hospitals", h, "--patients", p, "--out", out])
        let written = try String(contentsOfFile: out, encoding: .utf8)
        #expect(written == #"{"cost": 10514.0, "assignment": [{"hospital": 0, "ward": "general"}, null, {"hospital": 1, "ward": "general"}, {"hospital": 1, "ward": "icu"}, null, {"hospital": 0, "ward": "icu_vent"}, null]}"#)
        try Data("mine".utf8).write(to: URL(fileURLWithPath: out))
        let again = try CommandRunner().run(["assign", "--hospitals", h, "--patients", p, "--out", out])
        #expect(again.status != 0)
        #expect(again.stderr.contains("exists"), "\(again.stderr)")
        #expect(try String(contentsOfFile: out, encoding: .utf8) == "mine")
        try CommandRunner().ok(["assign", "--hospitals", h, "--patients", p, "--out", out, "--force"])
        #expect(try String(contentsOfFile: out, encoding: .utf8) == written)
    }

    @Test(arguments: [
        (hospitals, #"{"patients": [{"id": 0, "x_km": 1.0, "y_km": 0.0, "severity": 5}]}"#, "severity 5"),
        (#"{"hospitals": [{"id": 0, "x_km": 0, "y_km": 0, "capacity": {"general": -3}}]}"#, patients, "capacity.general = -3"),
        (#"{"hospitals": [{"id": 0, "x_km": 0, "y_km": 0, "capacity": {"burns": 3}}]}"#, patients, "unknown ward 'burns'"),
        (hospitals, #"{"patients": [{"id": 0, "x_km": NaN, "y_km": 0.0, "severity": 1}]}"#, "x_km = nan"),
    ])
    func badInputIsNamedAndNothingIsWritten(hospitals: String, patients: String, phrase: String) throws {
        let dir = try CommandRunner.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let (h, p) = try Self.files(dir, hospitals: hospitals, patients: patients)
        let out = dir.appendingPathComponent("S.json").path
        let run = try CommandRunner().run(["assign", "--hospitals", h, "--patients", p, "--out", out])
        #expect(run.status != 0)
        #expect(run.stderr.contains(phrase), "\(run.stderr)")
        #expect(!FileManager.default.fileExists(atPath: out))
    }

    @Test func aMissingFileIsNamed() throws {
        let run = try CommandRunner().run(["assign", "--hospitals", "/nonexistent/H.json", "--patients", "/nonexistent/P.json"])
        #expect(run.status != 0)
        #expect(run.stderr.contains("/nonexistent/H.json"), "\(run.stderr)")
    }

    @Test func hospitalsFromTheBanksOrganisationTwinsAsOfATime() throws {
        let (dir, bank) = try CommandRunner.temporaryBank()
        defer { try? FileManager.default.removeItem(at: dir) }
        let cli = CommandRunner()
        try cli.ok(["init", "--bank", bank])
        try cli.ok(["twin", "create", "--bank", bank, "--id", "north", "--kind", "organisation", "--attr", "x_km=0", "--attr", "y_km=0"])
        try cli.ok(["twin", "create", "--bank", bank, "--id", "south", "--kind", "organisation", "--attr", "x_km=10", "--attr", "y_km=0"])
        for (twin, code, value, time) in [("north", "capacity.general", "1", "2026-01-01T00:00:00Z"), ("north", "capacity.icu", "0", "2026-01-01T00:00:00Z"),
                                          ("north", "capacity.icu_vent", "1", "2026-01-01T00:00:00Z"), ("north", "capacity.icu_vent", "0", "2026-02-01T00:00:00Z"),
                                          ("south", "capacity.general", "0", "2026-01-01T00:00:00Z"), ("south", "capacity.icu", "0", "2026-01-01T00:00:00Z"),
                                          ("south", "capacity.icu_vent", "2", "2026-01-01T00:00:00Z")] {
            try cli.ok(["thread", "append", "--bank", bank, "--twin", twin, "--code", "local:" + code, "--value", value, "--unit", "1", "--at", time])
        }
        try cli.ok(["aggregate", "create", "--bank", bank, "--id", "hospitals", "--member", "north", "south"])
        let p = dir.appendingPathComponent("P.json")
        try Data(#"{"patients": [{"id": "ann", "x_km": 1.0, "y_km": 0.0, "severity": 3}]}"#.utf8).write(to: p)
        let january = try cli.ok(["assign", "--bank", bank, "--aggregate", "hospitals", "--patients", p.path, "--at", "2026-01-15T00:00:00Z"])
        #expect(january.contains("cost 4.0\n"), "\(january)")
        let march = try cli.ok(["assign", "--bank", bank, "--aggregate", "hospitals", "--patients", p.path, "--at", "2026-03-01T00:00:00Z"])
        #expect(march.contains("cost 36.0\n"), "\(march)")
        let both = try cli.run(["assign", "--bank", bank, "--aggregate", "hospitals", "--hospitals", p.path, "--patients", p.path])
        #expect(both.status != 0 && both.stderr.contains("not both"), "\(both.stderr)")
        let stray = try cli.run(["assign", "--bank", bank, "--hospitals", p.path, "--patients", p.path])
        #expect(stray.status != 0 && stray.stderr.contains("--bank goes with --aggregate"), "\(stray.stderr)")
        let early = try cli.run(["assign", "--bank", bank, "--aggregate", "hospitals", "--patients", p.path, "--at", "2025-01-01T00:00:00Z"])
        #expect(early.status != 0 && early.stderr.contains("twin 'north' has neither a capacity"), "\(early.stderr)")
    }
}
