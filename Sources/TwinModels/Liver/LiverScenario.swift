/// A dosing scenario for the APAP liver model: APAP doses (in units of the model's dose `P0`) and NAC doses
/// (1 = one standard dose) at given hours, simulated with the stiff solver.
public struct LiverScenario: Sendable, Hashable {
    public var parameters: APAPLiverModel.Parameters
    /// Extra APAP doses after t = 0 (hours, model amount units). The first dose `P0` is the initial state.
    public var additionalAPAPDoses: [TimedDose]
    /// NAC doses (hours; 1 = one standard dose).
    public var nacDoses: [TimedDose]
    public var hours: Double
    /// Number of evenly spaced output points from 0 to `hours` (inclusive).
    public var points: Int

    public init(parameters: APAPLiverModel.Parameters = .init(), additionalAPAPDoses: [TimedDose] = [],
                nacDoses: [TimedDose] = [], hours: Double = 24, points: Int = 1000) {
        self.parameters = parameters; self.additionalAPAPDoses = additionalAPAPDoses; self.nacDoses = nacDoses
        self.hours = hours; self.points = points
    }
}
