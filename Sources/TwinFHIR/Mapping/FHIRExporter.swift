import Foundation
import TwinBank
import TwinCore

/// Writes twins back as FHIR R4: a person twin as a Patient, its thread as Observations (components regrouped
/// into their panel), Conditions, AllergyIntolerances, Procedures, Immunizations, Encounters,
/// Medication{Request,Administration,Statement}s and DiagnosticReports; organisation twins as Organizations.
///
/// Guarantees: every resource written passes `Validator`; importing the export of a twin into an empty bank
/// gives the same twin and the same thread (event content hashes), because each resource keeps the id of the
/// record it came from and `meta.source` keeps the origin bundle. Events the bank made itself (category
/// `prediction` or `alert`, or a `model:` source) are exported as model output: a prediction as an
/// Observation, an alert as a RiskAssessment, each tagged `model-output` and with a Provenance naming the
/// model, its version, seed and the events it was derived from.
public struct FHIRExporter: Sendable {
    public let bank: Bank

    public init(bank: Bank) { self.bank = bank }

    static let modelOutputTag: JSONValue = ["system": "urn:twinbank:tags", "code": "model-output", "display": "computed by a Twinbank model"]

    /// The resources of one twin (`$everything`-like): its Patient or Organization first, then its records.
    public func resources(twin id: TwinID) throws(FHIRError) -> [JSONValue] {
        let twin: Twin
        let events: [Event]
        do {
            try bank.authorize(.export, id)
            twin = try bank.twin(id).twin
            events = try bank.events(ThreadQuery(twin: id))
        } catch let e as BankError where e.code == .unknownTwin {
            throw FHIRError(.notFound, "no twin '\(id)' in the bank", value: id.rawValue)
        } catch { throw FHIRError.bank(error) }
        return Self.resources(twin: twin, events: events)
    }

    /// A transaction Bundle of one twin: resources with `urn:uuid:` full URLs and `PUT` requests, so the bundle
    /// loads into any FHIR server as well as back into a bank.
    public func bundle(twin id: TwinID) throws(FHIRError) -> JSONValue {
        Self.bundle(try resources(twin: id))
    }

    static func bundle(_ resources: [JSONValue]) -> JSONValue {
        var entries: [JSONValue] = []
        for r in resources {
            let type = r["resourceType"]?.stringValue ?? ""
            let id = r["id"]?.stringValue ?? ""
            entries.append(["fullUrl": .string(fullUrl(type, id)), "resource": r,
                            "request": ["method": "PUT", "url": .string("\(type)/\(id)")]])
        }
        return ["resourceType": "Bundle", "type": "transaction", "entry": .array(entries)]
    }

    /// A deterministic `urn:uuid:` for a resource (name-based on `TYPE/ID`, in the form of an RFC 4122 UUID).
    static func fullUrl(_ type: String, _ id: String) -> String {
        let h = EventHasher.sha256(Array("\(type)/\(id)".utf8)).hex
        let c = Array(h)
        var s = String(c[0..<8]) + "-" + String(c[8..<12]) + "-5" + String(c[13..<16]) + "-"
        s += ["8", "9", "a", "b"][Int(String(c[16]), radix: 16)! % 4] + String(c[17..<20]) + "-" + String(c[20..<32])
        return "urn:uuid:" + s
    }

    /// Writes one NDJSON file per resource type (`Patient.ndjson`, `Observation.ndjson`, ...) for the given
    /// twins (and, when `includeRecords`, the Practitioner, Location, Device and Medication records of the bank),
    /// Bulk Data style. Returns the files written with their line counts.
    ///
    /// The folder is written through ``OutputFile/writeFiles(_:intoFolder:overwrite:)``: a missing folder is
    /// created, an empty one is used, a non-empty one is refused unless `overwrite` (and then only the files
    /// written here are replaced, nothing else in the folder is touched); the files appear together or not at all.
    /// - Throws: ``FHIRError`` `io` naming the folder (nothing written) when it is refused or cannot be written.
    public func writeNDJSON(twins: [TwinID], to directory: String, includeRecords: Bool = false, overwrite: Bool = false) throws(FHIRError) -> [String: Int] {
        do throws(TwinError) { try OutputFile.checkFolderWritable(directory, overwrite: overwrite) } catch {
            throw FHIRError(.io, error.message, value: directory)
        }
        var byType: [String: [UInt8]] = [:]
        var counts: [String: Int] = [:]
        func add(_ r: JSONValue) {
            let t = r["resourceType"]?.stringValue ?? "Resource"
            byType[t, default: []].append(contentsOf: JSONWriter().write(r))
            byType[t, default: []].append(0x0A)
            counts[t, default: 0] += 1
        }
        for id in twins { for r in try resources(twin: id) { add(r) } }
        if includeRecords {
            do {
                for name in try bank.recordNames(prefix: "fhir/") {
                    guard let bytes = try bank.record(named: name) else { continue }
                    add(try JSONReader().read(bytes))
                }
            } catch let e as FHIRError {
                throw FHIRError(.bank, "a FHIR record of the bank cannot be read: \(e)")
            } catch { throw FHIRError.bank(error) }
        }
        do throws(TwinError) {
            let order = byType.keys.sorted()
            let paths = try OutputFile.writeFiles(order.map { ("\($0).ndjson", byType[$0]!) }, intoFolder: directory, overwrite: overwrite)
            var files: [String: Int] = [:]
            for (t, path) in zip(order, paths) { files[path] = counts[t] }
            return files
        } catch { throw FHIRError(.io, error.message, value: directory) }
    }

    // MARK: Building resources

    /// The resources the export writes for `twin` with its thread `events` (as read by the caller, who has asked
    /// the bank's gate): its Patient, Organization or Group first, then its records, exactly as
    /// ``resources(twin:)`` writes them. For a caller that reads the twin and its events itself (the server's
    /// FHIR facade reads them as the token's subject) so there is one mapping.
    public static func resources(twin: Twin, events: [Event]) -> [JSONValue] {
        var out: [JSONValue] = []
        switch twin.kind {
        case .organisation: out.append(PatientMapping.organization(twin))
        case .population: out.append(PatientMapping.group(twin))
        default: out.append(PatientMapping.patient(twin))
        }
        // A population's events are about the Group (Observation.subject may reference a Group in R4).
        let subjectType = twin.kind == .population ? "Group" : "Patient"
        let patientRef: JSONValue = ["reference": .string("\(subjectType)/\(PatientMapping.fhirID(twin))")]
        // Group the events of each source record (a FHIR resource imported), keeping thread order; any other event
        // (a device's reading, a CSV row, a model's output) is a resource of its own.
        var order: [String] = []
        var groups: [String: [Event]] = [:]
        for e in events where e.category != .retraction {
            let key = recordKey(of: e)
            if groups[key] == nil { order.append(key) }
            groups[key, default: []].append(e)
        }
        for key in order {
            let group = groups[key]!
            let first = group[0]
            if first.category == .prediction || first.category == .alert || first.source.kind == .model {
                for e in group { out += modelOutput(e, subject: patientRef) }
                continue
            }
            var type = "Observation", id = first.id.abbreviated(32)
            let parts = first.source.id.split(separator: "/", maxSplits: 2)
            if first.source.kind == .record, parts.count == 3, parts[0] == "fhir" {
                type = String(parts[1]); id = String(parts[2])
            }
            out.append(record(type: type, id: id, events: group.count > 1 ? current(group) : group, subject: patientRef))
        }
        return out
    }

    /// The FHIR resource type an event is exported as (``resources(twin:events:)``): an alert a `RiskAssessment`, a
    /// prediction or any model's output an `Observation`, an event of an imported FHIR record (source
    /// `record:fhir/TYPE/ID`) its record's TYPE, any other event (a device's reading, a CSV row) an `Observation`;
    /// nil for a retraction, which is exported as no resource. What a server's SMART scopes, which name resource
    /// types, are checked against for a twin's events.
    public static func resourceType(of e: Event) -> String? {
        resourceType(category: e.category, source: e.source)
    }

    /// ``resourceType(of:)`` for an event of `category` from `source` (an event still to be written).
    public static func resourceType(category: Event.Category, source: Source) -> String? {
        switch category {
        case .retraction: return nil
        case .alert: return "RiskAssessment"
        case .prediction: return "Observation"
        default:
            if source.kind == .model { return "Observation" }
            let parts = source.id.split(separator: "/", maxSplits: 2)
            if source.kind == .record, parts.count == 3, parts[0] == "fhir" { return String(parts[1]) }
            return "Observation"
        }
    }

    /// The events of one record as it stands now: a value recorded later for the same code and role (the main value
    /// or a component) supersedes the earlier ones, as an updated resource imported again corrects its record
    /// (the import adds only the events that changed). Values recorded together (one import) are all kept.
    static func current(_ group: [Event]) -> [Event] {
        func key(_ e: Event) -> String { (EventNotes(e.provenance.notes)?.panel == nil ? "main " : "component ") + e.code.key.description }
        var latest: [String: Instant] = [:]
        for e in group { latest[key(e)] = max(latest[key(e)] ?? e.recorded, e.recorded) }
        return group.filter { latest[key($0)] == $0.recorded }
    }

    /// Which resource an event is exported into: the events of one imported FHIR record (source
    /// `record:fhir/TYPE/ID`) make one resource (a panel and its components); any other event is a resource of its
    /// own. Events with the same key are exported together, so the key names a resource across the thread's
    /// versions (``FHIRHistory``).
    public static func recordKey(of e: Event) -> String {
        if e.source.kind == .record, e.source.id.hasPrefix("fhir/"), e.source.id.split(separator: "/", maxSplits: 2).count == 3 {
            return e.source.description
        }
        return "event:" + e.id.hex
    }

    static func meta(_ notes: EventNotes?) -> JSONValue? {
        guard let origin = notes?.origin else { return nil }
        return ["source": .string(origin)]
    }

    static func setTime(_ o: inout JSONObject, _ prefix: String, _ t: EffectiveTime, periodOnly: Bool = false) {
        if let end = t.end {
            o[periodOnly ? prefix : prefix + "Period"] = ["start": .string(FHIRTime.text(t.start)), "end": .string(FHIRTime.text(end))]
        } else if periodOnly {
            o[prefix] = ["start": .string(FHIRTime.text(t.start))]
        } else {
            o[prefix + "DateTime"] = .string(FHIRTime.text(t.start))
        }
    }

    /// The value element; `span` is the event's effective time, whose length gives sampled data its period.
    static func setValue(_ o: inout JSONObject, _ v: Value?, span: EffectiveTime? = nil) {
        switch v {
        case .quantity(let q)?: o["valueQuantity"] = FHIRValues.quantity(q)
        case .concept(let c)?: o["valueCodeableConcept"] = FHIRValues.codeableConcept(c)
        case .text(let s)?: o["valueString"] = .string(s)
        case .boolean(let b)?: o["valueBoolean"] = .bool(b)
        case .date(let d)?: o["valueDateTime"] = .string(FHIRTime.text(d))
        case .vector(let vec)?:
            // the sampling period: an event that spans its samples (as sampled data is imported) gives it; else 1 ms
            // stands in (FHIR requires a period; a vector without a span has none to give)
            var period = 1.0
            if let span, let end = span.end, !vec.values.isEmpty, end > span.start {
                period = Double(end.microseconds - span.start.microseconds) / 1000 / Double(vec.values.count)
            }
            o["valueSampledData"] = ["origin": ["value": 0, "unit": .string(vec.unit), "system": .string(FHIRValues.ucum), "code": .string(vec.unit)],
                                     "period": .number(period), "dimensions": 1,
                                     "data": .string(vec.values.map { JSONValue.number($0).numberText ?? "" }.joined(separator: " "))]
        case nil: break
        }
    }

    static func record(type: String, id: String, events: [Event], subject: JSONValue) -> JSONValue {
        let first = events[0]
        let notes = EventNotes(first.provenance.notes)
        var o: JSONObject = ["resourceType": .string(type), "id": .string(id)]
        if let m = meta(notes) { o["meta"] = m }
        let status = notes?.status
        switch type {
        case "Observation":
            o["status"] = .string(status ?? "final")
            if let c = notes?.category { o["category"] = c }
            let main = events.filter { EventNotes($0.provenance.notes)?.panel == nil }
            let components = events.filter { EventNotes($0.provenance.notes)?.panel != nil }
            if let m = main.first {
                o["code"] = FHIRValues.codeableConcept(m.code)
            } else if let panel = EventNotes(components.first?.provenance.notes)?.panel {
                o["code"] = panel
            }
            o["subject"] = subject
            setTime(&o, "effective", first.effective)
            if let m = main.first { setValue(&o, m.value, span: m.effective) }
            if !components.isEmpty {
                o["component"] = .array(components.map { e in
                    var c: JSONObject = ["code": FHIRValues.codeableConcept(e.code)]
                    setValue(&c, e.value, span: e.effective)
                    return .object(c)
                })
            }
        case "Condition", "AllergyIntolerance":
            let vsSystem = type == "Condition" ? "http://terminology.hl7.org/CodeSystem/condition" : "http://terminology.hl7.org/CodeSystem/allergyintolerance"
            if let s = status {
                o["clinicalStatus"] = ["coding": [["system": .string(vsSystem + "-clinical"), "code": .string(s)]]]
            }
            if case .concept(let c)? = first.value { o["verificationStatus"] = FHIRValues.codeableConcept(c) }
            o["code"] = FHIRValues.codeableConcept(first.code)
            o[type == "Condition" ? "subject" : "patient"] = subject
            if type == "Condition" {
                o["onsetDateTime"] = .string(FHIRTime.text(first.effective.start))
                if let end = first.effective.end { o["abatementDateTime"] = .string(FHIRTime.text(end)) }
            } else {
                setTime(&o, "onset", first.effective)
            }
        case "Procedure":
            o["status"] = .string(status ?? "completed")
            o["code"] = FHIRValues.codeableConcept(first.code)
            o["subject"] = subject
            setTime(&o, "performed", first.effective)
        case "Immunization":
            o["status"] = .string(status ?? "completed")
            o["vaccineCode"] = FHIRValues.codeableConcept(first.code)
            o["patient"] = subject
            o["occurrenceDateTime"] = .string(FHIRTime.text(first.effective.start))
        case "Encounter":
            o["status"] = .string(status ?? "finished")
            if case .concept(let c)? = first.value {
                var coding: JSONObject = ["system": .string(c.system), "code": .string(c.code)]
                if let d = c.display { coding["display"] = .string(d) }
                o["class"] = .object(coding)
            } else {
                o["class"] = ["system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "AMB"]
            }
            o["type"] = [FHIRValues.codeableConcept(first.code)]
            o["subject"] = subject
            setTime(&o, "period", first.effective, periodOnly: true)
        case "MedicationRequest":
            o["status"] = .string(status ?? "unknown")
            o["intent"] = "order"
            o["medicationCodeableConcept"] = FHIRValues.codeableConcept(first.code)
            o["subject"] = subject
            o["authoredOn"] = .string(FHIRTime.text(first.effective.start))
        case "MedicationAdministration", "MedicationStatement":
            o["status"] = .string(status ?? (type == "MedicationStatement" ? "active" : "completed"))
            o["medicationCodeableConcept"] = FHIRValues.codeableConcept(first.code)
            o["subject"] = subject
            setTime(&o, "effective", first.effective)
        case "DiagnosticReport":
            o["status"] = .string(status ?? "final")
            o["code"] = FHIRValues.codeableConcept(first.code)
            o["subject"] = subject
            setTime(&o, "effective", first.effective)
        default:
            // Events from other sources (devices, notes): observations of the twin.
            o["resourceType"] = "Observation"
            o["status"] = "final"
            o["code"] = FHIRValues.codeableConcept(first.code)
            o["subject"] = subject
            setTime(&o, "effective", first.effective)
            setValue(&o, first.value, span: first.effective)
            o["device"] = first.source.kind == .device ? ["display": .string(first.source.description)] : nil
        }
        // when the source recorded it: the type's own element (Observation.issued, ...), else meta.lastUpdated
        if let t = first.provenance.sourceRecorded {
            if let n = RecordSpec.recordedElement(of: o["resourceType"]?.stringValue ?? type) {
                if o[n] == nil { o[n] = .string(FHIRTime.text(t)) }
            } else {
                var m = o["meta"]?.objectValue ?? JSONObject()
                m["lastUpdated"] = .string(FHIRTime.text(t))
                o["meta"] = .object(m)
            }
        }
        return .object(o)
    }

    /// A prediction (Observation) or alert (RiskAssessment) with its Provenance.
    static func modelOutput(_ e: Event, subject: JSONValue) -> [JSONValue] {
        let id = e.id.abbreviated(32)
        var o: JSONObject
        let type: String
        if e.category == .alert {
            type = "RiskAssessment"
            o = ["resourceType": "RiskAssessment", "id": .string(id), "meta": ["tag": [modelOutputTag]], "status": "final",
                 "subject": subject, "occurrenceDateTime": .string(FHIRTime.text(e.effective.start))]
            var prediction: JSONObject = ["outcome": FHIRValues.codeableConcept(e.code)]
            if case .quantity(let q)? = e.value, q.unit == "1" || q.unit == "%" {
                let p = q.unit == "%" ? q.value / 100 : q.value
                if p >= 0 && p <= 1 { prediction["probabilityDecimal"] = .number(p) }
            }
            if case .text(let s)? = e.value { prediction["rationale"] = .string(s) }
            o["prediction"] = [.object(prediction)]
        } else {
            type = "Observation"
            o = ["resourceType": "Observation", "id": .string(id), "meta": ["tag": [modelOutputTag]], "status": "preliminary",
                 "code": FHIRValues.codeableConcept(e.code), "subject": subject]
            setTime(&o, "effective", e.effective)
            setValue(&o, e.value, span: e.effective)
        }
        let p = e.provenance
        var agentWho: JSONObject = ["display": .string([p.model, p.modelVersion].compactMap { $0 }.joined(separator: "@").isEmpty ? e.source.description : [p.model, p.modelVersion].compactMap { $0 }.joined(separator: "@"))]
        agentWho["identifier"] = ["system": "urn:twinbank:source", "value": .string(e.source.description)]
        var prov: JSONObject = ["resourceType": "Provenance", "id": .string("prov-" + id),
                                "target": [["reference": .string("\(type)/\(id)")]],
                                "recorded": .string(FHIRTime.text(e.recorded)),
                                "agent": [["type": ["coding": [["system": "http://terminology.hl7.org/CodeSystem/provenance-participant-type", "code": "assembler"]]],
                                           "who": .object(agentWho)]]]
        if !p.derivedFrom.isEmpty {
            prov["entity"] = .array(p.derivedFrom.map { h in
                ["role": "derivation", "what": ["identifier": ["system": "urn:twinbank:event", "value": .string(h.hex)]]]
            })
        }
        var ext: [JSONValue] = []
        if let s = p.seed { ext.append(["url": "urn:twinbank:seed", "valueString": .string(String(s))]) }
        if let ph = p.parametersHash { ext.append(["url": "urn:twinbank:parameters-hash", "valueString": .string(ph)]) }
        if !ext.isEmpty { prov["extension"] = .array(ext) }
        return [.object(o), .object(prov)]
    }
}
