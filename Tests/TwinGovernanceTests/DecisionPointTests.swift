import Testing
import TwinBank
import TwinCore
import TwinGovernance

/// A ward of actors around one person, `p1`, with five events of different kinds and dates.
enum Ward {
    static let now = try! Instant(parsing: "2026-06-01")
    static func day(_ s: String) -> Instant { try! Instant(parsing: s) }

    static let policy: Policy = {
        var p = Policy.default(owner: "owner")
        for c in [
            Caller(id: "pat", role: .patient, twins: ["p1"]),
            Caller(id: "dr", role: .clinician, organisation: "hospital-a"),
            Caller(id: "dr2", role: .clinician, organisation: "hospital-b"),
            Caller(id: "res", role: .researcher, organisation: "uni"),
            Caller(id: "res2", role: .researcher, organisation: "pharma"),
            Caller(id: "pho", role: .publicHealthOfficer, organisation: "agency"),
            Caller(id: "dev", role: .device),
            Caller(id: "narrow", role: .clinician, scopes: ["read"]),
        ] { try! p.assign(c) }
        p.add(Grant(.admin, .deny, actions: ["*"], purposes: [.commercial]))
        return p
    }()

    static func event(_ n: Int64, _ system: String, _ code: String, _ day: String, source: Source.Kind = .record) -> Event {
        Event(id: ContentHash(w0: UInt64(n), w1: 0, w2: 0, w3: 0), twin: "p1", effective: EffectiveTime(Ward.day(day)),
              recorded: Ward.day(day), sequence: n, category: .observation, code: Concept(system: system, code: code),
              value: .text("x"), source: Source(source, "s"))
    }
    /// name -> event: heart rate 2019 (vital sign), glucose 2021 (chemistry), a genetic variant 2022 (genomics),
    /// depression ICD-10 F32 2020 (mental health), interstitial glucose from a device 2025 (CGM).
    static let events: [(String, Event)] = [
        ("hr", event(1, "http://loinc.org", "8867-4", "2019-03-01")),
        ("glucose", event(2, "http://loinc.org", "2339-0", "2021-03-01")),
        ("variant", event(3, "http://loinc.org", "81247-9", "2022-03-01")),
        ("depression", event(4, "http://hl7.org/fhir/sid/icd-10", "F32.1", "2020-03-01")),
        ("cgm", event(5, "http://loinc.org", "99504-3", "2025-03-01", source: .device)),
    ]
    static let all = events.map(\.0)
}

/// A consent rule for the cases (the id is given by ``Consent/add(_:)``).
func rule(_ effect: Effect, _ purposes: Set<Purpose> = [], actors: Set<String> = [], orgs: Set<String> = [], data: [DataSelector] = [],
          period: DataPeriod? = nil, start: String? = nil, until: String? = nil, revoked: String? = nil) -> ConsentRule {
    ConsentRule(id: "", effect: effect, purposes: purposes, actors: actors, organisations: orgs,
                data: DataScope(selectors: data, period: period),
                validity: Validity(start: start.map(Ward.day), end: until.map(Ward.day)),
                granted: Ward.day("2024-01-01"), revoked: revoked.map(Ward.day))
}

struct DecisionCase: CustomTestStringConvertible, Sendable {
    enum Outcome: Sendable { case sees([String]); case denied(String) }
    var name: String
    var actor: String
    var action: AccessRequest.Action
    var purpose: String
    var twin: TwinID? = "p1"
    var rules: [ConsentRule] = []
    var outcome: Outcome
    var testDescription: String { name }
}

@Suite struct DecisionPointTests {
    static let cases: [DecisionCase] = [
        .init(name: "clinician reads for treatment without consent (opt-out)", actor: "dr", action: .read, purpose: "treatment", outcome: .sees(Ward.all)),
        .init(name: "the bank's historical purpose 'care' is treatment", actor: "dr", action: .read, purpose: "care", outcome: .sees(Ward.all)),
        .init(name: "purpose not allowed: clinician reads for research", actor: "dr", action: .read, purpose: "research", outcome: .denied("may not read for research")),
        .init(name: "research is opt-in: no consent, denied", actor: "res", action: .read, purpose: "research", outcome: .denied("needs the person's consent")),
        .init(name: "research permitted by consent", actor: "res", action: .query, purpose: "research", rules: [rule(.permit, [.research])], outcome: .sees(Ward.all)),
        .init(name: "research permit limited to vital signs", actor: "res", action: .read, purpose: "HRESCH",
              rules: [rule(.permit, [.research], data: [.category(.vitalSigns)])], outcome: .sees(["hr"])),
        .init(name: "category hierarchy: laboratory covers chemistry", actor: "res", action: .read, purpose: "research",
              rules: [rule(.permit, [.research], data: [.category(.laboratory)])], outcome: .sees(["glucose"])),
        .init(name: "category hierarchy: clinical covers all but sensors", actor: "res", action: .read, purpose: "research",
              rules: [rule(.permit, [.research], data: [.category(.clinical)])], outcome: .sees(["hr", "glucose", "variant", "depression"])),
        .init(name: "category hierarchy: sensors covers the device's CGM", actor: "res", action: .read, purpose: "research",
              rules: [rule(.permit, [.research], data: [.category(.sensors)])], outcome: .sees(["cgm"])),
        .init(name: "exact code", actor: "res", action: .read, purpose: "research",
              rules: [rule(.permit, [.research], data: [.code(CodeKey(system: "http://loinc.org", code: "2339-0"))])], outcome: .sees(["glucose"])),
        .init(name: "code hierarchy: ICD-10 F32 covers F32.1", actor: "dr", action: .read, purpose: "treatment",
              rules: [rule(.deny, [.treatment], data: [.descendants(CodeKey(system: "http://hl7.org/fhir/sid/icd-10", code: "F32"))])],
              outcome: .sees(["hr", "glucose", "variant", "cgm"])),
        .init(name: "code-system-wide deny of LOINC", actor: "res", action: .read, purpose: "research",
              rules: [rule(.permit, [.research]), rule(.deny, [.research], data: [.system("http://loinc.org")])], outcome: .sees(["depression"])),
        .init(name: "deny overrides permit on the whole", actor: "res", action: .read, purpose: "research",
              rules: [rule(.permit, [.research]), rule(.deny, [.research])], outcome: .denied("consent rule r2 of twin p1 denies research")),
        .init(name: "deny overrides permit on a part (genomics)", actor: "res", action: .read, purpose: "research",
              rules: [rule(.permit, [.research]), rule(.deny, data: [.category(.genomics)])], outcome: .sees(["hr", "glucose", "depression", "cgm"])),
        .init(name: "treatment: mental health denied by ICD-10 chapter F", actor: "dr", action: .read, purpose: "treatment",
              rules: [rule(.deny, [.treatment], data: [.category(.mentalHealth)])], outcome: .sees(["hr", "glucose", "variant", "cgm"])),
        .init(name: "expired permit no longer applies", actor: "res", action: .read, purpose: "research",
              rules: [rule(.permit, [.research], until: "2026-01-01")], outcome: .denied("needs the person's consent")),
        .init(name: "expiry is exclusive: a rule until now has expired", actor: "res", action: .read, purpose: "research",
              rules: [rule(.permit, [.research], until: "2026-06-01")], outcome: .denied("needs the person's consent")),
        .init(name: "a rule not yet valid does not apply", actor: "res", action: .read, purpose: "research",
              rules: [rule(.permit, [.research], start: "2026-07-01")], outcome: .denied("needs the person's consent")),
        .init(name: "revoked permit stops applying", actor: "res", action: .read, purpose: "research",
              rules: [rule(.permit, [.research], revoked: "2026-05-01")], outcome: .denied("needs the person's consent")),
        .init(name: "a revocation after now has not happened yet", actor: "res", action: .read, purpose: "research",
              rules: [rule(.permit, [.research], revoked: "2026-07-01")], outcome: .sees(Ward.all)),
        .init(name: "revoked deny gives back the opt-out default", actor: "dr", action: .read, purpose: "treatment",
              rules: [rule(.deny, [.treatment], revoked: "2026-05-01")], outcome: .sees(Ward.all)),
        .init(name: "organisation permitted", actor: "res", action: .read, purpose: "research",
              rules: [rule(.permit, [.research], orgs: ["uni"])], outcome: .sees(Ward.all)),
        .init(name: "another organisation is not", actor: "res2", action: .read, purpose: "research",
              rules: [rule(.permit, [.research], orgs: ["uni"])], outcome: .denied("needs the person's consent")),
        .init(name: "deny to one organisation", actor: "dr", action: .read, purpose: "treatment",
              rules: [rule(.deny, orgs: ["hospital-a"])], outcome: .denied("consent rule r1")),
        .init(name: "deny to one organisation leaves the other", actor: "dr2", action: .read, purpose: "treatment",
              rules: [rule(.deny, orgs: ["hospital-a"])], outcome: .sees(Ward.all)),
        .init(name: "deny to one actor", actor: "dr", action: .read, purpose: "treatment",
              rules: [rule(.deny, actors: ["dr"])], outcome: .denied("consent rule r1")),
        .init(name: "period filter: research on data before 2021", actor: "res", action: .read, purpose: "research",
              rules: [rule(.permit, [.research], period: DataPeriod(to: Ward.day("2021-01-01")))], outcome: .sees(["hr", "depression"])),
        .init(name: "period deny: treatment without data from 2022", actor: "dr", action: .read, purpose: "treatment",
              rules: [rule(.deny, period: DataPeriod(from: Ward.day("2022-01-01")))], outcome: .sees(["hr", "glucose", "depression"])),
        .init(name: "category and period together", actor: "res", action: .read, purpose: "research",
              rules: [rule(.permit, [.research], data: [.category(.laboratory), .category(.vitalSigns)], period: DataPeriod(from: Ward.day("2020-01-01")))],
              outcome: .sees(["glucose"])),
        .init(name: "role not allowed: a device reads", actor: "dev", action: .read, purpose: "treatment", outcome: .denied("role device ('dev') may not read")),
        .init(name: "a device appends", actor: "dev", action: .write, purpose: "treatment", outcome: .sees(Ward.all)),
        .init(name: "public health aggregates (opt-out)", actor: "pho", action: .aggregate, purpose: "public-health", outcome: .sees(Ward.all)),
        .init(name: "public health denied by the person", actor: "pho", action: .aggregate, purpose: "PUBHLTH",
              rules: [rule(.deny, [.publicHealth])], outcome: .denied("consent rule r1")),
        .init(name: "purpose not allowed for the role: public health aggregates for research", actor: "pho", action: .aggregate, purpose: "research", outcome: .denied("may not aggregate for research")),
        .init(name: "unknown actor", actor: "mallory", action: .read, purpose: "treatment", outcome: .denied("actor 'mallory' has no role")),
        .init(name: "unknown purpose", actor: "dr", action: .read, purpose: "curiosity", outcome: .denied("unknown purpose 'curiosity'")),
        .init(name: "scopes restrict the role", actor: "narrow", action: .write, purpose: "treatment", outcome: .denied("not authorised to write")),
        .init(name: "scopes allow what they list", actor: "narrow", action: .read, purpose: "treatment", outcome: .sees(Ward.all)),
        .init(name: "admin erases", actor: "owner", action: .erase, purpose: "operations", outcome: .sees(Ward.all)),
        .init(name: "admin changes the policy (bank-wide)", actor: "owner", action: .administer, purpose: "operations", twin: nil, outcome: .sees(Ward.all)),
        .init(name: "admin's research read still needs consent", actor: "owner", action: .read, purpose: "research", outcome: .denied("needs the person's consent")),
        .init(name: "a deny grant of the policy overrides the admin's permit", actor: "owner", action: .read, purpose: "commercial", outcome: .denied("the bank's policy denies it")),
        .init(name: "patient reads own twin whatever the consent", actor: "pat", action: .read, purpose: "research",
              rules: [rule(.deny)], outcome: .sees(Ward.all)),
        .init(name: "patient may not read another twin", actor: "pat", action: .read, purpose: "treatment", twin: "p2", outcome: .denied("may not read for treatment on twin p2")),
        .init(name: "consent does not govern writes", actor: "dr", action: .write, purpose: "treatment", rules: [rule(.deny)], outcome: .sees(Ward.all)),
    ]

    @Test(arguments: cases)
    func decides(_ c: DecisionCase) {
        var consent = Consent(twin: c.twin ?? "p1")
        for r in c.rules { consent.add(r) }
        let decision = DecisionPoint().decide(AccessRequest(actor: c.actor, action: c.action, twin: c.twin, purpose: c.purpose),
                                              DecisionContext(policy: Ward.policy, consent: consent, now: Ward.now))
        switch c.outcome {
        case .sees(let names):
            guard let filter = decision.filter else { Issue.record("expected a permit, got \(decision)"); return }
            let seen = Ward.events.filter { filter.admits($0.1) }.map(\.0)
            #expect(seen == names, "\(decision)")
            #expect(filter.apply(to: Ward.events.map(\.1)).map(\.id) == Ward.events.filter { names.contains($0.0) }.map(\.1.id))
        case .denied(let fragment):
            #expect(!decision.isPermitted)
            #expect(decision.reason?.contains(fragment) == true, "\(decision)")
        }
    }

    @Test func categoryTreeLineage() throws {
        #expect(DataCategory.chemistry.lineage == [.chemistry, .laboratory, .clinical])
        #expect(DataCategory.mentalHealth.isWithin(.conditions))
        #expect(DataCategory.cgm.isWithin(.sensors))
        #expect(!DataCategory.cgm.isWithin(.clinical))
        #expect(!DataCategory.laboratory.isWithin(.chemistry))
        #expect(try DataCategory(parsing: "vitalSigns") == .vitalSigns)
        #expect(try DataCategory(parsing: "Vital-Signs") == .vitalSigns)
        let e = #expect(throws: GovernanceError.self) { try DataCategory(parsing: "gossip") }
        #expect(e?.value == "gossip")
        #expect(e?.message.contains("vital-signs") == true)
    }

    @Test func descendantsFollowTheSNOMEDIsARelationships() {
        func condition(_ code: String) -> Event {
            Ward.event(9, "http://snomed.info/sct", code, "2020-01-01")
        }
        let diabetes = DataSelector.descendants(.snomed("73211009"))
        #expect(diabetes.selects(condition("44054006")), "type 2 diabetes is a diabetes mellitus")
        #expect(diabetes.selects(condition("73211009")))
        #expect(!diabetes.selects(condition("59621000")), "essential hypertension is not")
        #expect(!DataSelector.descendants(.snomed("44054006")).selects(condition("73211009")), "an ancestor is not below its child")
        #expect(!DataSelector.code(.snomed("73211009")).selects(condition("44054006")), "an exact code has no descendants")
    }

    @Test func classifierUsesCodeSystemsAndSource() {
        let k = DataClassifier.standard
        #expect(k.categories(code: CodeKey(system: "http://hl7.org/fhir/sid/icd-10-cm", code: "f41.1")) == [.mentalHealth])
        #expect(k.categories(code: CodeKey(system: "http://hl7.org/fhir/sid/icd-10", code: "E11")) == [.conditions])
        #expect(k.categories(code: CodeKey(system: "http://www.nlm.nih.gov/research/umls/rxnorm", code: "860975")) == [.medications])
        #expect(k.categories(code: CodeKey(system: "http://loinc.org", code: "8867-4"), source: .device) == [.vitalSigns, .wearable])
        #expect(k.categories(code: CodeKey(system: "urn:twinbank:local", code: "steps")) == [.clinical])
    }

    @Test func purposesUseTheV3ActReasonCodes() throws {
        #expect(Purpose.allCases.map(\.v3Code) == ["TREAT", "HRESCH", "PUBHLTH", "HQUALIMP", "HMARKT", "HOPERAT", "HTEST"])
        #expect(Purpose(v3Code: "ETREAT") == .treatment)
        #expect(Purpose(v3Code: "CLINTRCH") == .research)
        #expect(Purpose(v3Code: "NOPE") == nil)
        #expect(try Purpose(parsing: "publicHealth") == .publicHealth)
        #expect(try Purpose(parsing: "hresch") == .research)
        let e = #expect(throws: GovernanceError.self) { try Purpose(parsing: "curiosity") }
        #expect(e?.code == .invalidPolicy)
        #expect(e?.value == "curiosity")
        #expect(try Role(parsing: "publicHealthOfficer") == .publicHealthOfficer)
        #expect(try Role(parsing: "public-health-officer") == .publicHealthOfficer)
        #expect(throws: GovernanceError.self) { try Role(parsing: "king") }
        #expect(try AccessRequest.Action.parsing("Aggregate") == .aggregate)
    }

    @Test func thePolicyKeepsAnAdmin() throws {
        var p = Policy.default(owner: "alice")
        #expect(p.caller("alice")?.role == .admin)
        let e = #expect(throws: GovernanceError.self) { try p.assign(Caller(id: "alice", role: .researcher)) }
        #expect(e?.value == "alice")
        #expect(p.caller("alice")?.role == .admin)
        try p.assign(Caller(id: "bob", role: .admin))
        try p.assign(Caller(id: "alice", role: .researcher))
        #expect(p.caller("alice")?.role == .researcher)
        #expect(p.optIn == [.research, .commercial])
        #expect(p.privacy.epsilonPerAggregate == 1 && p.privacy.budgetWindowDays == 30)
    }

    @Test func revokingKeepsTheRuleAndNamesUnknownOnes() throws {
        var c = Consent(twin: "p1")
        let id = c.add(rule(.permit, [.research]))
        #expect(id == "r1")
        #expect(c.add(rule(.deny, [.commercial])) == "r2")
        try c.revoke(rule: "r1", at: Ward.day("2026-05-01"))
        #expect(c.rules.count == 2)
        #expect(c.rules(inForceAt: Ward.now).map(\.id) == ["r2"])
        #expect(c.rules(inForceAt: Ward.day("2026-04-01")).map(\.id) == ["r1", "r2"])
        let again = #expect(throws: GovernanceError.self) { try c.revoke(rule: "r1", at: Ward.now) }
        #expect(again?.message.contains("already revoked") == true)
        let unknown = #expect(throws: GovernanceError.self) { try c.revoke(rule: "r9", at: Ward.now) }
        #expect(unknown?.value == "r9")
        #expect(c.revokeAll(at: Ward.now) == ["r2"])
        #expect(c.add(rule(.permit)) == "r3")
    }
}
