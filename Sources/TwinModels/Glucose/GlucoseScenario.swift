/// How the simulator integrates between one-minute samples.
public enum GlucoseIntegration: String, Sendable, Hashable, CaseIterable {
    /// simglucose's way: a fresh DOPRI5 run (scipy defaults) over every minute, inputs held. Agrees with
    /// simglucose to round-off.
    case simglucose
    /// One DOPRI5 run (same tolerances, rtol 1e-6, atol 1e-12) across all minutes whose inputs are equal, restarted
    /// only where an input changes (meal, bolus, eating); BG at the minutes in between from the 4th-order dense
    /// output. The same ODE solution up to the integration error: BG within ~1e-3 mg/dL of simglucose (the tests
    /// check < 0.01 mg/dL RMS), several times faster. For sweeps and forks.
    case continuous
}

/// What to simulate: a virtual patient, announced meals, a therapy (controller and pump) and a duration.
public struct GlucoseScenario: Sendable, Hashable {
    public var patient: VirtualPatient
    public var meals: MealPlan
    /// Duration in hours; the run has `ceil(hours * 60)` one-minute samples.
    public var hours: Double
    /// The controller; `nil` gives no insulin at all.
    public var controller: BasalBolusController?
    public var pump: InsulinPump
    /// Keep the 13 model states at every minute in the trace.
    public var recordStates: Bool
    public var integration: GlucoseIntegration

    public init(patient: VirtualPatient, meals: MealPlan, hours: Double = 24,
                controller: BasalBolusController? = BasalBolusController(), pump: InsulinPump = .insulet,
                recordStates: Bool = false, integration: GlucoseIntegration = .simglucose) {
        self.patient = patient; self.meals = meals; self.hours = hours; self.controller = controller
        self.pump = pump; self.recordStates = recordStates; self.integration = integration
    }
}
