import Testing
import TwinPopulation

/// `report cases --age-bands` is parsed by the library (it was parsed in the command).
@Suite("report: age bands parsed by CaseReporting")
struct AgeBandParsingTests {
    @Test func bandsFromZeroIncreasing() throws {
        #expect(try CaseReporting.ageBands(parsing: "0, 18,65") == [0, 18, 65])
        #expect(CaseReporting.ageBandLabels(try CaseReporting.ageBands(parsing: "0,18,65")) == ["0-17", "18-64", "65+"])
    }

    @Test(arguments: [("0,x,65", "'x'"), ("5,18", "must start at 0"), ("0,18,18", "increase"), ("0,,65", "''")])
    func badBandsAreNamed(text: String, words: String) {
        let error = #expect(throws: PopulationError.self) { _ = try CaseReporting.ageBands(parsing: text) }
        #expect(error?.code == .invalidArgument)
        #expect(error?.message.contains(words) == true, "\(error?.message ?? "")")
    }
}
