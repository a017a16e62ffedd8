import Foundation
import Testing

/// `twinbank sync` with a bank of priors: three hours of CGM readings, a meal and its bolus appended with
/// `thread append`; `sync --prior cohort --recalibrate 60 --json` writes the 30-minute forecast from a bank of
/// the other nine simglucose adults (the twin's own virtualPatient left out) plus its refits, and says so.
@Suite("twinbank sync")
struct SyncCommandTests {
    let cli = CommandRunner()

    @Test func cohortPriorWithRecalibration() throws {
        let (dir, bank) = try CommandRunner.temporaryBank()
        defer { try? FileManager.default.removeItem(at: dir) }
        let ok = { (args: [String]) throws -> String in try cli.ok(args) }
        _ = try ok(["init", "--bank", bank])
        _ = try ok(["twin", "create", "--bank", bank, "--id", "pat", "--kind", "person", "--attr", "virtualPatient=adult#004"])
        _ = try ok(["thread", "append", "--bank", bank, "--twin", "pat", "--code", "loinc:9059-7", "--value", "50", "--unit", "g",
                    "--at", "2024-01-01T07:00:00Z", "--category", "intervention", "--source", "person:self"])
        _ = try ok(["thread", "append", "--bank", bank, "--twin", "pat", "--code", "snomed:67866001", "--value", "5", "--unit", "[IU]",
                    "--at", "2024-01-01T07:00:00Z", "--category", "intervention", "--source", "device:pump-1"])
        // flat at 120 mg/dL, then a rise after the meal and a return
        for k in 0...36 {
            let minute = k * 5
            let g = minute < 60 ? 120.0 : 120 + 60 * sin(Double(minute - 60) / 120 * Double.pi)
            _ = try ok(["thread", "append", "--bank", bank, "--twin", "pat", "--code", "loinc:2339-0", "--value", String(format: "%.1f", g), "--unit", "mg/dL",
                        "--at", String(format: "2024-01-01T%02d:%02d:00Z", 6 + minute / 60, minute % 60), "--source", "device:cgm-1"])
        }
        let out = try ok(["sync", "--bank", bank, "--twin", "pat", "--to", "2024-01-01T09:00:00Z", "--prior", "cohort", "--recalibrate", "60", "--json"])
        let summary = try #require(try JSONSerialization.jsonObject(with: Data(out.utf8)) as? [String: Any])
        let prior = try #require(summary["prior"] as? String)
        #expect(prior.hasPrefix("cohort of 9 (") && !prior.contains("adult#004") && prior.contains("adult#001"))
        let filter = try #require(summary["filter"] as? String)
        #expect(filter.hasPrefix("UKF bank of "), "\(filter)")
        #expect((Int(filter.split(separator: " ").last ?? "") ?? 0) >= 10, "a refit joins the bank: \(filter)")
        let forecast = try #require(summary["forecast"] as? [[String: Any]])
        #expect(forecast.count == 6)
        #expect(forecast.allSatisfy { (($0["mean"] as? Double) ?? 0) > 40 && (($0["mean"] as? Double) ?? 1000) < 400 })
        let predictions = try ok(["thread", "query", "--bank", bank, "--twin", "pat", "--category", "prediction", "--json"])
        let written = try #require(try JSONSerialization.jsonObject(with: Data(predictions.utf8)) as? [[String: Any]])
        // 6 forecast points with their interval ends, and the estimate of Vmx, kp3 and kabs
        #expect(written.count == 18 + 3)
        #expect(written.filter { "\($0["code"] ?? "")".contains("urn:twinbank:estimate") }.count == 3, "\(written.map { $0["code"] ?? "" })")
        // bad input: named, nothing written
        let badPrior = try cli.run(["sync", "--bank", bank, "--twin", "pat", "--prior", "everyone"])
        #expect(badPrior.status != 0 && badPrior.stderr.contains("everyone"))
        let badInterval = try cli.run(["sync", "--bank", bank, "--twin", "pat", "--prior", "cohort", "--recalibrate", "0"])
        #expect(badInterval.status != 0 && badInterval.stderr.contains("--recalibrate"))
        let badParticles = try cli.run(["sync", "--bank", bank, "--twin", "pat", "--particles", "50"])
        #expect(badParticles.status != 0 && badParticles.stderr.contains("--prior cohort"), "\(badParticles.stderr)")
        let fewParticles = try cli.run(["sync", "--bank", bank, "--twin", "pat", "--prior", "cohort", "--particles", "3"])
        #expect(fewParticles.status != 0 && fewParticles.stderr.contains("--particles"))
        #expect(try ok(["thread", "query", "--bank", bank, "--twin", "pat", "--category", "prediction", "--json"]) == predictions)
        // historical data without --to: the window (the 24 h before now) is empty, and the error says where the data is
        let historical = try cli.run(["sync", "--bank", bank, "--twin", "pat"])
        #expect(historical.status != 0 && historical.stderr.contains("runs from 2024-01-01T06:00:00Z to 2024-01-01T09:00:00Z")
                && historical.stderr.contains("--to 2024-01-01T09:00:00Z"), "\(historical.stderr)")

        // the particle posterior from the same thread: a dry run says which estimator and seed, forecasts in range
        let smc = try ok(["sync", "--bank", bank, "--twin", "pat", "--to", "2024-01-01T09:00:00Z", "--prior", "cohort", "--particles", "24",
                          "--seed", "7", "--dry-run", "--json"])
        let posterior = try #require(try JSONSerialization.jsonObject(with: Data(smc.utf8)) as? [String: Any])
        #expect(posterior["filter"] as? String == "SMC(24)")
        #expect((posterior["prior"] as? String)?.contains("covariance pooled within age groups") == true)
        let points = try #require(posterior["forecast"] as? [[String: Any]])
        #expect(points.count == 6)
        #expect(points.allSatisfy { (($0["mean"] as? Double) ?? 0) > 40 && (($0["mean"] as? Double) ?? 1000) < 400 }, "\(points)")
        let now = try #require(posterior["glucoseNow"] as? Double)
        #expect(abs(now - 120) < 25, "now-cast \(now) against the last reading 120")
        let again = try ok(["sync", "--bank", bank, "--twin", "pat", "--to", "2024-01-01T09:00:00Z", "--prior", "cohort", "--particles", "24",
                            "--seed", "7", "--dry-run", "--json"])
        let repeated = try #require(try JSONSerialization.jsonObject(with: Data(again.utf8)) as? [String: Any])
        let means = { (doc: [String: Any]) in ((doc["forecast"] as? [[String: Any]]) ?? []).compactMap { $0["mean"] as? Double } }
        #expect(means(repeated) == means(posterior) && means(posterior).count == 6, "same seed, same thread: the same forecast")
        #expect(posterior["bodyWeight"] == nil)

        // a recorded body weight conditions the prior: the latest at or before the origin (in lb, converted), not a later one
        _ = try ok(["thread", "append", "--bank", bank, "--twin", "pat", "--code", "loinc:29463-7", "--value", "70", "--unit", "kg",
                    "--at", "2023-12-20T10:00:00Z", "--source", "device:scale-1"])
        _ = try ok(["thread", "append", "--bank", bank, "--twin", "pat", "--code", "loinc:29463-7", "--value", "165", "--unit", "[lb_av]",
                    "--at", "2024-01-01T05:00:00Z", "--source", "device:scale-1"])
        _ = try ok(["thread", "append", "--bank", bank, "--twin", "pat", "--code", "loinc:29463-7", "--value", "90", "--unit", "kg",
                    "--at", "2024-01-01T10:00:00Z", "--source", "device:scale-1"])
        let weighed = try ok(["sync", "--bank", bank, "--twin", "pat", "--to", "2024-01-01T09:00:00Z", "--prior", "cohort", "--particles", "24",
                              "--seed", "7", "--dry-run", "--json"])
        let conditioned = try #require(try JSONSerialization.jsonObject(with: Data(weighed.utf8)) as? [String: Any])
        let kg = try #require(conditioned["bodyWeight"] as? Double)
        #expect(abs(kg - 165 * 0.45359237) < 1e-9, "\(kg)")
        #expect(means(conditioned).count == 6 && means(conditioned) != means(posterior))
        #expect(means(conditioned).allSatisfy { $0 > 40 && $0 < 400 }, "\(means(conditioned))")
        // an implausible latest weight is an error naming it; nothing is written
        _ = try ok(["thread", "append", "--bank", bank, "--twin", "pat", "--code", "loinc:29463-7", "--value", "700", "--unit", "kg",
                    "--at", "2024-01-01T05:30:00Z", "--source", "device:scale-1"])
        let before = try ok(["thread", "query", "--bank", bank, "--twin", "pat", "--json"])
        let heavy = try cli.run(["sync", "--bank", bank, "--twin", "pat", "--to", "2024-01-01T09:00:00Z", "--prior", "cohort"])
        #expect(heavy.status != 0 && heavy.stderr.contains("700 kg") && heavy.stderr.contains("plausible"), "\(heavy.stderr)")
        #expect(try ok(["thread", "query", "--bank", bank, "--twin", "pat", "--json"]) == before)
    }
}
