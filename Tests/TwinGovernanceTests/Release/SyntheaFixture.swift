import Foundation
import TwinBank
import TwinCore
import TwinFHIR
import TwinGovernance
import TwinTesting

/// The shared Synthea patients as person twins in a memory bank, in one aggregate `synthea`.
enum SyntheaFixture {
    static var available: Bool { SharedFolder.has("data/synthea") }

    static var bundles: [URL] {
        let dir = SharedFolder.data("synthea")
        let names = (try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []
        return names.filter { $0.hasSuffix(".json") && !$0.contains("Information") }.sorted().map { dir.appendingPathComponent($0) }
    }

    /// The Patient resource of each bundle.
    static func patients() throws -> [JSONValue] {
        try bundles.compactMap { url in
            let b = try JSONReader().read([UInt8](Data(contentsOf: url)))
            return b["entry"]?.list.compactMap { $0["resource"] }.first { $0["resourceType"]?.stringValue == "Patient" }
        }
    }

    /// A bank holding every patient (attributes as the FHIR import maps them) and the aggregate of all of them.
    static func bank(clock: any Clock = SystemClock()) throws -> (Bank, AggregateID, [Twin]) {
        let bank = Bank(storage: MemoryStorage(), clock: clock)
        var twins: [Twin] = []
        for p in try patients() {
            let t = PatientMapping.twin(p, id: try TwinID(p["id"]!.stringValue!))
            _ = try bank.createTwin(t)
            twins.append(t)
        }
        let id = AggregateID("synthea")
        _ = try bank.createAggregate(id, members: twins.map(\.id))
        return (bank, id, twins)
    }
}

/// A generator that counts its draws (to show that nothing was drawn).
struct CountingGenerator: RandomNumberGenerator {
    var inner: Xoshiro
    var draws = 0
    mutating func next() -> UInt64 { draws += 1; return inner.next() }
}

import TwinSimulation
typealias Xoshiro = Xoshiro256StarStar
