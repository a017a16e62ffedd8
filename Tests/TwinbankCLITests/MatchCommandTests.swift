import Foundation
import Testing

/// `twinbank match`, as the report found it: seven women with HbA1c 5.9-6.2 % were marked eligible for an
/// "HbA1c > 6.5 %" trial written with `op` and `value`, keys the command ignored. Now that file is refused naming
/// both keys, the criterion written as the schema says finds none of them, each criterion is echoed as
/// understood, and HbA1c in mmol/mol converts through the IFCC-NGSP master equation.
@Suite("twinbank match")
struct MatchCommandTests {
    let cli = CommandRunner()

    func write(_ text: String, to dir: URL, _ name: String) throws -> String {
        let path = dir.appendingPathComponent(name).path
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        return path
    }

    @Test func theReportedTrialIsRefusedAndTheCorrectOneFindsNone() throws {
        let (dir, bank) = try CommandRunner.temporaryBank()
        defer { try? FileManager.default.removeItem(at: dir) }
        try cli.ok(["init", "--bank", bank])
        let values = ["5.9", "6.0", "6.0", "6.1", "6.1", "6.2", "6.2"]
        for (i, v) in values.enumerated() {
            try cli.ok(["twin", "create", "--bank", bank, "--id", "w\(i)", "--kind", "person", "--attr", "gender=female", "--attr", "birthDate=1965-0\(i + 1)-15"])
            try cli.ok(["thread", "append", "--bank", bank, "--twin", "w\(i)", "--code", "loinc:4548-4", "--value", v, "--unit", "%",
                        "--at", "2024-03-01T09:00:00Z", "--source", "record:lab"])
        }
        // one woman whose HbA1c was recorded in mmol/mol: 50 mmol/mol is 6.72 % (UCUM's plain ratio would say 5 %)
        try cli.ok(["twin", "create", "--bank", bank, "--id", "ifcc", "--kind", "person", "--attr", "gender=female", "--attr", "birthDate=1960-01-01"])
        try cli.ok(["thread", "append", "--bank", bank, "--twin", "ifcc", "--code", "loinc:4548-4", "--value", "50", "--unit", "mmol/mol",
                    "--at", "2024-03-01T09:00:00Z", "--source", "record:lab"])

        let reported = try write(#"{"criteria": [{"type": "sex", "values": ["female"]}, {"type": "lab", "code": "loinc:4548-4", "op": ">", "value": 6.5, "unit": "%"}]}"#, to: dir, "reported.json")
        let refused = try cli.run(["match", "--bank", bank, "--criteria", reported, "--as-of", "2024-06-01T00:00:00Z"])
        #expect(refused.status != 0)
        #expect(refused.stderr.contains("criteria[1]") && refused.stderr.contains("'op'") && refused.stderr.contains("'value'")
                && refused.stderr.contains("'min'"), "\(refused.stderr)")
        #expect(!refused.stdout.contains("ELIGIBLE"))

        let correct = try write(#"{"id": "a1c-trial", "criteria": [{"type": "sex", "values": ["female"]}, {"id": "a1c", "type": "lab", "code": "loinc:4548-4", "min": 6.5, "unit": "%"}]}"#, to: dir, "correct.json")
        let json = try cli.ok(["match", "--bank", bank, "--criteria", correct, "--as-of", "2024-06-01T00:00:00Z", "--json"])
        let report = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        #expect(report["eligible"] as? [String] == ["ifcc"])
        let understood = try #require(report["criteria"] as? [String])
        #expect(understood.count == 3)
        #expect(understood.contains { $0.contains("loinc:4548-4") && $0.contains(">= 6.5 %") })
        #expect(understood.contains { $0.contains("alive") && $0.contains("always applied") })

        let text = try cli.ok(["match", "--bank", bank, "--criteria", correct, "--as-of", "2024-06-01T00:00:00Z"])
        let lines = text.split(separator: "\n").map(String.init)
        let echo = try #require(lines.firstIndex { $0.hasPrefix("criteria as understood") })
        let firstResult = try #require(lines.firstIndex { $0.hasPrefix("w0:") })
        #expect(echo < firstResult)
        #expect(lines[echo + 2].contains("a1c: latest loinc:4548-4"))
        #expect(text.contains("ifcc: ELIGIBLE") && text.contains("6.72 % (recorded as 50 mmol/mol)"), "\(text)")
        #expect(text.contains("1 eligible, 0 possibly eligible, of 8 twin(s)"), "\(text)")

        // saving the candidates under an existing aggregate id is refused before matching, unless --replace
        try cli.ok(["match", "--bank", bank, "--criteria", correct, "--as-of", "2024-06-01T00:00:00Z", "--save-aggregate", "a1c-candidates"])
        let again = try cli.run(["match", "--bank", bank, "--criteria", correct, "--as-of", "2024-06-01T00:00:00Z", "--save-aggregate", "a1c-candidates"])
        #expect(again.status != 0 && again.stderr.contains("'a1c-candidates' exists") && again.stderr.contains("--replace"), "\(again.stderr)")
        #expect(!again.stdout.contains("ELIGIBLE"))
        try cli.ok(["match", "--bank", bank, "--criteria", correct, "--as-of", "2024-06-01T00:00:00Z", "--save-aggregate", "a1c-candidates", "--replace"])
        #expect(try cli.ok(["aggregate", "show", "--bank", bank, "--id", "a1c-candidates"]).contains("ifcc"))
    }

    @Test func helpPublishesTheSchema() throws {
        let help = try cli.run(["match", "--help"])
        for word in ["withinDays", "\"type\": \"age\"", "\"type\": \"sex\"", "\"type\": \"alive\"", "\"type\": \"condition\"", "\"type\": \"lab\"",
                     "\"type\": \"medication\"", "deceased person is never eligible"] {
            #expect(help.stdout.contains(word), "match --help lacks \(word)")
        }
    }
}
