/// The dimensions that well-known codes are measured in, so a unit that does not fit the code is rejected.
///
/// A small table of common LOINC codes (vital signs, glucose, HbA1c, lipids, renal function). Codes not in the
/// table accept any unit; the bank additionally requires a code's later values to convert
/// (``AnalyteConversion``) to the first unit it saw for that code.
public enum CodeUnits {
    /// Code -> (name, reference units whose dimensions are accepted).
    static let table: [String: (name: String, units: [String])] = [
        "2339-0": ("glucose [mass or moles/volume] in blood", ["mg/dL", "mmol/L"]),
        "15074-8": ("glucose [moles/volume] in blood", ["mmol/L", "mg/dL"]),
        "2345-7": ("glucose [mass/volume] in serum or plasma", ["mg/dL", "mmol/L"]),
        "14749-6": ("glucose [moles/volume] in serum or plasma", ["mmol/L", "mg/dL"]),
        "41653-7": ("glucose [mass/volume] in capillary blood by glucometer", ["mg/dL", "mmol/L"]),
        "4548-4": ("hemoglobin A1c/hemoglobin.total in blood", ["%", "mmol/mol"]),
        "17856-6": ("hemoglobin A1c/hemoglobin.total in blood by HPLC", ["%", "mmol/mol"]),
        "59261-8": ("hemoglobin A1c/hemoglobin.total in blood by IFCC protocol", ["mmol/mol", "%"]),
        "8867-4": ("heart rate", ["/min"]),
        "9279-1": ("respiratory rate", ["/min"]),
        "8480-6": ("systolic blood pressure", ["mm[Hg]"]),
        "8462-4": ("diastolic blood pressure", ["mm[Hg]"]),
        "8478-0": ("mean blood pressure", ["mm[Hg]"]),
        "29463-7": ("body weight", ["kg"]),
        "3141-9": ("body weight measured", ["kg"]),
        "8302-2": ("body height", ["cm"]),
        "8287-5": ("head circumference", ["cm"]),
        "8310-5": ("body temperature", ["Cel"]),
        "8331-1": ("oral temperature", ["Cel"]),
        "39156-5": ("body mass index", ["kg/m2"]),
        "59408-5": ("oxygen saturation by pulse oximetry", ["%"]),
        "2708-6": ("oxygen saturation in arterial blood", ["%"]),
        "2093-3": ("cholesterol [mass or moles/volume] in serum or plasma", ["mg/dL", "mmol/L"]),
        "2085-9": ("HDL cholesterol", ["mg/dL", "mmol/L"]),
        "18262-6": ("LDL cholesterol", ["mg/dL", "mmol/L"]),
        "2571-8": ("triglyceride", ["mg/dL", "mmol/L"]),
        "2160-0": ("creatinine [mass/volume] in serum or plasma", ["mg/dL", "umol/L"]),
        "33914-3": ("eGFR", ["mL/min/{1.73_m2}"]),
        "20448-7": ("insulin [units/volume] in serum or plasma", ["[IU]/L"]),
        "6690-2": ("leukocytes [#/volume] in blood", ["10*3/uL"]),
        "718-7": ("hemoglobin [mass/volume] in blood", ["g/dL"]),
        "55284-4": ("blood pressure panel", []),
    ]

    /// The expected dimensions of a code, or nil when the code is not in the table (or has no unit).
    public static func expectedDimensions(for key: CodeKey) -> [Dimension]? {
        guard key.system == "http://loinc.org", let entry = table[key.code], !entry.units.isEmpty else { return nil }
        return entry.units.compactMap { try? UCUMUnit(parsing: $0).dimension }
    }

    /// The units a well-known code is usually recorded in (first the most common), or nil when the code is not
    /// in the table (or has no unit).
    public static func referenceUnits(for key: CodeKey) -> [String]? {
        guard key.system == "http://loinc.org", let entry = table[key.code], !entry.units.isEmpty else { return nil }
        return entry.units
    }

    /// The name of a well-known code (`hemoglobin A1c/hemoglobin.total in blood`), or nil.
    public static func name(for key: CodeKey) -> String? {
        key.system == "http://loinc.org" ? table[key.code]?.name : nil
    }

    /// The reference units of a well-known code (empty when the code is not in the table).
    public static func units(for key: CodeKey) -> [String] { referenceUnits(for: key) ?? [] }

    /// Checks that a unit fits a well-known code: it converts (``AnalyteConversion``) to one of the code's
    /// reference units, so `mmol/mol` fits HbA1c but not oxygen saturation, which is recorded in `%`.
    /// - Throws: ``TwinError`` `unitDoesNotFitCode` naming the unit, the code and the expected units.
    public static func check(_ unit: UCUMUnit, for key: CodeKey) throws {
        guard key.system == "http://loinc.org", let entry = table[key.code], !entry.units.isEmpty else { return }
        let references = entry.units.compactMap { try? UCUMUnit(parsing: $0) }
        var refusals: [String] = []
        for r in references {
            do { try AnalyteConversion.checkConvertible(from: unit, to: r, for: key); return } catch {
                refusals.append((error as? TwinError)?.message ?? "\(error)")
            }
        }
        // Say why when the unit is of a neighbouring kind (mass for substance, % for mmol/mol).
        let why = refusals.first { $0.contains("no analyte-specific conversion") && !$0.contains("different things") }
        throw TwinError(.unitDoesNotFitCode, "unit '\(unit.expression)' does not fit \(key) (\(entry.name)): expected a unit like \(entry.units.joined(separator: " or "))\(why.map { " (\($0))" } ?? "")", value: unit.expression)
    }
}
