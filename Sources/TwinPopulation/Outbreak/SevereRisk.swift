import Foundation

/// Conditions and sex that change a person's risk of severe COVID-19: a small table of relative risks, each
/// with its source, and how a member's recorded conditions and sex are matched to it.
///
/// Every value is a fully adjusted hazard ratio of COVID-19-related death from one cohort, so that the factors
/// are mutually adjusted and can be multiplied: Williamson E.J. et al., "Factors associated with COVID-19-related
/// death using OpenSAFELY", Nature 584 (2020) 430-436, doi:10.1038/s41586-020-2521-4 (17,278,392 adults in
/// England; Table 2, model adjusted for age, sex and all other factors). The outbreak model multiplies a person's
/// probability of severe disease given symptoms by them (and through it their probabilities of critical disease and
/// death), capped so that it stays at most 1. Two simplifications: a hazard ratio of death stands for the relative
/// risk of severe disease, and the model's age-band probabilities (Covasim's, population averages) stand for people
/// without the conditions.
///
/// A person's multiplier is the product over the table's groups of the largest relative risk of the group that
/// one of their conditions matches (a condition recorded twice, or as both "diabetes" and "type 2 diabetes",
/// counts once), times ``male`` for a man.
public enum SevereRisk {
    /// One line of the table.
    public struct Factor: Sendable, Hashable {
        /// The group (one factor per group counts for a person): diabetes, kidney, respiratory, heart, obesity,
        /// immunosuppression.
        public let group: String
        public let name: String
        public let relativeRisk: Double
        /// The source of ``relativeRisk`` (the estimate and its 95 % confidence interval).
        public let citation: String
        /// SNOMED CT concept codes (`http://snomed.info/sct`), exactly.
        public let snomed: Set<String>
        /// ICD-10 / ICD-10-CM codes (`http://hl7.org/fhir/sid/icd-10`, `...-cm`), as prefixes (`E11` matches `E11.9`).
        public let icd10: [String]
        /// Words or phrases matched in a text condition (case-insensitive; a match anywhere in the text) ...
        public let words: [String]
        /// ... unless the text holds one of these.
        public var excluding: [String] = []
    }

    static let source = "Williamson et al., Nature 584 (2020) 430, Table 2, fully adjusted HR of COVID-19 death"

    /// The table, most severe first within a group.
    public static let table: [Factor] = [
        Factor(group: "diabetes", name: "diabetes", relativeRisk: 1.31,
               citation: "\(source): diabetes with HbA1c < 58 mmol/mol, 1.31 (1.24-1.37)",
               snomed: ["73211009", "44054006", "46635009"], icd10: ["E10", "E11", "E13", "E14"], words: ["diabetes", "diabetic"],
               excluding: ["insipidus", "prediabet", "pre-diabet", "gestational"]),
        Factor(group: "kidney", name: "chronic kidney disease, eGFR < 30 (stage 4-5, end-stage)", relativeRisk: 2.52,
               citation: "\(source): reduced kidney function, eGFR < 30, 2.52 (2.33-2.72)",
               snomed: ["431857002", "433146000", "46177005"], icd10: ["N18.4", "N18.5", "N18.6"],
               words: ["end-stage renal", "end stage renal", "end-stage kidney", "end stage kidney", "ckd stage 4", "ckd stage 5",
                       "kidney disease stage 4", "kidney disease stage 5"]),
        Factor(group: "kidney", name: "chronic kidney disease", relativeRisk: 1.33,
               citation: "\(source): reduced kidney function, eGFR 30-60, 1.33 (1.28-1.40)",
               snomed: ["709044004", "431855005", "431856006", "433144002"], icd10: ["N18"],
               words: ["chronic kidney disease", "chronic renal disease", "ckd"]),
        Factor(group: "respiratory", name: "chronic obstructive pulmonary disease", relativeRisk: 1.63,
               citation: "\(source): chronic respiratory disease (asthma excluded), 1.63 (1.55-1.71)",
               snomed: ["13645005"], icd10: ["J43", "J44"], words: ["copd", "chronic obstructive", "emphysema"]),
        Factor(group: "heart", name: "heart failure", relativeRisk: 1.17,
               citation: "\(source): chronic heart disease (heart failure included), 1.17 (1.12-1.22)",
               snomed: ["84114007"], icd10: ["I50"], words: ["heart failure", "cardiac failure"]),
        Factor(group: "obesity", name: "severe obesity (BMI >= 40)", relativeRisk: 1.92,
               citation: "\(source): obesity class III, BMI >= 40, 1.92 (1.72-2.13)",
               snomed: ["238136002"], icd10: ["E66.01", "Z68.41", "Z68.42", "Z68.43", "Z68.44", "Z68.45"],
               words: ["morbid obesity", "severe obesity"]),
        Factor(group: "obesity", name: "obesity", relativeRisk: 1.05,
               citation: "\(source): obesity class I, BMI 30-34.9, 1.05 (0.98-1.12)",
               snomed: ["414916001"], icd10: ["E66"], words: ["obesity", "obese"]),
        Factor(group: "immunosuppression", name: "organ transplant", relativeRisk: 3.53,
               citation: "\(source): organ transplant, 3.53 (2.77-4.49)",
               snomed: [], icd10: ["Z94"],
               words: ["organ transplant", "kidney transplant", "renal transplant", "liver transplant", "heart transplant", "lung transplant",
                       "transplant recipient"]),
        Factor(group: "immunosuppression", name: "immunosuppression", relativeRisk: 2.21,
               citation: "\(source): other immunosuppressive condition, 2.21 (1.68-2.90)",
               snomed: ["234532001"], icd10: ["D80", "D81", "D82", "D83", "D84", "B20"],
               words: ["immunosuppress", "immunodeficien", "immunocompromis"]),
    ]

    /// Being male: HR 1.59 (1.53-1.65), the same source.
    public static let male = (relativeRisk: 1.59, citation: "\(source): male sex, 1.59 (1.53-1.65)")

    /// The factors of the table that `condition` matches: a concept as `system|code` (how
    /// ``MemberPopulation/conditions`` records one) or a text.
    public static func factors(matching condition: String) -> [Factor] {
        if let bar = condition.firstIndex(of: "|") {
            let system = condition[..<bar]
            let code = String(condition[condition.index(after: bar)...]).uppercased().replacingOccurrences(of: ".", with: "")
            switch system {
            case "http://snomed.info/sct":
                return table.filter { $0.snomed.contains(code) }
            case "http://hl7.org/fhir/sid/icd-10", "http://hl7.org/fhir/sid/icd-10-cm":
                return table.filter { f in f.icd10.contains { code.hasPrefix($0.replacingOccurrences(of: ".", with: "")) } }
            default:
                break
            }
        }
        let text = condition.lowercased()
        return table.filter { f in f.words.contains { text.contains($0) } && !f.excluding.contains { text.contains($0) } }
    }

    /// Whether a recorded `sex` / `gender` is male (`male`, `m`, `man`, or a concept coded so, any case).
    public static func isMale(_ sex: String?) -> Bool {
        guard let sex else { return false }
        let value = (sex.split(separator: "|").last.map(String.init) ?? sex).trimmingCharacters(in: .whitespaces).lowercased()
        return value == "male" || value == "m" || value == "man" || value == "248153007"
    }

    /// The multiplier of a person's probability of severe disease: the product over groups of the largest
    /// matched relative risk, times ``male`` for a man (1 for no condition of the table and not male).
    public static func multiplier(conditions: [String], sex: String?) -> Double {
        var best: [String: Double] = [:]
        for c in conditions {
            for f in factors(matching: c) { best[f.group] = max(best[f.group] ?? 1, f.relativeRisk) }
        }
        let product = best.keys.sorted().reduce(1.0) { $0 * best[$1]! }
        return product * (isMale(sex) ? male.relativeRisk : 1)
    }
}
