/// An amount given at a time: a drug dose, an antidote, a bolus. Units are those of the model it is given to.
public struct TimedDose: Sendable, Hashable, Codable {
    /// When, in the model's time unit, from the start of the run.
    public var time: Double
    /// How much, in the model's amount unit.
    public var amount: Double
    public init(time: Double, amount: Double) { self.time = time; self.amount = amount }

    /// Throws `invalidDose` naming `what` unless time and amount are finite and >= 0.
    func validate(_ what: String) throws(ModelError) {
        guard time.isFinite, time >= 0, amount.isFinite, amount >= 0 else {
            throw ModelError(.invalidDose, "\(what) needs time >= 0 and amount >= 0, got time \(time), amount \(amount)",
                             value: "\(time):\(amount)")
        }
    }
}
