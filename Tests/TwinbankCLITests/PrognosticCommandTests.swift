import Foundation
import Testing
import TwinBank
import TwinBankSQLite
import TwinCore
import TwinSimulation
import TwinTesting

/// `twinbank prognostic fit|predict` and `twinbank trial analyze` on a bank the command initialised, filled through
/// the library with a generated history cohort (40 people) and a generated trial (60 people, arm attribute, a true
/// effect of −6 mmHg in the last year): systolic pressure every ~4 months for 4 years.
@Suite struct PrognosticCommandTests {
    let dir: URL
    let bank: String
    let cli = CommandRunner()
    static let systolic = Concept.loinc("8480-6", "Systolic blood pressure")

    init() throws {
        (dir, bank) = try CommandRunner.temporaryBank()
        try cli.ok(["init", "--bank", bank])
        let b = Bank(storage: try SQLiteStorage(path: bank, create: false))
        var rng = Xoshiro256StarStar(seed: 5)
        let start = try Instant(parsing: "2018-01-01"), year = 365.25 * 86_400
        func person(_ id: String, arm: String?) throws -> TwinID {
            let twin = try TwinID(id)
            let age = 35 + 40 * rng.uniform(), male = rng.uniform() < 0.5
            var attributes: [String: Value] = ["birthDate": .date(start.advanced(bySeconds: -age * year)), "gender": .text(male ? "male" : "female")]
            if let arm { attributes["arm"] = .text(arm) }
            try b.createTwin(Twin(id: twin, kind: .person, attributes: attributes))
            let level = 8 * rng.normal(), slope = 1 + rng.normal()
            var drafts: [EventDraft] = [], t = 0.0
            while t < 4 * year {
                var sbp = 118 + 0.4 * (age - 50) + (male ? 4 : 0) + level + slope * t / year + 4 * rng.normal()
                if arm == "treated", t / year > 3.3 { sbp -= 6 }
                drafts.append(.observation(twin, at: start.advanced(bySeconds: t), code: Self.systolic, Quantity(sbp.rounded(), "mm[Hg]"), source: Source(.device, "cuff")))
                t += (100 + 40 * rng.uniform()) * 86_400
            }
            try b.append(drafts)
            return twin
        }
        try b.createAggregate("history", members: try (0..<40).map { try person("h\($0)", arm: nil) })
        try b.createAggregate("trial", members: try (0..<60).map { try person("t\($0)", arm: $0 % 2 == 0 ? "treated" : "control") })
        try b.createTwin(Twin(id: "child", kind: .person, attributes: ["birthDate": .date(try Instant(parsing: "2013-01-01")), "gender": .text("male")]))
        try b.append([.observation("child", at: try Instant(parsing: "2021-01-01"), code: Self.systolic, Quantity(101, "mm[Hg]"), source: Source(.device, "cuff"))])
    }

    @Test func fitPredictAndAnalyseATrial() throws {
        let fit = try cli.ok(["prognostic", "fit", "--bank", bank, "--aggregate", "history", "--outcome", "loinc:8480-6", "--horizon", "365d", "--covariates", "loinc:8462-4", "--json"])
        let object = try #require(try JSONSerialization.jsonObject(with: Data(fit.utf8)) as? [String: Any])
        let hash = try #require(object["hash"] as? String)
        #expect(hash.count == 64)
        let text = try cli.ok(["prognostic", "fit", "--bank", bank, "--aggregate", "history", "--outcome", "loinc:8480-6", "--horizon", "365d", "--covariates", "loinc:8462-4"])
        #expect(text.contains("model \(hash)"), "the same fit stores the same model: \(text)")
        #expect(text.contains("last-value") && text.contains("coverage"))

        let predicted = try cli.ok(["prognostic", "predict", "--bank", bank, "--twin", "h1", "--model", String(hash.prefix(12))])
        #expect(predicted.contains("90 % interval"), "\(predicted)")
        let thread = try cli.ok(["thread", "query", "--bank", bank, "--twin", "h1", "--json"])
        #expect(thread.contains(hash) && thread.contains("prediction"))

        let refused = try cli.run(["prognostic", "predict", "--bank", bank, "--twin", "child", "--model", hash])
        #expect(refused.status != 0)
        #expect(refused.stderr.contains("ageYears") && refused.stderr.contains("training range"), "\(refused.stderr)")
        let warned = try cli.run(["prognostic", "predict", "--bank", bank, "--twin", "child", "--model", hash, "--allow-outside"])
        #expect(warned.status == 0, "\(warned.stderr)")
        #expect(warned.stderr.contains("WARNING"), "\(warned.stderr)")

        let trial = try cli.ok(["trial", "analyze", "--bank", bank, "--aggregate", "trial", "--arm", "arm", "--outcome", "loinc:8480-6", "--prognostic", hash, "--json"])
        let report = try #require(try JSONSerialization.jsonObject(with: Data(trial.utf8)) as? [String: Any])
        let analysis = try #require(report["analysis"] as? [String: Any])
        let adjusted = try #require(analysis["adjusted"] as? [String: Any]), unadjusted = try #require(analysis["unadjusted"] as? [String: Any])
        let seAdjusted = try #require(adjusted["standardError"] as? Double), seUnadjusted = try #require(unadjusted["standardError"] as? Double)
        #expect(seAdjusted < seUnadjusted)
        let lower = try #require(adjusted["lower"] as? Double), upper = try #require(adjusted["upper"] as? Double)
        #expect(lower < -6 && -6 < upper, "adjusted CI [\(lower), \(upper)]")
        let wrong = try cli.run(["trial", "analyze", "--bank", bank, "--aggregate", "trial", "--arm", "arm", "--outcome", "loinc:4548-4", "--prognostic", hash])
        #expect(wrong.status != 0 && wrong.stderr.contains("not the outcome"), "\(wrong.stderr)")
    }
}
