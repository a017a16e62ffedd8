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
    /// The arterial baroreflex (Ursino 1998), or nil for the open-loop circulation.
    public var baroreflex: Baroreflex?
    /// How often the solution is sampled for the beat summaries, s (2 ms resolves pressure extremes to well under
    /// 1 mmHg; 5 ms to about 1 mmHg).
    public var sampleInterval: Double

    public init(parameters: CirculationModel.Parameters = .init(), seconds: Double = 60,
                haemorrhages: [(start: Double, duration: Double, volume: Double)] = [],
                resistanceChanges: [(time: Double, factor: Double)] = [], baroreflex: Baroreflex? = nil,
                sampleInterval: Double = 0.002) {
        self.parameters = parameters; self.seconds = seconds; self.haemorrhages = haemorrhages
        self.resistanceChanges = resistanceChanges; self.baroreflex = baroreflex; self.sampleInterval = sampleInterval
    }
}
