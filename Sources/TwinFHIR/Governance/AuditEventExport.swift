import TwinBank
import TwinCore
import TwinGovernance

/// FHIR R4 `AuditEvent`s for audit log entries (``TwinGovernance/AuditEntry``), shaped like the HL7 examples
/// (`AuditEvent-example-rest.json`):
/// - `type` DICOM 110110 "Patient Record" (bank-wide operations: 110100 "Application Activity");
/// - `action` from the access: C (fork, import), R (read, export), U (write, commit), D (retract, erase), E (other);
/// - `recorded` the entry's time; `outcome` 0 (success) for permit and permit-with-filter, 4 (minor failure) for
///   deny, with the decision and reason in `outcomeDesc`;
/// - `purposeOfEvent` the purpose as text, coded in v3 ActReason when it is a known one (care → TREAT,
///   research → HRESCH, emergency → ETREAT, public-health → PUBHLTH, operations → HOPERAT, payment → HPAYMT);
/// - `agent` the actor (`who.identifier`, `role` as text, `requestor` true) and, when known, its organisation;
/// - `source` this bank (`observer` display `twinbank`, type 4 "Application Server");
/// - `entity` the twin's Patient reference (role 1 "Patient") and the log entry itself (its sequence number and
///   Merkle leaf hash, so the event can be checked against `twinbank audit prove`).
/// No health data is exported: the entries hold none.
public enum AuditEventExport {
    /// The `AuditEvent` of one entry; `patient` gives the FHIR id of a twin's Patient (default: the twin id with
    /// characters FHIR ids do not allow replaced by `-`).
    public static func auditEvent(_ e: AuditEntry, patient: (String) -> String = AuditEventExport.defaultPatientID) -> JSONValue {
        var o: JSONObject = [
            "resourceType": "AuditEvent",
            "id": .string("audit-\(e.sequence)"),
            "type": e.twin == nil
                ? ["system": "http://dicom.nema.org/resources/ontology/DCM", "code": "110100", "display": "Application Activity"]
                : ["system": "http://dicom.nema.org/resources/ontology/DCM", "code": "110110", "display": "Patient Record"],
            "subtype": [["system": "https://twinbank.example/fhir/CodeSystem/access-action", "code": .string(e.action)]],
            "action": .string(actionCode(e.action)),
            "recorded": .string(FHIRTime.text(e.time)),
            "outcome": .string(e.decision == .deny ? "4" : "0"),
            "outcomeDesc": .string("\(e.decision.rawValue): \(e.reason)"),
        ]
        var purpose: JSONObject = ["text": .string(e.purpose)]
        if let code = purposeCodes[e.purpose.lowercased()] {
            purpose = ["coding": [["system": "http://terminology.hl7.org/CodeSystem/v3-ActReason", "code": .string(code.0), "display": .string(code.1)]], "text": .string(e.purpose)]
        }
        o.members.append(.init("purposeOfEvent", [.object(purpose)]))
        var actor: JSONObject = [
            "type": ["coding": [["system": "http://terminology.hl7.org/CodeSystem/extra-security-role-type", "code": "humanuser", "display": "human user"]]],
            "who": ["identifier": ["system": "https://twinbank.example/fhir/actor", "value": .string(e.actor)], "display": .string(e.actor)],
        ]
        if let role = e.role { actor.members.append(.init("role", [["text": .string(role)]])) }
        actor.members.append(.init("requestor", true))
        var agents: [JSONValue] = [.object(actor)]
        if let org = e.organisation {
            agents.append(["who": ["type": "Organization", "identifier": ["system": "https://twinbank.example/fhir/organisation", "value": .string(org)], "display": .string(org)],
                           "requestor": false])
        }
        o.members.append(.init("agent", .array(agents)))
        o.members.append(.init("source", [
            "observer": ["display": "twinbank"],
            "type": [["system": "http://terminology.hl7.org/CodeSystem/security-source-type", "code": "4", "display": "Application Server"]],
        ]))
        var entities: [JSONValue] = []
        if let twin = e.twin {
            entities.append([
                "what": ["reference": .string("Patient/\(patient(twin))")],
                "type": ["system": "http://terminology.hl7.org/CodeSystem/audit-entity-type", "code": "1", "display": "Person"],
                "role": ["system": "http://terminology.hl7.org/CodeSystem/object-role", "code": "1", "display": "Patient"],
            ])
        }
        entities.append([
            "what": ["identifier": ["system": "https://twinbank.example/fhir/audit-log", "value": .string(String(e.sequence))]],
            "type": ["system": "http://terminology.hl7.org/CodeSystem/audit-entity-type", "code": "2", "display": "System Object"],
            "description": "twinbank audit log entry (Merkle leaf hash in detail)",
            "detail": [["type": "leafHash", "valueString": .string(e.leafHash.hex)]],
        ])
        o.members.append(.init("entity", .array(entities)))
        return .object(o)
    }

    /// A `collection` Bundle of the entries' AuditEvents, in log order. With a `bank`, a twin's Patient id is the
    /// one its FHIR export uses (its `fhir.id` attribute when it has one).
    public static func bundle(_ entries: [AuditEntry], bank: Bank? = nil) -> JSONValue {
        var cache: [String: String] = [:]
        func patient(_ twin: String) -> String {
            if let c = cache[twin] { return c }
            var id = defaultPatientID(twin)
            if let bank, let t = try? TwinID(twin), let record = try? bank.twin(t) { id = PatientMapping.fhirID(record.twin) }
            cache[twin] = id
            return id
        }
        let items: [JSONValue] = entries.map { e in
            ["fullUrl": .string("urn:twinbank:audit:\(e.sequence)"), "resource": auditEvent(e, patient: patient)]
        }
        var b: JSONObject = ["resourceType": "Bundle", "type": "collection"]
        if !items.isEmpty { b.members.append(.init("entry", .array(items))) }
        return .object(b)
    }

    /// The twin id with characters a FHIR id does not allow replaced by `-` (at most 64 characters).
    public static func defaultPatientID(_ twin: String) -> String {
        String(twin.map { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "." ? $0 : "-" }.prefix(64))
    }

    /// The AuditEvent action code of an access action.
    public static func actionCode(_ action: String) -> String {
        switch action {
        case "fork", "import": return "C"
        case "read", "export": return "R"
        case "write", "commit": return "U"
        case "retract", "erase": return "D"
        default: return "E"
        }
    }

    static let purposeCodes: [String: (String, String)] = [
        "care": ("TREAT", "treatment"), "treatment": ("TREAT", "treatment"), "research": ("HRESCH", "healthcare research"),
        "emergency": ("ETREAT", "Emergency Treatment"), "public-health": ("PUBHLTH", "public health"),
        "operations": ("HOPERAT", "healthcare operations"), "payment": ("HPAYMT", "healthcare payment"),
    ]
}
