import Testing
import TwinGovernance

@Suite struct GovernanceErrorTests {
    @Test func describesItselfByItsMessageAndKeepsTheValue() {
        let error = GovernanceError(.auditTampered, "audit entry 7 does not match the log", value: "7")
        #expect(error.description == "audit entry 7 does not match the log")
        #expect(error.code == .auditTampered)
        #expect(error.code != .invalidProof)
        #expect(error.value == "7")
    }
}
