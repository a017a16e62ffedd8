/// The inputs held over one minute.
struct MinuteInputs: Equatable {
    var toEat: Double, insulin: Double, lastStomachContent: Double, lastFoodTaken: Double
}

/// simglucose's per-minute logic outside the ODE: controller + pump (`T1DSimEnv.mini_step`) and the patient's
/// meal announcement / eating state machine (`T1DPatient._announce_meal` and `step`).
struct TherapyStateMachine {
    var eating = Eating()
    var lastAnnounced = 0.0
    var lastStomachContent: Double

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
        var next = eating
        let step = next.advance(announced: announced)
        var stomachContent = lastStomachContent
        if step.startsEpisode {
            guard let stomach else { return nil }
            stomachContent = stomach
        }
        eating = next
        lastStomachContent = stomachContent; lastAnnounced = announced
        return MinuteInputs(toEat: step.eaten, insulin: insulin, lastStomachContent: stomachContent, lastFoodTaken: next.foodTaken)
    }
}
