import Testing
@testable import TwinPopulation

@Suite struct PopulationErrorTests {
    @Test func carriesCodeMessageAndValue() {
        let e = PopulationError(.invalidPings, "latitude 91 is outside -90...90", value: "91")
        #expect(e.code == .invalidPings)
        #expect(e.code != .invalidCases)
        #expect(e.description == "latitude 91 is outside -90...90")
        #expect(e.value == "91")
        #expect(e.code.description == "invalidPings")
    }
}
