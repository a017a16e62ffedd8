/// How a dose enters the body.
public enum DoseRoute: Sendable, Hashable {
    /// Into the depot, absorbed first-order (`absorptionRate`) with the model's bioavailability.
    case oral
    /// Instantly into the central compartment.
    case intravenousBolus
    /// At a constant rate into the central compartment over `hours` (zero-order infusion).
    case infusion(hours: Double)
}

/// A list of doses (mg at hours after the start), each with its route. Multiple-dose regimens are built with
/// `repeated`.
public struct DosingRegimen: Sendable, Hashable {
    public struct Dose: Sendable, Hashable {
        public var time: Double
        public var amount: Double
        public var route: DoseRoute
        public init(time: Double, amount: Double, route: DoseRoute) {
            self.time = time; self.amount = amount; self.route = route
        }
    }

    public var doses: [Dose]

    public init(_ doses: [Dose]) throws(ModelError) {
        for (i, d) in doses.enumerated() {
            guard d.time.isFinite, d.time >= 0 else {
                throw ModelError(.invalidDose, "dose \(i + 1): time must be >= 0 hours, got \(d.time)", value: "\(d.time)")
            }
            guard d.amount.isFinite, d.amount >= 0 else {
                throw ModelError(.invalidDose, "dose \(i + 1): amount must be >= 0 mg, got \(d.amount)", value: "\(d.amount)")
            }
            if case .infusion(let h) = d.route, !(h.isFinite && h > 0) {
                throw ModelError(.invalidDose, "dose \(i + 1): infusion duration must be > 0 hours, got \(h)", value: "\(h)")
            }
        }
        self.doses = doses.sorted { $0.time < $1.time }
    }

    /// `count` doses of `amount` mg every `interval` hours from `start`.
    public static func repeated(amount: Double, every interval: Double, count: Int, route: DoseRoute,
                                start: Double = 0) throws(ModelError) -> DosingRegimen {
        guard count >= 1 else { throw ModelError(.invalidDose, "a regimen needs at least one dose, got \(count)", value: "\(count)") }
        guard interval.isFinite, interval > 0 || count == 1 else {
            throw ModelError(.invalidDose, "dosing interval must be > 0 hours, got \(interval)", value: "\(interval)")
        }
        return try DosingRegimen((0..<count).map { Dose(time: start + Double($0) * interval, amount: amount, route: route) })
    }
}
