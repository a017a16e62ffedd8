import Foundation
import TwinBank
import TwinCore
import TwinGovernance

/// A de-identified, k-anonymous release of an aggregate's members **with their clinical records**, as one FHIR R4
/// `collection` Bundle (`twinbank release --records`).
///
/// What it promises:
/// - The members are those the bank's gate permits for `release` (``TwinBank/Bank/cohort(of:where:for:)``; a
///   member whose consent refuses it is left out), k-anonymised over the quasi-identifiers exactly as
///   ``TwinGovernance/Release/make(bank:aggregate:key:anonymity:)`` does: a suppressed member's records are not
///   released at all.
/// - Each released member's `Patient` is the release's generalised one (``TwinGovernance/Release/patient(_:id:)``:
///   only the quasi-identifiers and the sensitive attribute), never the member's own Patient resource; its
///   `identifier` (system `urn:twinbank:release`) is the tabular release's pseudonym, so the CSV and the Bundle
///   join.
/// - Every other resource of the member (what ``FHIRExporter`` writes for it, through the member's consent filter)
///   goes through ``TwinGovernance/SafeHarbor/deidentify(fhir:)``: names, contacts, notes and narratives removed,
///   dates to the year, identifiers, ids and references replaced by keyed pseudonyms, so a reference to the member's
///   Patient points at the released Patient.
/// - Not covered: a clinical resource can itself narrow a person down (a rare diagnosis, a year of an event); the
///   k-anonymity holds over the quasi-identifiers chosen, not over the clinical content.
public enum FHIRRelease {
    /// The Bundle (JSON bytes, keys sorted) and the k-anonymity result.
    public static func bundle(bank: Bank, aggregate: AggregateID, key: PseudonymKey, anonymity: KAnonymity) throws -> (bundle: [UInt8], result: KAnonymityResult, resources: Int) {
        let year = bank.clock.now().utcDate.year
        let cohort = try bank.cohort(of: aggregate, for: .release)
        let result = try Release.make(cohort: cohort, key: key, referenceYear: year, anonymity: anonymity)
        let released = Dictionary(result.records.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        let harbor = SafeHarbor(key: key, referenceYear: year)
        var entries: [Any] = []
        for member in cohort.records {
            let pseudonym = key.pseudonym(member.id.rawValue, domain: "twin")
            guard let record = released[pseudonym] else { continue }  // suppressed
            let events = try bank.events(of: member.id, in: cohort)
            let resources = FHIRExporter.resources(twin: member.twin, events: events)
            // the references of the member's resources, once pseudonymised, name this id
            let patientID = key.pseudonym(PatientMapping.fhirID(member.twin), domain: "fhir")
            var patient = Release.patient(record, id: patientID)
            patient["identifier"] = [["system": "urn:twinbank:release", "value": record.id]]
            entries.append(["fullUrl": "urn:twinbank:release:Patient/\(patientID)", "resource": patient])
            for r in resources.dropFirst() {
                let bytes = try harbor.deidentify(fhir: JSONWriter().write(r))
                guard let clean = try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any] else { continue }
                let type = clean["resourceType"] as? String ?? "Resource"
                entries.append(["fullUrl": "urn:twinbank:release:\(type)/\(clean["id"] as? String ?? "")", "resource": clean])
            }
        }
        let bundle: [String: Any] = ["resourceType": "Bundle", "type": "collection", "entry": entries]
        let data = try JSONSerialization.data(withJSONObject: bundle, options: [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes])
        return (Array(data), result, entries.count)
    }
}
