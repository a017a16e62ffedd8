/// Official R4 examples that break an R4 rule, with the first problem the validator reports
/// (`location: rule`). A change in what is rejected fails `OfficialExamplesTests`.
enum RejectedExamples {
    static let list: [String: String] = [
        // dispenseRequest.performer is Reference(Organization) in R4; the example points at a Practitioner.
        "MedicationRequest-medrx0301.json": "MedicationRequest.dispenseRequest.performer: reference target type Reference(Organization)",
        // Observation.performer may not reference an Encounter in R4.
        "Observation-clinical-gender.json": "Observation.performer[0]: reference target type Reference(Practitioner|PractitionerRole|Organization|CareTeam|Patient|RelatedPerson)",
    ]
}
