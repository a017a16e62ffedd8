import Testing
import TwinBank
import TwinCore
@testable import TwinPopulation

/// Hospitals as organisation twins whose resources change in their threads: the network as of an instant, and
/// the assignment that follows it.
@Suite struct AssignmentTwinTests {
    static func at(_ text: String) throws -> Instant { try Instant(parsing: text) }

    static func record(_ bank: Bank, _ twin: TwinID, _ when: String, _ values: [String: Double]) throws {
        _ = try bank.append(try values.sorted { $0.key < $1.key }.map { name, v in
            EventDraft(twin: twin, effective: EffectiveTime(try at(when)), code: Concept(system: HospitalTwins.system, code: name),
                       value: .quantity(Quantity(v, "1")), source: Source(.record, "bed-board"))
        })
    }

    /// north: resources recorded in January, ventilators lent out in February; south: staffed capacity recorded
    /// directly; west: resources as attributes (as the demo's st-mary holds its beds).
    static func bank() throws -> Bank {
        let bank = Bank(storage: MemoryStorage())
        _ = try bank.createTwin(Twin(id: "north", kind: .organisation, attributes: ["x_km": .quantity(Quantity(0, "km")), "y_km": .quantity(Quantity(0, "km"))]))
        _ = try bank.createTwin(Twin(id: "south", kind: .organisation, attributes: ["x_km": .quantity(Quantity(10, "km")), "y_km": .text("0")]))
        _ = try bank.createTwin(Twin(id: "west", kind: .organisation, attributes: [
            "x_km": .quantity(Quantity(-50, "km")), "y_km": .quantity(Quantity(0, "km")),
            "beds": .quantity(Quantity(4, "1")), "icuBeds": .quantity(Quantity(0, "1")), "ventilators": .quantity(Quantity(0, "1")),
            "nurses": .quantity(Quantity(2, "1")), "doctors": .quantity(Quantity(1, "1")),
        ]))
        _ = try bank.createTwin(Twin(id: "ann", kind: .person))
        try record(bank, "north", "2026-01-01T00:00:00Z", ["beds": 10, "icuBeds": 2, "ventilators": 1, "nurses": 10, "doctors": 3])
        try record(bank, "north", "2026-02-01T00:00:00Z", ["ventilators": 0])
        try record(bank, "south", "2026-01-01T00:00:00Z", ["capacity.general": 1, "capacity.icu": 0, "capacity.icu_vent": 1])
        return bank
    }

    @Test func capacitiesFollowTheThreadsOverTime() throws {
        let bank = try Self.bank()
        let january = try HospitalTwins.network(bank: bank, twins: ["north", "south", "west"], asOf: try Self.at("2026-01-15T00:00:00Z"))
        // north: ICU min(2, 10 x 0.4 x 2, 3 x 0.5 x 5) = 2, one with a ventilator; general min(10, 30, 22.5) = 10.
        // west: general min(4, 2 x 0.6 x 5, 1 x 0.5 x 15) = 4.
        #expect(january.hospitals.map(\.capacity) == [[10, 1, 1], [1, 0, 1], [4, 0, 0]])
        #expect(january.hospitals.map(\.id) == [.text("north"), .text("south"), .text("west")])
        #expect(january.hospitals.map(\.x) == [0, 10, -50])
        let march = try HospitalTwins.network(bank: bank, twins: ["north", "south", "west"], asOf: try Self.at("2026-03-01T00:00:00Z"))
        #expect(march.hospitals.map(\.capacity) == [[10, 2, 0], [1, 0, 1], [4, 0, 0]])
        // A forecast of capacity is not capacity: only observations count.
        _ = try bank.append([EventDraft(twin: "south", effective: EffectiveTime(try Self.at("2026-02-15T00:00:00Z")), category: .prediction,
                                        code: HospitalTwins.capacityCode("icu_vent"), value: .quantity(Quantity(9, "1")), source: Source(.model, "forecast"))])
        #expect(try HospitalTwins.network(bank: bank, twins: ["south"], asOf: try Self.at("2026-03-01T00:00:00Z")).hospitals[0].capacity == [1, 0, 1])
        // Before anything was recorded, north has no resources yet: refused by name.
        let e = #expect(throws: PopulationError.self) {
            _ = try HospitalTwins.network(bank: bank, twins: ["north"], asOf: try Self.at("2025-12-01T00:00:00Z"))
        }
        #expect(e?.message.contains("twin 'north' has neither a capacity") == true, "\(String(describing: e))")

        // A critical patient 1 km from north goes there in January, to south (9 km) in March.
        let patient = [Patient(id: .number(1), x: 1, y: 0, severity: 3)]
        let jan = try AssignmentSolver.solve(january, patients: patient), mar = try AssignmentSolver.solve(march, patients: patient)
        #expect(jan.placement == [Assignment.Place(hospital: 0, ward: 2)])
        #expect(jan.costCents == 400)
        #expect(mar.placement == [Assignment.Place(hospital: 1, ward: 2)])
        #expect(mar.costCents == 3600)
        #expect(mar.solutionJSON == #"{"cost": 36.0, "assignment": [{"hospital": "south", "ward": "icu_vent"}]}"#)
    }

    @Test func anAggregateOfHospitalsIsTheNetwork() throws {
        let bank = try Self.bank()
        _ = try bank.createAggregate("hospitals", where: "kind = organisation")
        let network = try HospitalTwins.network(bank: bank, aggregate: "hospitals", asOf: try Self.at("2026-03-01T00:00:00Z"))
        #expect(Set(network.hospitals.map(\.id)) == [.text("north"), .text("south"), .text("west")])
    }

    @Test func whatCannotBeAHospitalIsNamed() throws {
        let bank = try Self.bank()
        let person = #expect(throws: PopulationError.self) { _ = try HospitalTwins.network(bank: bank, twins: ["ann"]) }
        #expect(person?.message.contains("twin 'ann' is a person, not an organisation") == true)
        _ = try bank.createTwin(Twin(id: "nowhere", kind: .organisation))
        let place = #expect(throws: PopulationError.self) { _ = try HospitalTwins.network(bank: bank, twins: ["nowhere"]) }
        #expect(place?.message.contains("no location") == true)
        try Self.record(bank, "south", "2026-02-01T00:00:00Z", ["capacity.icu": -1])
        let negative = #expect(throws: PopulationError.self) { _ = try HospitalTwins.network(bank: bank, twins: ["south"]) }
        #expect(negative?.value == "-1.0")
        #expect(negative?.message.contains("capacity.icu = -1.0") == true)
    }
}
