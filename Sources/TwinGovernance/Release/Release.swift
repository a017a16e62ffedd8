import Foundation
import TwinBank
import TwinCore

/// A de-identified, k-anonymous release of an aggregate's members (`twinbank release`).
///
/// Each member becomes a ``SafeHarbor`` record; only its pseudonym, the quasi-identifiers and the sensitive attribute
/// are released (any other attribute could itself single a person out), generalised and suppressed by
/// ``KAnonymity``. ``csv(_:columns:)`` and ``fhirBundle(_:)`` render the released records.
public enum Release {
    /// The released records and the k-anonymity report for an aggregate.
    /// - Throws: the bank's errors (unknown aggregate), ``GovernanceError`` `invalidRelease` when k (and l) cannot be met
    ///   or when no member has a quasi-identifier or the sensitive attribute (a misspelt name), naming it.
    public static func make(bank: Bank, aggregate: AggregateID, key: PseudonymKey, anonymity: KAnonymity) throws -> KAnonymityResult {
        // asked with `release` bank-wide and per member: a member whose consent refuses it is left out
        try make(cohort: try bank.cohort(of: aggregate, for: .release), key: key, referenceYear: bank.clock.now().utcDate.year, anonymity: anonymity)
    }

    /// ``make(bank:aggregate:key:anonymity:)`` over a cohort the bank made for `release` (its refused members are
    /// counted in ``KAnonymityResult/refused``). Each released record's id is the pseudonym of its twin id
    /// (``SafeHarbor/record(of:)``).
    public static func make(cohort: Cohort, key: PseudonymKey, referenceYear: Int, anonymity: KAnonymity) throws -> KAnonymityResult {
        let aggregate = cohort.aggregate
        let harbor = SafeHarbor(key: key, referenceYear: referenceYear)
        let asked = anonymity.quasiIdentifiers + [anonymity.sensitive].compactMap { $0 }
        let full = cohort.records.map { harbor.record(of: $0.twin) }
        // a misspelt attribute would put everyone in one class and say nothing: refuse it
        let present = Set(full.flatMap(\.fields.keys))
        if !full.isEmpty, let missing = asked.first(where: { !present.contains($0) }) {
            throw GovernanceError(.invalidRelease,
                                  "no member of '\(aggregate)' has a released '\(missing)' (released fields: \(present.sorted().joined(separator: ", ")))",
                                  value: missing)
        }
        let keep = Set(asked)
        let records = full.map { r in ReleaseRecord(id: r.id, fields: r.fields.filter { keep.contains($0.key) }) }
        var result = try anonymity.anonymise(records)
        result.refused = cohort.refused.count
        return result
    }

    /// The records as CSV: a header `id,COLUMN...` and one line per record (`?` for a missing value), fields quoted
    /// when they hold a comma, a quote or a line break.
    public static func csv(_ records: [ReleaseRecord], columns: [String]) -> String {
        func cell(_ s: String) -> String {
            s.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) ? "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : s
        }
        var out = (["id"] + columns).map(cell).joined(separator: ",") + "\n"
        for r in records { out += ([r.id] + columns.map { r.fields[$0] ?? "?" }).map(cell).joined(separator: ",") + "\n" }
        return out
    }

    /// The `Patient` of a released record (JSONSerialization objects): `id` (`id`, else the record's pseudonym),
    /// `gender` when the sex is released ungeneralised, `birthDate` when the birth year is released as a year,
    /// `address` with the state and the ZIP3 as `postalCode` when released, and every released field (generalised
    /// bands included) in the extension `urn:twinbank:release` as `valueString`s.
    public static func patient(_ r: ReleaseRecord, id: String? = nil) -> [String: Any] {
        var p: [String: Any] = ["resourceType": "Patient", "id": id ?? r.id]
        if let s = r.fields["sex"], QueryVocabulary.genderValues.contains(s) { p["gender"] = s }
        if let y = r.fields["birthYear"], y.count == 4, Int(y) != nil { p["birthDate"] = y }
        var address: [String: Any] = [:]
        if let z = r.fields["zip3"], z.count == 3, z.allSatisfy(\.isNumber) { address["postalCode"] = z }
        if let s = r.fields["state"], s != "*" { address["state"] = s }
        if !address.isEmpty { p["address"] = [address] }
        p["extension"] = [["url": "urn:twinbank:release",
                           "extension": r.fields.keys.sorted().map { ["url": $0, "valueString": r.fields[$0]!] }]]
        return p
    }

    /// The records as a FHIR R4 `Bundle` of type `collection`, one `Patient` per record: `id` the pseudonym, `gender`
    /// when released ungeneralised, `birthDate` when the birth year is released as a year, `address` with the state and
    /// the ZIP3 as `postalCode` when released, and every released field (generalised bands included) in the extension
    /// `urn:twinbank:release` as `valueString`s. Keys sorted.
    public static func fhirBundle(_ records: [ReleaseRecord]) throws -> [UInt8] {
        var entries: [Any] = []
        for r in records {
            entries.append(["fullUrl": "urn:twinbank:pseudonym:\(r.id)", "resource": patient(r)])
        }
        let bundle: [String: Any] = ["resourceType": "Bundle", "type": "collection", "entry": entries]
        return Array(try JSONSerialization.data(withJSONObject: bundle, options: [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]))
    }
}
