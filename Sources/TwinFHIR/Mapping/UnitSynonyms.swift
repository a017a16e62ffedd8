/// Common non-UCUM spellings of units found in health records, with their UCUM equivalent. A unit that is
/// neither UCUM nor listed here is an error (`unitNotConvertible`); this table only names spellings whose
/// meaning is unambiguous.
public enum UnitSynonyms {
    public static let table: [String: String] = [
        "(score)": "{score}",   // Synthea writes this for some survey scores
        "score": "{score}",
        "mmHg": "mm[Hg]",
        "mm Hg": "mm[Hg]",
        "bpm": "/min",
        "beats/min": "/min",
        "breaths/min": "/min",
        "degC": "Cel",
        "°C": "Cel",
        "degF": "[degF]",
        "°F": "[degF]",
        "kg/m^2": "kg/m2",
        "lbs": "[lb_av]",
        "lb": "[lb_av]",
        "in": "[in_i]",
    ]

    /// The UCUM form of `unit` (itself when it is not a listed synonym). The micro sign (`µ` U+00B5, or the Greek
    /// `μ` U+03BC) is UCUM's `u` prefix: `µmol/L` is `umol/L`.
    public static func ucum(for unit: String) -> String {
        if let t = table[unit] { return t }
        guard unit.contains("\u{B5}") || unit.contains("\u{3BC}") else { return unit }
        return String(unit.map { $0 == "\u{B5}" || $0 == "\u{3BC}" ? "u" : $0 })
    }
}
