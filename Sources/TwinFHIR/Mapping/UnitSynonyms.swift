/// Common non-UCUM spellings of units found in health records, with their UCUM equivalent. A unit that is
/// neither UCUM nor listed here is not converted: the import sets the value aside (or refuses the file under
/// `--strict`, `unitNotConvertible`); this table only names spellings whose meaning is unambiguous, each
/// line with its source.
///
/// Sources: [UCUM] The Unified Code for Units of Measure, https://ucum.org/ucum (the atom named);
/// [HL7-UCUM] HL7 "Using UCUM in HL7" common units table (https://ucum.org/docs/common-ucum-codes,
/// print symbol and name columns); [LOINC] the example UCUM units of the LOINC term (https://loinc.org).
public enum UnitSynonyms {
    public static let table: [String: String] = [
        "(score)": "{score}",   // Synthea writes this for some survey scores; [UCUM] §4.5 annotations
        "score": "{score}",     // [UCUM] §4.5: an annotation is a unit of 1
        "mmHg": "mm[Hg]",       // [UCUM] mm[Hg] "millimeter of mercury", print symbol mm Hg
        "mm Hg": "mm[Hg]",      // [HL7-UCUM] print symbol of mm[Hg]
        "bpm": "/min",          // [LOINC] 8867-4 heart rate, example unit {beats}/min = /min
        "beats/min": "/min",    // [LOINC] 8867-4 heart rate
        "breaths/min": "/min",  // [LOINC] 9279-1 respiratory rate, example unit {breaths}/min = /min
        "degC": "Cel",          // [UCUM] Cel "degree Celsius", print symbol °C
        "°C": "Cel",            // [UCUM] print symbol of Cel
        "degF": "[degF]",       // [UCUM] [degF] "degree Fahrenheit"
        "°F": "[degF]",         // [UCUM] print symbol of [degF]
        "kg/m^2": "kg/m2",      // [UCUM] §2.3 exponents are written as trailing digits
        "lbs": "[lb_av]",       // [UCUM] [lb_av] "pound (avoirdupois)", print symbol lb
        "lb": "[lb_av]",        // [UCUM] print symbol of [lb_av]
        "in": "[in_i]",         // [UCUM] [in_i] "inch (international)", print symbol in
        "mEq/L": "meq/L",       // [UCUM] eq "equivalents" with prefix m (codes are case-sensitive); [HL7-UCUM] meq/L, print symbol mEq/L
        "mEq": "meq",           // [HL7-UCUM] print symbol of meq
        "pH": "[pH]",           // [UCUM] [pH] "pH", print symbol pH; [LOINC] 2744-1 / 11558-4 example unit [pH]
        "PH": "[pH]",           // [UCUM] print symbol of [pH], upper-case variant of lab systems
        // Cell counts per microlitre: "K" and "thou" are thousands, "M" and "mill" millions (lab report
        // convention, [HL7-UCUM] 10*3/uL "thousand per microliter", 10*6/uL "million per microliter";
        // [LOINC] 6690-2 leukocytes 10*3/uL, 789-8 erythrocytes 10*6/uL, 777-3 platelets 10*3/uL).
        "K/uL": "10*3/uL",
        "thou/uL": "10*3/uL",
        "10^3/uL": "10*3/uL",
        "x10^3/uL": "10*3/uL",
        "x10E3/uL": "10*3/uL",
        "10E3/uL": "10*3/uL",
        "10*3/ul": "10*3/uL",   // [UCUM] §2.2 case-insensitive form of litre l = L
        "M/uL": "10*6/uL",
        "mill/uL": "10*6/uL",
        "10^6/uL": "10*6/uL",
        "x10^6/uL": "10*6/uL",
        "x10E6/uL": "10*6/uL",
        "10E6/uL": "10*6/uL",
        // "units" names no unit of its own: [UCUM] has no atom "units", and reading it as [IU] or U would be a
        // guess, so it becomes the annotation {units} (a pure number, [UCUM] §4.5). It fits codes without a
        // stated unit and is set aside for a code that needs a real unit (insulin in [IU]/L, ...).
        "units": "{units}",
        "unit": "{units}",
    ]

    /// The UCUM form of `unit` (itself when it is not a listed synonym). The micro sign (`µ` U+00B5, or the Greek
    /// `μ` U+03BC) is UCUM's `u` prefix: `µmol/L` is `umol/L`.
    /// Looked up after that replacement, so `K/µL` is `10*3/uL`.
    public static func ucum(for unit: String) -> String {
        if let t = table[unit] { return t }
        guard unit.contains("\u{B5}") || unit.contains("\u{3BC}") else { return unit }
        let u = String(unit.map { $0 == "\u{B5}" || $0 == "\u{3BC}" ? "u" : $0 })
        return table[u] ?? u
    }
}
