import TwinCore

/// What ``Demo/populate(_:persons:seed:)`` created.
public struct DemoSummary: Sendable, Hashable, Codable {
    public var template: TwinID
    public var persons: [TwinID]
    public var organs: [TwinID]
    public var fork: TwinID
    public var aggregate: AggregateID
    public var aggregateMembers: [TwinID]
    public var events: Int
    public var commit: ContentHash
}

/// A small, deterministic demo population for `twinbank demo`: a person template, persons instantiated from
/// it (one composite, with a liver twin as a part), two days of CGM glucose, heart rate and blood pressure,
/// an HbA1c each, a fork with a hypothetical (model-predicted) event, a query aggregate, and a commit.
public enum Demo {
    /// Loads the demo into an empty (or any) bank. Event times are the two days before the bank clock's now.
    /// - Throws: ``BankError`` (for example `duplicateTwin` if the demo was loaded before).
    public static func populate(_ bank: Bank, persons: Int = 12, seed: UInt64 = 2021) throws -> DemoSummary {
        var rng = seed
        func next() -> Double {
            rng &+= 0x9E37_79B9_7F4A_7C15
            var z = rng
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return Double((z ^ (z >> 31)) >> 11) / Double(1 << 53)
        }
        let now = bank.clock.now()
        let template: TwinID = "adult-person"
        try bank.createTemplate(Twin(id: template, kind: .person, attributes: ["height": .quantity(Quantity(170, "cm"))],
                                     dataSources: [.init(source: "device:cgm", cadence: "15min"), .init(source: "record:lab", cadence: "on-visit")],
                                     models: [.init(model: "uva-padova", version: "1", validation: "literature")]))
        let liver = Twin(id: "demo-0-liver", kind: .organ, attributes: ["volume": .quantity(Quantity(1.5, "L"))])
        try bank.createTwin(liver)
        var ids: [TwinID] = []
        var count = 0
        for i in 0..<persons {
            let id = try TwinID("demo-\(i)")
            let female = i % 2 == 0
            let birthYear = 1950 + Int(next() * 50)
            var twin = Twin(id: id, kind: .person, attributes: [
                "sex": .text(female ? "female" : "male"),
                "birthDate": .date(try Instant(parsing: "\(birthYear)-0\(1 + i % 9)-1\(i % 10)")),
                "weight": .quantity(Quantity((55 + next() * 45).rounded(), "kg")),
            ], template: Twin.TemplateReference(id: template, version: 1))
            if i == 0 { twin.parts = [Twin.Part(role: "liver", twin: liver.id)] }
            try bank.createTwin(twin)
            ids.append(id)
            let diabetic = next() < 0.4
            let cgm = try Source(parsing: "device:cgm-\(i)")
            var drafts: [EventDraft] = []
            let base = diabetic ? 150.0 : 100.0
            for k in 0..<192 { // two days every 15 minutes
                let at = now.advanced(byMicroseconds: -Int64(192 - k) * 900_000_000)
                let hourOfDay = Double(k % 96) / 4
                let meal = [7.5, 12.5, 18.5].map { h in max(0, 1 - abs(hourOfDay - h - 1) / 1.5) }.reduce(0, +)
                let g = (base + meal * (diabetic ? 90 : 40) + (next() - 0.5) * 12).rounded()
                drafts.append(.observation(id, at: at, code: .loinc("2339-0", "Glucose"), Quantity(g, "mg/dL"), source: cgm))
            }
            let visit = now.advanced(byMicroseconds: -30 * 86_400_000_000)
            let lab = Source(.record, "lab")
            drafts.append(.observation(id, at: visit, code: .loinc("4548-4", "Hemoglobin A1c"), Quantity(((diabetic ? 7.4 : 5.4) + next()).rounded(toPlaces: 1), "%"), source: lab))
            drafts.append(.observation(id, at: visit, code: .loinc("8480-6", "Systolic blood pressure"), Quantity((110 + next() * 40).rounded(), "mm[Hg]"), source: lab))
            drafts.append(.observation(id, at: visit, code: .loinc("8462-4", "Diastolic blood pressure"), Quantity((70 + next() * 20).rounded(), "mm[Hg]"), source: lab))
            drafts.append(.observation(id, at: visit, code: .loinc("8867-4", "Heart rate"), Quantity((60 + next() * 30).rounded(), "/min"), source: lab))
            count += try bank.append(drafts).count
        }
        let fork: TwinID = "demo-0-what-if"
        try bank.fork(ids[0], at: now.advanced(byMicroseconds: -86_400_000_000), as: fork)
        var hypothetical = EventDraft(twin: fork, effective: EffectiveTime(now.advanced(byMicroseconds: -86_400_000_000 + 3_600_000_000)),
                                      category: .intervention, code: Concept(system: "http://www.nlm.nih.gov/research/umls/rxnorm", code: "860975", display: "metformin 500 mg"),
                                      value: .quantity(Quantity(500, "mg")), source: Source(.person, "demo-clinician"))
        hypothetical.provenance = Provenance(notes: "in-silico trial arm A")
        let prediction = EventDraft(twin: fork, effective: EffectiveTime(now), category: .prediction, code: .loinc("2339-0", "Glucose"),
                                    value: .quantity(Quantity(118, "mg/dL")), source: Source(.model, "uva-padova@1"),
                                    provenance: Provenance(model: "uva-padova", modelVersion: "1", parametersHash: "demo", seed: seed))
        count += try bank.append([hypothetical, prediction]).count
        let aggregate: AggregateID = "women-high-hba1c"
        try bank.createAggregate(aggregate, where: "kind = person and sex = female and loinc:4548-4 > 6.5 % within 365d")
        let members = try bank.members(of: aggregate).members
        let commit = try bank.commit(message: "demo population: \(persons) persons, a fork, an aggregate")
        return DemoSummary(template: template, persons: ids, organs: [liver.id], fork: fork, aggregate: aggregate,
                           aggregateMembers: members, events: count, commit: commit.id)
    }
}

extension Double {
    func rounded(toPlaces n: Int) -> Double {
        var p = 1.0
        for _ in 0..<n { p *= 10 }
        return (self * p).rounded() / p
    }
}
