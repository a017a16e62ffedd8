/// An insulin pump as simglucose 0.2.11 models it (`simglucose/actuator/pump.py`, `params/pump_params.csv`):
/// a requested rate (U/min) is converted to pmol/min, rounded to the pump's increment (half to even, like
/// `numpy.round`), converted back, and clamped to the pump's minimum and maximum.
public struct InsulinPump: Sendable, Hashable {
    public var name: String
    /// Bolus limits and increment: `minBolus`, `maxBolus` in U/min; `bolusIncrement` in pmol/min.
    public var minBolus: Double, maxBolus: Double, bolusIncrement: Double
    /// Basal limits and increment: `minBasal`, `maxBasal` in U/min; `basalIncrement` in pmol/min.
    public var minBasal: Double, maxBasal: Double, basalIncrement: Double

    public init(name: String, minBolus: Double, maxBolus: Double, bolusIncrement: Double, minBasal: Double,
                maxBasal: Double, basalIncrement: Double) {
        self.name = name; self.minBolus = minBolus; self.maxBolus = maxBolus; self.bolusIncrement = bolusIncrement
        self.minBasal = minBasal; self.maxBasal = maxBasal; self.basalIncrement = basalIncrement
    }

    /// simglucose's `Insulet` pump (the default of its examples and of the reference trace).
    public static let insulet = InsulinPump(name: "Insulet", minBolus: 0, maxBolus: 30, bolusIncrement: 0.05,
                                            minBasal: 0, maxBasal: 30, basalIncrement: 0.05)
    /// simglucose's `Cozmo` pump.
    public static let cozmo = InsulinPump(name: "Cozmo", minBolus: 0, maxBolus: 75, bolusIncrement: 0.05,
                                          minBasal: 0, maxBasal: 35, basalIncrement: 0.05)

    /// The pump with this name (`Insulet` or `Cozmo`).
    public static func named(_ name: String) throws(ModelError) -> InsulinPump {
        switch name {
        case "Insulet": return .insulet
        case "Cozmo": return .cozmo
        default: throw ModelError(.invalidArgument, "unknown insulin pump '\(name)'; valid names are Insulet, Cozmo", value: name)
        }
    }

    static let unitsToPmol = 6000.0

    /// The bolus rate (U/min) the pump delivers for a requested rate.
    public func bolus(_ amount: Double) -> Double {
        var bol = amount * Self.unitsToPmol
        bol = (bol / bolusIncrement).rounded(.toNearestOrEven) * bolusIncrement
        bol = bol / Self.unitsToPmol
        bol = min(bol, maxBolus)
        bol = max(bol, minBolus)
        return bol
    }

    /// The basal rate (U/min) the pump delivers for a requested rate.
    public func basal(_ amount: Double) -> Double {
        var bas = amount * Self.unitsToPmol
        bas = (bas / basalIncrement).rounded(.toNearestOrEven) * basalIncrement
        bas = bas / Self.unitsToPmol
        bas = min(bas, maxBasal)
        bas = max(bas, minBasal)
        return bas
    }
}
