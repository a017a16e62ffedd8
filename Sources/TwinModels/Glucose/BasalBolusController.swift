/// simglucose 0.2.11's basal-bolus controller (`simglucose/controller/basal_bolus_ctrller.py`), the therapy a
/// person with type 1 diabetes typically follows: a constant basal rate `u2ss * BW / 6000` U/min, and when the
/// sample shows carbohydrate (the meal announced in the previous sample) a bolus
/// `meal / CR + (CGM > 150) * (CGM - target) / CF` (U), delivered within one sample.
///
/// `basalScale` and `bolusScale` (default 1) multiply the two parts, to try other insulin plans in silico; with
/// both at 1 the controller is simglucose's.
public struct BasalBolusController: Sendable, Hashable {
    /// Glucose target of the correction bolus, mg/dL (simglucose's default 140).
    public var target: Double
    public var basalScale: Double
    public var bolusScale: Double

    public init(target: Double = 140, basalScale: Double = 1, bolusScale: Double = 1) {
        self.target = target; self.basalScale = basalScale; self.bolusScale = bolusScale
    }

    /// The requested (basal, bolus) rates in U/min for a patient, given the carbohydrate of the last sample
    /// (g/min), the sensor glucose (mg/dL) and the sample time (min).
    public func action(for patient: VirtualPatient, meal: Double, glucose: Double,
                       sampleTime: Double = 1) -> (basal: Double, bolus: Double) {
        let basal = patient.parameters.u2ss * patient.parameters.BW / 6000
        var bolus = 0.0
        if meal > 0 {
            bolus = (meal * sampleTime) / patient.carbRatio
                + (glucose > 150 ? 1.0 : 0.0) * (glucose - target) / patient.correctionFactor
        }
        bolus = bolus / sampleTime
        return (basal * basalScale, bolus * bolusScale)
    }
}
