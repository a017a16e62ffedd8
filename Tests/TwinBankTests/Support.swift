import Foundation
import TwinBank
import TwinBankSQLite
import TwinCore
import TwinTesting

/// The storages every conformance and bank test runs against.
enum StorageKind: String, CaseIterable, CustomStringConvertible, Sendable {
    case memory, sqlite
    var description: String { rawValue }

    func make() throws -> any BankStorage {
        switch self {
        case .memory: return MemoryStorage()
        case .sqlite: return try SQLiteStorage(path: TemporaryFiles.path("bank.sqlite"))
        }
    }
}

func t(_ s: String) -> Instant { try! Instant(parsing: s) }

let glucose = Concept.loinc("2339-0", "Glucose")
let heartRate = Concept.loinc("8867-4")
let cgm = Source(.device, "cgm-7")
let lab = Source(.record, "lab-1")

func obs(_ twin: TwinID, _ time: String, _ code: Concept, _ v: Double, _ unit: String = "mg/dL", source: Source = cgm) -> EventDraft {
    EventDraft.observation(twin, at: t(time), code: code, Quantity(v, unit), source: source)
}
func obs(_ twin: TwinID, _ time: String, _ v: Double, _ unit: String = "mg/dL", source: Source = cgm) -> EventDraft {
    obs(twin, time, glucose, v, unit, source: source)
}

/// A bank whose clock starts at `now` (2026-01-01 by default) and steps a second per reading. Observations
/// may not lie beyond the clock (plus the 5-minute skew): tests with observations later than the default give
/// a later `now`.
func makeBank(_ kind: StorageKind, gate: any AccessGate = PermitAll(), now: String = "2026-01-01T00:00:00Z") throws -> Bank {
    Bank(storage: try kind.make(), gate: gate, clock: ManualClock(t(now), stepMicroseconds: 1_000_000))
}

func person(_ id: TwinID, birth: String = "1980-04-02", _ attrs: [String: Value] = [:]) -> Twin {
    var a = attrs
    a["birthDate"] = .date(t(birth))
    return Twin(id: id, kind: .person, attributes: a)
}
