import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing
import TwinBank
import TwinBankAccess
import TwinCore
import TwinFHIR
import TwinGovernance
import TwinServer
import TwinTesting

/// The FHIR facade under /fhir: the CapabilityStatement without a token, a Synthea bundle POSTed and read back
/// through the gate, the resources valid R4, and every error an OperationOutcome with its status.
@Suite struct FHIRFacadeTests {
    static let synthea = SharedFolder.data.appendingPathComponent("synthea")
    static let antonio = "Antonio_Castellanos_6d2eba67-5b4a-403f-a29f-e6da3f1ea963.json"
    static let antonioID = "2be9b668-847a-4437-b33a-bdc38c665e08"

    static func fhir(_ r: TestResponse) throws -> JSONValue { try JSONReader().read([UInt8](buffer: r.body)) }

    static func expectValid(_ resource: JSONValue, _ what: String) {
        let issues = Validator().validate(resource)
        #expect(issues.isEmpty, "\(what): \(issues.prefix(3))")
    }

    /// The response is an OperationOutcome with `status`, valid R4, whose one issue has the FHIR issue type `type`.
    @discardableResult
    static func expectOutcome(_ r: TestResponse, _ status: HTTPResponse.Status, _ type: String, _ what: String) throws -> String {
        #expect(r.status == status, "\(what): \(String(buffer: r.body))")
        #expect(r.headers[.contentType]?.hasPrefix("application/fhir+json") == true, "\(what)")
        let o = try fhir(r)
        #expect(o["resourceType"]?.stringValue == "OperationOutcome", "\(what)")
        #expect(o["issue"]?[0]?["code"]?.stringValue == type, "\(what)")
        expectValid(o, what)
        return o["issue"]?[0]?["details"]?["text"]?.stringValue ?? ""
    }

    static let fhirJSON: HTTPFields = [.contentType: "application/fhir+json"]

    @Test func metadataAnswersWithoutATokenAndListsWhatIsImplemented() async throws {
        let f = try await ServerFixture.make(); defer { f.remove() }
        try await f.test { client in
            try await client.execute(uri: "/fhir/metadata", method: .get) { r throws in
                #expect(r.status == .ok)
                #expect(r.headers[.contentType]?.hasPrefix("application/fhir+json") == true)
                let c = try Self.fhir(r)
                Self.expectValid(c, "CapabilityStatement")
                #expect(c["resourceType"]?.stringValue == "CapabilityStatement")
                #expect(c["fhirVersion"]?.stringValue == "4.0.1")
                let rest = try #require(c["rest"]?[0])
                #expect(rest["interaction"]?.list.compactMap { $0["code"]?.stringValue } == ["transaction", "batch", "history-system"])
                let resources = rest["resource"]?.list ?? []
                let patient = try #require(resources.first { $0["type"]?.stringValue == "Patient" })
                #expect(patient["interaction"]?.list.compactMap { $0["code"]?.stringValue } == ["search-type", "read", "vread", "history-instance", "history-type", "update"])
                #expect(patient["versioning"]?.stringValue == "versioned-update", "If-Match is checked")
                #expect(patient["conditionalUpdate"] == nil && patient["updateCreate"]?.boolValue == true, "PUT creates; no update by search criteria")
                let observation = try #require(resources.first { $0["type"]?.stringValue == "Observation" })
                #expect(observation["interaction"]?.list.compactMap { $0["code"]?.stringValue } == ["search-type", "read", "vread", "history-instance", "history-type", "update", "delete"])
                #expect(observation["conditionalDelete"]?.stringValue == "not-supported" && patient["conditionalDelete"] == nil, "DELETE by id only, of a thread's record")
                let risk = try #require(resources.first { $0["type"]?.stringValue == "RiskAssessment" })
                #expect(risk["versioning"]?.stringValue == "versioned" && risk["interaction"]?.list.compactMap { $0["code"]?.stringValue } == ["read", "vread", "history-instance", "history-type"])
                #expect(Set(observation["searchParam"]?.list.compactMap { $0["name"]?.stringValue } ?? []) == ["patient", "code", "date"])
                for type in ["Condition", "MedicationAdministration"] {
                    #expect(resources.contains { $0["type"]?.stringValue == type }, "\(type)")
                }
            }
        }
    }

    @Test(.enabled(if: SharedFolder.has("data/synthea"), "skipped: the Synthea bundles data/synthea are missing"))
    func aSyntheaBundlePostedReadsBackAsPatientAndObservations() async throws {
        let f = try await ServerFixture.make(); defer { f.remove() }
        let alice = try await f.token("alice", .admin)
        let bob = try await f.token("bob", .clinician)
        let files = ["hospitalInformation1559319163815.json", "practitionerInformation1559319163815.json", Self.antonio]
        let source = try JSONReader().read([UInt8](Data(contentsOf: Self.synthea.appendingPathComponent(Self.antonio))))
        let observations = source["entry"]!.list.map { $0["resource"]! }.filter { $0["resourceType"]?.stringValue == "Observation" }
        try await f.test { client in
            for name in files {
                let data = try Data(contentsOf: Self.synthea.appendingPathComponent(name))
                let sent = try JSONReader().read([UInt8](data))
                try await client.execute(uri: "/fhir", method: .post, headers: .auth(alice, [.contentType: "application/fhir+json"]),
                                         body: ByteBuffer(bytes: data)) { r throws in
                    #expect(r.status == .ok, "\(name): \(String(buffer: r.body).prefix(500))")
                    let b = try Self.fhir(r)
                    Self.expectValid(b, "\(name) response")
                    #expect(b["type"]?.stringValue == "transaction-response")
                    #expect(b["entry"]?.list.count == sent["entry"]?.list.count)
                    #expect(b["entry"]?.list.allSatisfy { ["200 OK", "201 Created"].contains($0["response"]?["status"]?.stringValue ?? "") } == true)
                    if name == Self.antonio {
                        let patient = b["entry"]?.list.first { $0["response"]?["location"]?.stringValue?.hasPrefix("Patient/") == true }
                        #expect(patient?["response"]?["status"]?.stringValue == "201 Created", "the Patient is created")
                        #expect(patient?["response"]?["location"]?.stringValue == "Patient/\(Self.antonioID)/_history/1")
                    }
                }
            }
            // read back as the clinician, through the gate
            try await client.execute(uri: "/fhir/Patient/\(Self.antonioID)", method: .get, headers: .auth(bob)) { r throws in
                #expect(r.status == .ok)
                let p = try Self.fhir(r)
                Self.expectValid(p, "Patient")
                #expect(p["resourceType"]?.stringValue == "Patient")
                #expect(p["id"]?.stringValue == Self.antonioID)
                #expect(p["birthDate"]?.stringValue == "1991-06-08")
            }
            try await client.execute(uri: "/fhir/Patient?_id=\(Self.antonioID),nobody", method: .get, headers: .auth(bob)) { r throws in
                let b = try Self.fhir(r)
                Self.expectValid(b, "Patient searchset")
                #expect(b["type"]?.stringValue == "searchset")
                #expect(b["total"]?.numberText == "1")
                #expect(b["entry"]?[0]?["resource"]?["id"]?.stringValue == Self.antonioID)
            }
            let all = try await client.execute(uri: "/fhir/Observation?patient=\(Self.antonioID)", method: .get, headers: .auth(bob)) { r throws -> JSONValue in
                #expect(r.status == .ok)
                return try Self.fhir(r)
            }
            Self.expectValid(all, "Observation searchset")
            #expect(all["total"]?.numberText == String(observations.count))
            #expect(Set(all["entry"]?.list.compactMap { $0["resource"]?["id"]?.stringValue } ?? []) == Set(observations.compactMap { $0["id"]?.stringValue }))

            // code search: SYSTEM|CODE (| percent-encoded)
            let heights = observations.filter { $0["code"]?["coding"]?[0]?["code"]?.stringValue == "8302-2" }
            try #require(!heights.isEmpty)
            try await client.execute(uri: "/fhir/Observation?patient=Patient/\(Self.antonioID)&code=http://loinc.org%7C8302-2", method: .get, headers: .auth(bob)) { r throws in
                let b = try Self.fhir(r)
                #expect(b["total"]?.numberText == String(heights.count))
                #expect(b["entry"]?.list.allSatisfy { $0["resource"]?["code"]?["coding"]?[0]?["code"]?.stringValue == "8302-2" } == true)
            }
            try await client.execute(uri: "/fhir/Observation?patient=\(Self.antonioID)&code=http://snomed.info/sct%7C8302-2", method: .get, headers: .auth(bob)) { r throws in
                #expect(try Self.fhir(r)["total"]?.numberText == "0")
            }
            // date search: one day as ge and le
            let day = "2013-08-10"
            let thatDay = observations.filter { $0["effectiveDateTime"]?.stringValue?.hasPrefix(day) == true }
            try #require(!thatDay.isEmpty && thatDay.count < observations.count)
            try await client.execute(uri: "/fhir/Observation?patient=\(Self.antonioID)&date=ge\(day)&date=le\(day)", method: .get, headers: .auth(bob)) { r throws in
                let b = try Self.fhir(r)
                #expect(b["total"]?.numberText == String(thatDay.count))
                #expect(Set(b["entry"]?.list.compactMap { $0["resource"]?["id"]?.stringValue } ?? []) == Set(thatDay.compactMap { $0["id"]?.stringValue }))
            }
            try await client.execute(uri: "/fhir/Observation?patient=\(Self.antonioID)&date=\(day)&code=8302-2", method: .get, headers: .auth(bob)) { r throws in
                let b = try Self.fhir(r)
                #expect(b["total"]?.numberText == String(thatDay.filter { $0["code"]?["coding"]?[0]?["code"]?.stringValue == "8302-2" }.count))
            }
            let conditions = source["entry"]!.list.filter { $0["resource"]?["resourceType"]?.stringValue == "Condition" }.count
            try await client.execute(uri: "/fhir/Condition?patient=\(Self.antonioID)", method: .get, headers: .auth(bob)) { r throws in
                let b = try Self.fhir(r)
                Self.expectValid(b, "Condition searchset")
                #expect(b["total"]?.numberText == String(conditions))
            }
            try await client.execute(uri: "/fhir/MedicationAdministration?patient=\(Self.antonioID)", method: .get, headers: .auth(bob)) { r throws in
                #expect(r.status == .ok)
                #expect(try Self.fhir(r)["total"]?.numberText == "0")
            }
        }
    }

    static func bundle(_ type: String, _ resources: [JSONValue]) -> ByteBuffer {
        let entries: [JSONValue] = resources.enumerated().map { i, r in
            let t = r["resourceType"]!.stringValue!, id = r["id"]!.stringValue!
            return ["fullUrl": .string("urn:uuid:00000000-0000-4000-8000-" + String(format: "%012d", i + 1)),
                    "resource": r, "request": ["method": "PUT", "url": .string("\(t)/\(id)")]]
        }
        let b: JSONValue = ["resourceType": "Bundle", "type": .string(type), "entry": .array(entries)]
        return ByteBuffer(bytes: JSONWriter().write(b))
    }

    static func patient(_ id: String) -> JSONValue { ["resourceType": "Patient", "id": .string(id), "gender": "female", "birthDate": "1980-01-01"] }

    static func observation(_ id: String, patient: String, status: String) -> JSONValue {
        ["resourceType": "Observation", "id": .string(id), "status": .string(status),
         "code": ["coding": [["system": "http://loinc.org", "code": "2339-0"]]],
         "subject": ["reference": .string("Patient/\(patient)")], "effectiveDateTime": "2026-01-02T08:00:00Z",
         "valueQuantity": ["value": 100, "unit": "mg/dL", "system": "http://unitsofmeasure.org", "code": "mg/dL"]]
    }

    @Test func everyErrorIsAnOperationOutcomeWithItsStatus() async throws {
        let f = try await ServerFixture.make(); defer { f.remove() }
        // a twin that is an organisation, which a Patient may not overwrite
        let opened = try BankLocation(f.path).open(create: false)
        try Bank(storage: opened.storage, actor: "alice").createTwin(Twin(id: try TwinID("org1"), kind: .organisation, attributes: ["name": .text("Clinic")], origin: Instant(microseconds: 0)))
        let alice = try await f.token("alice", .admin)
        let readOnly = try await f.token("alice", .admin, scopes: ["user/*.rs"])
        try await f.test { client in
            // 401, still an OperationOutcome
            for (uri, headers) in [("/fhir/Patient/p1", HTTPFields()), ("/fhir/Observation?patient=p1", HTTPFields.auth("not.a.jwt"))] {
                try await client.execute(uri: uri, method: .get, headers: headers) { r throws in
                    try Self.expectOutcome(r, .unauthorized, "login", uri)
                    #expect(r.headers[.wwwAuthenticate] != nil)
                }
            }
            // 400: search parameters
            for query in ["Observation?patient=p1&colour=red", "Observation?patient=p1&date=sa2026-01-01", "Observation?patient=p1&date=tomorrow-ish",
                          "Observation?patient=p1&patient=p2", "Condition?patient=p1&date=2026", "Patient", "Observation?patient=p1&code=loinc%7C"] {
                try await client.execute(uri: "/fhir/\(query)", method: .get, headers: .auth(alice)) { r throws in
                    try Self.expectOutcome(r, .badRequest, "invalid", query)
                }
            }
            // 400: malformed JSON, not a transaction or batch Bundle
            for (text, what) in [("{\"resourceType\": \"Bundle\", ", "malformed JSON"), ("{\"resourceType\":\"Patient\",\"id\":\"x\"}", "a Patient"),
                                 ("{\"resourceType\":\"Bundle\",\"type\":\"searchset\"}", "a searchset")] {
                try await client.execute(uri: "/fhir", method: .post, headers: .auth(alice, [.contentType: "application/fhir+json"]), body: body(text)) { r throws in
                    try Self.expectOutcome(r, .badRequest, "invalid", what)
                }
            }
            // 415
            try await client.execute(uri: "/fhir", method: .post, headers: .auth(alice, [.contentType: "text/plain"]), body: body("{}")) { r throws in
                try Self.expectOutcome(r, .unsupportedMediaType, "not-supported", "text/plain")
            }
            // 403: a token that may not write
            try await client.execute(uri: "/fhir", method: .post, headers: .auth(readOnly, [.contentType: "application/fhir+json"]),
                                     body: Self.bundle("transaction", [Self.patient("p9")])) { r throws in
                try Self.expectOutcome(r, .forbidden, "forbidden", "read-only token")
            }
            // 404: unknown twin, unknown resource type
            for uri in ["/fhir/Patient/nobody", "/fhir/Observation?patient=nobody", "/fhir/Basic?patient=p1", "/fhir/Flag/1", "/fhir/Patient/org1"] {
                try await client.execute(uri: uri, method: .get, headers: .auth(alice)) { r throws in
                    try Self.expectOutcome(r, .notFound, "not-found", uri)
                }
            }
            try await client.execute(uri: "/fhir/Observation/o1", method: .get, headers: .auth(alice)) { r throws in
                let text = try Self.expectOutcome(r, .notFound, "not-found", "Observation by id")
                #expect(text.contains("Observation/o1"), "\(text)")
            }
            // an interaction no route answers
            try await client.execute(uri: "/fhir/Patient/p1/_history/1/more", method: .get, headers: .auth(alice)) { r throws in
                let text = try Self.expectOutcome(r, .notFound, "not-found", "no such interaction")
                #expect(text.contains("/fhir/metadata"), "\(text)")
            }
            // 422: valid JSON, not valid FHIR for the importer, naming the entry; nothing of the bundle written
            try await client.execute(uri: "/fhir", method: .post, headers: .auth(alice, [.contentType: "application/fhir+json"]),
                                     body: Self.bundle("transaction", [Self.patient("p8"), Self.observation("o1", patient: "p8", status: "guessed")])) { r throws in
                let text = try Self.expectOutcome(r, .unprocessableContent, "processing", "invalid Observation.status")
                #expect(text.contains("status"), "\(text)")
                #expect(text.contains("urn:uuid:00000000-0000-4000-8000-000000000002"), "the entry is named: \(text)")
                #expect(try Self.fhir(r)["issue"]?[0]?["expression"]?[0]?.stringValue == "Bundle.entry[1].resource.status")
            }
            try await client.execute(uri: "/fhir/Patient/p8", method: .get, headers: .auth(alice)) { r throws in
                #expect(r.status == .notFound, "the refused transaction wrote its Patient")
            }
            // 409: the bank refuses a Patient over a twin that is an organisation
            try await client.execute(uri: "/fhir", method: .post, headers: .auth(alice, [.contentType: "application/fhir+json"]),
                                     body: Self.bundle("transaction", [Self.patient("org1")])) { r throws in
                try Self.expectOutcome(r, .conflict, "conflict", "Patient over an organisation")
            }
            // a batch answers entry by entry: the good entry is kept, the bad one is 422 in its response
            try await client.execute(uri: "/fhir", method: .post, headers: .auth(alice, [.contentType: "application/fhir+json"]),
                                     body: Self.bundle("batch", [Self.observation("o2", patient: "p1", status: "final"), Self.observation("o3", patient: "nobody", status: "final")])) { r throws in
                #expect(r.status == .ok, "\(String(buffer: r.body))")
                let b = try Self.fhir(r)
                Self.expectValid(b, "batch-response")
                #expect(b["type"]?.stringValue == "batch-response")
                #expect(b["entry"]?.list.compactMap { $0["response"]?["status"]?.stringValue } == ["201 Created", "422 Unprocessable Entity"], "o2 is created")
            }
            try await client.execute(uri: "/fhir/Observation?patient=p1&date=2026-01-02", method: .get, headers: .auth(alice)) { r throws in
                #expect(try Self.fhir(r)["total"]?.numberText == "1")
            }
        }
    }

    @Test func aGateRefusalIsA403OperationOutcomeAndAudited() async throws {
        let f = try await ServerFixture.make(); defer { f.remove() }
        let mallory = try await f.token("mallory", .clinician)
        try await f.test { client in
            for uri in ["/fhir/Patient/p1", "/fhir/Observation?patient=p1"] {
                try await client.execute(uri: uri, method: .get, headers: .auth(mallory)) { r throws in
                    let text = try Self.expectOutcome(r, .forbidden, "forbidden", uri)
                    #expect(text.contains("mallory"), "\(text)")
                }
            }
        }
        let denials = try f.server.gate.log.entries(matching: AuditQuery(twin: "p1")).filter { $0.actor == "mallory" }
        #expect(denials.count >= 2)
        #expect(denials.allSatisfy { $0.decision == .deny && $0.action == "read" && $0.purpose == "treatment" })
    }
}
