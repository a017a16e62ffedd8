import Foundation

/// An amount given at a time: a drug dose, an antidote, a bolus. Units are those of the model it is given to.
public struct TimedDose: Sendable, Hashable, Codable {
    /// When, in the model's time unit, from the start of the run.
    public var time: Double
    /// How much, in the model's amount unit.
    public var amount: Double
    public init(time: Double, amount: Double) { self.time = time; self.amount = amount }

    /// Parses a comma-separated list of doses `TIME[:AMOUNT]` (the amount 1 when omitted), such as
    /// `2,8:0.5`; empty text is no dose.
    /// - Throws: ``ModelError`` `invalidDose` naming the item that is not `TIME` or `TIME:AMOUNT` with
    ///   finite numbers >= 0.
    public static func list(parsing text: String) throws(ModelError) -> [TimedDose] {
        var doses: [TimedDose] = []
        for item in text.split(separator: ",") {
            let parts = item.split(separator: ":", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
            guard (1...2).contains(parts.count), let time = Double(parts[0]), let amount = parts.count == 2 ? Double(parts[1]) : 1 else {
                throw ModelError(.invalidDose, "bad dose '\(item)': expected TIME or TIME:AMOUNT", value: String(item))
            }
            let dose = TimedDose(time: time, amount: amount)
            try dose.validate("dose '\(item)'")
            doses.append(dose)
        }
        return doses
    }

    /// Throws `invalidDose` naming `what` unless time and amount are finite and >= 0.
    func validate(_ what: String) throws(ModelError) {
        guard time.isFinite, time >= 0, amount.isFinite, amount >= 0 else {
            throw ModelError(.invalidDose, "\(what) needs time >= 0 and amount >= 0, got time \(time), amount \(amount)",
                             value: "\(time):\(amount)")
        }
    }
}
