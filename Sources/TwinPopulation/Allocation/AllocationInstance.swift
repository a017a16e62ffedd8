import Foundation

/// The identifier of a hospital or a patient as its file writes it: an integer (the anchor's) or a string (a twin id).
public enum InstanceID: Sendable, Hashable, CustomStringConvertible, Codable {
    case number(Int)
    case text(String)

    public init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if let n = try? c.decode(Int.self) { self = .number(n) } else { self = .text(try c.decode(String.self)) }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .number(let n): try c.encode(n)
        case .text(let s): try c.encode(s)
        }
    }

    public var description: String {
        switch self {
        case .number(let n): String(n)
        case .text(let s): s
        }
    }
}

/// How an assignment is priced: which ward each severity needs, what a kilometre costs at each severity, and
/// what leaving a patient unplaced costs (the triage penalty). The anchor's `H.json` carries it under `model`.
///
/// Promises: patient of severity `s` (1-based) needs ward `wards[s - 1]`; sending them `km` away costs
/// `round_half_even(km x severityWeight[s - 1] x 100)` cents, leaving them unplaced `unplacedPenalty[s - 1] x 100`
/// cents (truncated, as the anchor converts it); the objective is the total in cents, so it is exact and equals
/// OR-tools' `optimal_cost()` on the anchor's graph.
public struct CostModel: Sendable, Hashable {
    /// Ward types, in severity order.
    public var wards: [String]
    /// Cost per kilometre, per severity.
    public var severityWeight: [Double]
    /// Cost of an unplaced patient, per severity.
    public var unplacedPenalty: [Double]

    /// Costs are integers in this many units per cost unit (cents), as the anchor scales them for OR-tools.
    public static let scale = 100.0
    /// The largest severity weight and penalty accepted, so that every total fits exactly in 64-bit cents.
    public static let maximumWeight = 1e3, maximumPenalty = 1e9
    /// The largest absolute coordinate accepted, in km.
    public static let maximumCoordinate = 1e7

    /// The anchor's model (`hospital_alloc_baseline.py`): wards general, icu, icu_vent; weights 1, 2, 4 per km;
    /// penalties 500, 2000, 8000.
    public static let anchor = CostModel(wards: ["general", "icu", "icu_vent"], severityWeight: [1, 2, 4],
                                         unplacedPenalty: [500, 2000, 8000])

    /// A model as given; ``validate()`` checks it (``HospitalNetwork`` does on creation).
    public init(wards: [String], severityWeight: [Double], unplacedPenalty: [Double]) {
        self.wards = wards
        self.severityWeight = severityWeight
        self.unplacedPenalty = unplacedPenalty
    }

    /// Checks the model: at least one ward, names unique and not empty, one finite weight in 0...1000 and one
    /// penalty in 0...1e9 per ward; throws ``PopulationError/Code/invalidInstance`` naming the field.
    public func validate() throws(PopulationError) {
        guard !wards.isEmpty else { throw PopulationError(.invalidInstance, "model.wards is empty: name at least one ward type", value: "[]") }
        var seen = Set<String>()
        for w in wards {
            guard !w.isEmpty else { throw PopulationError(.invalidInstance, "model.wards has an empty name", value: "") }
            guard seen.insert(w).inserted else { throw PopulationError(.invalidInstance, "model.wards names '\(w)' twice", value: w) }
        }
        guard severityWeight.count == wards.count else {
            throw PopulationError(.invalidInstance, "model.severityWeight has \(severityWeight.count) values for \(wards.count) wards", value: "\(severityWeight)")
        }
        guard unplacedPenalty.count == wards.count else {
            throw PopulationError(.invalidInstance, "model.unplacedPenalty has \(unplacedPenalty.count) values for \(wards.count) wards", value: "\(unplacedPenalty)")
        }
        for (i, w) in severityWeight.enumerated() where !(w >= 0 && w <= Self.maximumWeight) {
            throw PopulationError(.invalidInstance, "model.severityWeight[\(i)] = \(w) is not a number in 0...\(Self.maximumWeight)", value: "\(w)")
        }
        for (i, p) in unplacedPenalty.enumerated() where !(p >= 0 && p <= Self.maximumPenalty) {
            throw PopulationError(.invalidInstance, "model.unplacedPenalty[\(i)] = \(p) is not a number in 0...\(Self.maximumPenalty)", value: "\(p)")
        }
    }

    /// The cost in cents of sending a patient of ward index `ward` (severity - 1) `km` away: the anchor's
    /// `np.rint(km * weight * 100)`, bit for bit.
    @inline(__always)
    public func arcCents(km: Double, ward: Int) -> Int64 {
        Int64((km * severityWeight[ward] * Self.scale).rounded(.toNearestOrEven))
    }

    /// The cost in cents of leaving a patient of ward index `ward` unplaced: the anchor's `int(penalty * 100)`.
    public func penaltyCents(ward: Int) -> Int64 {
        Int64((unplacedPenalty[ward] * Self.scale).rounded(.towardZero))
    }

    /// The distance in km between two points of the plane, as the anchor computes it
    /// (`sqrt(dx**2 + dy**2)` in double precision, no fused multiply-add).
    @inline(__always)
    public static func km(_ x1: Double, _ y1: Double, _ x2: Double, _ y2: Double) -> Double {
        let dx = x1 - x2, dy = y1 - y2
        let sx = dx * dx, sy = dy * dy
        return (sx + sy).squareRoot()
    }
}

/// What a hospital has, from which its staffed capacity per ward follows (the anchor's capacity model).
public struct HospitalResources: Sendable, Hashable, Codable {
    public var beds: Int
    public var icuBeds: Int
    public var ventilators: Int
    public var nurses: Int
    public var doctors: Int

    public init(beds: Int, icuBeds: Int, ventilators: Int, nurses: Int, doctors: Int) {
        self.beds = beds
        self.icuBeds = icuBeds
        self.ventilators = ventilators
        self.nurses = nurses
        self.doctors = doctors
    }

    /// The staffed capacity of the anchor's wards (general, icu, icu_vent), exactly as
    /// `hospital_alloc_baseline.py` computes it: a ward takes the smallest of its beds and what its staff can
    /// look after (ICU: 40 % of the nurses at 1:2 and half the doctors at 1:5; general wards: 60 % of the nurses at
    /// 1:5 and half the doctors at 1:15), truncated to whole patients; the staffed ICU beds with a ventilator
    /// serve critical patients, the rest severe ones.
    public var staffedCapacity: [Int] {
        let n = Double(nurses), d = Double(doctors)
        let icuStaffed = Int(min(Double(icuBeds), min(n * 0.4 * 2, d * 0.5 * 5)))
        let generalStaffed = Int(min(Double(beds), min(n * 0.6 * 5, d * 0.5 * 15)))
        return [generalStaffed, max(icuStaffed - ventilators, 0), min(ventilators, icuStaffed)]
    }

    /// Throws ``PopulationError/Code/invalidInstance`` when a count is negative, naming it and `owner`.
    public func validate(owner: String) throws(PopulationError) {
        for (name, v) in [("beds", beds), ("icuBeds", icuBeds), ("ventilators", ventilators), ("nurses", nurses), ("doctors", doctors)] where v < 0 {
            throw PopulationError(.invalidInstance, "\(owner): resources.\(name) = \(v) is negative", value: String(v))
        }
    }
}

/// A hospital: where it is and how many patients each ward type can take.
public struct Hospital: Sendable, Hashable {
    public var id: InstanceID
    public var x: Double
    public var y: Double
    /// Staffed capacity per ward type, in the cost model's ward order.
    public var capacity: [Int]

    public init(id: InstanceID, x: Double, y: Double, capacity: [Int]) {
        self.id = id
        self.x = x
        self.y = y
        self.capacity = capacity
    }
}

/// A patient waiting for a bed: where they are and how sick (1 moderate, 2 severe, 3 critical in the anchor's model).
public struct Patient: Sendable, Hashable {
    public var id: InstanceID
    public var x: Double
    public var y: Double
    public var severity: Int

    public init(id: InstanceID, x: Double, y: Double, severity: Int) {
        self.id = id
        self.x = x
        self.y = y
        self.severity = severity
    }
}

/// The hospitals of a region and how assignments to them are priced (the anchor's `H.json`).
public struct HospitalNetwork: Sendable, Hashable {
    public var model: CostModel
    public var hospitals: [Hospital]

    /// Validates everything (``validate()``).
    public init(model: CostModel, hospitals: [Hospital]) throws(PopulationError) {
        self.model = model
        self.hospitals = hospitals
        try validate()
    }

    /// Throws ``PopulationError/Code/invalidInstance`` naming the hospital, the field and the value: a bad model,
    /// a duplicate id, a coordinate that is not finite (or beyond 1e7 km), a capacity list of the wrong length or
    /// a negative capacity.
    public func validate() throws(PopulationError) {
        try model.validate()
        var ids = Set<InstanceID>()
        for h in hospitals {
            guard ids.insert(h.id).inserted else {
                throw PopulationError(.invalidInstance, "hospital id \(h.id) appears twice", value: h.id.description)
            }
            try Self.checkCoordinate(h.x, "x_km", of: "hospital \(h.id)")
            try Self.checkCoordinate(h.y, "y_km", of: "hospital \(h.id)")
            guard h.capacity.count == model.wards.count else {
                throw PopulationError(.invalidInstance, "hospital \(h.id) has \(h.capacity.count) capacities for \(model.wards.count) wards", value: "\(h.capacity)")
            }
            for (w, c) in h.capacity.enumerated() where c < 0 {
                throw PopulationError(.invalidInstance, "hospital \(h.id): capacity.\(model.wards[w]) = \(c) is negative", value: String(c))
            }
        }
    }

    /// Throws ``PopulationError/Code/invalidInstance`` when `p` does not fit this network: a severity outside
    /// 1...wards, a coordinate that is not finite or beyond 1e7 km.
    public func validate(_ p: Patient) throws(PopulationError) {
        guard (1...model.wards.count).contains(p.severity) else {
            throw PopulationError(.invalidInstance, "patient \(p.id): severity \(p.severity) is outside 1...\(model.wards.count)", value: String(p.severity))
        }
        try Self.checkCoordinate(p.x, "x_km", of: "patient \(p.id)")
        try Self.checkCoordinate(p.y, "y_km", of: "patient \(p.id)")
    }

    /// Total staffed capacity per ward type.
    public var totalCapacity: [Int] {
        var t = [Int](repeating: 0, count: model.wards.count)
        for h in hospitals { for w in t.indices { t[w] += h.capacity[w] } }
        return t
    }

    static func checkCoordinate(_ v: Double, _ field: String, of owner: String) throws(PopulationError) {
        guard v.isFinite, abs(v) <= CostModel.maximumCoordinate else {
            throw PopulationError(.invalidInstance, "\(owner): \(field) = \(v) is not a finite coordinate within ±\(CostModel.maximumCoordinate) km", value: "\(v)")
        }
    }
}

// MARK: Reading the anchor's files

extension HospitalNetwork {
    /// Reads the hospitals file `hospital_alloc_baseline.py --save-hospitals` writes:
    /// `{"model": {"distance": "euclidean, km", "severityWeight": [...], "unplacedPenalty": [...], "wards": [...]},
    /// "hospitals": [{"id", "x_km", "y_km", "capacity": {WARD: N}}]}`.
    ///
    /// `model` is optional (the anchor's ``CostModel/anchor`` when absent); a ward missing from a `capacity` has
    /// capacity 0. Instead of `capacity`, a hospital may give `resources` (`beds`, `icuBeds`, `ventilators`,
    /// `nurses`, `doctors`) for the anchor's three wards, turned into capacity by ``HospitalResources/staffedCapacity``.
    /// Errors are ``PopulationError/Code/invalidInstance`` naming the field and the value (an unknown ward, a
    /// negative capacity, a coordinate that is not finite: Python writes `NaN` and `Infinity`, read as such).
    public init(json data: Data) throws(PopulationError) {
        let raw: RawHospitalsFile = try AllocationJSON.decode(data, what: "hospitals file")
        var model = CostModel.anchor
        if let m = raw.model {
            if let d = m.distance, d != "euclidean, km" {
                throw PopulationError(.unsupported, "model.distance '\(d)' is not supported: only 'euclidean, km'", value: d)
            }
            model = CostModel(wards: m.wards ?? CostModel.anchor.wards, severityWeight: m.severityWeight ?? CostModel.anchor.severityWeight,
                              unplacedPenalty: m.unplacedPenalty ?? CostModel.anchor.unplacedPenalty)
        }
        try model.validate()
        var hospitals: [Hospital] = []
        hospitals.reserveCapacity(raw.hospitals.count)
        for (i, h) in raw.hospitals.enumerated() {
            let owner = "hospitals[\(i)] (id \(h.id))"
            var capacity = [Int](repeating: 0, count: model.wards.count)
            if let c = h.capacity {
                for (ward, n) in c.sorted(by: { $0.key < $1.key }) {
                    guard let w = model.wards.firstIndex(of: ward) else {
                        throw PopulationError(.invalidInstance, "\(owner): capacity names the unknown ward '\(ward)' (the model's wards: \(model.wards.joined(separator: ", ")))", value: ward)
                    }
                    capacity[w] = try AllocationJSON.whole(n, "\(owner): capacity.\(ward)")
                }
            } else if let r = h.resources {
                guard model.wards == CostModel.anchor.wards else {
                    throw PopulationError(.invalidInstance, "\(owner): resources are turned into capacity only for the wards general, icu, icu_vent; give capacity per ward", value: model.wards.joined(separator: ","))
                }
                try r.validate(owner: owner)
                capacity = r.staffedCapacity
            } else {
                throw PopulationError(.invalidInstance, "\(owner) has neither capacity nor resources", value: h.id.description)
            }
            hospitals.append(Hospital(id: h.id, x: h.x_km, y: h.y_km, capacity: capacity))
        }
        try self.init(model: model, hospitals: hospitals)
    }

    /// Reads the hospitals file at `path` (see ``init(json:)``).
    public init(contentsOf path: String) throws(PopulationError) {
        try self.init(json: try AllocationJSON.read(path))
    }

    /// Reads the patients file `hospital_alloc_baseline.py --save-patients` writes:
    /// `{"patients": [{"id", "x_km", "y_km", "severity"}]}`, each checked against this network (``validate(_:)``).
    public func patients(json data: Data) throws(PopulationError) -> [Patient] {
        let raw: RawPatientsFile = try AllocationJSON.decode(data, what: "patients file")
        var out: [Patient] = []
        out.reserveCapacity(raw.patients.count)
        var ids = Set<InstanceID>()
        for p in raw.patients {
            let patient = Patient(id: p.id, x: p.x_km, y: p.y_km, severity: try AllocationJSON.whole(p.severity, "patient \(p.id): severity"))
            try validate(patient)
            guard ids.insert(p.id).inserted else {
                throw PopulationError(.invalidInstance, "patient id \(p.id) appears twice", value: p.id.description)
            }
            out.append(patient)
        }
        return out
    }

    /// Reads the patients file at `path` (see ``patients(json:)``).
    public func patients(contentsOf path: String) throws(PopulationError) -> [Patient] {
        try patients(json: try AllocationJSON.read(path))
    }
}

struct RawHospitalsFile: Decodable {
    struct Model: Decodable {
        var distance: String?
        var severityWeight: [Double]?
        var unplacedPenalty: [Double]?
        var wards: [String]?
    }
    struct Entry: Decodable {
        var id: InstanceID
        var x_km: Double
        var y_km: Double
        var capacity: [String: Double]?
        var resources: HospitalResources?
    }
    var model: Model?
    var hospitals: [Entry]
}

struct RawPatientsFile: Decodable {
    struct Entry: Decodable {
        var id: InstanceID
        var x_km: Double
        var y_km: Double
        var severity: Double
    }
    var patients: [Entry]
}

enum AllocationJSON {
    static func read(_ path: String) throws(PopulationError) -> Data {
        do { return try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            throw PopulationError(.invalidArgument, "cannot read '\(path)': \(error.localizedDescription)", value: path)
        }
    }

    /// Decodes JSON (JSON5 allowed, so Python's `NaN` and `Infinity` are read and then refused by name), turning
    /// a decoding error into ``PopulationError/Code/invalidInstance`` that names the field's path.
    static func decode<T: Decodable>(_ data: Data, what: String) throws(PopulationError) -> T {
        let decoder = JSONDecoder()
        decoder.allowsJSON5 = true
        do { return try decoder.decode(T.self, from: data) } catch let error as DecodingError {
            throw PopulationError(.invalidInstance, "\(what): \(describe(error))", value: path(of: error))
        } catch {
            throw PopulationError(.invalidInstance, "\(what): not JSON (\(error))", value: nil)
        }
    }

    /// `value` as an Int when it is a whole number (2 or 2.0), else ``PopulationError/Code/invalidInstance`` naming `field`.
    static func whole(_ value: Double, _ field: String) throws(PopulationError) -> Int {
        guard value.rounded() == value, abs(value) < 1e15 else {
            throw PopulationError(.invalidInstance, "\(field) = \(value) is not a whole number", value: "\(value)")
        }
        return Int(value)
    }

    static func path(_ keys: [any CodingKey]) -> String? {
        var s = ""
        for k in keys {
            if let i = k.intValue { s += "[\(i)]" } else { s += s.isEmpty ? k.stringValue : "." + k.stringValue }
        }
        return s.isEmpty ? nil : s
    }

    static func path(of error: DecodingError) -> String? {
        switch error {
        case .typeMismatch(_, let c), .valueNotFound(_, let c), .dataCorrupted(let c): return path(c.codingPath)
        case .keyNotFound(let k, let c): return path(c.codingPath + [k])
        @unknown default: return nil
        }
    }

    static func describe(_ error: DecodingError) -> String {
        func path(_ keys: [any CodingKey]) -> String { Self.path(keys) ?? "the top level" }
        switch error {
        case .typeMismatch(let t, let c): return "\(path(c.codingPath)) is not \(t == Int.self ? "an integer" : t == Double.self ? "a number" : "a \(t)") (\(c.debugDescription))"
        case .valueNotFound(_, let c): return "\(path(c.codingPath)) is missing or null"
        case .keyNotFound(let k, let c): return "\(path(c.codingPath + [k])) is missing"
        case .dataCorrupted(let c):
            let why = c.underlyingError.map { "\(c.debugDescription) \($0)" } ?? c.debugDescription
            return c.codingPath.isEmpty ? "not valid JSON (\(why))" : "\(path(c.codingPath)) has a value of the wrong kind (\(why))"
        @unknown default: return "\(error)"
        }
    }
}
