/// Summary of one cardiac cycle.
public struct BeatSummary: Sendable, Hashable {
    /// Start of the beat, s.
    public var start: Double
    /// Heart rate, beats/min.
    public var heartRate: Double
    /// End-diastolic and end-systolic LV volume (max and min over the beat), mL.
    public var endDiastolicVolume: Double, endSystolicVolume: Double
    /// Systolic (max), diastolic (min) and mean aortic pressure over the beat, mmHg.
    public var systolicPressure: Double, diastolicPressure: Double, meanArterialPressure: Double
    /// Mean venous (filling) pressure over the beat, mmHg.
    public var venousPressure: Double
    /// Stroke volume `EDV - ESV`, mL.
    public var strokeVolume: Double { endDiastolicVolume - endSystolicVolume }
    /// Cardiac output, L/min.
    public var cardiacOutput: Double { strokeVolume * heartRate / 1000 }
    /// Ejection fraction.
    public var ejectionFraction: Double { strokeVolume / endDiastolicVolume }
}
