import Foundation
import Testing
import TwinTesting
import TwinCore
@testable import TwinFHIR

@Suite struct ImportPlannerTests {
    static func load(_ url: URL) throws -> JSONValue {
        try JSONReader().read([UInt8](Data(contentsOf: url)))
    }

    @Test(.enabled(if: SharedFolder.has("data/synthea"),

                   "skipped: the Synthea bundles data/synthea are missing (put ../shared beside the package or set TWINBANK_SHARED)"))
    func everySyntheaBundlePlans() throws {
        let files = SharedData.files("synthea")
        #expect(files.count == 62)
        var persons = 0, events = 0
        var orgs = Set<TwinID>(), practitioners = Set<String>()
        for f in files {
            let plan = try ImportPlanner().plan(try Self.load(f), origin: f.lastPathComponent)
            #expect(plan.units.count == 1)
            for u in plan.units {
                persons += u.twins.filter { $0.kind == .person }.count
                for t in u.twins where t.kind == .organisation { orgs.insert(t.id) }
                for r in u.records where r.resourceType == "Practitioner" { practitioners.insert(r.key) }
                events += u.events.count
            }
        }
        #expect(persons == 60)
        // hospitalInformation lists the organisations every patient bundle names again.
        let hospitals = try Self.load(files.first { $0.lastPathComponent.hasPrefix("hospital") }!)
        #expect(orgs.count == hospitals["entry"]!.list.count)
        let practitionerFile = try Self.load(files.first { $0.lastPathComponent.hasPrefix("practitioner") }!)
        #expect(practitioners.count == practitionerFile["entry"]!.list.count)
        #expect(events > 10_000)
    }

    @Test func bloodPressureBecomesTwoComponentEvents() throws {
        let bundle = try JSONReader().read(#"""
        {"resourceType": "Bundle", "type": "transaction", "entry": [
          {"fullUrl": "urn:uuid:p1", "resource": {"resourceType": "Patient", "id": "p1", "gender": "female", "birthDate": "1970-03-04"}, "request": {"method": "POST", "url": "Patient"}},
          {"fullUrl": "urn:uuid:o1", "resource": {"resourceType": "Observation", "id": "o1", "status": "final",
            "code": {"coding": [{"system": "http://loinc.org", "code": "85354-9"}]}, "subject": {"reference": "urn:uuid:p1"},
            "effectiveDateTime": "2020-01-01T10:00:00Z",
            "component": [
              {"code": {"coding": [{"system": "http://loinc.org", "code": "8480-6"}]}, "valueQuantity": {"value": 120, "system": "http://unitsofmeasure.org", "code": "mm[Hg]"}},
              {"code": {"coding": [{"system": "http://loinc.org", "code": "8462-4"}]}, "valueQuantity": {"value": 80, "system": "http://unitsofmeasure.org", "code": "mm[Hg]"}}]},
           "request": {"method": "POST", "url": "Observation"}}]}
        """#)
        let plan = try ImportPlanner().plan(bundle, origin: "test")
        let u = try #require(plan.units.first)
        #expect(u.twins.map(\.id) == ["p1"])
        #expect(u.events.map(\.code.code) == ["8480-6", "8462-4"])
        #expect(u.events.first?.value == .quantity(Quantity(120, "mm[Hg]")))
        #expect(u.events.first?.source == Source(.record, "fhir/Observation/o1"))
    }

    /// Not strict (the default), a unit that does not convert sets that value aside in the plan, with its
    /// entry and path, and the rest is planned; a broken reference still refuses the bundle.
    @Test func aUnitThatDoesNotConvertIsSetAsideUnlessStrict() throws {
        let text = #"{"resourceType": "Bundle", "type": "collection", "entry": [{"fullUrl": "urn:uuid:p", "resource": {"resourceType": "Patient", "id": "p"}}, {"fullUrl": "urn:uuid:o1", "resource": {"resourceType": "Observation", "status": "final", "code": {"text": "x"}, "subject": {"reference": "urn:uuid:p"}, "effectiveDateTime": "2020-01-01", "valueQuantity": {"value": 70, "system": "http://unitsofmeasure.org", "code": "furlongs"}}}]}"#
        let plan = try ImportPlanner().plan(try JSONReader().read(text), origin: "t")
        let u = try #require(plan.units.first)
        #expect(u.events.isEmpty)
        #expect(u.twins.map(\.id) == ["p"])
        #expect(u.setAside.map(\.entry) == ["urn:uuid:o1"])
        #expect(u.setAside.map(\.path) == ["Bundle.entry[1].resource.valueQuantity.code"])
        #expect(u.setAside.first?.value == "furlongs")
    }

    @Test(arguments: [
        // dangling urn:uuid subject
        (#"{"resourceType": "Bundle", "type": "transaction", "entry": [{"fullUrl": "urn:uuid:o1", "resource": {"resourceType": "Observation", "status": "final", "code": {"text": "x"}, "subject": {"reference": "urn:uuid:nobody"}, "effectiveDateTime": "2020-01-01"}, "request": {"method": "POST", "url": "Observation"}}]}"#,
         "danglingReference", "Bundle.entry[0].resource.subject.reference", "urn:uuid:o1"),
        // unit that does not convert
        (#"{"resourceType": "Bundle", "type": "collection", "entry": [{"fullUrl": "urn:uuid:p", "resource": {"resourceType": "Patient", "id": "p"}}, {"fullUrl": "urn:uuid:o1", "resource": {"resourceType": "Observation", "status": "final", "code": {"coding": [{"system": "http://loinc.org", "code": "29463-7"}]}, "subject": {"reference": "urn:uuid:p"}, "effectiveDateTime": "2020-01-01", "valueQuantity": {"value": 70, "system": "http://unitsofmeasure.org", "code": "mm[Hg]"}}}]}"#,
         "unitNotConvertible", "Bundle.entry[1].resource.valueQuantity.code", "urn:uuid:o1"),
        (#"{"resourceType": "Bundle", "type": "collection", "entry": [{"fullUrl": "urn:uuid:p", "resource": {"resourceType": "Patient", "id": "p"}}, {"fullUrl": "urn:uuid:o1", "resource": {"resourceType": "Observation", "status": "final", "code": {"text": "x"}, "subject": {"reference": "urn:uuid:p"}, "effectiveDateTime": "2020-01-01", "valueQuantity": {"value": 70, "system": "http://unitsofmeasure.org", "code": "furlongs"}}}]}"#,
         "unitNotConvertible", "Bundle.entry[1].resource.valueQuantity.code", "urn:uuid:o1"),
        // wrong resourceType / invalid resource is rejected before mapping
        (#"{"resourceType": "Patients"}"#, "unknownResourceType", "Patients", nil),
    ])
    func rejects(text: String, code: String, location: String, fullUrl: String?) throws {
        var strict = ImportPlanner()
        strict.strict = true
        #expect {
            _ = try strict.plan(try JSONReader().read(text), origin: "t")
        } throws: { error in
            guard let e = error as? FHIRError else { return false }
            return e.code.description == code && e.location == location && e.fullUrl == fullUrl
        }
    }
}
