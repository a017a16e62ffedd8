import Foundation
import HTTPTypes
import Hummingbird
import TwinBank
import TwinCore
import TwinFHIR
import TwinGovernance

/// `DELETE /fhir/{type}/{id}`: a record of a twin's thread leaves it by the bank's retraction, as
/// `twinbank retract --event` and `POST /api/v1/twins/{id}/retractions` do; its history keeps every version and ends
/// with the deletion.
extension FHIRFacade {
    /// The reason recorded in the retraction when the request gives none (`X-Reason`).
    static let defaultDeletionReason = "deleted through FHIR"

    /// What a `DELETE` did: the record's twin, its deletion version, and the retraction (nil when the record was
    /// already deleted: nothing was written).
    struct Deletion: Sendable {
        let twin: TwinID
        let version: FHIRVersion
        let retraction: RetractionResult?
    }

    /// `DELETE /fhir/{type}/{id}[?patient=ID]` of a record the facade maps from a thread (an Observation, a Condition,
    /// ...): its current events are retracted (one event: `retract(event:)` confined to its twin; the events of one
    /// imported FHIR record, source `record:fhir/TYPE/ID`: `retract(source:from:to:twin:)` over their times; the reason
    /// from `X-Reason`, else "deleted through FHIR"; gate action `retract`). Answers 200 with an OperationOutcome saying
    /// what was retracted and `ETag: W/"N"` of the deletion version; a record already deleted answers 200 the same way
    /// and writes nothing (FHIR's delete is idempotent). `If-Match: W/"N"` must name the current version (the deletion's
    /// for a record already deleted): 412 otherwise, checked in the retraction's own bank transaction.
    /// 404 an unknown id, 405 a type the facade does not delete (Patient, Organization, Group: a twin is erased, not
    /// deleted; RiskAssessment, Provenance: read only), 403 a token without a delete scope (`d`) or the gate's refusal.
    func delete(_ request: Request, type: String, id: String) async throws -> Response {
        let deletable = Self.searchable.map(\.type)
        guard deletable.contains(type) else {
            if Self.hasHistory(type) {
                throw ServerError(ServerError.Code("unsupportedInteraction", .methodNotAllowed),
                                  "the facade does not delete \(type)\(Self.definitionTypes.contains(type) ? " (a twin's own resource: erase the twin through governance)" : " (read only)"): DELETE takes \(deletable.joined(separator: ", "))",
                                  field: "type", value: type)
            }
            throw Self.unknownType(type)
        }
        var patient: TwinID?
        for (key, value) in request.uri.queryParameters.map({ (String($0.key), String($0.value)) }) {
            switch key {
            case "patient":
                let text = value.hasPrefix("Patient/") ? String(value.dropFirst("Patient/".count)) : value
                patient = try Self.patientID(text, field: "patient")
            case "_format": try Self.checkFormat(value)
            default: throw ServerError(.badRequest, "a delete takes no '\(key)': the parameters are patient, _format", field: key, value: key)
            }
        }
        var wanted: Int?
        if let header = request.headers[.ifMatch] {
            guard let v = Self.versionNumber(header) else {
                throw ServerError(.badRequest, "If-Match '\(header)' is not a version's ETag: give W/\"N\", N the meta.versionId read", field: "If-Match", value: header)
            }
            wanted = v
        }
        let reason = request.headers[.reason].map { $0.trimmingCharacters(in: .whitespaces) }.flatMap { $0.isEmpty ? nil : $0 } ?? Self.defaultDeletionReason
        let call = try TwinAPI.caller(purpose: request.headers[.purposeOfUse], .delete, .type(type))
        let deletion = try await served.run(call) { [patient, wanted] bank in
            try Self.retractRecord(bank, type: type, id: id, patient: patient, ifMatch: wanted, reason: reason)
        }
        let text: String
        if let r = deletion.retraction {
            text = "\(type)/\(id) deleted: \(r.eventsRetracted) event(s) of twin '\(deletion.twin)' retracted (\(reason)), the retraction at sequence \(r.sequence); version \(deletion.version.versionId) is the deletion, GET /fhir/\(type)/\(id)/_history gives every version"
        } else {
            text = "\(type)/\(id) was already deleted (version \(deletion.version.versionId)); nothing changed"
        }
        var response = Self.response(.ok, FHIROutcome.outcome(severity: "information", code: "informational", text: text, expression: nil,
                                                              errorCode: deletion.retraction == nil ? "alreadyDeleted" : "deleted"))
        response.headers[.eTag] = "W/\"\(deletion.version.versionId)\""
        return response
    }

    /// Finds `type/id` in `patient`'s thread (or the first thread of the bank's the caller may read that holds it),
    /// then, in one bank transaction, checks `ifMatch` against its current version and retracts its current events as
    /// `bank`'s actor: two deletes (or a delete and an update) from the same version cannot both pass, since the
    /// version is read through the same writer that retracts.
    static func retractRecord(_ bank: Bank, type: String, id: String, patient: TwinID?, ifMatch: Int?, reason: String) throws -> Deletion {
        var found: TwinID?
        let twins = try patient.map { [$0] } ?? bank.twinIDs()
        for twin in twins {
            guard let all = try recordVersions(bank, twin, skipRefused: patient == nil) else { continue }
            if all.contains(where: { $0.type == type && $0.id == id }) { found = twin; break }
        }
        guard let twin = found else {
            throw ServerError(ServerError.Code("unknownResource", .notFound),
                              "no \(type)/\(id) in \(patient.map { "the thread of twin '\($0)'" } ?? "the bank's threads you may read")", field: "id", value: id)
        }
        return try bank.write { w in try retractRecord(w, twin: twin, type: type, id: id, ifMatch: ifMatch, reason: reason) }
    }

    /// The versions of `type/id` in `twin`'s thread as written so far in `w`'s transaction.
    static func recordVersions(_ w: BankWriter, _ twin: TwinID, type: String, id: String) throws -> [FHIRVersion] {
        guard let definition = try w.twin(twin)?.twin else { return [] }
        let events = try w.events(ThreadQuery(twin: twin, includeRetracted: true))
        return FHIRHistory.recordVersions(twin: definition, events: events).filter { $0.type == type && $0.id == id }
    }

    /// Inside one write transaction: `type/id`'s current version in `twin`'s thread checked against `ifMatch` (412
    /// otherwise, nothing written), then its current events retracted (one event: `retract(event:)`; one imported
    /// record's events: `retract(source:from:to:twin:)` over their times), and the deletion version read back.
    static func retractRecord(_ w: BankWriter, twin: TwinID, type: String, id: String, ifMatch: Int?, reason: String) throws -> Deletion {
        guard let current = try recordVersions(w, twin, type: type, id: id).max(by: { $0.versionId < $1.versionId }) else {
            throw ServerError(ServerError.Code("unknownResource", .notFound), "no \(type)/\(id) in the thread of twin '\(twin)'", field: "id", value: id)
        }
        if let ifMatch, ifMatch != current.versionId {
            throw ServerError(.preconditionFailed,
                              "If-Match expects version \(ifMatch) of \(type)/\(id), but its current version is \(current.versionId)\(current.isDeletion ? ", a deletion" : ""): nothing was deleted; read it again and retry with its ETag",
                              field: "If-Match", value: "W/\"\(ifMatch)\"")
        }
        if current.isDeletion { return Deletion(twin: twin, version: current, retraction: nil) }
        // the record's current events: those the export maps into this resource (one event, or one imported record's)
        guard let definition = try w.twin(twin)?.twin else {
            throw ServerError(ServerError.Code("unknownResource", .notFound), "no \(type)/\(id) in the thread of twin '\(twin)'", field: "id", value: id)
        }
        var groups: [String: [Event]] = [:]
        for e in try w.events(ThreadQuery(twin: twin)) where e.category != .retraction {
            groups[FHIRExporter.recordKey(of: e), default: []].append(e)
        }
        guard let record = groups.first(where: { _, group in
            FHIRExporter.resources(twin: definition, events: group).dropFirst().contains { $0["resourceType"]?.stringValue == type && $0["id"]?.stringValue == id }
        }), let first = record.value.first else {
            throw ServerError(ServerError.Code("unknownResource", .notFound), "no current \(type)/\(id) in the thread of twin '\(twin)'", field: "id", value: id)
        }
        let events = record.value
        guard events.allSatisfy({ $0.twin == twin }) else {
            throw ServerError(.conflict, "\(type)/\(id) is inherited from twin '\(first.twin)' (twin '\(twin)' is its fork): delete it there", field: "id", value: id)
        }
        let retraction: RetractionResult
        if record.key.hasPrefix("event:") {
            retraction = try w.retract(event: .id(first.id.hex), reason: reason, twin: twin)
        } else {
            let starts = events.map(\.effective.start)
            retraction = try w.retract(source: first.source, from: starts.min()!, to: starts.max()!, twin: twin, reason: reason)
        }
        let deletion = try recordVersions(w, twin, type: type, id: id).max(by: { $0.versionId < $1.versionId }) ?? current
        return Deletion(twin: twin, version: deletion, retraction: retraction)
    }
}

extension HTTPField.Name {
    /// `X-Reason`: why a `DELETE` retracts the record (recorded in the retraction event).
    static let reason = HTTPField.Name("X-Reason")!
}
