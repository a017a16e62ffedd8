/// What values a well-known code takes, checked at every door of the bank (command line, CSV, FHIR, API):
///
/// - **Type.** A quantitative code (one with units in ``CodeUnits``, such as glucose LOINC 2339-0) takes a
///   number with a unit; text, a concept, a date or a boolean is refused (``checkType(_:for:)``).
/// - **Magnitude.** A number that is not finite or beyond ``maximumMagnitude`` (1e15 in its unit), for any
///   code, is refused (``checkMagnitude(_:)``).
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
    /// each line names its source (a published extreme, a standard or a physical bound) and the rationale.
    static let table: [String: [Range]] = {
        // Glucose 10-1500 mg/dL (0.55-83.3 mmol/L). Low: below 10 mg/dL is below the measuring range of meters
        // and lab methods (meters' stated measuring ranges start at 10-20 mg/dL) and not compatible with life.
        // High: the highest survived value on record is 2656 mg/dL (147.6 mmol/L; Guinness World Records,
        // "highest blood sugar level", 2008), hyperosmolar case reports reach 1500-2000 mg/dL; 1500 mg/dL bounds
        // what meters and labs report (meters read up to 500-600 mg/dL), so a higher value is flagged for review.
        let glucose = [Range(low: 10, high: 1500, unit: "mg/dL"), Range(low: 0.55, high: 83.3, unit: "mmol/L")]
        // HbA1c NGSP 2-25 %: 2 % only with severe haemolysis, assays report up to about 18-20 %, 25 % leaves
        // margin; IFCC 0-250 mmol/mol from the IFCC-NGSP master equation IFCC = 10.929 x (NGSP - 2.15)
        // (Hoelzel et al., Clin Chem 2004;50:166-174; 25 % -> 250 mmol/mol). Matched by unit first: UCUM alone
        // would treat both as plain ratios.
        let a1c = [Range(low: 2, high: 25, unit: "%"), Range(low: 0, high: 250, unit: "mmol/mol")]
        // Heart rate 10-350 /min: below 10 is asystole-adjacent (an ECG would call it asystole); 350 is above
        // infant supraventricular tachycardia (220-300 /min) and atrial flutter with 1:1 conduction (~300 /min);
        // the fastest reported ventricular rate, about 600 /min (Chhabra et al., Indian Pacing Electrophysiol J
        // 2012;12:32-35, pre-excited atrial fibrillation), is a case report and is flagged for review.
        let heart = [Range(low: 10, high: 350, unit: "/min")]
        // Respiratory rate 1-100 /min: WHO counts >= 60 /min as fast breathing in infants under 2 months
        // (WHO IMCI chart booklet); distressed neonates reach 80-100 /min; 1 /min is agonal breathing.
        let breathing = [Range(low: 1, high: 100, unit: "/min")]
        // Blood pressures: the cuff-pressure measuring range of automated sphygmomanometers, 0-300 mm[Hg]
        // (IEC 80601-2-30); a systolic below 20 mm[Hg] is not measurable.
        let systolic = [Range(low: 20, high: 300, unit: "mm[Hg]")]
        let diastolic = [Range(low: 5, high: 250, unit: "mm[Hg]")]
        let mean = [Range(low: 10, high: 280, unit: "mm[Hg]")]
        // Body weight 0.2-700 kg: the smallest surviving newborns weighed about 0.21-0.25 kg (Guinness World
        // Records, "lightest premature baby", 2020: 212 g); the heaviest person recorded about 635 kg (Jon
        // Brower Minnoch, Guinness World Records).
        let weight = [Range(low: 0.2, high: 700, unit: "kg")]
        // Height 20-280 cm: extremely premature births measure 20-25 cm; the tallest person recorded, Robert
        // Wadlow, was 272 cm (Guinness World Records). Head circumference 15-80 cm: 15 cm is below the smallest
        // premature heads (about 18-20 cm at 22 weeks, Fenton preterm growth charts 2013); 80 cm bounds hydrocephalus.
        let height = [Range(low: 20, high: 280, unit: "cm")]
        let head = [Range(low: 15, high: 80, unit: "cm")]
        // Body temperature 13-47 Cel: the lowest survived accidental hypothermia was 13.7 Cel (Gilbert et al.,
        // Lancet 2000;355:375-376), the highest survived heat stroke 46.5 Cel (Willie Jones, 1980, Guinness
        // World Records).
        let temperature = [Range(low: 13, high: 47, unit: "Cel")]
        // BMI 7-200 kg/m2: anorexia nervosa case reports reach BMI 7-8; the heaviest recorded person (above,
        // ~635 kg at 185 cm) had a BMI of about 186.
        let bmi = [Range(low: 7, high: 200, unit: "kg/m2")]
        // Oxygen saturation 0-100 %: a physical bound (a fraction of haemoglobin cannot exceed 100 %); pulse
        // oximeters are specified from 70 % (ISO 80601-2-61) but arterial samples can be lower, so 0 stays.
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

    /// The largest magnitude a quantity of any code may have in its own unit: 1e15. A value beyond (`1e308
    /// /min`) is a typing or encoding error whatever the code, and would overflow sums and conversions, so the
    /// bank refuses it (``checkMagnitude(_:)``) rather than flag it. Wide on purpose: the largest everyday
    /// clinical numbers are counts per litre (red blood cells about 5e12 /L), well below.
    public static let maximumMagnitude: Double = 1e15

    /// Refuses a quantity or vector that is not finite or whose magnitude exceeds ``maximumMagnitude``, for
    /// any code (well known or not); other values and nil are accepted.
    /// - Throws: ``TwinError`` `invalidValue` naming the value.
    public static func checkMagnitude(_ value: Value?) throws {
        let numbers: [Double]
        switch value {
        case .quantity(let q)?: numbers = [q.value]
        case .vector(let v)?: numbers = v.values
        default: return
        }
        for x in numbers {
            guard x.isFinite else {
                throw TwinError(.invalidValue, "value \(x) is not a finite number", value: "\(x)")
            }
            guard abs(x) <= maximumMagnitude else {
                throw TwinError(.invalidValue, "value \(x) is beyond any plausible magnitude (at most 1e15 in its unit, for any code): a typing or encoding error", value: "\(x)")
            }
        }
    }

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

    /// The reason the flag gives (what ``flagImplausible(_:)`` was given), or nil without the flag.
    public var implausibleReason: String? {
        guard isFlaggedImplausible, let notes else { return nil }
        let rest = notes.dropFirst(Provenance.implausibleFlag.count)
        guard rest.hasPrefix(" (") else { return nil }
        let body = rest.dropFirst(2)
        // the reason may hold parentheses: it ends at the ")" that ends the notes or precedes "; " and other notes
        var i = body.startIndex
        while let close = body[i...].firstIndex(of: ")") {
            let after = body[body.index(after: close)...]
            if after.isEmpty || after.hasPrefix("; ") { return String(body[..<close]) }
            i = body.index(after: close)
        }
        return nil
    }

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
