import Testing
import TwinBank
import TwinCore

/// `scanThreads(holding:among:)`: an actor limited to its own twins scans only those, without the bank-wide read it
/// may not make, each twin still decided.
@Suite struct ThreadScanAmongTests {
    /// Denies bank-wide reads and every twin but p1 and p2, recording what it was asked.
    final class OwnTwinsGate: AccessGate, @unchecked Sendable {
        var asked: [String] = []
        func authorize(_ request: AccessRequest) throws {
            asked.append("\(request.action) \(request.twin?.rawValue ?? "-")")
            guard let twin = request.twin, ["p1", "p2"].contains(twin.rawValue) || request.action == .write else {
                throw BankError(.accessDenied, "not yours", value: request.actor)
            }
        }
    }

    @Test(arguments: StorageKind.allCases)
    func scansOnlyTheTwinsGiven(_ kind: StorageKind) throws {
        let gate = OwnTwinsGate()
        let bank = try makeBank(kind, gate: gate, now: "2026-02-01T00:00:00Z")
        for id in ["p1", "p2", "p3"] { try bank.createTwin(person(TwinID(id))) }
        try bank.append([obs("p1", "2026-01-01T08:00:00Z", 95), obs("p3", "2026-01-01T08:00:00Z", 99),
                         obs("p2", "2026-01-01T08:00:00Z", heartRate, 60, "/min")])
        // across the bank: refused (a bank-wide read)
        #expect(throws: BankError.self) { try bank.scanThreads { _, _ in } }
        gate.asked = []
        var seen: [TwinID: Int] = [:]
        let scan = try bank.scanThreads(among: ["p1", "p2"]) { record, reader in seen[record.id] = try reader.events(ThreadQuery(twin: record.id)).count }
        #expect(scan.read == ["p1", "p2"] && scan.refused.isEmpty && seen == ["p1": 1, "p2": 1])
        #expect(gate.asked == ["read p1", "read p2"], "no bank-wide read, nor anyone else's twin")
        // with codes: only the given twins that hold them
        gate.asked = []
        let byCode = try bank.scanThreads(holding: [glucose.key], among: ["p1", "p2", "p3"]) { _, _ in }
        #expect(byCode.candidates == 2 && byCode.read == ["p1"] && byCode.refused == ["p3"])
        #expect(gate.asked == ["read p1", "read p3"])
    }
}
