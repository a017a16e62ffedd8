import Testing
@testable import TwinCore

@Suite struct UnitTests {
    @Test(arguments: ["mg", "g", "L", "dL", "mol", "mmol", "mm[Hg]", "Cel", "[degF]", "%", "/min", "{beats}/min",
                      "kg/m2", "U", "[IU]", "10*3/uL", "s", "min", "h", "d", "wk", "mo", "a", "mg/dL", "mmol/L",
                      "mL/min/{1.73_m2}", "kcal", "ug/(kg.min)", "m2", "s-1", "[lb_av]", "[in_i]", "mU/L", "1"])
    func parsesClinicalUnits(expr: String) throws {
        _ = try UCUMUnit(parsing: expr)
    }

    @Test func conversions() throws {
        #expect(abs(try UCUMUnit.convert(1, from: "kg", to: "g") - 1000) < 1e-9)
        #expect(abs(try UCUMUnit.convert(100, from: "mg/dL", to: "g/L") - 1) < 1e-12)
        #expect(abs(try UCUMUnit.convert(1, from: "mm[Hg]", to: "kPa") - 0.133322) < 1e-9)
        #expect(abs(try UCUMUnit.convert(37, from: "Cel", to: "[degF]") - 98.6) < 1e-9)
        #expect(abs(try UCUMUnit.convert(0, from: "Cel", to: "K") - 273.15) < 1e-12)
        #expect(abs(try UCUMUnit.convert(60, from: "/min", to: "Hz") - 1) < 1e-12)
        #expect(abs(try UCUMUnit.convert(72, from: "{beats}/min", to: "/h") - 4320) < 1e-9)
        #expect(abs(try UCUMUnit.convert(1, from: "10*3/uL", to: "/L") - 1e9) < 1e-3)
        #expect(abs(try UCUMUnit.convert(1, from: "[lb_av]", to: "kg") - 0.45359237) < 1e-12)
        #expect(abs(try UCUMUnit.convert(7, from: "d", to: "wk") - 1) < 1e-12)
        #expect(abs(try UCUMUnit.convert(1, from: "a", to: "d") - 365.25) < 1e-9)
        #expect(abs(try UCUMUnit.convert(6.5, from: "%", to: "1") - 0.065) < 1e-12)
        #expect(abs(try UCUMUnit.convert(1, from: "mmol/L", to: "umol/mL") - 1) < 1e-12)
    }

    @Test func incommensurableIsAClearError() {
        #expect {
            try UCUMUnit.convert(1, from: "kg", to: "mm[Hg]")
        } throws: { e in
            (e as? TwinError)?.code == .incommensurableUnits && "\(e)".contains("kg") && "\(e)".contains("mm[Hg]")
        }
        // mass and substance concentration are kept apart
        #expect(throws: TwinError.self) { try UCUMUnit.convert(1, from: "mg/dL", to: "mmol/L") }
    }

    @Test(arguments: ["kgg", "mm[Hg", "Cel/h", "kmin", "(kg", "m^", "mg/", "k g", "{x"])
    func rejectsBadUnits(expr: String) {
        #expect {
            try UCUMUnit(parsing: expr)
        } throws: { e in
            guard let e = e as? TwinError else { return false }
            return e.code == .invalidUnit && e.value == expr
        }
    }

    @Test func codeUnitFit() throws {
        try CodeUnits.check(UCUMUnit(parsing: "mg/dL"), for: .loinc("2339-0"))
        try CodeUnits.check(UCUMUnit(parsing: "mmol/L"), for: .loinc("2339-0"))
        try CodeUnits.check(UCUMUnit(parsing: "{beats}/min"), for: .loinc("8867-4"))
        try CodeUnits.check(UCUMUnit(parsing: "[lb_av]"), for: .loinc("29463-7"))
        try CodeUnits.check(UCUMUnit(parsing: "[degF]"), for: .loinc("8310-5"))
        try CodeUnits.check(UCUMUnit(parsing: "kg"), for: .snomed("27113001")) // not in the table: anything goes
        #expect {
            try CodeUnits.check(UCUMUnit(parsing: "kg"), for: .loinc("8867-4"))
        } throws: { e in
            guard let e = e as? TwinError else { return false }
            return e.code == .unitDoesNotFitCode && e.value == "kg" && e.message.contains("loinc:8867-4")
        }
        #expect(throws: TwinError.self) { try CodeUnits.check(UCUMUnit(parsing: "mg"), for: .loinc("4548-4")) }
    }
}
