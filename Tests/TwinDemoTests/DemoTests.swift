import Foundation
import Testing
import TwinBank
import TwinCore
import TwinDemo
import TwinTesting

@Suite("The demo tour")
struct DemoTests {
    var dataDirectory: String { SharedFolder.data.path }

    @Test func buildsTheBankItDescribes() async throws {
        let bank = Bank(storage: MemoryStorage(), clock: ManualClock(try Instant(parsing: "2024-02-01T00:00:00Z"), stepMicroseconds: 1000))
        var lines: [String] = []
        let summary = try await Demo(dataDirectory: dataDirectory, people: 4, records: 3).run(in: bank) { lines.append($0) }
        #expect(summary.importedPatients == 3)
        let organisations = try bank.twinIDs().filter { (try? bank.twin($0).twin.kind) == .organisation }.count
        // people; liver, body, hospital, fork, template; comparison forks; the drug twin and its 3 regimen forks; records
        #expect(summary.twins == 4 + 5 + 3 + 4 + 3 + (organisations - 1))
        #expect(lines.contains { $0.contains("the level calibrates the twin: clearance 2.8 -> ") })
        #expect(try bank.events(ThreadQuery(twin: "person-01-theophylline", category: .recommendation)).count == 1)
        #expect(try bank.events(ThreadQuery(twin: summary.forkedTwin, category: .recommendation)).count == 1)
        #expect(lines.contains { $0.contains("imported 3 patients") })
        #expect(try bank.log().count == 2)
        #expect(try bank.twin(summary.fork).fork?.parent == summary.forkedTwin)
        // The fork's hypothetical dinner never appears in the original.
        let originalMeals = try bank.events(ThreadQuery(twin: summary.forkedTwin, category: .intervention))
        #expect(!originalMeals.contains { $0.source == Source(.person, "what-if") })
        #expect(summary.timeInRange.fork < summary.timeInRange.original)
        #expect(summary.liverPredictions == 97)
        #expect(lines.contains { $0.contains("Retracted device:cgm-person-03") })
        #expect(lines.contains { $0.contains("forecast events written to the thread") })
        #expect(try bank.events(ThreadQuery(twin: summary.forkedTwin, code: .loinc("2339-0"), category: .prediction)).count > 288)
        // The retracted device's readings are gone from the current view but not from the replay.
        #expect(try bank.events(ThreadQuery(twin: "person-03", code: .loinc("2339-0"))).isEmpty)
    }

    @Test func sameSeedSameBank() async throws {
        func build() async throws -> [String] {
            let bank = Bank(storage: MemoryStorage(), clock: ManualClock(try Instant(parsing: "2024-02-01T00:00:00Z"), stepMicroseconds: 1000))
            _ = try await Demo(dataDirectory: nil, seed: 7, people: 3, records: 0).run(in: bank) { _ in }
            return try bank.events(ThreadQuery(twin: "person-02")).map { $0.id.hex }
        }
        let first = try await build()
        let second = try await build()
        #expect(first == second)
    }
}
