import Foundation
import Testing
import TwinTesting

/// Issue 27, items 1-2 and consent: `twinbank consent grant|deny|revoke|show|import|export` and `twinbank policy`.
@Suite("twinbank command: consent and policy")
struct ConsentCommandTests {
    var cli: CommandRunner {
        var c = CommandRunner()
        c.environment["TWINBANK_ACTOR"] = "olga"
        return c
    }

    func newBank() throws -> (URL, String) {
        let (dir, bank) = try CommandRunner.temporaryBank()
        try cli.ok(["init", "--bank", bank])
        for id in ["p1", "p2"] { try cli.ok(["twin", "create", "--bank", bank, "--id", id, "--kind", "person", "--attr", "birthDate=1980-04-02"]) }
        return (dir, bank)
    }

    func json(_ text: String) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
    }

    @Test func grantDenyRevokeAndTheHistory() throws {
        let (dir, bank) = try newBank()
        defer { try? FileManager.default.removeItem(at: dir) }
        try cli.ok(["commit", "--bank", bank, "-m", "twins"])
        let granted = try cli.ok(["consent", "grant", "--bank", bank, "--twin", "p1", "--purpose", "research", "--category", "vital-signs",
                                  "--data-from", "2020-01-01", "--until", "2030-01-01"])
        #expect(granted.contains("recorded consent rule r1 permit research on category vital-signs from 2020-01-01T00:00:00Z"), "\(granted)")
        #expect(granted.contains("until 2030-01-01"), "\(granted)")
        let denied = try json(try cli.ok(["consent", "deny", "--bank", bank, "--twin", "p1", "--purpose", "any", "--code", "loinc:81247-9", "--code-below", "icd10:F",
                                          "--organisation", "pharma", "--json"]))
        #expect(denied["rules"] as? [String] == ["r2"])
        #expect(denied["version"] as? Int == 2)
        // The consent is in the bank's working state: a commit records it.
        #expect(try cli.ok(["commit", "--bank", bank, "-m", "consent of p1"]).contains("consent of p1"))

        let shown = try json(try cli.ok(["consent", "show", "--bank", bank, "--twin", "p1", "--json"]))
        let rules = try #require(shown["rules"] as? [[String: Any]])
        #expect(rules.map { $0["effect"] as? String } == ["permit", "deny"])
        #expect(rules[1]["organisations"] as? [String] == ["pharma"])
        #expect((rules[1]["data"] as? [String: Any]).map { "\($0)" }?.contains("descendants") == true, "\(rules[1])")

        #expect(try cli.ok(["consent", "revoke", "--bank", bank, "--twin", "p1", "--rule", "r1"]).contains("revoked consent rule(s) r1"))
        let again = try cli.run(["consent", "revoke", "--bank", bank, "--twin", "p1", "--rule", "r1"])
        #expect(again.status != 0 && again.stderr.contains("already revoked"), "\(again.stderr)")
        let unknown = try cli.run(["consent", "revoke", "--bank", bank, "--twin", "p1", "--rule", "r7"])
        #expect(unknown.status != 0 && unknown.stderr.contains("no consent rule 'r7'") && unknown.stderr.contains("r2"), "\(unknown.stderr)")

        let history = try cli.ok(["consent", "show", "--bank", bank, "--twin", "p1", "--history"])
        #expect(history.contains("version 1") && history.contains("version 2") && history.contains("version 3"), "\(history)")
        #expect(history.contains("(revoked "), "\(history)")
        #expect(try cli.ok(["consent", "revoke", "--bank", bank, "--twin", "p1", "--all"]).contains("r2"))
        let none = try cli.run(["consent", "revoke", "--bank", bank, "--twin", "p1", "--all"])
        #expect(none.status != 0 && none.stderr.contains("no consent rule left to revoke"), "\(none.stderr)")
        #expect(try cli.ok(["consent", "show", "--bank", bank, "--twin", "p2"]).contains("has no consent rules"))
    }

    @Test func badValuesAreNamed() throws {
        let (dir, bank) = try newBank()
        defer { try? FileManager.default.removeItem(at: dir) }
        let cases: [([String], String)] = [
            (["--twin", "p9", "--purpose", "research"], "unknown twin 'p9'"),
            (["--twin", "p1", "--purpose", "curiosity"], "unknown purpose 'curiosity'"),
            (["--twin", "p1", "--purpose", "research", "--category", "gossip"], "unknown data category 'gossip'"),
            (["--twin", "p1", "--purpose", "research", "--code", "nosuch:1"], "nosuch:1"),
            (["--twin", "p1", "--purpose", "research", "--action", "peek"], "unknown action 'peek'"),
            (["--twin", "p1", "--purpose", "research", "--code-below", "snomed"], "--code-below"),
            (["--twin", "p1", "--purpose", "research", "--data-from", "2021-13-01"], "--data-from"),
            (["--twin", "p1", "--purpose", "research", "--from", "2026-01-01", "--until", "2025-01-01"], "must expire after it"),
            (["--twin", "p1"], "--purpose"),
        ]
        for (args, fragment) in cases {
            let out = try cli.run(["consent", "grant", "--bank", bank] + args)
            #expect(out.status != 0, "\(args)")
            #expect(out.stderr.contains(fragment), "\(args): \(out.stderr)")
        }
        #expect(try cli.ok(["consent", "show", "--bank", bank, "--twin", "p1"]).contains("has no consent rules"), "nothing half-written")
    }

    @Test(.enabled(if: SharedFolder.has("data/fhir-r4-examples/Consent-consent-example-notOrg.json")))
    func fhirImportAndExport() throws {
        let (dir, bank) = try newBank()
        defer { try? FileManager.default.removeItem(at: dir) }
        let examples = SharedFolder.data("fhir-r4-examples")
        let imported = try cli.ok(["consent", "import", "--bank", bank, "--twin", "p1", examples.appendingPathComponent("Consent-consent-example-notOrg.json").path])
        #expect(imported.contains("r1 deny any purpose to organisation f001 for export,query,read,write"), "\(imported)")
        let refused = try cli.run(["consent", "import", "--bank", bank, "--twin", "p1", examples.appendingPathComponent("Consent-consent-example-pkb.json").path])
        #expect(refused.status != 0)
        #expect(refused.stderr.contains("Consent.provision.securityLabel") && refused.stderr.contains("security label"), "\(refused.stderr)")

        try cli.ok(["consent", "grant", "--bank", bank, "--twin", "p1", "--purpose", "research", "--category", "laboratory", "--until", "2031-01-01"])
        let out = dir.appendingPathComponent("p1-consent.json").path
        #expect(try cli.ok(["consent", "export", "--bank", bank, "--twin", "p1", "--out", out]).contains("2 rule(s)"))
        let validated = try cli.run(["fhir", "validate", out])
        #expect(validated.status == 0, "\(validated.stdout) \(validated.stderr)")
        let exists = try cli.run(["consent", "export", "--bank", bank, "--twin", "p1", "--out", out])
        #expect(exists.status != 0 && exists.stderr.contains(out), "\(exists.stderr)")
        // Read back into another twin: the same rules.
        try cli.ok(["consent", "import", "--bank", bank, "--twin", "p2", out])
        let a = try json(try cli.ok(["consent", "show", "--bank", bank, "--twin", "p1", "--json"]))["rules"] as? [[String: Any]]
        let b = try json(try cli.ok(["consent", "show", "--bank", bank, "--twin", "p2", "--json"]))["rules"] as? [[String: Any]]
        #expect(a.map { $0.map { NSDictionary(dictionary: $0) } } == b.map { $0.map { NSDictionary(dictionary: $0) } })
    }

    @Test func policyShowSetRoleAndOnlyAdminsChangeThings() throws {
        let (dir, bank) = try newBank()
        defer { try? FileManager.default.removeItem(at: dir) }
        let shown = try cli.ok(["policy", "show", "--bank", bank])
        #expect(shown.contains("olga: admin") && shown.contains("researcher permit aggregate,query,read,release for research"), "\(shown)")
        #expect(shown.contains("opt-in purposes (need a permit in the person's consent): commercial, research"), "\(shown)")
        #expect(try cli.ok(["policy", "set-role", "--bank", bank, "rita", "researcher", "--organisation", "uni"]).contains("rita is now researcher of uni"))
        try cli.ok(["policy", "set-role", "--bank", bank, "pat", "patient", "--twin", "p1"])
        let policy = try json(try cli.ok(["policy", "show", "--bank", bank, "--json"]))
        let callers = try #require(policy["callers"] as? [String: [String: Any]])
        #expect(callers["rita"]?["role"] as? String == "researcher")
        #expect(callers["olga"]?["role"] as? String == "admin")

        // Another actor is not an admin once the policy is stored.
        let notAdmin = try cli.run(["policy", "set-role", "--bank", bank, "--actor", "rita", "rita", "admin"])
        #expect(notAdmin.status != 0 && notAdmin.stderr.contains("role researcher ('rita') may not administer"), "\(notAdmin.stderr)")
        let notHers = try cli.run(["consent", "grant", "--bank", bank, "--actor", "rita", "--twin", "p1", "--purpose", "research"])
        #expect(notHers.status != 0 && notHers.stderr.contains("access denied"), "\(notHers.stderr)")
        // The patient manages their own twin's consent, not another's.
        try cli.ok(["consent", "deny", "--bank", bank, "--actor", "pat", "--twin", "p1", "--purpose", "commercial"])
        let other = try cli.run(["consent", "deny", "--bank", bank, "--actor", "pat", "--twin", "p2", "--purpose", "commercial"])
        #expect(other.status != 0 && other.stderr.contains("on twin p2"), "\(other.stderr)")
        // The last admin cannot be demoted; unknown roles are named.
        let last = try cli.run(["policy", "set-role", "--bank", bank, "olga", "device"])
        #expect(last.status != 0 && last.stderr.contains("no admin left"), "\(last.stderr)")
        let role = try cli.run(["policy", "set-role", "--bank", bank, "x", "king"])
        #expect(role.status != 0 && role.stderr.contains("unknown role 'king'"), "\(role.stderr)")
        #expect(try cli.ok(["policy", "deny", "--bank", bank, "--role", "researcher", "--action", "export", "--purpose", "research"])
            .contains("researcher deny export for research"))
        #expect(try cli.ok(["policy", "show", "--bank", bank]).contains("researcher deny export for research"))
        let configured = try cli.ok(["policy", "configure", "--bank", bank, "--opt-in", "quality-improvement", "--opt-out", "commercial", "--epsilon", "0.5"])
        #expect(configured.contains("opt-in purposes: quality-improvement, research; privacy budget: epsilon 0.5 per 30 days"), "\(configured)")
        let both = try cli.run(["policy", "configure", "--bank", bank, "--opt-in", "research", "--opt-out", "HRESCH"])
        #expect(both.status != 0 && both.stderr.contains("research cannot be both"), "\(both.stderr)")
        let eps = try cli.run(["policy", "configure", "--bank", bank, "--epsilon", "0"])
        #expect(eps.status != 0 && eps.stderr.contains("not 0.0"), "\(eps.stderr)")
    }
}
