/// A required value set of R4: the codes an element bound with strength `required` may take.
///
/// For `code` elements the value must be one of `codes`. For `Coding`/`CodeableConcept` elements at least one
/// coding must have `system` equal to `system` and a code in `codes` (codings from other systems may be present
/// beside it, as translations).
public struct ValueSet: Sendable, Hashable {
    /// The canonical URL of the value set, as R4 names it.
    public var url: String
    /// The code system of the codes (for CodeableConcept bindings).
    public var system: String
    public var codes: Set<String>

    init(_ name: String, system: String? = nil, _ codes: [String]) {
        url = "http://hl7.org/fhir/ValueSet/" + name
        self.system = system ?? ("http://hl7.org/fhir/" + name)
        self.codes = Set(codes)
    }

    /// Required bindings of the validated resources and their datatypes, from the R4 (4.0.1) resource pages,
    /// keyed by `Type.element` as the schema table names types (backbone elements as `EncounterStatusHistory`).
    static let required: [String: ValueSet] = {
        let gender = ValueSet("administrative-gender", ["male", "female", "other", "unknown"])
        let encounterStatus = ValueSet("encounter-status", ["planned", "arrived", "triaged", "in-progress", "onleave", "finished", "cancelled", "entered-in-error", "unknown"])
        let days = ValueSet("days-of-week", ["mon", "tue", "wed", "thu", "fri", "sat", "sun"])
        let units = ValueSet("units-of-time", system: "http://unitsofmeasure.org", ["s", "min", "h", "d", "wk", "mo", "a"])
        let eventStatus = ValueSet("event-status", ["preparation", "in-progress", "not-done", "on-hold", "stopped", "completed", "entered-in-error", "unknown"])
        return [
            // datatypes
            "Quantity.comparator": ValueSet("quantity-comparator", ["<", "<=", ">=", ">"]),
            "Age.comparator": ValueSet("quantity-comparator", ["<", "<=", ">=", ">"]),
            "Duration.comparator": ValueSet("quantity-comparator", ["<", "<=", ">=", ">"]),
            "Count.comparator": ValueSet("quantity-comparator", ["<", "<=", ">=", ">"]),
            "Distance.comparator": ValueSet("quantity-comparator", ["<", "<=", ">=", ">"]),
            "Identifier.use": ValueSet("identifier-use", ["usual", "official", "temp", "secondary", "old"]),
            "HumanName.use": ValueSet("name-use", ["usual", "official", "temp", "nickname", "anonymous", "old", "maiden"]),
            "Address.use": ValueSet("address-use", ["home", "work", "temp", "old", "billing"]),
            "Address.type": ValueSet("address-type", ["postal", "physical", "both"]),
            "ContactPoint.system": ValueSet("contact-point-system", ["phone", "fax", "email", "pager", "url", "sms", "other"]),
            "ContactPoint.use": ValueSet("contact-point-use", ["home", "work", "temp", "old", "mobile"]),
            "Narrative.status": ValueSet("narrative-status", ["generated", "extensions", "additional", "empty"]),
            "TimingRepeat.durationUnit": units,
            "TimingRepeat.periodUnit": units,
            "TimingRepeat.dayOfWeek": days,
            "RelatedArtifact.type": ValueSet("related-artifact-type", ["documentation", "justification", "citation", "predecessor", "successor", "derived-from", "depends-on", "composed-of"]),
            // Patient
            "Patient.gender": gender,
            "PatientContact.gender": gender,
            "PatientLink.type": ValueSet("link-type", ["replaced-by", "replaces", "refer", "seealso"]),
            "Practitioner.gender": gender,
            // Observation
            "Observation.status": ValueSet("observation-status", ["registered", "preliminary", "final", "amended", "corrected", "cancelled", "entered-in-error", "unknown"]),
            // Condition
            "Condition.clinicalStatus": ValueSet("condition-clinical", system: "http://terminology.hl7.org/CodeSystem/condition-clinical", ["active", "recurrence", "relapse", "inactive", "remission", "resolved"]),
            "Condition.verificationStatus": ValueSet("condition-ver-status", system: "http://terminology.hl7.org/CodeSystem/condition-ver-status", ["unconfirmed", "provisional", "differential", "confirmed", "refuted", "entered-in-error"]),
            // AllergyIntolerance
            "AllergyIntolerance.clinicalStatus": ValueSet("allergyintolerance-clinical", system: "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical", ["active", "inactive", "resolved"]),
            "AllergyIntolerance.verificationStatus": ValueSet("allergyintolerance-verification", system: "http://terminology.hl7.org/CodeSystem/allergyintolerance-verification", ["unconfirmed", "confirmed", "refuted", "entered-in-error"]),
            "AllergyIntolerance.type": ValueSet("allergy-intolerance-type", ["allergy", "intolerance"]),
            "AllergyIntolerance.category": ValueSet("allergy-intolerance-category", ["food", "medication", "environment", "biologic"]),
            "AllergyIntolerance.criticality": ValueSet("allergy-intolerance-criticality", ["low", "high", "unable-to-assess"]),
            "AllergyIntoleranceReaction.severity": ValueSet("reaction-event-severity", ["mild", "moderate", "severe"]),
            // Medication*
            "MedicationRequest.status": ValueSet("medicationrequest-status", ["active", "on-hold", "cancelled", "completed", "entered-in-error", "stopped", "draft", "unknown"]),
            "MedicationRequest.intent": ValueSet("medicationrequest-intent", ["proposal", "plan", "order", "original-order", "reflex-order", "filler-order", "instance-order", "option"]),
            "MedicationRequest.priority": ValueSet("request-priority", ["routine", "urgent", "asap", "stat"]),
            "MedicationAdministration.status": ValueSet("medication-admin-status", ["in-progress", "not-done", "on-hold", "completed", "entered-in-error", "stopped", "unknown"]),
            "MedicationStatement.status": ValueSet("medication-statement-status", ["active", "completed", "entered-in-error", "intended", "stopped", "on-hold", "unknown", "not-taken"]),
            // Encounter
            "Encounter.status": encounterStatus,
            "EncounterStatusHistory.status": encounterStatus,
            "EncounterLocation.status": ValueSet("encounter-location-status", ["planned", "active", "reserved", "completed"]),
            // Procedure, Immunization, DiagnosticReport
            "Procedure.status": eventStatus,
            "Immunization.status": ValueSet("immunization-status", ["completed", "entered-in-error", "not-done"]),
            "DiagnosticReport.status": ValueSet("diagnostic-report-status", ["registered", "partial", "preliminary", "final", "amended", "corrected", "appended", "cancelled", "entered-in-error", "unknown"]),
            // CarePlan, Goal
            "CarePlan.status": ValueSet("request-status", ["draft", "active", "on-hold", "revoked", "completed", "entered-in-error", "unknown"]),
            "CarePlan.intent": ValueSet("care-plan-intent", ["proposal", "plan", "order", "option"]),
            "CarePlanActivityDetail.status": ValueSet("care-plan-activity-status", ["not-started", "scheduled", "in-progress", "on-hold", "completed", "cancelled", "stopped", "unknown", "entered-in-error"]),
            "CarePlanActivityDetail.kind": ValueSet("care-plan-activity-kind", ["Appointment", "CommunicationRequest", "DeviceRequest", "MedicationRequest", "NutritionOrder", "Task", "ServiceRequest", "VisionPrescription"]),
            "Goal.lifecycleStatus": ValueSet("goal-status", ["proposed", "planned", "accepted", "active", "on-hold", "completed", "cancelled", "entered-in-error", "rejected"]),
            // Device, Location
            "Device.status": ValueSet("device-status", ["active", "inactive", "entered-in-error", "unknown"]),
            "DeviceUdiCarrier.entryType": ValueSet("udi-entry-type", ["barcode", "rfid", "manual", "card", "self-reported", "unknown"]),
            "DeviceDeviceName.type": ValueSet("device-nametype", ["udi-label-name", "user-friendly-name", "patient-reported-name", "manufacturer-name", "model-name", "other"]),
            "Location.status": ValueSet("location-status", ["active", "suspended", "inactive"]),
            "Location.mode": ValueSet("location-mode", ["instance", "kind"]),
            "LocationHoursOfOperation.daysOfWeek": days,
            // Consent, Provenance
            "Consent.status": ValueSet("consent-state-codes", ["draft", "proposed", "active", "rejected", "inactive", "entered-in-error"]),
            "ConsentProvision.type": ValueSet("consent-provision-type", ["deny", "permit"]),
            "ConsentProvisionData.meaning": ValueSet("consent-data-meaning", ["instance", "related", "dependents", "authoredby"]),
            "ProvenanceEntity.role": ValueSet("provenance-entity-role", ["derivation", "revision", "quotation", "source", "removal"]),
            // Research, Group
            "ResearchStudy.status": ValueSet("research-study-status", ["active", "administratively-completed", "approved", "closed-to-accrual", "closed-to-accrual-and-intervention", "completed", "disapproved", "in-review", "temporarily-closed-to-accrual", "temporarily-closed-to-accrual-and-intervention", "withdrawn"]),
            "ResearchSubject.status": ValueSet("research-subject-status", ["candidate", "eligible", "follow-up", "ineligible", "not-registered", "off-study", "on-study", "on-study-intervention", "on-study-observation", "pending-on-study", "potential-candidate", "screening", "withdrawn"]),
            "Group.type": ValueSet("group-type", ["person", "animal", "practitioner", "device", "medication", "substance"]),
            // AuditEvent
            "AuditEvent.action": ValueSet("audit-event-action", ["C", "R", "U", "D", "E"]),
            "AuditEvent.outcome": ValueSet("audit-event-outcome", ["0", "4", "8", "12"]),
            "AuditEventAgentNetwork.type": ValueSet("network-type", ["1", "2", "3", "4", "5"]),
            // Bundle
            "Bundle.type": ValueSet("bundle-type", ["document", "message", "transaction", "transaction-response", "batch", "batch-response", "history", "searchset", "collection"]),
            "BundleEntrySearch.mode": ValueSet("search-entry-mode", ["match", "include", "outcome"]),
            "BundleEntryRequest.method": ValueSet("http-verb", ["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH"]),
        ]
    }()
}
