import Foundation
import Testing
import TwinBank
import TwinCore
@testable import TwinFHIR

/// A population twin (issue 24) is exported as a FHIR `Group`, and its thread's events are about that Group,
/// not about a Patient that does not exist.
@Suite struct PopulationExportTests {
    @Test func populationTwinExportsAsGroup() throws {
        let bank = Bank(storage: MemoryStorage())
        _ = try bank.createTwin(Twin(id: "town", kind: .population, attributes: [
            "populationSize": .quantity(Quantity(5000, "1")), "name": .text("Town"),
        ]))
        _ = try bank.append([EventDraft(twin: "town", effective: EffectiveTime(Instant.parse("2024-03-01T00:00:00Z")!), category: .prediction,
                                        code: Concept(system: "local", code: "outbreak.infectious"), value: .quantity(Quantity(42, "1")),
                                        source: Source(.model, "outbreak@1"), provenance: Provenance(model: "outbreak", seed: 7))])
        let bundle = try FHIRExporter(bank: bank).bundle(twin: "town")
        let resources = bundle["entry"]!.list.compactMap { $0["resource"] }
        let types = resources.compactMap { $0["resourceType"]?.stringValue }
        #expect(types.first == "Group")
        #expect(!types.contains("Patient"))
        let group = resources[0]
        #expect(group["type"]?.stringValue == "person")
        #expect(group["actual"] == .bool(false))
        #expect(group["quantity"] == .number("5000"))
        #expect(group["name"]?.stringValue == "Town")
        let subjects = resources.dropFirst().compactMap { $0["subject"]?["reference"]?.stringValue }
        #expect(!subjects.isEmpty)
        #expect(subjects.allSatisfy { $0 == "Group/town" }, "\(subjects)")
    }
}
