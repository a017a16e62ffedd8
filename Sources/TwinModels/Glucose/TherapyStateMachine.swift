/// The inputs held over one minute.
struct MinuteInputs: Equatable {
    var toEat: Double, insulin: Double, lastStomachContent: Double, lastFoodTaken: Double
}

/// simglucose's per-minute logic outside the ODE: controller + pump (`T1DSimEnv.mini_step`) and the patient's
/// meal announcement / eating state machine (`T1DPatient._announce_meal` and `step`).
struct TherapyStateMachine {
    var plannedMeal = 0.0
    var lastEaten = 0.0
    var isEating = false
    var lastAnnounced = 0.0
    var lastStomachContent: Double
    var lastFoodTaken = 0.0

    /// Advances to minute k. `cgm` (mg/dL) and `stomach` (`qss + qsl`, mg) are the state at minute k; pass `nil`
    /// when unknown: if the logic needs them (a bolus after an announced meal, the start of eating) the method
    /// returns `nil` and changes nothing.
    mutating func advance(announced: Double, patient: VirtualPatient, controller: BasalBolusController?,
                          pump: InsulinPump, cgm: Double?, stomach: Double?) -> MinuteInputs? {
        var insulin = 0.0
        if let controller {
            if lastAnnounced > 0 && cgm == nil { return nil }
            let request = controller.action(for: patient, meal: lastAnnounced, glucose: cgm ?? 0)
            insulin = pump.basal(request.basal) + pump.bolus(request.bolus)
        }
        var planned = plannedMeal + announced
        var toEat = 0.0
        if planned > 0 {
            toEat = min(GlucoseSimulator.eatRate, planned)
            planned -= toEat
            planned = max(0, planned)
        }
        var stomachContent = lastStomachContent, foodTaken = lastFoodTaken, eating = isEating
        if toEat > 0 && lastEaten <= 0 {
            guard let stomach else { return nil }
            stomachContent = stomach
            foodTaken = 0
            eating = true
        }
        if eating { foodTaken += toEat }
        if toEat <= 0 && lastEaten > 0 { eating = false }
        plannedMeal = planned; lastEaten = toEat; isEating = eating
        lastStomachContent = stomachContent; lastFoodTaken = foodTaken; lastAnnounced = announced
        return MinuteInputs(toEat: toEat, insulin: insulin, lastStomachContent: stomachContent, lastFoodTaken: foodTaken)
    }
}
