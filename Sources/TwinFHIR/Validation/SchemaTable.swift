// Generated file: the element table of the R4 resources TwinFHIR validates, and of the datatypes and backbone
// elements they use. Do not edit by hand.
//
// Source: the element definitions of the `fhir.resources` 8.3 R4B models (which are generated from the HL7
// StructureDefinitions), walked from the resource types listed in `Schema.validatedTypes`. For the resources
// TwinFHIR validates, R4B and R4 (4.0.1) agree on element names, types and cardinalities; where R4B allows more
// reference target types than R4 the more lenient R4B list is kept (a reference is never rejected that R4
// would accept). Required value sets are not taken from here (see `ValueSets.swift`, written from R4).
//
// One line per element: `Type element kind min max [choice=group[!]] [refs=T1,T2]`, where kind is an R4
// primitive type (lowercase), a complex type, a backbone element type (`ObservationComponent`) or `Resource`.
//
// Regenerate with the anchors venv:
//   ~/.cache/twinbank-anchors/bin/python gen_schema.py Patient,Observation,... > table
// where gen_schema.py walks `Model.model_fields` of `fhir.resources.R4B`, reading for each element property
// its alias, annotation (list or single; primitive from the Annotated marker), `element_required`,
// `one_of_many`/`one_of_many_required` and `enum_reference_types`.

extension Schema {
    static let table = """
Patient id id 0 1
Patient implicitRules uri 0 1
Patient language code 0 1
Patient meta Meta 0 1
Patient contained Resource 0 *
Patient extension Extension 0 *
Patient modifierExtension Extension 0 *
Patient text Narrative 0 1
Patient active boolean 0 1
Patient address Address 0 *
Patient birthDate date 0 1
Patient communication PatientCommunication 0 *
Patient contact PatientContact 0 *
Patient deceasedBoolean boolean 0 1 choice=deceased
Patient deceasedDateTime dateTime 0 1 choice=deceased
Patient gender code 0 1
Patient generalPractitioner Reference 0 * refs=Organization,Practitioner,PractitionerRole
Patient identifier Identifier 0 *
Patient link PatientLink 0 *
Patient managingOrganization Reference 0 1 refs=Organization
Patient maritalStatus CodeableConcept 0 1
Patient multipleBirthBoolean boolean 0 1 choice=multipleBirth
Patient multipleBirthInteger integer 0 1 choice=multipleBirth
Patient name HumanName 0 *
Patient photo Attachment 0 *
Patient telecom ContactPoint 0 *
Observation id id 0 1
Observation implicitRules uri 0 1
Observation language code 0 1
Observation meta Meta 0 1
Observation contained Resource 0 *
Observation extension Extension 0 *
Observation modifierExtension Extension 0 *
Observation text Narrative 0 1
Observation basedOn Reference 0 * refs=CarePlan,DeviceRequest,ImmunizationRecommendation,MedicationRequest,NutritionOrder,ServiceRequest
Observation bodySite CodeableConcept 0 1
Observation category CodeableConcept 0 *
Observation code CodeableConcept 1 1
Observation component ObservationComponent 0 *
Observation dataAbsentReason CodeableConcept 0 1
Observation derivedFrom Reference 0 * refs=DocumentReference,ImagingStudy,Media,QuestionnaireResponse,Observation,MolecularSequence
Observation device Reference 0 1 refs=Device,DeviceMetric
Observation effectiveDateTime dateTime 0 1 choice=effective
Observation effectiveInstant instant 0 1 choice=effective
Observation effectivePeriod Period 0 1 choice=effective
Observation effectiveTiming Timing 0 1 choice=effective
Observation encounter Reference 0 1 refs=Encounter
Observation focus Reference 0 * refs=Resource
Observation hasMember Reference 0 * refs=Observation,QuestionnaireResponse,MolecularSequence
Observation identifier Identifier 0 *
Observation interpretation CodeableConcept 0 *
Observation issued instant 0 1
Observation method CodeableConcept 0 1
Observation note Annotation 0 *
Observation partOf Reference 0 * refs=MedicationAdministration,MedicationDispense,MedicationStatement,Procedure,Immunization,ImagingStudy
Observation performer Reference 0 * refs=Practitioner,PractitionerRole,Organization,CareTeam,Patient,RelatedPerson
Observation referenceRange ObservationReferenceRange 0 *
Observation specimen Reference 0 1 refs=Specimen
Observation status code 1 1
Observation subject Reference 0 1 refs=Patient,Group,Device,Location,Organization,Procedure,Practitioner,Medication,Substance
Observation valueBoolean boolean 0 1 choice=value
Observation valueCodeableConcept CodeableConcept 0 1 choice=value
Observation valueDateTime dateTime 0 1 choice=value
Observation valueInteger integer 0 1 choice=value
Observation valuePeriod Period 0 1 choice=value
Observation valueQuantity Quantity 0 1 choice=value
Observation valueRange Range 0 1 choice=value
Observation valueRatio Ratio 0 1 choice=value
Observation valueSampledData SampledData 0 1 choice=value
Observation valueString string 0 1 choice=value
Observation valueTime time 0 1 choice=value
Condition id id 0 1
Condition implicitRules uri 0 1
Condition language code 0 1
Condition meta Meta 0 1
Condition contained Resource 0 *
Condition extension Extension 0 *
Condition modifierExtension Extension 0 *
Condition text Narrative 0 1
Condition abatementAge Age 0 1 choice=abatement
Condition abatementDateTime dateTime 0 1 choice=abatement
Condition abatementPeriod Period 0 1 choice=abatement
Condition abatementRange Range 0 1 choice=abatement
Condition abatementString string 0 1 choice=abatement
Condition asserter Reference 0 1 refs=Practitioner,PractitionerRole,Patient,RelatedPerson
Condition bodySite CodeableConcept 0 *
Condition category CodeableConcept 0 *
Condition clinicalStatus CodeableConcept 0 1
Condition code CodeableConcept 0 1
Condition encounter Reference 0 1 refs=Encounter
Condition evidence ConditionEvidence 0 *
Condition identifier Identifier 0 *
Condition note Annotation 0 *
Condition onsetAge Age 0 1 choice=onset
Condition onsetDateTime dateTime 0 1 choice=onset
Condition onsetPeriod Period 0 1 choice=onset
Condition onsetRange Range 0 1 choice=onset
Condition onsetString string 0 1 choice=onset
Condition recordedDate dateTime 0 1
Condition recorder Reference 0 1 refs=Practitioner,PractitionerRole,Patient,RelatedPerson
Condition severity CodeableConcept 0 1
Condition stage ConditionStage 0 *
Condition subject Reference 1 1 refs=Patient,Group
Condition verificationStatus CodeableConcept 0 1
MedicationRequest id id 0 1
MedicationRequest implicitRules uri 0 1
MedicationRequest language code 0 1
MedicationRequest meta Meta 0 1
MedicationRequest contained Resource 0 *
MedicationRequest extension Extension 0 *
MedicationRequest modifierExtension Extension 0 *
MedicationRequest text Narrative 0 1
MedicationRequest authoredOn dateTime 0 1
MedicationRequest basedOn Reference 0 * refs=CarePlan,MedicationRequest,ServiceRequest,ImmunizationRecommendation
MedicationRequest category CodeableConcept 0 *
MedicationRequest courseOfTherapyType CodeableConcept 0 1
MedicationRequest detectedIssue Reference 0 * refs=DetectedIssue
MedicationRequest dispenseRequest MedicationRequestDispenseRequest 0 1
MedicationRequest doNotPerform boolean 0 1
MedicationRequest dosageInstruction Dosage 0 *
MedicationRequest encounter Reference 0 1 refs=Encounter
MedicationRequest eventHistory Reference 0 * refs=Provenance
MedicationRequest groupIdentifier Identifier 0 1
MedicationRequest identifier Identifier 0 *
MedicationRequest instantiatesCanonical canonical 0 *
MedicationRequest instantiatesUri uri 0 *
MedicationRequest insurance Reference 0 * refs=Coverage,ClaimResponse
MedicationRequest intent code 1 1
MedicationRequest medicationCodeableConcept CodeableConcept 0 1 choice=medication!
MedicationRequest medicationReference Reference 0 1 choice=medication! refs=Medication
MedicationRequest note Annotation 0 *
MedicationRequest performer Reference 0 1 refs=Practitioner,PractitionerRole,Organization,Patient,Device,RelatedPerson,CareTeam
MedicationRequest performerType CodeableConcept 0 1
MedicationRequest priorPrescription Reference 0 1 refs=MedicationRequest
MedicationRequest priority code 0 1
MedicationRequest reasonCode CodeableConcept 0 *
MedicationRequest reasonReference Reference 0 * refs=Condition,Observation
MedicationRequest recorder Reference 0 1 refs=Practitioner,PractitionerRole
MedicationRequest reportedBoolean boolean 0 1 choice=reported
MedicationRequest reportedReference Reference 0 1 choice=reported refs=Patient,Practitioner,PractitionerRole,RelatedPerson,Organization
MedicationRequest requester Reference 0 1 refs=Practitioner,PractitionerRole,Organization,Patient,RelatedPerson,Device
MedicationRequest status code 1 1
MedicationRequest statusReason CodeableConcept 0 1
MedicationRequest subject Reference 1 1 refs=Patient,Group
MedicationRequest substitution MedicationRequestSubstitution 0 1
MedicationRequest supportingInformation Reference 0 * refs=Resource
MedicationAdministration id id 0 1
MedicationAdministration implicitRules uri 0 1
MedicationAdministration language code 0 1
MedicationAdministration meta Meta 0 1
MedicationAdministration contained Resource 0 *
MedicationAdministration extension Extension 0 *
MedicationAdministration modifierExtension Extension 0 *
MedicationAdministration text Narrative 0 1
MedicationAdministration category CodeableConcept 0 1
MedicationAdministration context Reference 0 1 refs=Encounter,EpisodeOfCare
MedicationAdministration device Reference 0 * refs=Device
MedicationAdministration dosage MedicationAdministrationDosage 0 1
MedicationAdministration effectiveDateTime dateTime 0 1 choice=effective!
MedicationAdministration effectivePeriod Period 0 1 choice=effective!
MedicationAdministration eventHistory Reference 0 * refs=Provenance
MedicationAdministration identifier Identifier 0 *
MedicationAdministration instantiates uri 0 *
MedicationAdministration medicationCodeableConcept CodeableConcept 0 1 choice=medication!
MedicationAdministration medicationReference Reference 0 1 choice=medication! refs=Medication
MedicationAdministration note Annotation 0 *
MedicationAdministration partOf Reference 0 * refs=MedicationAdministration,Procedure
MedicationAdministration performer MedicationAdministrationPerformer 0 *
MedicationAdministration reasonCode CodeableConcept 0 *
MedicationAdministration reasonReference Reference 0 * refs=Condition,Observation,DiagnosticReport
MedicationAdministration request Reference 0 1 refs=MedicationRequest
MedicationAdministration status code 1 1
MedicationAdministration statusReason CodeableConcept 0 *
MedicationAdministration subject Reference 1 1 refs=Patient,Group
MedicationAdministration supportingInformation Reference 0 * refs=Resource
MedicationStatement id id 0 1
MedicationStatement implicitRules uri 0 1
MedicationStatement language code 0 1
MedicationStatement meta Meta 0 1
MedicationStatement contained Resource 0 *
MedicationStatement extension Extension 0 *
MedicationStatement modifierExtension Extension 0 *
MedicationStatement text Narrative 0 1
MedicationStatement basedOn Reference 0 * refs=MedicationRequest,CarePlan,ServiceRequest
MedicationStatement category CodeableConcept 0 1
MedicationStatement context Reference 0 1 refs=Encounter,EpisodeOfCare
MedicationStatement dateAsserted dateTime 0 1
MedicationStatement derivedFrom Reference 0 * refs=Resource
MedicationStatement dosage Dosage 0 *
MedicationStatement effectiveDateTime dateTime 0 1 choice=effective
MedicationStatement effectivePeriod Period 0 1 choice=effective
MedicationStatement identifier Identifier 0 *
MedicationStatement informationSource Reference 0 1 refs=Patient,Practitioner,PractitionerRole,RelatedPerson,Organization
MedicationStatement medicationCodeableConcept CodeableConcept 0 1 choice=medication!
MedicationStatement medicationReference Reference 0 1 choice=medication! refs=Medication
MedicationStatement note Annotation 0 *
MedicationStatement partOf Reference 0 * refs=MedicationAdministration,MedicationDispense,MedicationStatement,Procedure,Observation
MedicationStatement reasonCode CodeableConcept 0 *
MedicationStatement reasonReference Reference 0 * refs=Condition,Observation,DiagnosticReport
MedicationStatement status code 1 1
MedicationStatement statusReason CodeableConcept 0 *
MedicationStatement subject Reference 1 1 refs=Patient,Group
Encounter id id 0 1
Encounter implicitRules uri 0 1
Encounter language code 0 1
Encounter meta Meta 0 1
Encounter contained Resource 0 *
Encounter extension Extension 0 *
Encounter modifierExtension Extension 0 *
Encounter text Narrative 0 1
Encounter account Reference 0 * refs=Account
Encounter appointment Reference 0 * refs=Appointment
Encounter basedOn Reference 0 * refs=ServiceRequest
Encounter classHistory EncounterClassHistory 0 *
Encounter class Coding 1 1
Encounter diagnosis EncounterDiagnosis 0 *
Encounter episodeOfCare Reference 0 * refs=EpisodeOfCare
Encounter hospitalization EncounterHospitalization 0 1
Encounter identifier Identifier 0 *
Encounter length Duration 0 1
Encounter location EncounterLocation 0 *
Encounter partOf Reference 0 1 refs=Encounter
Encounter participant EncounterParticipant 0 *
Encounter period Period 0 1
Encounter priority CodeableConcept 0 1
Encounter reasonCode CodeableConcept 0 *
Encounter reasonReference Reference 0 * refs=Condition,Procedure,Observation,ImmunizationRecommendation
Encounter serviceProvider Reference 0 1 refs=Organization
Encounter serviceType CodeableConcept 0 1
Encounter status code 1 1
Encounter statusHistory EncounterStatusHistory 0 *
Encounter subject Reference 0 1 refs=Patient,Group
Encounter type CodeableConcept 0 *
Procedure id id 0 1
Procedure implicitRules uri 0 1
Procedure language code 0 1
Procedure meta Meta 0 1
Procedure contained Resource 0 *
Procedure extension Extension 0 *
Procedure modifierExtension Extension 0 *
Procedure text Narrative 0 1
Procedure asserter Reference 0 1 refs=Patient,RelatedPerson,Practitioner,PractitionerRole
Procedure basedOn Reference 0 * refs=CarePlan,ServiceRequest
Procedure bodySite CodeableConcept 0 *
Procedure category CodeableConcept 0 1
Procedure code CodeableConcept 0 1
Procedure complication CodeableConcept 0 *
Procedure complicationDetail Reference 0 * refs=Condition
Procedure encounter Reference 0 1 refs=Encounter
Procedure focalDevice ProcedureFocalDevice 0 *
Procedure followUp CodeableConcept 0 *
Procedure identifier Identifier 0 *
Procedure instantiatesCanonical canonical 0 * refs=PlanDefinition,ActivityDefinition,Measure,OperationDefinition,Questionnaire
Procedure instantiatesUri uri 0 *
Procedure location Reference 0 1 refs=Location
Procedure note Annotation 0 *
Procedure outcome CodeableConcept 0 1
Procedure partOf Reference 0 * refs=Procedure,Observation,MedicationAdministration
Procedure performedAge Age 0 1 choice=performed
Procedure performedDateTime dateTime 0 1 choice=performed
Procedure performedPeriod Period 0 1 choice=performed
Procedure performedRange Range 0 1 choice=performed
Procedure performedString string 0 1 choice=performed
Procedure performer ProcedurePerformer 0 *
Procedure reasonCode CodeableConcept 0 *
Procedure reasonReference Reference 0 * refs=Condition,Observation,Procedure,DiagnosticReport,DocumentReference
Procedure recorder Reference 0 1 refs=Patient,RelatedPerson,Practitioner,PractitionerRole
Procedure report Reference 0 * refs=DiagnosticReport,DocumentReference,Composition
Procedure status code 1 1
Procedure statusReason CodeableConcept 0 1
Procedure subject Reference 1 1 refs=Patient,Group
Procedure usedCode CodeableConcept 0 *
Procedure usedReference Reference 0 * refs=Device,Medication,Substance
Immunization id id 0 1
Immunization implicitRules uri 0 1
Immunization language code 0 1
Immunization meta Meta 0 1
Immunization contained Resource 0 *
Immunization extension Extension 0 *
Immunization modifierExtension Extension 0 *
Immunization text Narrative 0 1
Immunization doseQuantity Quantity 0 1
Immunization education ImmunizationEducation 0 *
Immunization encounter Reference 0 1 refs=Encounter
Immunization expirationDate date 0 1
Immunization fundingSource CodeableConcept 0 1
Immunization identifier Identifier 0 *
Immunization isSubpotent boolean 0 1
Immunization location Reference 0 1 refs=Location
Immunization lotNumber string 0 1
Immunization manufacturer Reference 0 1 refs=Organization
Immunization note Annotation 0 *
Immunization occurrenceDateTime dateTime 0 1 choice=occurrence!
Immunization occurrenceString string 0 1 choice=occurrence!
Immunization patient Reference 1 1 refs=Patient
Immunization performer ImmunizationPerformer 0 *
Immunization primarySource boolean 0 1
Immunization programEligibility CodeableConcept 0 *
Immunization protocolApplied ImmunizationProtocolApplied 0 *
Immunization reaction ImmunizationReaction 0 *
Immunization reasonCode CodeableConcept 0 *
Immunization reasonReference Reference 0 * refs=Condition,Observation,DiagnosticReport
Immunization recorded dateTime 0 1
Immunization reportOrigin CodeableConcept 0 1
Immunization route CodeableConcept 0 1
Immunization site CodeableConcept 0 1
Immunization status code 1 1
Immunization statusReason CodeableConcept 0 1
Immunization subpotentReason CodeableConcept 0 *
Immunization vaccineCode CodeableConcept 1 1
AllergyIntolerance id id 0 1
AllergyIntolerance implicitRules uri 0 1
AllergyIntolerance language code 0 1
AllergyIntolerance meta Meta 0 1
AllergyIntolerance contained Resource 0 *
AllergyIntolerance extension Extension 0 *
AllergyIntolerance modifierExtension Extension 0 *
AllergyIntolerance text Narrative 0 1
AllergyIntolerance asserter Reference 0 1 refs=Patient,RelatedPerson,Practitioner,PractitionerRole
AllergyIntolerance category code 0 *
AllergyIntolerance clinicalStatus CodeableConcept 0 1
AllergyIntolerance code CodeableConcept 0 1
AllergyIntolerance criticality code 0 1
AllergyIntolerance encounter Reference 0 1 refs=Encounter
AllergyIntolerance identifier Identifier 0 *
AllergyIntolerance lastOccurrence dateTime 0 1
AllergyIntolerance note Annotation 0 *
AllergyIntolerance onsetAge Age 0 1 choice=onset
AllergyIntolerance onsetDateTime dateTime 0 1 choice=onset
AllergyIntolerance onsetPeriod Period 0 1 choice=onset
AllergyIntolerance onsetRange Range 0 1 choice=onset
AllergyIntolerance onsetString string 0 1 choice=onset
AllergyIntolerance patient Reference 1 1 refs=Patient
AllergyIntolerance reaction AllergyIntoleranceReaction 0 *
AllergyIntolerance recordedDate dateTime 0 1
AllergyIntolerance recorder Reference 0 1 refs=Practitioner,PractitionerRole,Patient,RelatedPerson
AllergyIntolerance type code 0 1
AllergyIntolerance verificationStatus CodeableConcept 0 1
DiagnosticReport id id 0 1
DiagnosticReport implicitRules uri 0 1
DiagnosticReport language code 0 1
DiagnosticReport meta Meta 0 1
DiagnosticReport contained Resource 0 *
DiagnosticReport extension Extension 0 *
DiagnosticReport modifierExtension Extension 0 *
DiagnosticReport text Narrative 0 1
DiagnosticReport basedOn Reference 0 * refs=CarePlan,ImmunizationRecommendation,MedicationRequest,NutritionOrder,ServiceRequest
DiagnosticReport category CodeableConcept 0 *
DiagnosticReport code CodeableConcept 1 1
DiagnosticReport conclusion string 0 1
DiagnosticReport conclusionCode CodeableConcept 0 *
DiagnosticReport effectiveDateTime dateTime 0 1 choice=effective
DiagnosticReport effectivePeriod Period 0 1 choice=effective
DiagnosticReport encounter Reference 0 1 refs=Encounter
DiagnosticReport identifier Identifier 0 *
DiagnosticReport imagingStudy Reference 0 * refs=ImagingStudy
DiagnosticReport issued instant 0 1
DiagnosticReport media DiagnosticReportMedia 0 *
DiagnosticReport performer Reference 0 * refs=Practitioner,PractitionerRole,Organization,CareTeam
DiagnosticReport presentedForm Attachment 0 *
DiagnosticReport result Reference 0 * refs=Observation
DiagnosticReport resultsInterpreter Reference 0 * refs=Practitioner,PractitionerRole,Organization,CareTeam
DiagnosticReport specimen Reference 0 * refs=Specimen
DiagnosticReport status code 1 1
DiagnosticReport subject Reference 0 1 refs=Patient,Group,Device,Location,Organization,Procedure,Practitioner,Medication,Substance
CarePlan id id 0 1
CarePlan implicitRules uri 0 1
CarePlan language code 0 1
CarePlan meta Meta 0 1
CarePlan contained Resource 0 *
CarePlan extension Extension 0 *
CarePlan modifierExtension Extension 0 *
CarePlan text Narrative 0 1
CarePlan activity CarePlanActivity 0 *
CarePlan addresses Reference 0 * refs=Condition
CarePlan author Reference 0 1 refs=Patient,Practitioner,PractitionerRole,Device,RelatedPerson,Organization,CareTeam
CarePlan basedOn Reference 0 * refs=CarePlan
CarePlan careTeam Reference 0 * refs=CareTeam
CarePlan category CodeableConcept 0 *
CarePlan contributor Reference 0 * refs=Patient,Practitioner,PractitionerRole,Device,RelatedPerson,Organization,CareTeam
CarePlan created dateTime 0 1
CarePlan description string 0 1
CarePlan encounter Reference 0 1 refs=Encounter
CarePlan goal Reference 0 * refs=Goal
CarePlan identifier Identifier 0 *
CarePlan instantiatesCanonical canonical 0 * refs=PlanDefinition,Questionnaire,Measure,ActivityDefinition,OperationDefinition
CarePlan instantiatesUri uri 0 *
CarePlan intent code 1 1
CarePlan note Annotation 0 *
CarePlan partOf Reference 0 * refs=CarePlan
CarePlan period Period 0 1
CarePlan replaces Reference 0 * refs=CarePlan
CarePlan status code 1 1
CarePlan subject Reference 1 1 refs=Patient,Group
CarePlan supportingInfo Reference 0 * refs=Resource
CarePlan title string 0 1
Goal id id 0 1
Goal implicitRules uri 0 1
Goal language code 0 1
Goal meta Meta 0 1
Goal contained Resource 0 *
Goal extension Extension 0 *
Goal modifierExtension Extension 0 *
Goal text Narrative 0 1
Goal achievementStatus CodeableConcept 0 1
Goal addresses Reference 0 * refs=Condition,Observation,MedicationStatement,NutritionOrder,ServiceRequest,RiskAssessment
Goal category CodeableConcept 0 *
Goal description CodeableConcept 1 1
Goal expressedBy Reference 0 1 refs=Patient,Practitioner,PractitionerRole,RelatedPerson
Goal identifier Identifier 0 *
Goal lifecycleStatus code 1 1
Goal note Annotation 0 *
Goal outcomeCode CodeableConcept 0 *
Goal outcomeReference Reference 0 * refs=Observation
Goal priority CodeableConcept 0 1
Goal startCodeableConcept CodeableConcept 0 1 choice=start
Goal startDate date 0 1 choice=start
Goal statusDate date 0 1
Goal statusReason string 0 1
Goal subject Reference 1 1 refs=Patient,Group,Organization
Goal target GoalTarget 0 *
Device id id 0 1
Device implicitRules uri 0 1
Device language code 0 1
Device meta Meta 0 1
Device contained Resource 0 *
Device extension Extension 0 *
Device modifierExtension Extension 0 *
Device text Narrative 0 1
Device contact ContactPoint 0 *
Device definition Reference 0 1 refs=DeviceDefinition
Device deviceName DeviceDeviceName 0 *
Device distinctIdentifier string 0 1
Device expirationDate dateTime 0 1
Device identifier Identifier 0 *
Device location Reference 0 1 refs=Location
Device lotNumber string 0 1
Device manufactureDate dateTime 0 1
Device manufacturer string 0 1
Device modelNumber string 0 1
Device note Annotation 0 *
Device owner Reference 0 1 refs=Organization
Device parent Reference 0 1 refs=Device
Device partNumber string 0 1
Device patient Reference 0 1 refs=Patient
Device property DeviceProperty 0 *
Device safety CodeableConcept 0 *
Device serialNumber string 0 1
Device specialization DeviceSpecialization 0 *
Device status code 0 1
Device statusReason CodeableConcept 0 *
Device type CodeableConcept 0 1
Device udiCarrier DeviceUdiCarrier 0 *
Device url uri 0 1
Device version DeviceVersion 0 *
Organization id id 0 1
Organization implicitRules uri 0 1
Organization language code 0 1
Organization meta Meta 0 1
Organization contained Resource 0 *
Organization extension Extension 0 *
Organization modifierExtension Extension 0 *
Organization text Narrative 0 1
Organization active boolean 0 1
Organization address Address 0 *
Organization alias string 0 *
Organization contact OrganizationContact 0 *
Organization endpoint Reference 0 * refs=Endpoint
Organization identifier Identifier 0 *
Organization name string 0 1
Organization partOf Reference 0 1 refs=Organization
Organization telecom ContactPoint 0 *
Organization type CodeableConcept 0 *
Practitioner id id 0 1
Practitioner implicitRules uri 0 1
Practitioner language code 0 1
Practitioner meta Meta 0 1
Practitioner contained Resource 0 *
Practitioner extension Extension 0 *
Practitioner modifierExtension Extension 0 *
Practitioner text Narrative 0 1
Practitioner active boolean 0 1
Practitioner address Address 0 *
Practitioner birthDate date 0 1
Practitioner communication CodeableConcept 0 *
Practitioner gender code 0 1
Practitioner identifier Identifier 0 *
Practitioner name HumanName 0 *
Practitioner photo Attachment 0 *
Practitioner qualification PractitionerQualification 0 *
Practitioner telecom ContactPoint 0 *
Location id id 0 1
Location implicitRules uri 0 1
Location language code 0 1
Location meta Meta 0 1
Location contained Resource 0 *
Location extension Extension 0 *
Location modifierExtension Extension 0 *
Location text Narrative 0 1
Location address Address 0 1
Location alias string 0 *
Location availabilityExceptions string 0 1
Location description string 0 1
Location endpoint Reference 0 * refs=Endpoint
Location hoursOfOperation LocationHoursOfOperation 0 *
Location identifier Identifier 0 *
Location managingOrganization Reference 0 1 refs=Organization
Location mode code 0 1
Location name string 0 1
Location operationalStatus Coding 0 1
Location partOf Reference 0 1 refs=Location
Location physicalType CodeableConcept 0 1
Location position LocationPosition 0 1
Location status code 0 1
Location telecom ContactPoint 0 *
Location type CodeableConcept 0 *
Consent id id 0 1
Consent implicitRules uri 0 1
Consent language code 0 1
Consent meta Meta 0 1
Consent contained Resource 0 *
Consent extension Extension 0 *
Consent modifierExtension Extension 0 *
Consent text Narrative 0 1
Consent category CodeableConcept 1 *
Consent dateTime dateTime 0 1
Consent identifier Identifier 0 *
Consent organization Reference 0 * refs=Organization
Consent patient Reference 0 1 refs=Patient
Consent performer Reference 0 * refs=Organization,Patient,Practitioner,RelatedPerson,PractitionerRole
Consent policy ConsentPolicy 0 *
Consent policyRule CodeableConcept 0 1
Consent provision ConsentProvision 0 1
Consent scope CodeableConcept 1 1
Consent sourceAttachment Attachment 0 1 choice=source
Consent sourceReference Reference 0 1 choice=source refs=Consent,DocumentReference,Contract,QuestionnaireResponse
Consent status code 1 1
Consent verification ConsentVerification 0 *
Provenance id id 0 1
Provenance implicitRules uri 0 1
Provenance language code 0 1
Provenance meta Meta 0 1
Provenance contained Resource 0 *
Provenance extension Extension 0 *
Provenance modifierExtension Extension 0 *
Provenance text Narrative 0 1
Provenance activity CodeableConcept 0 1
Provenance agent ProvenanceAgent 1 *
Provenance entity ProvenanceEntity 0 *
Provenance location Reference 0 1 refs=Location
Provenance occurredDateTime dateTime 0 1 choice=occurred
Provenance occurredPeriod Period 0 1 choice=occurred
Provenance policy uri 0 *
Provenance reason CodeableConcept 0 *
Provenance recorded instant 1 1
Provenance signature Signature 0 *
Provenance target Reference 1 * refs=Resource
ResearchStudy id id 0 1
ResearchStudy implicitRules uri 0 1
ResearchStudy language code 0 1
ResearchStudy meta Meta 0 1
ResearchStudy contained Resource 0 *
ResearchStudy extension Extension 0 *
ResearchStudy modifierExtension Extension 0 *
ResearchStudy text Narrative 0 1
ResearchStudy arm ResearchStudyArm 0 *
ResearchStudy category CodeableConcept 0 *
ResearchStudy condition CodeableConcept 0 *
ResearchStudy contact ContactDetail 0 *
ResearchStudy description markdown 0 1
ResearchStudy enrollment Reference 0 * refs=Group
ResearchStudy focus CodeableConcept 0 *
ResearchStudy identifier Identifier 0 *
ResearchStudy keyword CodeableConcept 0 *
ResearchStudy location CodeableConcept 0 *
ResearchStudy note Annotation 0 *
ResearchStudy objective ResearchStudyObjective 0 *
ResearchStudy partOf Reference 0 * refs=ResearchStudy
ResearchStudy period Period 0 1
ResearchStudy phase CodeableConcept 0 1
ResearchStudy primaryPurposeType CodeableConcept 0 1
ResearchStudy principalInvestigator Reference 0 1 refs=Practitioner,PractitionerRole
ResearchStudy protocol Reference 0 * refs=PlanDefinition
ResearchStudy reasonStopped CodeableConcept 0 1
ResearchStudy relatedArtifact RelatedArtifact 0 *
ResearchStudy site Reference 0 * refs=Location
ResearchStudy sponsor Reference 0 1 refs=Organization
ResearchStudy status code 1 1
ResearchStudy title string 0 1
ResearchSubject id id 0 1
ResearchSubject implicitRules uri 0 1
ResearchSubject language code 0 1
ResearchSubject meta Meta 0 1
ResearchSubject contained Resource 0 *
ResearchSubject extension Extension 0 *
ResearchSubject modifierExtension Extension 0 *
ResearchSubject text Narrative 0 1
ResearchSubject actualArm string 0 1
ResearchSubject assignedArm string 0 1
ResearchSubject consent Reference 0 1 refs=Consent
ResearchSubject identifier Identifier 0 *
ResearchSubject individual Reference 1 1 refs=Patient
ResearchSubject period Period 0 1
ResearchSubject status code 1 1
ResearchSubject study Reference 1 1 refs=ResearchStudy
Group id id 0 1
Group implicitRules uri 0 1
Group language code 0 1
Group meta Meta 0 1
Group contained Resource 0 *
Group extension Extension 0 *
Group modifierExtension Extension 0 *
Group text Narrative 0 1
Group active boolean 0 1
Group actual boolean 1 1
Group characteristic GroupCharacteristic 0 *
Group code CodeableConcept 0 1
Group identifier Identifier 0 *
Group managingEntity Reference 0 1 refs=Organization,RelatedPerson,Practitioner,PractitionerRole
Group member GroupMember 0 *
Group name string 0 1
Group quantity unsignedInt 0 1
Group type code 1 1
Bundle id id 0 1
Bundle implicitRules uri 0 1
Bundle language code 0 1
Bundle meta Meta 0 1
Bundle entry BundleEntry 0 *
Bundle identifier Identifier 0 1
Bundle link BundleLink 0 *
Bundle signature Signature 0 1
Bundle timestamp instant 0 1
Bundle total unsignedInt 0 1
Bundle type code 1 1
Meta extension Extension 0 *
Meta id string 0 1
Meta lastUpdated instant 0 1
Meta profile canonical 0 * refs=StructureDefinition
Meta security Coding 0 *
Meta source uri 0 1
Meta tag Coding 0 *
Meta versionId id 0 1
Extension extension Extension 0 *
Extension id string 0 1
Extension url uri 1 1
Extension valueAddress Address 0 1 choice=value
Extension valueAge Age 0 1 choice=value
Extension valueAnnotation Annotation 0 1 choice=value
Extension valueAttachment Attachment 0 1 choice=value
Extension valueBase64Binary base64Binary 0 1 choice=value
Extension valueBoolean boolean 0 1 choice=value
Extension valueCanonical canonical 0 1 choice=value
Extension valueCode code 0 1 choice=value
Extension valueCodeableConcept CodeableConcept 0 1 choice=value
Extension valueCodeableReference CodeableReference 0 1 choice=value
Extension valueCoding Coding 0 1 choice=value
Extension valueContactDetail ContactDetail 0 1 choice=value
Extension valueContactPoint ContactPoint 0 1 choice=value
Extension valueContributor Contributor 0 1 choice=value
Extension valueCount Count 0 1 choice=value
Extension valueDataRequirement DataRequirement 0 1 choice=value
Extension valueDate date 0 1 choice=value
Extension valueDateTime dateTime 0 1 choice=value
Extension valueDecimal decimal 0 1 choice=value
Extension valueDistance Distance 0 1 choice=value
Extension valueDosage Dosage 0 1 choice=value
Extension valueDuration Duration 0 1 choice=value
Extension valueExpression Expression 0 1 choice=value
Extension valueHumanName HumanName 0 1 choice=value
Extension valueId id 0 1 choice=value
Extension valueIdentifier Identifier 0 1 choice=value
Extension valueInstant instant 0 1 choice=value
Extension valueInteger integer 0 1 choice=value
Extension valueMarkdown markdown 0 1 choice=value
Extension valueMoney Money 0 1 choice=value
Extension valueOid oid 0 1 choice=value
Extension valueParameterDefinition ParameterDefinition 0 1 choice=value
Extension valuePeriod Period 0 1 choice=value
Extension valuePositiveInt positiveInt 0 1 choice=value
Extension valueQuantity Quantity 0 1 choice=value
Extension valueRange Range 0 1 choice=value
Extension valueRatio Ratio 0 1 choice=value
Extension valueRatioRange RatioRange 0 1 choice=value
Extension valueReference Reference 0 1 choice=value
Extension valueRelatedArtifact RelatedArtifact 0 1 choice=value
Extension valueSampledData SampledData 0 1 choice=value
Extension valueSignature Signature 0 1 choice=value
Extension valueString string 0 1 choice=value
Extension valueTime time 0 1 choice=value
Extension valueTiming Timing 0 1 choice=value
Extension valueTriggerDefinition TriggerDefinition 0 1 choice=value
Extension valueUnsignedInt unsignedInt 0 1 choice=value
Extension valueUri uri 0 1 choice=value
Extension valueUrl url 0 1 choice=value
Extension valueUsageContext UsageContext 0 1 choice=value
Extension valueUuid uuid 0 1 choice=value
Narrative extension Extension 0 *
Narrative id string 0 1
Narrative div xhtml 1 1
Narrative status code 1 1
Address extension Extension 0 *
Address id string 0 1
Address city string 0 1
Address country string 0 1
Address district string 0 1
Address line string 0 *
Address period Period 0 1
Address postalCode string 0 1
Address state string 0 1
Address text string 0 1
Address type code 0 1
Address use code 0 1
PatientCommunication extension Extension 0 *
PatientCommunication id string 0 1
PatientCommunication modifierExtension Extension 0 *
PatientCommunication language CodeableConcept 1 1
PatientCommunication preferred boolean 0 1
PatientContact extension Extension 0 *
PatientContact id string 0 1
PatientContact modifierExtension Extension 0 *
PatientContact address Address 0 1
PatientContact gender code 0 1
PatientContact name HumanName 0 1
PatientContact organization Reference 0 1 refs=Organization
PatientContact period Period 0 1
PatientContact relationship CodeableConcept 0 *
PatientContact telecom ContactPoint 0 *
Reference extension Extension 0 *
Reference id string 0 1
Reference display string 0 1
Reference identifier Identifier 0 1
Reference reference string 0 1
Reference type uri 0 1
Identifier extension Extension 0 *
Identifier id string 0 1
Identifier assigner Reference 0 1 refs=Organization
Identifier period Period 0 1
Identifier system uri 0 1
Identifier type CodeableConcept 0 1
Identifier use code 0 1
Identifier value string 0 1
PatientLink extension Extension 0 *
PatientLink id string 0 1
PatientLink modifierExtension Extension 0 *
PatientLink other Reference 1 1 refs=Patient,RelatedPerson
PatientLink type code 1 1
CodeableConcept extension Extension 0 *
CodeableConcept id string 0 1
CodeableConcept coding Coding 0 *
CodeableConcept text string 0 1
HumanName extension Extension 0 *
HumanName id string 0 1
HumanName family string 0 1
HumanName given string 0 *
HumanName period Period 0 1
HumanName prefix string 0 *
HumanName suffix string 0 *
HumanName text string 0 1
HumanName use code 0 1
Attachment extension Extension 0 *
Attachment id string 0 1
Attachment contentType code 0 1
Attachment creation dateTime 0 1
Attachment data base64Binary 0 1
Attachment hash base64Binary 0 1
Attachment language code 0 1
Attachment size unsignedInt 0 1
Attachment title string 0 1
Attachment url url 0 1
ContactPoint extension Extension 0 *
ContactPoint id string 0 1
ContactPoint period Period 0 1
ContactPoint rank positiveInt 0 1
ContactPoint system code 0 1
ContactPoint use code 0 1
ContactPoint value string 0 1
ObservationComponent extension Extension 0 *
ObservationComponent id string 0 1
ObservationComponent modifierExtension Extension 0 *
ObservationComponent code CodeableConcept 1 1
ObservationComponent dataAbsentReason CodeableConcept 0 1
ObservationComponent interpretation CodeableConcept 0 *
ObservationComponent referenceRange ObservationReferenceRange 0 *
ObservationComponent valueBoolean boolean 0 1 choice=value
ObservationComponent valueCodeableConcept CodeableConcept 0 1 choice=value
ObservationComponent valueDateTime dateTime 0 1 choice=value
ObservationComponent valueInteger integer 0 1 choice=value
ObservationComponent valuePeriod Period 0 1 choice=value
ObservationComponent valueQuantity Quantity 0 1 choice=value
ObservationComponent valueRange Range 0 1 choice=value
ObservationComponent valueRatio Ratio 0 1 choice=value
ObservationComponent valueSampledData SampledData 0 1 choice=value
ObservationComponent valueString string 0 1 choice=value
ObservationComponent valueTime time 0 1 choice=value
Period extension Extension 0 *
Period id string 0 1
Period end dateTime 0 1
Period start dateTime 0 1
Timing extension Extension 0 *
Timing id string 0 1
Timing modifierExtension Extension 0 *
Timing code CodeableConcept 0 1
Timing event dateTime 0 *
Timing repeat TimingRepeat 0 1
Annotation extension Extension 0 *
Annotation id string 0 1
Annotation authorReference Reference 0 1 choice=author refs=Practitioner,Patient,RelatedPerson,Organization
Annotation authorString string 0 1 choice=author
Annotation text markdown 1 1
Annotation time dateTime 0 1
ObservationReferenceRange extension Extension 0 *
ObservationReferenceRange id string 0 1
ObservationReferenceRange modifierExtension Extension 0 *
ObservationReferenceRange age Range 0 1
ObservationReferenceRange appliesTo CodeableConcept 0 *
ObservationReferenceRange high Quantity 0 1
ObservationReferenceRange low Quantity 0 1
ObservationReferenceRange text string 0 1
ObservationReferenceRange type CodeableConcept 0 1
Quantity extension Extension 0 *
Quantity id string 0 1
Quantity code code 0 1
Quantity comparator code 0 1
Quantity system uri 0 1
Quantity unit string 0 1
Quantity value decimal 0 1
Range extension Extension 0 *
Range id string 0 1
Range high Quantity 0 1
Range low Quantity 0 1
Ratio extension Extension 0 *
Ratio id string 0 1
Ratio denominator Quantity 0 1
Ratio numerator Quantity 0 1
SampledData extension Extension 0 *
SampledData id string 0 1
SampledData data string 0 1
SampledData dimensions positiveInt 1 1
SampledData factor decimal 0 1
SampledData lowerLimit decimal 0 1
SampledData origin Quantity 1 1
SampledData period decimal 1 1
SampledData upperLimit decimal 0 1
Age extension Extension 0 *
Age id string 0 1
Age code code 0 1
Age comparator code 0 1
Age system uri 0 1
Age unit string 0 1
Age value decimal 0 1
ConditionEvidence extension Extension 0 *
ConditionEvidence id string 0 1
ConditionEvidence modifierExtension Extension 0 *
ConditionEvidence code CodeableConcept 0 *
ConditionEvidence detail Reference 0 * refs=Resource
ConditionStage extension Extension 0 *
ConditionStage id string 0 1
ConditionStage modifierExtension Extension 0 *
ConditionStage assessment Reference 0 * refs=ClinicalImpression,DiagnosticReport,Observation
ConditionStage summary CodeableConcept 0 1
ConditionStage type CodeableConcept 0 1
MedicationRequestDispenseRequest extension Extension 0 *
MedicationRequestDispenseRequest id string 0 1
MedicationRequestDispenseRequest modifierExtension Extension 0 *
MedicationRequestDispenseRequest dispenseInterval Duration 0 1
MedicationRequestDispenseRequest expectedSupplyDuration Duration 0 1
MedicationRequestDispenseRequest initialFill MedicationRequestDispenseRequestInitialFill 0 1
MedicationRequestDispenseRequest numberOfRepeatsAllowed unsignedInt 0 1
MedicationRequestDispenseRequest performer Reference 0 1 refs=Organization
MedicationRequestDispenseRequest quantity Quantity 0 1
MedicationRequestDispenseRequest validityPeriod Period 0 1
Dosage extension Extension 0 *
Dosage id string 0 1
Dosage modifierExtension Extension 0 *
Dosage additionalInstruction CodeableConcept 0 *
Dosage asNeededBoolean boolean 0 1 choice=asNeeded
Dosage asNeededCodeableConcept CodeableConcept 0 1 choice=asNeeded
Dosage doseAndRate DosageDoseAndRate 0 *
Dosage maxDosePerAdministration Quantity 0 1
Dosage maxDosePerLifetime Quantity 0 1
Dosage maxDosePerPeriod Ratio 0 1
Dosage method CodeableConcept 0 1
Dosage patientInstruction string 0 1
Dosage route CodeableConcept 0 1
Dosage sequence integer 0 1
Dosage site CodeableConcept 0 1
Dosage text string 0 1
Dosage timing Timing 0 1
MedicationRequestSubstitution extension Extension 0 *
MedicationRequestSubstitution id string 0 1
MedicationRequestSubstitution modifierExtension Extension 0 *
MedicationRequestSubstitution allowedBoolean boolean 0 1 choice=allowed!
MedicationRequestSubstitution allowedCodeableConcept CodeableConcept 0 1 choice=allowed!
MedicationRequestSubstitution reason CodeableConcept 0 1
MedicationAdministrationDosage extension Extension 0 *
MedicationAdministrationDosage id string 0 1
MedicationAdministrationDosage modifierExtension Extension 0 *
MedicationAdministrationDosage dose Quantity 0 1
MedicationAdministrationDosage method CodeableConcept 0 1
MedicationAdministrationDosage rateQuantity Quantity 0 1 choice=rate
MedicationAdministrationDosage rateRatio Ratio 0 1 choice=rate
MedicationAdministrationDosage route CodeableConcept 0 1
MedicationAdministrationDosage site CodeableConcept 0 1
MedicationAdministrationDosage text string 0 1
MedicationAdministrationPerformer extension Extension 0 *
MedicationAdministrationPerformer id string 0 1
MedicationAdministrationPerformer modifierExtension Extension 0 *
MedicationAdministrationPerformer actor Reference 1 1 refs=Practitioner,PractitionerRole,Patient,RelatedPerson,Device
MedicationAdministrationPerformer function CodeableConcept 0 1
EncounterClassHistory extension Extension 0 *
EncounterClassHistory id string 0 1
EncounterClassHistory modifierExtension Extension 0 *
EncounterClassHistory class Coding 1 1
EncounterClassHistory period Period 1 1
Coding extension Extension 0 *
Coding id string 0 1
Coding code code 0 1
Coding display string 0 1
Coding system uri 0 1
Coding userSelected boolean 0 1
Coding version string 0 1
EncounterDiagnosis extension Extension 0 *
EncounterDiagnosis id string 0 1
EncounterDiagnosis modifierExtension Extension 0 *
EncounterDiagnosis condition Reference 1 1 refs=Condition,Procedure
EncounterDiagnosis rank positiveInt 0 1
EncounterDiagnosis use CodeableConcept 0 1
EncounterHospitalization extension Extension 0 *
EncounterHospitalization id string 0 1
EncounterHospitalization modifierExtension Extension 0 *
EncounterHospitalization admitSource CodeableConcept 0 1
EncounterHospitalization destination Reference 0 1 refs=Location,Organization
EncounterHospitalization dietPreference CodeableConcept 0 *
EncounterHospitalization dischargeDisposition CodeableConcept 0 1
EncounterHospitalization origin Reference 0 1 refs=Location,Organization
EncounterHospitalization preAdmissionIdentifier Identifier 0 1
EncounterHospitalization reAdmission CodeableConcept 0 1
EncounterHospitalization specialArrangement CodeableConcept 0 *
EncounterHospitalization specialCourtesy CodeableConcept 0 *
Duration extension Extension 0 *
Duration id string 0 1
Duration code code 0 1
Duration comparator code 0 1
Duration system uri 0 1
Duration unit string 0 1
Duration value decimal 0 1
EncounterLocation extension Extension 0 *
EncounterLocation id string 0 1
EncounterLocation modifierExtension Extension 0 *
EncounterLocation location Reference 1 1 refs=Location
EncounterLocation period Period 0 1
EncounterLocation physicalType CodeableConcept 0 1
EncounterLocation status code 0 1
EncounterParticipant extension Extension 0 *
EncounterParticipant id string 0 1
EncounterParticipant modifierExtension Extension 0 *
EncounterParticipant individual Reference 0 1 refs=Practitioner,PractitionerRole,RelatedPerson
EncounterParticipant period Period 0 1
EncounterParticipant type CodeableConcept 0 *
EncounterStatusHistory extension Extension 0 *
EncounterStatusHistory id string 0 1
EncounterStatusHistory modifierExtension Extension 0 *
EncounterStatusHistory period Period 1 1
EncounterStatusHistory status code 1 1
ProcedureFocalDevice extension Extension 0 *
ProcedureFocalDevice id string 0 1
ProcedureFocalDevice modifierExtension Extension 0 *
ProcedureFocalDevice action CodeableConcept 0 1
ProcedureFocalDevice manipulated Reference 1 1 refs=Device
ProcedurePerformer extension Extension 0 *
ProcedurePerformer id string 0 1
ProcedurePerformer modifierExtension Extension 0 *
ProcedurePerformer actor Reference 1 1 refs=Practitioner,PractitionerRole,Organization,Patient,RelatedPerson,Device
ProcedurePerformer function CodeableConcept 0 1
ProcedurePerformer onBehalfOf Reference 0 1 refs=Organization
ImmunizationEducation extension Extension 0 *
ImmunizationEducation id string 0 1
ImmunizationEducation modifierExtension Extension 0 *
ImmunizationEducation documentType string 0 1
ImmunizationEducation presentationDate dateTime 0 1
ImmunizationEducation publicationDate dateTime 0 1
ImmunizationEducation reference uri 0 1
ImmunizationPerformer extension Extension 0 *
ImmunizationPerformer id string 0 1
ImmunizationPerformer modifierExtension Extension 0 *
ImmunizationPerformer actor Reference 1 1 refs=Practitioner,PractitionerRole,Organization
ImmunizationPerformer function CodeableConcept 0 1
ImmunizationProtocolApplied extension Extension 0 *
ImmunizationProtocolApplied id string 0 1
ImmunizationProtocolApplied modifierExtension Extension 0 *
ImmunizationProtocolApplied authority Reference 0 1 refs=Organization
ImmunizationProtocolApplied doseNumberPositiveInt positiveInt 0 1 choice=doseNumber!
ImmunizationProtocolApplied doseNumberString string 0 1 choice=doseNumber!
ImmunizationProtocolApplied series string 0 1
ImmunizationProtocolApplied seriesDosesPositiveInt positiveInt 0 1 choice=seriesDoses
ImmunizationProtocolApplied seriesDosesString string 0 1 choice=seriesDoses
ImmunizationProtocolApplied targetDisease CodeableConcept 0 *
ImmunizationReaction extension Extension 0 *
ImmunizationReaction id string 0 1
ImmunizationReaction modifierExtension Extension 0 *
ImmunizationReaction date dateTime 0 1
ImmunizationReaction detail Reference 0 1 refs=Observation
ImmunizationReaction reported boolean 0 1
AllergyIntoleranceReaction extension Extension 0 *
AllergyIntoleranceReaction id string 0 1
AllergyIntoleranceReaction modifierExtension Extension 0 *
AllergyIntoleranceReaction description string 0 1
AllergyIntoleranceReaction exposureRoute CodeableConcept 0 1
AllergyIntoleranceReaction manifestation CodeableConcept 1 *
AllergyIntoleranceReaction note Annotation 0 *
AllergyIntoleranceReaction onset dateTime 0 1
AllergyIntoleranceReaction severity code 0 1
AllergyIntoleranceReaction substance CodeableConcept 0 1
DiagnosticReportMedia extension Extension 0 *
DiagnosticReportMedia id string 0 1
DiagnosticReportMedia modifierExtension Extension 0 *
DiagnosticReportMedia comment string 0 1
DiagnosticReportMedia link Reference 1 1 refs=Media
CarePlanActivity extension Extension 0 *
CarePlanActivity id string 0 1
CarePlanActivity modifierExtension Extension 0 *
CarePlanActivity detail CarePlanActivityDetail 0 1
CarePlanActivity outcomeCodeableConcept CodeableConcept 0 *
CarePlanActivity outcomeReference Reference 0 * refs=Resource
CarePlanActivity progress Annotation 0 *
CarePlanActivity reference Reference 0 1 refs=Appointment,CommunicationRequest,DeviceRequest,MedicationRequest,NutritionOrder,Task,ServiceRequest,VisionPrescription,RequestGroup
GoalTarget extension Extension 0 *
GoalTarget id string 0 1
GoalTarget modifierExtension Extension 0 *
GoalTarget detailBoolean boolean 0 1 choice=detail
GoalTarget detailCodeableConcept CodeableConcept 0 1 choice=detail
GoalTarget detailInteger integer 0 1 choice=detail
GoalTarget detailQuantity Quantity 0 1 choice=detail
GoalTarget detailRange Range 0 1 choice=detail
GoalTarget detailRatio Ratio 0 1 choice=detail
GoalTarget detailString string 0 1 choice=detail
GoalTarget dueDate date 0 1 choice=due
GoalTarget dueDuration Duration 0 1 choice=due
GoalTarget measure CodeableConcept 0 1
DeviceDeviceName extension Extension 0 *
DeviceDeviceName id string 0 1
DeviceDeviceName modifierExtension Extension 0 *
DeviceDeviceName name string 1 1
DeviceDeviceName type code 1 1
DeviceProperty extension Extension 0 *
DeviceProperty id string 0 1
DeviceProperty modifierExtension Extension 0 *
DeviceProperty type CodeableConcept 1 1
DeviceProperty valueCode CodeableConcept 0 *
DeviceProperty valueQuantity Quantity 0 *
DeviceSpecialization extension Extension 0 *
DeviceSpecialization id string 0 1
DeviceSpecialization modifierExtension Extension 0 *
DeviceSpecialization systemType CodeableConcept 1 1
DeviceSpecialization version string 0 1
DeviceUdiCarrier extension Extension 0 *
DeviceUdiCarrier id string 0 1
DeviceUdiCarrier modifierExtension Extension 0 *
DeviceUdiCarrier carrierAIDC base64Binary 0 1
DeviceUdiCarrier carrierHRF string 0 1
DeviceUdiCarrier deviceIdentifier string 0 1
DeviceUdiCarrier entryType code 0 1
DeviceUdiCarrier issuer uri 0 1
DeviceUdiCarrier jurisdiction uri 0 1
DeviceVersion extension Extension 0 *
DeviceVersion id string 0 1
DeviceVersion modifierExtension Extension 0 *
DeviceVersion component Identifier 0 1
DeviceVersion type CodeableConcept 0 1
DeviceVersion value string 1 1
OrganizationContact extension Extension 0 *
OrganizationContact id string 0 1
OrganizationContact modifierExtension Extension 0 *
OrganizationContact address Address 0 1
OrganizationContact name HumanName 0 1
OrganizationContact purpose CodeableConcept 0 1
OrganizationContact telecom ContactPoint 0 *
PractitionerQualification extension Extension 0 *
PractitionerQualification id string 0 1
PractitionerQualification modifierExtension Extension 0 *
PractitionerQualification code CodeableConcept 1 1
PractitionerQualification identifier Identifier 0 *
PractitionerQualification issuer Reference 0 1 refs=Organization
PractitionerQualification period Period 0 1
LocationHoursOfOperation extension Extension 0 *
LocationHoursOfOperation id string 0 1
LocationHoursOfOperation modifierExtension Extension 0 *
LocationHoursOfOperation allDay boolean 0 1
LocationHoursOfOperation closingTime time 0 1
LocationHoursOfOperation daysOfWeek code 0 *
LocationHoursOfOperation openingTime time 0 1
LocationPosition extension Extension 0 *
LocationPosition id string 0 1
LocationPosition modifierExtension Extension 0 *
LocationPosition altitude decimal 0 1
LocationPosition latitude decimal 1 1
LocationPosition longitude decimal 1 1
ConsentPolicy extension Extension 0 *
ConsentPolicy id string 0 1
ConsentPolicy modifierExtension Extension 0 *
ConsentPolicy authority uri 0 1
ConsentPolicy uri uri 0 1
ConsentProvision extension Extension 0 *
ConsentProvision id string 0 1
ConsentProvision modifierExtension Extension 0 *
ConsentProvision action CodeableConcept 0 *
ConsentProvision actor ConsentProvisionActor 0 *
ConsentProvision class Coding 0 *
ConsentProvision code CodeableConcept 0 *
ConsentProvision data ConsentProvisionData 0 *
ConsentProvision dataPeriod Period 0 1
ConsentProvision period Period 0 1
ConsentProvision provision ConsentProvision 0 *
ConsentProvision purpose Coding 0 *
ConsentProvision securityLabel Coding 0 *
ConsentProvision type code 0 1
ConsentVerification extension Extension 0 *
ConsentVerification id string 0 1
ConsentVerification modifierExtension Extension 0 *
ConsentVerification verificationDate dateTime 0 1
ConsentVerification verified boolean 1 1
ConsentVerification verifiedWith Reference 0 1 refs=Patient,RelatedPerson
ProvenanceAgent extension Extension 0 *
ProvenanceAgent id string 0 1
ProvenanceAgent modifierExtension Extension 0 *
ProvenanceAgent onBehalfOf Reference 0 1 refs=Practitioner,PractitionerRole,RelatedPerson,Patient,Device,Organization
ProvenanceAgent role CodeableConcept 0 *
ProvenanceAgent type CodeableConcept 0 1
ProvenanceAgent who Reference 1 1 refs=Practitioner,PractitionerRole,RelatedPerson,Patient,Device,Organization
ProvenanceEntity extension Extension 0 *
ProvenanceEntity id string 0 1
ProvenanceEntity modifierExtension Extension 0 *
ProvenanceEntity agent ProvenanceAgent 0 *
ProvenanceEntity role code 1 1
ProvenanceEntity what Reference 1 1 refs=Resource
Signature extension Extension 0 *
Signature id string 0 1
Signature data base64Binary 0 1
Signature onBehalfOf Reference 0 1 refs=Practitioner,PractitionerRole,RelatedPerson,Patient,Device,Organization
Signature sigFormat code 0 1
Signature targetFormat code 0 1
Signature type Coding 1 *
Signature when instant 1 1
Signature who Reference 1 1 refs=Practitioner,PractitionerRole,RelatedPerson,Patient,Device,Organization
ResearchStudyArm extension Extension 0 *
ResearchStudyArm id string 0 1
ResearchStudyArm modifierExtension Extension 0 *
ResearchStudyArm description string 0 1
ResearchStudyArm name string 1 1
ResearchStudyArm type CodeableConcept 0 1
ContactDetail extension Extension 0 *
ContactDetail id string 0 1
ContactDetail name string 0 1
ContactDetail telecom ContactPoint 0 *
ResearchStudyObjective extension Extension 0 *
ResearchStudyObjective id string 0 1
ResearchStudyObjective modifierExtension Extension 0 *
ResearchStudyObjective name string 0 1
ResearchStudyObjective type CodeableConcept 0 1
RelatedArtifact extension Extension 0 *
RelatedArtifact id string 0 1
RelatedArtifact citation markdown 0 1
RelatedArtifact display string 0 1
RelatedArtifact document Attachment 0 1
RelatedArtifact label string 0 1
RelatedArtifact resource canonical 0 1 refs=Resource
RelatedArtifact type code 1 1
RelatedArtifact url url 0 1
GroupCharacteristic extension Extension 0 *
GroupCharacteristic id string 0 1
GroupCharacteristic modifierExtension Extension 0 *
GroupCharacteristic code CodeableConcept 1 1
GroupCharacteristic exclude boolean 1 1
GroupCharacteristic period Period 0 1
GroupCharacteristic valueBoolean boolean 0 1 choice=value!
GroupCharacteristic valueCodeableConcept CodeableConcept 0 1 choice=value!
GroupCharacteristic valueQuantity Quantity 0 1 choice=value!
GroupCharacteristic valueRange Range 0 1 choice=value!
GroupCharacteristic valueReference Reference 0 1 choice=value!
GroupMember extension Extension 0 *
GroupMember id string 0 1
GroupMember modifierExtension Extension 0 *
GroupMember entity Reference 1 1 refs=Patient,RelatedPerson,Practitioner,PractitionerRole,Device,Medication,Substance,Group
GroupMember inactive boolean 0 1
GroupMember period Period 0 1
BundleEntry extension Extension 0 *
BundleEntry id string 0 1
BundleEntry modifierExtension Extension 0 *
BundleEntry fullUrl uri 0 1
BundleEntry link BundleLink 0 *
BundleEntry request BundleEntryRequest 0 1
BundleEntry resource Resource 0 1
BundleEntry response BundleEntryResponse 0 1
BundleEntry search BundleEntrySearch 0 1
BundleLink extension Extension 0 *
BundleLink id string 0 1
BundleLink modifierExtension Extension 0 *
BundleLink relation string 1 1
BundleLink url uri 1 1
CodeableReference extension Extension 0 *
CodeableReference id string 0 1
CodeableReference concept CodeableConcept 0 1
CodeableReference reference Reference 0 1
Contributor extension Extension 0 *
Contributor id string 0 1
Contributor contact ContactDetail 0 *
Contributor name string 1 1
Contributor type code 1 1
Count extension Extension 0 *
Count id string 0 1
Count code code 0 1
Count comparator code 0 1
Count system uri 0 1
Count unit string 0 1
Count value decimal 0 1
DataRequirement extension Extension 0 *
DataRequirement id string 0 1
DataRequirement codeFilter DataRequirementCodeFilter 0 *
DataRequirement dateFilter DataRequirementDateFilter 0 *
DataRequirement limit positiveInt 0 1
DataRequirement mustSupport string 0 *
DataRequirement profile canonical 0 * refs=StructureDefinition
DataRequirement sort DataRequirementSort 0 *
DataRequirement subjectCodeableConcept CodeableConcept 0 1 choice=subject
DataRequirement subjectReference Reference 0 1 choice=subject refs=Group
DataRequirement type code 1 1
Distance extension Extension 0 *
Distance id string 0 1
Distance code code 0 1
Distance comparator code 0 1
Distance system uri 0 1
Distance unit string 0 1
Distance value decimal 0 1
Expression extension Extension 0 *
Expression id string 0 1
Expression description string 0 1
Expression expression string 0 1
Expression language code 1 1
Expression name id 0 1
Expression reference uri 0 1
Money extension Extension 0 *
Money id string 0 1
Money currency code 0 1
Money value decimal 0 1
ParameterDefinition extension Extension 0 *
ParameterDefinition id string 0 1
ParameterDefinition documentation string 0 1
ParameterDefinition max string 0 1
ParameterDefinition min integer 0 1
ParameterDefinition name code 0 1
ParameterDefinition profile canonical 0 1 refs=StructureDefinition
ParameterDefinition type code 1 1
ParameterDefinition use code 1 1
RatioRange extension Extension 0 *
RatioRange id string 0 1
RatioRange denominator Quantity 0 1
RatioRange highNumerator Quantity 0 1
RatioRange lowNumerator Quantity 0 1
TriggerDefinition extension Extension 0 *
TriggerDefinition id string 0 1
TriggerDefinition condition Expression 0 1
TriggerDefinition data DataRequirement 0 *
TriggerDefinition name string 0 1
TriggerDefinition timingDate date 0 1 choice=timing
TriggerDefinition timingDateTime dateTime 0 1 choice=timing
TriggerDefinition timingReference Reference 0 1 choice=timing refs=Schedule
TriggerDefinition timingTiming Timing 0 1 choice=timing
TriggerDefinition type code 1 1
UsageContext extension Extension 0 *
UsageContext id string 0 1
UsageContext code Coding 1 1
UsageContext valueCodeableConcept CodeableConcept 0 1 choice=value!
UsageContext valueQuantity Quantity 0 1 choice=value!
UsageContext valueRange Range 0 1 choice=value!
UsageContext valueReference Reference 0 1 choice=value! refs=PlanDefinition,ResearchStudy,InsurancePlan,HealthcareService,Group,Location,Organization
TimingRepeat extension Extension 0 *
TimingRepeat id string 0 1
TimingRepeat boundsDuration Duration 0 1 choice=bounds
TimingRepeat boundsPeriod Period 0 1 choice=bounds
TimingRepeat boundsRange Range 0 1 choice=bounds
TimingRepeat count positiveInt 0 1
TimingRepeat countMax positiveInt 0 1
TimingRepeat dayOfWeek code 0 *
TimingRepeat duration decimal 0 1
TimingRepeat durationMax decimal 0 1
TimingRepeat durationUnit code 0 1
TimingRepeat frequency positiveInt 0 1
TimingRepeat frequencyMax positiveInt 0 1
TimingRepeat offset unsignedInt 0 1
TimingRepeat period decimal 0 1
TimingRepeat periodMax decimal 0 1
TimingRepeat periodUnit code 0 1
TimingRepeat timeOfDay time 0 *
TimingRepeat when code 0 *
MedicationRequestDispenseRequestInitialFill extension Extension 0 *
MedicationRequestDispenseRequestInitialFill id string 0 1
MedicationRequestDispenseRequestInitialFill modifierExtension Extension 0 *
MedicationRequestDispenseRequestInitialFill duration Duration 0 1
MedicationRequestDispenseRequestInitialFill quantity Quantity 0 1
DosageDoseAndRate extension Extension 0 *
DosageDoseAndRate id string 0 1
DosageDoseAndRate doseQuantity Quantity 0 1 choice=dose
DosageDoseAndRate doseRange Range 0 1 choice=dose
DosageDoseAndRate rateQuantity Quantity 0 1 choice=rate
DosageDoseAndRate rateRange Range 0 1 choice=rate
DosageDoseAndRate rateRatio Ratio 0 1 choice=rate
DosageDoseAndRate type CodeableConcept 0 1
CarePlanActivityDetail extension Extension 0 *
CarePlanActivityDetail id string 0 1
CarePlanActivityDetail modifierExtension Extension 0 *
CarePlanActivityDetail code CodeableConcept 0 1
CarePlanActivityDetail dailyAmount Quantity 0 1
CarePlanActivityDetail description string 0 1
CarePlanActivityDetail doNotPerform boolean 0 1
CarePlanActivityDetail goal Reference 0 * refs=Goal
CarePlanActivityDetail instantiatesCanonical canonical 0 * refs=PlanDefinition,ActivityDefinition,Questionnaire,Measure,OperationDefinition
CarePlanActivityDetail instantiatesUri uri 0 *
CarePlanActivityDetail kind code 0 1
CarePlanActivityDetail location Reference 0 1 refs=Location
CarePlanActivityDetail performer Reference 0 * refs=Practitioner,PractitionerRole,Organization,RelatedPerson,Patient,CareTeam,HealthcareService,Device
CarePlanActivityDetail productCodeableConcept CodeableConcept 0 1 choice=product
CarePlanActivityDetail productReference Reference 0 1 choice=product refs=Medication,Substance
CarePlanActivityDetail quantity Quantity 0 1
CarePlanActivityDetail reasonCode CodeableConcept 0 *
CarePlanActivityDetail reasonReference Reference 0 * refs=Condition,Observation,DiagnosticReport,DocumentReference
CarePlanActivityDetail scheduledPeriod Period 0 1 choice=scheduled
CarePlanActivityDetail scheduledString string 0 1 choice=scheduled
CarePlanActivityDetail scheduledTiming Timing 0 1 choice=scheduled
CarePlanActivityDetail status code 1 1
CarePlanActivityDetail statusReason CodeableConcept 0 1
ConsentProvisionActor extension Extension 0 *
ConsentProvisionActor id string 0 1
ConsentProvisionActor modifierExtension Extension 0 *
ConsentProvisionActor reference Reference 1 1 refs=Device,Group,CareTeam,Organization,Patient,Practitioner,RelatedPerson,PractitionerRole
ConsentProvisionActor role CodeableConcept 1 1
ConsentProvisionData extension Extension 0 *
ConsentProvisionData id string 0 1
ConsentProvisionData modifierExtension Extension 0 *
ConsentProvisionData meaning code 1 1
ConsentProvisionData reference Reference 1 1 refs=Resource
BundleEntryRequest extension Extension 0 *
BundleEntryRequest id string 0 1
BundleEntryRequest modifierExtension Extension 0 *
BundleEntryRequest ifMatch string 0 1
BundleEntryRequest ifModifiedSince instant 0 1
BundleEntryRequest ifNoneExist string 0 1
BundleEntryRequest ifNoneMatch string 0 1
BundleEntryRequest method code 1 1
BundleEntryRequest url uri 1 1
BundleEntryResponse extension Extension 0 *
BundleEntryResponse id string 0 1
BundleEntryResponse modifierExtension Extension 0 *
BundleEntryResponse etag string 0 1
BundleEntryResponse lastModified instant 0 1
BundleEntryResponse location uri 0 1
BundleEntryResponse outcome Resource 0 1
BundleEntryResponse status string 1 1
BundleEntrySearch extension Extension 0 *
BundleEntrySearch id string 0 1
BundleEntrySearch modifierExtension Extension 0 *
BundleEntrySearch mode code 0 1
BundleEntrySearch score decimal 0 1
DataRequirementCodeFilter extension Extension 0 *
DataRequirementCodeFilter id string 0 1
DataRequirementCodeFilter code Coding 0 *
DataRequirementCodeFilter path string 0 1
DataRequirementCodeFilter searchParam string 0 1
DataRequirementCodeFilter valueSet canonical 0 1 refs=ValueSet
DataRequirementDateFilter extension Extension 0 *
DataRequirementDateFilter id string 0 1
DataRequirementDateFilter path string 0 1
DataRequirementDateFilter searchParam string 0 1
DataRequirementDateFilter valueDateTime dateTime 0 1 choice=value
DataRequirementDateFilter valueDuration Duration 0 1 choice=value
DataRequirementDateFilter valuePeriod Period 0 1 choice=value
DataRequirementSort extension Extension 0 *
DataRequirementSort id string 0 1
DataRequirementSort direction code 1 1
DataRequirementSort path string 1 1
AuditEvent id id 0 1
AuditEvent implicitRules uri 0 1
AuditEvent language code 0 1
AuditEvent meta Meta 0 1
AuditEvent contained Resource 0 *
AuditEvent extension Extension 0 *
AuditEvent modifierExtension Extension 0 *
AuditEvent text Narrative 0 1
AuditEvent action code 0 1
AuditEvent agent AuditEventAgent 1 *
AuditEvent entity AuditEventEntity 0 *
AuditEvent outcome code 0 1
AuditEvent outcomeDesc string 0 1
AuditEvent period Period 0 1
AuditEvent purposeOfEvent CodeableConcept 0 *
AuditEvent recorded instant 1 1
AuditEvent source AuditEventSource 1 1
AuditEvent subtype Coding 0 *
AuditEvent type Coding 1 1
AuditEventAgent extension Extension 0 *
AuditEventAgent id string 0 1
AuditEventAgent modifierExtension Extension 0 *
AuditEventAgent altId string 0 1
AuditEventAgent location Reference 0 1 refs=Location
AuditEventAgent media Coding 0 1
AuditEventAgent name string 0 1
AuditEventAgent network AuditEventAgentNetwork 0 1
AuditEventAgent policy uri 0 *
AuditEventAgent purposeOfUse CodeableConcept 0 *
AuditEventAgent requestor boolean 1 1
AuditEventAgent role CodeableConcept 0 *
AuditEventAgent type CodeableConcept 0 1
AuditEventAgent who Reference 0 1 refs=PractitionerRole,Practitioner,Organization,Device,Patient,RelatedPerson
AuditEventEntity extension Extension 0 *
AuditEventEntity id string 0 1
AuditEventEntity modifierExtension Extension 0 *
AuditEventEntity description string 0 1
AuditEventEntity detail AuditEventEntityDetail 0 *
AuditEventEntity lifecycle Coding 0 1
AuditEventEntity name string 0 1
AuditEventEntity query base64Binary 0 1
AuditEventEntity role Coding 0 1
AuditEventEntity securityLabel Coding 0 *
AuditEventEntity type Coding 0 1
AuditEventEntity what Reference 0 1 refs=Resource
AuditEventSource extension Extension 0 *
AuditEventSource id string 0 1
AuditEventSource modifierExtension Extension 0 *
AuditEventSource observer Reference 1 1 refs=PractitionerRole,Practitioner,Organization,Device,Patient,RelatedPerson
AuditEventSource site string 0 1
AuditEventSource type Coding 0 *
AuditEventAgentNetwork extension Extension 0 *
AuditEventAgentNetwork id string 0 1
AuditEventAgentNetwork modifierExtension Extension 0 *
AuditEventAgentNetwork address string 0 1
AuditEventAgentNetwork type code 0 1
AuditEventEntityDetail extension Extension 0 *
AuditEventEntityDetail id string 0 1
AuditEventEntityDetail modifierExtension Extension 0 *
AuditEventEntityDetail type string 1 1
AuditEventEntityDetail valueBase64Binary base64Binary 0 1 choice=value!
AuditEventEntityDetail valueString string 0 1 choice=value!
"""
}
