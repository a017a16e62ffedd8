/// The therapies `twinbank simulate glucose --controller` offers, as simglucose's basal-bolus controller
/// configures them.
public enum GlucoseTherapy: String, Sendable, Hashable, CaseIterable {
    /// simglucose's basal-bolus controller (basal rate and meal boluses).
    case basalBolus = "basal-bolus"
    /// The basal rate alone (no boluses).
    case basal
    /// No insulin.
    case none

    /// The controller for this therapy, its basal rate and boluses scaled (nil for ``none``).
    /// - Throws: ``ModelError`` `invalidArgument` unless both scales are finite and >= 0.
    public func controller(basalScale: Double = 1, bolusScale: Double = 1) throws(ModelError) -> BasalBolusController? {
        guard basalScale.isFinite, basalScale >= 0, bolusScale.isFinite, bolusScale >= 0 else {
            throw ModelError(.invalidArgument, "the basal and bolus scales must be >= 0 (got \(basalScale), \(bolusScale))",
                             value: "\(basalScale), \(bolusScale)")
        }
        switch self {
        case .basalBolus: return BasalBolusController(basalScale: basalScale, bolusScale: bolusScale)
        case .basal: return BasalBolusController(basalScale: basalScale, bolusScale: 0)
        case .none: return nil
        }
    }
}
