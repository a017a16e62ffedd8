/// What values a well-known code takes, checked at every door of the bank (command line, CSV, FHIR, API):
///
/// - **Type.** A quantitative code (one with units in ``CodeUnits``, such as glucose LOINC 2339-0) takes a
///   number with a unit; text, a concept, a date or a boolean is refused (``checkType(_:for:)``).
/// - **Plausibility.** A quantity outside the physiologically possible range of its code is not refused (it
///   may be a real, extreme reading, or a typing error to be retracted) but stored with the
///   ``Provenance/implausibleFlag`` note and kept out of model inputs (``Event/isModelInput``).
///
/// Codes not in the tables accept any value.
public enum Plausibility {
    /// A physiologically possible range of a code in one unit.
    public struct Range: Sendable, Hashable {
        public var low: Double
        public var high: Double
        public var unit: String
    }

    /// Possible (not normal) ranges per LOINC code, in each unit family they are written in. A value outside
    /// is impossible-ish: a typing error, a wrong unit or a failed sensor. The bounds are deliberately wide;
    /// sources and rationale per line.
    static let table: [String: [Range]] = {
        // Glucose: below 10 mg/dL (0.55 mmol/L) is not compatible with a living, measured patient (meters
        // read from 10-20 mg/dL); the highest survived values reported are around 1500-2600 mg/dL
        // (hyperosmolar state case reports); 1500 mg/dL (83 mmol/L) bounds what a meter or lab reports.
        let glucose = [Range(low: 10, high: 1500, unit: "mg/dL"), Range(low: 0.55, high: 83.3, unit: "mmol/L")]
        // HbA1c: NGSP % from 2 (severe haemolysis) to 25 (highest reported); IFCC mmol/mol from the master
        // equation (IFCC = 10.929 x (NGSP - 2.15)): 0-250. Matched by unit first: UCUM alone would treat both as
        // plain ratios.
        let a1c = [Range(low: 2, high: 25, unit: "%"), Range(low: 0, high: 250, unit: "mmol/mol")]
        // Heart rate: 10-350 /min (asystole-adjacent bradycardia to the fastest recorded tachyarrhythmias).
        let heart = [Range(low: 10, high: 350, unit: "/min")]
        // Respiratory rate: 1-100 /min (neonates reach 80-100).
        let breathing = [Range(low: 1, high: 100, unit: "/min")]
        // Blood pressures: monitors' measuring ranges (IEC 80601-2-30: 0-300 mm[Hg]); systolic >= 20.
        let systolic = [Range(low: 20, high: 300, unit: "mm[Hg]")]
        let diastolic = [Range(low: 5, high: 250, unit: "mm[Hg]")]
        let mean = [Range(low: 10, high: 280, unit: "mm[Hg]")]
        // Body weight: 0.2 kg (the most premature survivors) to 700 kg (heaviest recorded, ~635 kg).
        let weight = [Range(low: 0.2, high: 700, unit: "kg")]
        // Height and head circumference: 20-280 cm (premature births to the tallest recorded, 272 cm); 15-80 cm.
        let height = [Range(low: 20, high: 280, unit: "cm")]
        let head = [Range(low: 15, high: 80, unit: "cm")]
        // Body temperature: 13.7 °C (lowest survived accidental hypothermia) to 46.5 °C (highest survived).
        let temperature = [Range(low: 13, high: 47, unit: "Cel")]
        // BMI: 7-200 kg/m2 (extremes of anorexia and obesity reported).
        let bmi = [Range(low: 7, high: 200, unit: "kg/m2")]
        // Oxygen saturation: 0-100 %; a saturation cannot exceed 100 %; below 20 % is not measurable by oximetry
        // but arterial samples can be lower, so 0 stays possible.
        let saturation = [Range(low: 0, high: 100, unit: "%")]
        return [
            "2339-0": glucose, "15074-8": glucose, "2345-7": glucose, "14749-6": glucose, "41653-7": glucose,
            "4548-4": a1c, "17856-6": a1c,
            "8867-4": heart, "9279-1": breathing,
            "8480-6": systolic, "8462-4": diastolic, "8478-0": mean,
            "29463-7": weight, "3141-9": weight, "8302-2": height, "8287-5": head,
            "8310-5": temperature, "8331-1": temperature, "39156-5": bmi,
            "59408-5": saturation, "2708-6": saturation,
        ]
    }()

    /// The possible ranges of a code (nil when the code is not in the table).
    public static func ranges(for key: CodeKey) -> [Range]? {
        guard key.system == "http://loinc.org" else { return nil }
        return table[key.code]
    }

    /// Refuses a value of the wrong type for a well-known quantitative code: such a code (one with units in
    /// ``CodeUnits``) takes a quantity; nil (no value) is accepted.
    /// - Throws: ``TwinError`` `invalidValue` naming the value, its type and the code.
    public static func checkType(_ value: Value?, for code: Concept) throws {
        guard let value, CodeUnits.expectedDimensions(for: code.key) != nil else { return }
        switch value {
        case .quantity, .vector: return
        default:
            let name = CodeUnits.name(for: code.key).map { " (\($0))" } ?? ""
            throw TwinError(.invalidValue, "value '\(value)' is \(value.typeName), but \(code.key)\(name) takes a number with a unit such as \(CodeUnits.units(for: code.key).joined(separator: " or "))", value: value.description)
        }
    }

    /// Why a value is implausible for its code, or nil when it is plausible (or the code, or the unit's
    /// family, is not in the table).
    public static func problem(_ value: Value?, for code: Concept) -> String? {
        guard let q = value?.quantity, let ranges = ranges(for: code.key), let unit = try? UCUMUnit(parsing: q.unit) else { return nil }
        // a range in the value's own unit first, then one whose unit converts
        let ordered = ranges.filter { $0.unit == q.unit } + ranges.filter { $0.unit != q.unit }
        for r in ordered {
            guard let ru = try? UCUMUnit(parsing: r.unit), ru.isCommensurable(with: unit),
                  let v = try? unit.convert(q.value, to: ru) else { continue }
            if v < r.low || v > r.high {
                let name = CodeUnits.name(for: code.key) ?? code.key.description
                return "\(Value.format(q.value)) \(q.unit) is outside the possible range of \(name) (\(Value.format(r.low))-\(Value.format(r.high)) \(r.unit))"
            }
            return nil
        }
        return nil
    }
}

extension Provenance {
    /// The note key that marks an implausible value: the notes start with `flag:implausible (REASON)`. Such
    /// an event is kept (visible in queries) but is not a model input (``Event/isModelInput``).
    public static let implausibleFlag = "flag:implausible"

    /// Whether the notes carry ``implausibleFlag``.
    public var isFlaggedImplausible: Bool { notes?.hasPrefix(Provenance.implausibleFlag) ?? false }

    /// Adds the implausible flag with its reason in front of any notes.
    public mutating func flagImplausible(_ reason: String) {
        guard !isFlaggedImplausible else { return }
        let flag = "\(Provenance.implausibleFlag) (\(reason))"
        notes = notes.map { "\(flag); \($0)" } ?? flag
    }
}

extension Event {
    /// Whether a model may use this event as an input: not retracted, not erased, not flagged implausible.
    /// The bank's thread queries (``ThreadQuery``) leave flagged events out unless asked for them.
    public var isModelInput: Bool {
        retractedAtSequence == nil && !isErased && !provenance.isFlaggedImplausible
    }

    /// Whether the event was stored with the implausible flag (see ``Plausibility``).
    public var isFlaggedImplausible: Bool { provenance.isFlaggedImplausible }
}
