/// The result of a glucose run, sampled every minute like simglucose's history: row k is minute k; `bg` has one
/// more entry than the inputs (the state after the last minute), as simglucose's `show_history()` has.
public struct GlucoseTrace: Sendable, Hashable {
    public var patient: String
    /// Blood glucose as simglucose observes it (subcutaneous glucose `Gs / Vg`), mg/dL, at minutes 0...n.
    public var bg: [Double]
    /// Carbohydrate announced in minute k (simglucose's `CHO` column, g/min over the sample), k = 0..<n.
    public var carbohydrate: [Double]
    /// Insulin delivered over minute k, U/min, k = 0..<n.
    public var insulin: [Double]
    /// The 13 model states at minutes 0...n, row-major (`states[13 * k + i]`), or empty if not recorded.
    public var states: [Double]

    public init(patient: String, bg: [Double], carbohydrate: [Double], insulin: [Double], states: [Double]) {
        self.patient = patient; self.bg = bg; self.carbohydrate = carbohydrate; self.insulin = insulin; self.states = states
    }

    /// Number of one-minute samples (inputs); `bg.count == minutes + 1`.
    public var minutes: Int { insulin.count }

    /// Total insulin delivered, U.
    public var totalInsulin: Double { insulin.reduce(0, +) }
    /// Mean of `bg`, mg/dL.
    public var meanBG: Double { bg.reduce(0, +) / Double(bg.count) }
    /// Fraction of samples with 70 <= BG <= 180 mg/dL.
    public var timeInRange: Double { Double(bg.count(where: { $0 >= 70 && $0 <= 180 })) / Double(bg.count) }
    /// Fraction of samples with BG < 70 mg/dL.
    public var timeBelowRange: Double { Double(bg.count(where: { $0 < 70 })) / Double(bg.count) }

    /// CSV with columns `Time,BG,CHO,insulin` (and `x1..x13` when states were recorded), one row per minute from
    /// `start`; the last row has BG only (no inputs follow it), as in simglucose's output.
    public func csv(start: CivilDateTime = CivilDateTime(year: 2024, month: 1, day: 1)) -> String {
        var out = "Time,BG,CHO,insulin"
        let withStates = states.count == 13 * bg.count
        if withStates { for i in 1...13 { out += ",x\(i)" } }
        out += "\n"
        out.reserveCapacity(bg.count * (withStates ? 300 : 60))
        for k in 0..<bg.count {
            out += start.adding(seconds: 60 * k).description
            out += ",\(bg[k]),"
            if k < minutes { out += "\(carbohydrate[k]),\(insulin[k])" } else { out += "," }
            if withStates { for i in 0..<13 { out += ",\(states[13 * k + i])" } }
            out += "\n"
        }
        return out
    }
}
