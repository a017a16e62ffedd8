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
