import Testing
@testable import TwinCore

/// Values checked against their codes (issue 22, defect 6).
@Suite struct PlausibilityTests {
    let glucose = Concept(system: "http://loinc.org", code: "2339-0")

    @Test(arguments: [Value.text("abc"), .boolean(true), .concept(Concept(system: "http://snomed.info/sct", code: "1"))])
    func aQuantitativeCodeRefusesOtherTypes(value: Value) {
        #expect {
            try Plausibility.checkType(value, for: glucose)
        } throws: { error in
            guard let e = error as? TwinError else { return false }
            return e.code == .invalidValue && e.message.contains("'\(value)'") && e.message.contains("mg/dL")
        }
    }

    @Test func quantitiesAndUnknownCodesPass() throws {
        try Plausibility.checkType(.quantity(Quantity(100, "mg/dL")), for: glucose)
        try Plausibility.checkType(.text("felt dizzy"), for: Concept(system: "urn:x", code: "note"))
        try Plausibility.checkType(nil, for: glucose)
    }

    @Test(arguments: [(5000.0, "mg/dL", true), (6.5, "mg/dL", true), (9.9, "mg/dL", true), (10, "mg/dL", false),
                      (1500, "mg/dL", false), (6.5, "mmol/L", false), (0.3, "mmol/L", true), (100, "mmol/L", true),
                      (1.2, "g/L", false), (0.05, "g/L", true)])
    func glucoseRanges(value: Double, unit: String, implausible: Bool) {
        let why = Plausibility.problem(.quantity(Quantity(value, unit)), for: glucose)
        #expect((why != nil) == implausible)
        if let why { #expect(why.contains(unit) && why.contains("10-1500 mg/dL") || why.contains("mmol/L")) }
    }

    @Test func hba1cIsMatchedByItsOwnUnitFirst() {
        let a1c = Concept(system: "http://loinc.org", code: "4548-4")
        #expect(Plausibility.problem(.quantity(Quantity(6.5, "%")), for: a1c) == nil)
        #expect(Plausibility.problem(.quantity(Quantity(48, "mmol/mol")), for: a1c) == nil)
        #expect(Plausibility.problem(.quantity(Quantity(58.4, "%")), for: a1c) != nil)
    }

    @Test func theFlagIsANoteKey() {
        var p = Provenance(notes: "from the ward")
        p.flagImplausible("too high")
        #expect(p.notes == "flag:implausible (too high); from the ward")
        #expect(p.isFlaggedImplausible)
        p.flagImplausible("again")
        #expect(p.notes == "flag:implausible (too high); from the ward")
        let e = Event(id: .init(w0: 0, w1: 0, w2: 0, w3: 0), twin: "a", effective: EffectiveTime(.epoch), recorded: .epoch, sequence: 1,
                      category: .observation, code: glucose, value: .quantity(Quantity(5000, "mg/dL")), source: Source(.device, "x"), provenance: p)
        #expect(!e.isModelInput)
    }
}
