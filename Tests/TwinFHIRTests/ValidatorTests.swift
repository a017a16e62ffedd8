import Testing
@testable import TwinFHIR

@Suite struct ValidatorTests {
    func issues(_ text: String) throws -> [FHIRError] {
        Validator().validate(try JSONReader().read(text))
    }

    @Test func acceptsValidObservation() throws {
        let ok = try issues(#"""
        {"resourceType": "Observation", "id": "bp", "status": "final",
         "code": {"coding": [{"system": "http://loinc.org", "code": "85354-9"}]},
         "subject": {"reference": "Patient/p1"}, "effectiveDateTime": "2020-01-02T03:04:05+01:00",
         "component": [{"code": {"text": "sys"}, "valueQuantity": {"value": 120.50, "unit": "mm[Hg]", "system": "http://unitsofmeasure.org", "code": "mm[Hg]"}}],
         "_status": {"extension": [{"url": "http://x", "valueString": "y"}]}, "futureElement": {"kept": true}}
        """#)
        #expect(ok.isEmpty, "\(ok)")
    }

    @Test(arguments: [
        (#"{"resourceType": "Observation", "status": "done", "code": {"text": "x"}}"#,
         "Observation.status", "required binding http://hl7.org/fhir/ValueSet/observation-status"),
        (#"{"resourceType": "Observation", "code": {"text": "x"}}"#, "Observation.status", "cardinality 1..1"),
        (#"{"resourceType": "Observation", "status": "final", "code": {"text": "x"}, "valueString": "a", "valueBoolean": true}"#,
         "Observation.valueBoolean", "choice type value[x]: one of valueBoolean, valueCodeableConcept, valueDateTime, valueInteger, valuePeriod, valueQuantity, valueRange, valueRatio, valueSampledData, valueString, valueTime"),
        (#"{"resourceType": "Observation", "status": "final", "code": {"text": "x"}, "effectiveDateTime": "2020-13-01"}"#,
         "Observation.effectiveDateTime", "format dateTime"),
        (#"{"resourceType": "Observation", "status": "final", "code": {"text": "x"}, "effectiveDateTime": "2020-01-01T10:00"}"#,
         "Observation.effectiveDateTime", "format dateTime"),
        (#"{"resourceType": "Observation", "status": "final", "code": {"text": "x"}, "issued": "2020-01-01"}"#,
         "Observation.issued", "format instant"),
        (#"{"resourceType": "Observation", "status": "final", "code": {"text": "x"}, "subject": {"reference": "Medication/1"}, "encounter": {"reference": "Patient/2"}}"#,
         "Observation.encounter", "reference target type Reference(Encounter)"),
        (#"{"resourceType": "Observation", "status": "final", "code": {"text": "x"}, "category": {"text": "lab"}}"#,
         "Observation.category", "R4 JSON format: arrays for repeating elements"),
        (#"{"resourceType": "Observation", "status": "final", "code": {"text": "x"}, "category": []}"#,
         "Observation.category", "ele-1"),
        (#"{"resourceType": "Observation", "status": "final", "code": {"text": "x"}, "valueInteger": 1.5}"#,
         "Observation.valueInteger", "format integer"),
        (#"{"resourceType": "Observation", "status": "final", "code": {"text": "x"}, "valueQuantity": {"value": "1"}}"#,
         "Observation.valueQuantity.value", "format decimal"),
        (##"{"resourceType": "Observation", "status": "final", "code": {"text": "x"}, "specimen": {"reference": "#sp"}}"##,
         "Observation.specimen.reference", "ref-1"),
        (#"{"resourceType": "Patient", "gender": "M"}"#, "Patient.gender", "required binding http://hl7.org/fhir/ValueSet/administrative-gender"),
        (#"{"resourceType": "Patient", "id": "a b"}"#, "Patient.id", "format id"),
        (#"{"resourceType": "Patient", "birthDate": "1970-02-30"}"#, "Patient.birthDate", "format date"),
        (#"{"resourceType": "Patient", "name": [{"use": "formal"}]}"#, "Patient.name[0].use", "required binding http://hl7.org/fhir/ValueSet/name-use"),
        (#"{"resourceType": "Condition", "subject": {"reference": "Patient/1"}, "clinicalStatus": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-clinical", "code": "gone"}]}}"#,
         "Condition.clinicalStatus.coding[0].code", "required binding http://hl7.org/fhir/ValueSet/condition-clinical"),
        (#"{"resourceType": "Condition"}"#, "Condition.subject", "cardinality 1..1"),
        (#"{"resourceType": "MedicationRequest", "status": "active", "intent": "wish", "subject": {"reference": "Patient/1"}, "medicationCodeableConcept": {"text": "x"}}"#,
         "MedicationRequest.intent", "required binding http://hl7.org/fhir/ValueSet/medicationrequest-intent"),
        (#"{"resourceType": "MedicationRequest", "status": "active", "intent": "order", "subject": {"reference": "Patient/1"}}"#,
         "MedicationRequest.medication[x]", "cardinality 1..1 (one of medicationCodeableConcept, medicationReference)"),
        (#"{"resourceType": "Encounter", "status": "done", "class": {"code": "AMB"}}"#, "Encounter.status", "required binding http://hl7.org/fhir/ValueSet/encounter-status"),
        (#"{"resourceType": "Bundle", "type": "transaction", "entry": [{"fullUrl": "urn:uuid:1", "request": {"method": "SEND", "url": "Patient"}, "resource": {"resourceType": "Patient"}}]}"#,
         "Bundle.entry[0].request.method", "required binding http://hl7.org/fhir/ValueSet/http-verb"),
        (#"{"resourceType": "Bundle", "type": "pile"}"#, "Bundle.type", "required binding http://hl7.org/fhir/ValueSet/bundle-type"),
        (#"{"resourceType": "Bundle", "type": "collection", "entry": [{"resource": {"resourceType": "Observation", "status": "final", "code": {"text": "x"}, "encounter": {"reference": "urn:uuid:p"}}}, {"fullUrl": "urn:uuid:p", "resource": {"resourceType": "Patient"}}]}"#,
         "Bundle.entry[0].resource.encounter", "reference target type Reference(Encounter)"),
        (#"{"resourceType": "Patient", "contained": [{"resourceType": "Observation", "status": "x", "code": {"text": "y"}}]}"#,
         "Patient.contained[0].status", "required binding http://hl7.org/fhir/ValueSet/observation-status"),
        (#"{"resourceType": "Potato"}"#, "Potato", "R4 resource list"),
    ])
    func rejects(text: String, location: String, rule: String) throws {
        let found = try issues(text)
        #expect(found.first?.location == location, "\(found)")
        #expect(found.first?.rule == rule, "\(found)")
    }

    @Test func messageNamesValueAndValueSet() throws {
        let e = try #require(try issues(#"{"resourceType": "Observation", "status": "done", "code": {"text": "x"}}"#).first)
        #expect(e.description == "Observation.status: value 'done' is not in the required value set http://hl7.org/fhir/ValueSet/observation-status [rule: required binding http://hl7.org/fhir/ValueSet/observation-status]")
        #expect(e.value == "done")
    }
}
