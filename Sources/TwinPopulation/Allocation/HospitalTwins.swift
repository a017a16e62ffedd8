import TwinBank
import TwinCore

/// Hospitals as the bank's organisation twins: where they are (attributes) and what they have (events in their
/// threads, changing over time), turned into a ``HospitalNetwork`` as of an instant.
///
/// A hospital twin is of kind `organisation` with:
/// - attributes `x_km` and `y_km` (numbers or quantities): its place on the same plane as the patients';
/// - per ward type, either a staffed capacity `local:capacity.WARD` (`local:capacity.icu`), or, for the anchor's
///   three wards, the resources `local:beds`, `local:icuBeds`, `local:ventilators`, `local:nurses`,
///   `local:doctors` from which ``HospitalResources/staffedCapacity`` derives them.
///
/// Each value is the latest observation of its code at or before `asOf` in the twin's thread (forks resolved;
/// retracted, implausible-flagged and predicted values ignored), else the twin's attribute of that name (`beds`, `capacity.icu`), so a recorded
/// change (a ward closed, ventilators lent out, staff off sick) changes the capacity from its effective time on.
/// Counts must be whole and non-negative.
public enum HospitalTwins {
    /// The code system of the resource and capacity codes (the `local` alias).
    public static let system = "urn:twinbank:local"
    /// The resource codes, in ``HospitalResources`` order.
    public static let resourceNames = ["beds", "icuBeds", "ventilators", "nurses", "doctors"]

    /// The code of a ward's staffed capacity: `local:capacity.WARD`.
    public static func capacityCode(_ ward: String) -> Concept { Concept(system: system, code: "capacity." + ward) }
    /// The code of a resource count (`beds`, `icuBeds`, `ventilators`, `nurses`, `doctors`).
    public static func resourceCode(_ name: String) -> Concept { Concept(system: system, code: name) }

    /// The hospitals `twins` stand for, as of `asOf` (nil: their latest values), priced by `model`.
    /// - Throws: ``PopulationError/Code/invalidInstance`` naming the twin and what is missing or wrong (not an
    ///   organisation, no location, a ward with neither a capacity nor the resources it derives from, a count
    ///   that is negative or not whole); ``BankError`` for an unknown twin.
    public static func network(bank: Bank, twins: [TwinID], asOf: Instant? = nil, model: CostModel = .anchor) throws -> HospitalNetwork {
        try model.validate()
        var hospitals: [Hospital] = []
        for id in twins {
            let twin = try bank.twin(id).twin
            guard twin.kind == .organisation else {
                throw PopulationError(.invalidInstance, "twin '\(id)' is a \(twin.kind), not an organisation: only hospitals (organisation twins) take patients", value: id.rawValue)
            }
            func number(_ name: String, code: Concept?) throws -> Double? {
                if let code, let e = try bank.state(of: id, asOf: asOf, code: code.key, category: .observation).first {
                    guard let v = e.value?.quantity?.value else {
                        throw PopulationError(.invalidInstance, "twin '\(id)': the event \(code.system == system ? "local:" + code.code : code.code) at \(e.effective.start) holds \(e.value.map { "\($0)" } ?? "no value"), not a number", value: e.value.map { "\($0)" })
                    }
                    return v
                }
                switch twin.attributes[name] {
                case .quantity(let q)?: return q.value
                case .text(let t)?:
                    guard let v = Double(t) else {
                        throw PopulationError(.invalidInstance, "twin '\(id)': attribute \(name) = '\(t)' is not a number", value: t)
                    }
                    return v
                case nil: return nil
                case let other?:
                    throw PopulationError(.invalidInstance, "twin '\(id)': attribute \(name) = \(other) is not a number", value: "\(other)")
                }
            }
            func count(_ name: String, code: Concept) throws -> Int? {
                guard let v = try number(name, code: code) else { return nil }
                guard v >= 0, v.rounded() == v, v < 1e15 else {
                    throw PopulationError(.invalidInstance, "twin '\(id)': \(name) = \(v) is not a whole number of at least 0", value: "\(v)")
                }
                return Int(v)
            }
            guard let x = try number("x_km", code: nil), let y = try number("y_km", code: nil) else {
                throw PopulationError(.invalidInstance, "twin '\(id)' has no location: give it the attributes x_km and y_km", value: id.rawValue)
            }
            var capacity = [Int?](repeating: nil, count: model.wards.count)
            for (w, ward) in model.wards.enumerated() {
                capacity[w] = try count("capacity." + ward, code: capacityCode(ward))
            }
            if capacity.contains(where: { $0 == nil }) {
                let missingWards = model.wards.indices.filter { capacity[$0] == nil }.map { model.wards[$0] }
                guard model.wards == CostModel.anchor.wards else {
                    throw PopulationError(.invalidInstance, "twin '\(id)' has no capacity for the ward(s) \(missingWards.joined(separator: ", ")) as of \(asOf.map { "\($0)" } ?? "now"): record local:capacity.WARD", value: id.rawValue)
                }
                var counts: [Int] = []
                for name in resourceNames {
                    guard let c = try count(name, code: resourceCode(name)) else {
                        throw PopulationError(.invalidInstance, "twin '\(id)' has neither a capacity for the ward(s) \(missingWards.joined(separator: ", ")) nor \(name) as of \(asOf.map { "\($0)" } ?? "now"): record local:capacity.WARD, or all of local:\(resourceNames.joined(separator: ", local:"))", value: id.rawValue)
                    }
                    counts.append(c)
                }
                let staffed = HospitalResources(beds: counts[0], icuBeds: counts[1], ventilators: counts[2], nurses: counts[3], doctors: counts[4]).staffedCapacity
                for w in capacity.indices where capacity[w] == nil { capacity[w] = staffed[w] }
            }
            hospitals.append(Hospital(id: .text(id.rawValue), x: x, y: y, capacity: capacity.map { $0! }))
        }
        return try HospitalNetwork(model: model, hospitals: hospitals)
    }

    /// The organisation twins among an aggregate's members, as ``network(bank:twins:asOf:model:)`` reads them;
    /// members of other kinds are refused by name.
    public static func network(bank: Bank, aggregate: AggregateID, asOf: Instant? = nil, model: CostModel = .anchor) throws -> HospitalNetwork {
        let members = try bank.members(of: aggregate, asOf: asOf).members
        return try network(bank: bank, twins: members, asOf: asOf, model: model)
    }
}
