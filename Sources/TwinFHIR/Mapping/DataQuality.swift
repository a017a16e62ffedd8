import TwinCore

/// A value of an imported bundle that was not imported as sound data: either stored with a data-quality flag
/// (``Disposition/flagged``: in the thread, visible, kept out of model inputs) or set aside
/// (``Disposition/setAside``: not written, listed here with the reason).
public struct ImportIssue: Sendable, Hashable, Codable {
    public enum Disposition: String, Sendable, Hashable, Codable {
        /// Stored with a flag note (`flag:implausible (REASON)`), so queries and models leave it out.
        case flagged
        /// Not written: its unit cannot be read or does not fit its code, or the bank refused the event.
        case setAside = "set-aside"
    }
    public var disposition: Disposition
    /// The twin (Patient id) the value belongs to; empty for a record with no patient as its subject.
    public var patient: String
    /// The bundle entry's fullUrl (its path when it has none).
    public var entry: String
    /// FHIR path of the element at fault (`Bundle.entry[3].resource.component[0].valueQuantity.code`).
    public var path: String
    /// The code of the value (`http://loinc.org|8480-6`).
    public var code: String
    /// Why it was flagged or set aside.
    public var reason: String
    /// The offending value (a unit text, a number), when known.
    public var value: String?

    public init(disposition: Disposition, patient: String, entry: String, path: String, code: String, reason: String, value: String? = nil) {
        self.disposition = disposition; self.patient = patient; self.entry = entry; self.path = path
        self.code = code; self.reason = reason; self.value = value
    }
}

/// Per patient counts of an import: events imported (of which flagged) and values set aside.
public struct PatientImportCounts: Sendable, Hashable, Codable {
    /// Events appended (including flagged ones).
    public var imported = 0
    /// Appended events stored with a data-quality flag.
    public var flagged = 0
    /// Values not written (see ``ImportIssue/Disposition/setAside``).
    public var setAside = 0
    public init() {}
}

extension ImportReport {
    /// Issues with the given disposition.
    public func issues(_ d: ImportIssue.Disposition) -> [ImportIssue] { issues.filter { $0.disposition == d } }

    /// One line for every import: how many events were imported, flagged and set aside.
    public var dataQualitySummary: String {
        "data quality: \(eventsAppended) event(s) imported, \(issues(.flagged).count) flagged, \(issues(.setAside).count) set aside"
            + (patients.isEmpty ? "" : " (\(patients.count) patient(s))")
    }

    /// The report as a FHIR R4 `OperationOutcome`: one `information` issue summarising the import, then one
    /// issue per flagged value (`warning`, code `business-rule`) and per value set aside (`error`, code `value`),
    /// each with the entry's fullUrl and the reason in `diagnostics` and the FHIR path in `expression`.
    public func operationOutcome() -> JSONValue {
        var out: [JSONValue] = [[
            "severity": "information", "code": "informational",
            "diagnostics": .string(dataQualitySummary),
        ]]
        for i in issues {
            let flagged = i.disposition == .flagged
            out.append([
                "severity": .string(flagged ? "warning" : "error"),
                "code": .string(flagged ? "business-rule" : "value"),
                "details": ["text": .string("\(i.disposition.rawValue): " + (i.patient.isEmpty ? "no patient" : "patient \(i.patient)") + (i.code.isEmpty ? "" : ", \(i.code)"))],
                "diagnostics": .string("entry \(i.entry): \(i.reason)" + (i.value.map { " (value '\($0)')" } ?? "")),
                "expression": .array([.string(i.path)]),
            ])
        }
        return ["resourceType": "OperationOutcome", "issue": .array(out)]
    }

    /// The report file of `twinbank fhir import --report FILE`: the counts, per patient what was imported,
    /// flagged and set aside, every issue (entry, path, code, reason), and the same as an `OperationOutcome`.
    public func reportJSON() -> JSONValue {
        func n(_ x: Int) -> JSONValue { .number(String(x)) }
        var pats = JSONObject()
        for (id, c) in patients.sorted(by: { $0.key < $1.key }) {
            let mine = issues.filter { $0.patient == id }
            pats[id] = [
                "imported": n(c.imported), "flagged": n(c.flagged), "setAside": n(c.setAside),
                "issues": .array(mine.map(Self.json)),
            ]
        }
        return [
            "files": n(files), "eventsImported": n(eventsAppended), "eventsAlreadyPresent": n(eventsAlreadyPresent),
            "flagged": n(issues(.flagged).count), "setAside": n(issues(.setAside).count),
            "failedEntries": .array(failures.map { .string($0) }),
            "refusedFiles": .array(refusedFiles.map { .string($0) }),
            "eventsSkippedBeforeBirth": .array(eventsSkipped.map { .string($0) }),
            "patients": .object(pats),
            "withoutPatient": .array(issues.filter { $0.patient.isEmpty }.map(Self.json)),
            "operationOutcome": operationOutcome(),
        ]
    }

    static func json(_ i: ImportIssue) -> JSONValue {
        var o: JSONObject = [
            "disposition": .string(i.disposition.rawValue), "entry": .string(i.entry), "path": .string(i.path),
            "code": .string(i.code), "reason": .string(i.reason),
        ]
        if let v = i.value { o["value"] = .string(v) }
        return .object(o)
    }

    mutating func record(_ issue: ImportIssue) {
        issues.append(issue)
        guard !issue.patient.isEmpty else { return }
        switch issue.disposition {
        case .flagged: patients[issue.patient, default: PatientImportCounts()].flagged += 1
        case .setAside: patients[issue.patient, default: PatientImportCounts()].setAside += 1
        }
    }
}
