import Testing
@testable import TwinCore

/// Clinical unit conversions against values computed by hand from the table's sources.
@Suite struct AnalyteConversionTests {
    static let hba1c = CodeKey.loinc("4548-4")
    static let glucose = CodeKey.loinc("2339-0")

    func convert(_ value: Double, _ from: String, _ to: String, _ code: CodeKey) throws -> Double {
        try AnalyteConversion.convert(Quantity(value, from), to: to, for: code).value
    }

    /// IFCC mmol/mol = 10.929 x (NGSP % - 2.15): 6.5 % is 47.54 (48) mmol/mol, 5.84 % is 40.33, not UCUM's 58.4.
    @Test func hba1cFollowsTheMasterEquation() throws {
        let a = try convert(6.5, "%", "mmol/mol", Self.hba1c)
        #expect(abs(a - 47.541) < 0.001)
        #expect(a.rounded() == 48)
        let b = try convert(5.84, "%", "mmol/mol", Self.hba1c)
        #expect(abs(b - 40.328) < 0.001)
        #expect((b * 10).rounded() / 10 == 40.3)
        // back: 48 mmol/mol is 6.54 %; a round trip is exact
        #expect(abs(try convert(48, "mmol/mol", "%", Self.hba1c) - (48 / 10.929 + 2.15)) < 1e-12)
        #expect(abs(try convert(a, "mmol/mol", "%", Self.hba1c) - 6.5) < 1e-12)
        // UCUM on either side of the equation: a fraction of 1, mol/mol
        #expect(abs(try convert(0.065, "1", "mmol/mol", Self.hba1c) - a) < 1e-9)
        #expect(abs(try convert(6.5, "%", "mol/mol", Self.hba1c) - a / 1000) < 1e-12)
        // the IFCC-protocol code converts the same way
        #expect(abs(try convert(6.5, "%", "mmol/mol", .loinc("59261-8")) - a) < 1e-12)
        // same kind: plain UCUM
        #expect(try convert(6.5, "%", "%", Self.hba1c) == 6.5)
    }

    /// Glucose through its molar mass, 180.16 g/mol: 1 mmol/L is 18.016 mg/dL.
    @Test func glucoseThroughItsMolarMass() throws {
        let mmol = try convert(100, "mg/dL", "mmol/L", Self.glucose)
        #expect(abs(mmol - 5.5506) < 0.0001)
        #expect((mmol * 100).rounded() / 100 == 5.55)
        let mg = try convert(7, "mmol/L", "mg/dL", Self.glucose)
        #expect(abs(mg - 126.112) < 0.001)
        #expect((mg * 10).rounded() / 10 == 126.1)
        #expect(abs(try convert(1, "mmol/L", "mg/dL", .loinc("15074-8")) - 18.016) < 1e-9)
        #expect(abs(try convert(1.8, "g/L", "umol/L", Self.glucose) - 1.8 / 180.16 * 1e6) < 1e-6)
        // same kind stays UCUM: 180 mg/dL is 1.8 g/L
        #expect(abs(try convert(180, "mg/dL", "g/L", Self.glucose) - 1.8) < 1e-12)
    }

    struct MolarCase: Sendable, CustomStringConvertible {
        var code: String, value: Double, from: String, to: String, expected: Double
        var description: String { "\(code) \(value) \(from) -> \(to)" }
    }

    static let molarCases: [MolarCase] = [
        // cholesterol 386.65 g/mol: 200 mg/dL = 5.173 mmol/L
        MolarCase(code: "2093-3", value: 200, from: "mg/dL", to: "mmol/L", expected: 2000 / 386.65),
        MolarCase(code: "2085-9", value: 1, from: "mmol/L", to: "mg/dL", expected: 38.665),
        // triglycerides as triolein 885.7 g/mol: 150 mg/dL = 1.694 mmol/L
        MolarCase(code: "2571-8", value: 150, from: "mg/dL", to: "mmol/L", expected: 1500 / 885.7),
        // creatinine 113.12 g/mol: 1 mg/dL = 88.40 umol/L
        MolarCase(code: "2160-0", value: 1, from: "mg/dL", to: "umol/L", expected: 10_000 / 113.12),
        // urea nitrogen 2 x 14.0067: 14 mg/dL = 5.0 mmol/L of urea
        MolarCase(code: "3094-0", value: 14, from: "mg/dL", to: "mmol/L", expected: 140 / 28.013),
        // bilirubin 584.66 g/mol: 1 mg/dL = 17.10 umol/L
        MolarCase(code: "1975-2", value: 1, from: "mg/dL", to: "umol/L", expected: 10_000 / 584.66),
    ]

    @Test(arguments: molarCases)
    func molarMasses(c: MolarCase) throws {
        let v = try convert(c.value, c.from, c.to, .loinc(c.code))
        #expect(abs(v - c.expected) < 1e-9 * max(1, c.expected))
    }

    @Test func roughClinicalFactors() throws {
        #expect(abs(try convert(1, "mg/dL", "umol/L", .loinc("2160-0")) - 88.4) < 0.01)
        #expect(abs(try convert(1, "mg/dL", "umol/L", .loinc("1975-2")) - 17.1) < 0.01)
        #expect(abs(try convert(1, "mg/dL", "mmol/L", .loinc("2571-8")) - 0.01129) < 0.00001)
        #expect(abs(try convert(1, "mg/dL", "mmol/L", .loinc("3094-0")) - 0.357) < 0.001)
    }

    /// What the table does not cover is refused, naming the code, both units and that no conversion is known.
    @Test(arguments: [
        // % <-> mmol/mol for anything but HbA1c never goes through UCUM's plain ratio (5 % would be 50 mmol/mol)
        ("loinc:59408-5", "%", "mmol/mol"),
        ("loinc:99999-9", "mmol/mol", "%"),
        ("local:ratio", "%", "umol/mol"),
        // mass <-> substance without a molar mass in the table
        ("loinc:718-7", "g/dL", "mmol/L"),
        ("loinc:99999-9", "mg/dL", "mmol/L"),
        ("loinc:4548-4", "g/dL", "mmol/L"),
        // units of different dimensions
        ("loinc:2339-0", "mg/dL", "mm[Hg]"),
        ("loinc:4548-4", "%", "mg/dL"),
    ])
    func uncoveredConversionsAreRefused(code: String, from: String, to: String) throws {
        let key = try CodeKey(parsing: code)
        #expect {
            _ = try AnalyteConversion.convert(Quantity(5, from), to: to, for: key)
        } throws: { e in
            guard let e = e as? TwinError, e.code == .incommensurableUnits else { return false }
            return e.message.contains(key.description) && e.message.contains("'\(from)'") && e.message.contains("'\(to)'")
                && (e.message.contains("no analyte-specific conversion is known") || e.message.contains("different things"))
        }
        #expect(throws: TwinError.self) { try AnalyteConversion.checkConvertible(from: UCUMUnit(parsing: from), to: UCUMUnit(parsing: to), for: key) }
    }

    @Test func refusalMessagesSayWhy() throws {
        do {
            _ = try AnalyteConversion.convert(Quantity(5, "%"), to: "mmol/mol", for: .loinc("59408-5"))
            Issue.record("converted")
        } catch let e as TwinError {
            #expect(e.message == "cannot convert loinc:59408-5 from '%' to 'mmol/mol': no analyte-specific conversion is known between a fraction ('%') and a substance ratio ('mmol/mol') for loinc:59408-5; they are not related by a factor")
        }
        do {
            _ = try AnalyteConversion.convert(Quantity(14, "g/dL"), to: "mmol/L", for: .loinc("718-7"))
            Issue.record("converted")
        } catch let e as TwinError {
            #expect(e.message.contains("needs the analyte's molar mass, and no analyte-specific conversion is known for loinc:718-7"))
        }
    }

    @Test func substanceRatiosAreTold() throws {
        #expect(try UCUMUnit(parsing: "mmol/mol").isSubstanceRatio)
        #expect(try UCUMUnit(parsing: "(umol/mol)").isSubstanceRatio)
        #expect(try !UCUMUnit(parsing: "%").isSubstanceRatio)
        #expect(try !UCUMUnit(parsing: "1").isSubstanceRatio)
        #expect(try !UCUMUnit(parsing: "mmol/L").isSubstanceRatio)
        // UCUM alone still treats them as plain ratios
        #expect(abs(try UCUMUnit.convert(5.84, from: "%", to: "mmol/mol") - 58.4) < 1e-9)
    }

    /// A code's fit uses the same rules: mmol/mol fits HbA1c but not oxygen saturation.
    @Test func codeUnitsUseAnalyteConversion() throws {
        try CodeUnits.check(UCUMUnit(parsing: "mmol/mol"), for: Self.hba1c)
        try CodeUnits.check(UCUMUnit(parsing: "mmol/L"), for: .loinc("2160-0"))
        #expect(throws: TwinError.self) { try CodeUnits.check(UCUMUnit(parsing: "mmol/mol"), for: .loinc("59408-5")) }
        #expect {
            try CodeUnits.check(UCUMUnit(parsing: "mmol/L"), for: .loinc("718-7"))
        } throws: { e in
            guard let e = e as? TwinError, e.code == .unitDoesNotFitCode else { return false }
            return e.message.contains("expected a unit like g/dL") && e.message.contains("needs the analyte's molar mass")
        }
        #expect(CodeUnits.referenceUnits(for: Self.hba1c) == ["%", "mmol/mol"])
        #expect(CodeUnits.referenceUnits(for: .loinc("99999-9")) == nil)
    }

    @Test func everyLineHasASourceAndEveryCodeOneAnalyte() {
        var seen = Set<String>()
        for a in AnalyteConversion.analytes {
            #expect(!a.source.isEmpty && (a.molarMass != nil || a.equation != nil), "\(a.name)")
            for c in a.loinc { #expect(seen.insert(c).inserted, "\(c) appears twice") }
        }
    }
}
