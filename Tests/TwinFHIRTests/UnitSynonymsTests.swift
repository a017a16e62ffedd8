import Testing
import TwinCore
@testable import TwinFHIR

@Suite struct UnitSynonymsTests {
    /// Creatinine and bilirubin reported in µmol/L (micro sign or Greek mu) are UCUM's umol/L and convert.
    @Test(arguments: ["\u{B5}mol/L", "\u{3BC}mol/L"])
    func microSignIsTheMicroPrefix(unit: String) throws {
        let ucum = UnitSynonyms.ucum(for: unit)
        #expect(ucum == "umol/L")
        let mg = try AnalyteConversion.convert(Quantity(88.4, ucum), to: "mg/dL", for: .loinc("2160-0")).value
        #expect(abs(mg - 1.0) < 0.001)
        #expect(UnitSynonyms.ucum(for: "mmHg") == "mm[Hg]")
        #expect(UnitSynonyms.ucum(for: "mmol/mol") == "mmol/mol")
    }
}

/// The units Synthea (2.x and 3.x lab, vital-sign and survey modules) writes read as UCUM (directly or through
/// `UnitSynonyms`), so none of its values is set aside for its unit. (Not yet: `/[HPF]` and `/[LPF]`, microscopy
/// counts per high/low power field, arbitrary UCUM units the TwinCore parser does not know: set aside.)
@Suite struct SyntheaUnitsTests {
    static let units = [
        "mg/dL", "mmol/L", "g/dL", "%", "U/L", "fL", "pg", "10*3/uL", "10*6/uL", "mL/min/{1.73_m2}", "ng/mL", "ug/L", "[iU]/L",
        "[IU]/L", "mEq/L", "meq/L", "s", "ug/dL", "pmol/L", "nmol/L", "mm/h", "g/L", "kU/L", "[pH]", "mm[Hg]", "umol/L", "mg/L",
        "{cells}/uL", "{ratio}", "mg/g", "{beats}/min", "{breaths}/min", "/min", "[degF]", "Cel", "[in_i]", "[lb_av]",
        "kg", "cm", "kg/m2", "m2", "10*9/L", "10*12/L", "{#}", "{count}", "1", "mL", "L/min", "h", "cm[H2O]", "{score}", "{T-score}",
        "{nominal}", "(score)", "a", "mo", "wk", "d", "{titer}", "{INR}", "ng/dL", "pg/mL", "mg/mmol", "mL/min", "L", "mosm/kg",
        "{Bq}", "g", "mg", "ug", "[ppm]", "{packs}/d", "{visits}", "{#}/d",
    ]

    @Test(arguments: units)
    func readsAsUCUM(_ unit: String) {
        #expect(throws: Never.self) { _ = try UCUMUnit(parsing: UnitSynonyms.ucum(for: unit)) }
    }
}
