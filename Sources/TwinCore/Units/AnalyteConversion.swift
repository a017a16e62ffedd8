/// Converts the value of a clinical code to another unit as clinicians convert it: UCUM's arithmetic within one
/// kind of quantity, and, between kinds, only the analyte-specific conversions of a table with a source for each
/// line. Anything the table does not cover is refused with a message naming the code and the units, rather than
/// computed wrongly.
///
/// The rules, in order, for a value of `code` from unit `a` to unit `b`:
/// 1. `a` and `b` measure the same kind of quantity (same dimension, and both or neither a substance ratio such as
///    `mmol/mol`, see ``UCUMUnit/isSubstanceRatio``): UCUM's arithmetic (`mg/dL` to `g/L`, `%` to `1`).
/// 2. The code's analyte has an equation between the two kinds (HbA1c: NGSP `%` and IFCC `mmol/mol`, related by
///    the IFCC-NGSP master equation, not by a factor): the equation, with UCUM on either side.
/// 3. One is a mass and the other an amount of substance (`mg/dL` and `mmol/L`, `mg` and `mmol`) and the
///    analyte has a molar mass: the molar mass.
/// 4. Anything else is refused: `%` and `mmol/mol` for any analyte but HbA1c (never UCUM's plain-ratio
///    arithmetic, which would make 5.84 % into 58.4 mmol/mol), mass and substance for an analyte without a molar
///    mass in the table, and units of different dimensions.
///
/// The analytes are keyed by their LOINC codes (``analytes``); a code not in the table gets rules 1 and 4 only.
public enum AnalyteConversion {
    /// A linear relation between two units of one analyte: `y = slope * x + intercept`, `x` in ``fromUnit``
    /// and `y` in ``toUnit``.
    public struct Equation: Sendable, Hashable {
        public let fromUnit: String
        public let toUnit: String
        public let slope: Double
        public let intercept: Double
    }

    /// One analyte: the LOINC codes that measure it, and how its units relate.
    public struct Analyte: Sendable, Hashable {
        public let name: String
        /// LOINC codes (system `http://loinc.org`) whose values are this analyte.
        public let loinc: [String]
        /// Grams per mole, for mass <-> substance concentration (nil: such a conversion is refused).
        public let molarMass: Double?
        /// A relation between two kinds of unit that is not a factor (HbA1c NGSP <-> IFCC).
        public let equation: Equation?
        /// Where the molar mass or the equation comes from.
        public let source: String
    }

    /// The analyte-specific conversions. Molar masses are computed from the IUPAC standard atomic weights
    /// (C 12.0107, H 1.00794, N 14.0067, O 15.9994; IUPAC 2007, as clinical conversion tables use) unless the line
    /// says otherwise.
    public static let analytes: [Analyte] = [
        // IFCC-NGSP master equation: NGSP % = 0.915 x IFCC % + 2.15 (Hoelzel W et al., Clin Chem 2004;50:166-174);
        // with IFCC mmol/mol = 10 x IFCC %, IFCC mmol/mol = (10 / 0.915) x (NGSP % - 2.15) = 10.929 x (NGSP % - 2.15)
        // (as the NGSP's converter, ngsp.org: 6.5 % = 48 mmol/mol). No molar mass: mass <-> substance is refused.
        Analyte(name: "hemoglobin A1c", loinc: ["4548-4", "17856-6", "4549-2", "59261-8"], molarMass: nil,
                equation: Equation(fromUnit: "%", toUnit: "mmol/mol", slope: 10.929, intercept: -10.929 * 2.15),
                source: "IFCC-NGSP master equation (Hoelzel et al., Clin Chem 2004;50:166-174): IFCC mmol/mol = 10.929 x (NGSP % - 2.15)"),
        // C6H12O6: 6 x 12.0107 + 12 x 1.00794 + 6 x 15.9994 = 180.16 g/mol (1 mmol/L = 18.016 mg/dL).
        Analyte(name: "glucose", loinc: ["2339-0", "15074-8", "2345-7", "14749-6", "41653-7", "14743-9", "1558-6", "14771-0"],
                molarMass: 180.16, equation: nil,
                source: "molar mass of glucose C6H12O6, 180.16 g/mol, from the standard atomic weights"),
        // C27H46O: 27 x 12.0107 + 46 x 1.00794 + 15.9994 = 386.65 g/mol (1 mmol/L = 38.665 mg/dL); HDL and LDL
        // cholesterol are reported as cholesterol.
        Analyte(name: "cholesterol (total, HDL, LDL)", loinc: ["2093-3", "14647-2", "2085-9", "14646-4", "18262-6", "13457-7", "2089-1", "22748-8"],
                molarMass: 386.65, equation: nil,
                source: "molar mass of cholesterol C27H46O, 386.65 g/mol, from the standard atomic weights"),
        // Triglycerides are reported as triolein; the clinical convention is 885.7 g/mol (mg/dL x 0.01129 =
        // mmol/L, as in the SI conversion tables, e.g. NCEP ATP III).
        Analyte(name: "triglycerides (as triolein)", loinc: ["2571-8", "14927-8"], molarMass: 885.7, equation: nil,
                source: "triglycerides as triolein, 885.7 g/mol (clinical convention: mg/dL x 0.01129 = mmol/L)"),
        // C4H7N3O: 4 x 12.0107 + 7 x 1.00794 + 3 x 14.0067 + 15.9994 = 113.12 g/mol (1 mg/dL = 88.4 umol/L).
        Analyte(name: "creatinine", loinc: ["2160-0", "14682-9", "38483-4"], molarMass: 113.12, equation: nil,
                source: "molar mass of creatinine C4H7N3O, 113.12 g/mol, from the standard atomic weights"),
        // Urea nitrogen is reported as the mass of its nitrogen: 2 x 14.0067 = 28.013 g per mole of urea
        // (BUN mg/dL x 0.357 = urea mmol/L).
        Analyte(name: "urea nitrogen (BUN)", loinc: ["3094-0"], molarMass: 28.013, equation: nil,
                source: "urea nitrogen: the mass of 2 N per mole of urea, 2 x 14.0067 = 28.013 g/mol"),
        // CH4N2O: 12.0107 + 4 x 1.00794 + 2 x 14.0067 + 15.9994 = 60.06 g/mol.
        Analyte(name: "urea", loinc: ["3091-6", "22664-7"], molarMass: 60.06, equation: nil,
                source: "molar mass of urea CH4N2O, 60.06 g/mol, from the standard atomic weights"),
        // C33H36N4O6: 33 x 12.0107 + 36 x 1.00794 + 4 x 14.0067 + 6 x 15.9994 = 584.66 g/mol (1 mg/dL = 17.1 umol/L).
        Analyte(name: "bilirubin (total, direct)", loinc: ["1975-2", "14631-6", "1968-7", "14629-0"], molarMass: 584.66, equation: nil,
                source: "molar mass of bilirubin C33H36N4O6, 584.66 g/mol, from the standard atomic weights"),
    ]

    static let byLOINC: [String: Analyte] = {
        var t: [String: Analyte] = [:]
        for a in analytes { for c in a.loinc { t[c] = a } }
        return t
    }()

    /// The analyte a code measures, or nil when the table does not know it.
    public static func analyte(for code: CodeKey) -> Analyte? {
        code.system == "http://loinc.org" ? byLOINC[code.code] : nil
    }

    /// The value of `code` in `quantity` expressed in `unit` (see the rules above).
    /// - Throws: ``TwinError`` `invalidUnit` for a unit that is not UCUM; `incommensurableUnits` naming the code,
    ///   both units and why (no analyte-specific conversion is known, or the units measure different things).
    public static func convert(_ quantity: Quantity, to unit: String, for code: CodeKey) throws -> Quantity {
        if quantity.unit == unit { return quantity }
        let from = try UCUMUnit(parsing: quantity.unit), to = try UCUMUnit(parsing: unit)
        return Quantity(try convert(quantity.value, from: from, to: to, for: code), unit)
    }

    /// `value` of `code` from one parsed unit to another (see the rules above).
    /// - Throws: ``TwinError`` `incommensurableUnits` naming the code, both units and why.
    public static func convert(_ value: Double, from: UCUMUnit, to: UCUMUnit, for code: CodeKey) throws -> Double {
        try route(from: from, to: to, for: code).apply(value, from, to)
    }

    /// Checks that values of `code` convert from one unit to the other, without converting anything.
    /// - Throws: the error ``convert(_:from:to:for:)`` would throw.
    public static func checkConvertible(from: UCUMUnit, to: UCUMUnit, for code: CodeKey) throws {
        _ = try route(from: from, to: to, for: code)
    }

    /// Whether the two units measure the same kind of quantity, so UCUM's arithmetic alone relates them.
    public static func sameKind(_ a: UCUMUnit, _ b: UCUMUnit) -> Bool {
        a.dimension == b.dimension && a.isSubstanceRatio == b.isSubstanceRatio
    }

    enum Route {
        case ucum
        case equation(Equation, forward: Bool, UCUMUnit, UCUMUnit)
        /// Multiply the base-unit value by `factor` (the molar mass, or its inverse).
        case molar(factor: Double)

        func apply(_ v: Double, _ from: UCUMUnit, _ to: UCUMUnit) throws -> Double {
            switch self {
            case .ucum: return try from.convert(v, to: to)
            case .equation(let e, let forward, let x, let y):
                if forward { return try y.convert(e.slope * from.convert(v, to: x) + e.intercept, to: to) }
                return try x.convert((from.convert(v, to: y) - e.intercept) / e.slope, to: to)
            case .molar(let f):
                return (v * from.factor + from.offset) * f / to.factor
            }
        }
    }

    static let massPerSubstance: Dimension = { var d = Dimension(); d.mass = 1; d.amount = -1; return d }()

    static func route(from: UCUMUnit, to: UCUMUnit, for code: CodeKey) throws -> Route {
        if sameKind(from, to) { return .ucum }
        let known = analyte(for: code)
        func refuse(_ why: String) -> TwinError {
            TwinError(.incommensurableUnits, "cannot convert \(code)\(known.map { " (\($0.name))" } ?? "") from '\(from.expression)' to '\(to.expression)': \(why)", value: from.expression)
        }
        if let e = known?.equation {
            let x = try UCUMUnit(parsing: e.fromUnit), y = try UCUMUnit(parsing: e.toUnit)
            if sameKind(from, x) && sameKind(to, y) { return .equation(e, forward: true, x, y) }
            if sameKind(from, y) && sameKind(to, x) { return .equation(e, forward: false, x, y) }
        }
        let massToSubstance = from.dimension == Dimension.combine(to.dimension, massPerSubstance, 1)
        let substanceToMass = to.dimension == Dimension.combine(from.dimension, massPerSubstance, 1)
        if massToSubstance || substanceToMass {
            guard let m = known?.molarMass else {
                throw refuse("converting between mass and amount of substance needs the analyte's molar mass, and no analyte-specific conversion is known for \(code)")
            }
            return .molar(factor: massToSubstance ? 1 / m : m)
        }
        if from.dimension == to.dimension {  // a fraction and a substance ratio (% and mmol/mol)
            throw refuse("no analyte-specific conversion is known between a fraction ('\(from.isSubstanceRatio ? to.expression : from.expression)') and a substance ratio ('\(from.isSubstanceRatio ? from.expression : to.expression)') for \(code); they are not related by a factor")
        }
        if let known {
            throw refuse("the units measure different things (\(from.dimension) and \(to.dimension)), and no analyte-specific conversion is known between them (\(known.source))")
        }
        throw refuse("the units measure different things (\(from.dimension) and \(to.dimension)), and no analyte-specific conversion is known for \(code)")
    }
}

extension Quantity {
    /// The same amount of `code` in another unit, through ``AnalyteConversion`` (analyte-specific conversions
    /// such as glucose mg/dL <-> mmol/L and HbA1c % <-> mmol/mol; refused when none is known).
    /// - Throws: ``TwinError`` `invalidUnit` or `incommensurableUnits` naming the code and the units.
    public func converted(to target: String, for code: CodeKey) throws -> Quantity {
        try AnalyteConversion.convert(self, to: target, for: code)
    }
}
