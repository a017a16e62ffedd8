/// One of simglucose's 30 virtual type 1 diabetes patients: its UVA/Padova parameters, its initial (basal steady)
/// state, and the therapy constants of `Quest.csv` used by the basal-bolus controller.
public struct VirtualPatient: Sendable, Hashable {
    /// `adolescent#001` ... `adolescent#010`, `adult#001` ... `adult#010`, `child#001` ... `child#010`.
    public var name: String
    /// The 13 states at the start of a run (`x0_1` ... `x0_13` of `vpatient_params.csv`).
    public var initialState: [Double]
    public var parameters: UVAPadovaParameters
    /// Carbohydrate ratio, g of carbohydrate covered by 1 U of insulin.
    public var carbRatio: Double
    /// Correction factor, mg/dL lowered by 1 U of insulin.
    public var correctionFactor: Double
    /// Age, years.
    public var age: Double
    /// Total daily insulin, U.
    public var totalDailyInsulin: Double

    public init(name: String, initialState: [Double], parameters: UVAPadovaParameters, carbRatio: Double,
                correctionFactor: Double, age: Double, totalDailyInsulin: Double) {
        self.name = name; self.initialState = initialState; self.parameters = parameters
        self.carbRatio = carbRatio; self.correctionFactor = correctionFactor; self.age = age
        self.totalDailyInsulin = totalDailyInsulin
    }

    /// The patient with this exact name (e.g. `adult#001`).
    /// - Throws: `ModelError.Code.unknownPatient` naming the value and listing the valid names.
    public static func named(_ name: String) throws(ModelError) -> VirtualPatient {
        if let p = all.first(where: { $0.name == name }) { return p }
        throw ModelError(.unknownPatient,
                         "unknown virtual patient '\(name)'; valid names are adolescent#001...adolescent#010, adult#001...adult#010, child#001...child#010",
                         value: name)
    }
}
