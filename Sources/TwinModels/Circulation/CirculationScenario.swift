/// A circulation experiment: a duration, bleeding episodes and vasoactive drug effects on resistance.
public struct CirculationScenario: Sendable {
    public var parameters: CirculationModel.Parameters
    /// Simulated time, s.
    public var seconds: Double
    /// Haemorrhages: volume (mL) lost at a constant rate from `start` over `duration` (s).
    public var haemorrhages: [(start: Double, duration: Double, volume: Double)]
    /// A vasoactive drug: from `time` (s) the peripheral resistance is multiplied by `factor`
    /// (> 1 vasoconstrictor such as phenylephrine, < 1 vasodilator such as nitroprusside).
    public var resistanceChanges: [(time: Double, factor: Double)]

    public init(parameters: CirculationModel.Parameters = .init(), seconds: Double = 60,
                haemorrhages: [(start: Double, duration: Double, volume: Double)] = [],
                resistanceChanges: [(time: Double, factor: Double)] = []) {
        self.parameters = parameters; self.seconds = seconds; self.haemorrhages = haemorrhages
        self.resistanceChanges = resistanceChanges
    }
}
