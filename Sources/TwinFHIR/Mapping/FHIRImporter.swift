import Foundation
import TwinBank
import TwinCore

/// What an import did.
public struct ImportReport: Sendable, Hashable, Codable {
    public var files = 0
    public var personsCreated = 0
    public var personsUpdated = 0
    public var organisationsCreated = 0
    public var twinsUnchanged = 0
    public var eventsAppended = 0
    /// Events that were already in the bank (same content hash): a re-import adds nothing.
    public var eventsAlreadyPresent = 0
    public var recordsCreated = 0
    public var recordsAlreadyPresent = 0
    /// Entries of types that do not map to twins, by resource type.
    public var skipped: [String: Int] = [:]
    /// Batch entries that failed (the rest of their batch was imported).
    public var failures: [String] = []
    /// Files refused whole (invalid FHIR, unreadable), each with its error, when
    /// ``FHIRImporter/stopAtFirstRefusedFile`` is false; the other files were imported.
    public var refusedFiles: [String] = []
    /// Events left out under `FHIRImporter.beforeBirth == .skip`: the entry and the reason.
    public var eventsSkipped: [String] = []
    /// Values flagged or set aside (see ``ImportIssue``), in the order met.
    public var issues: [ImportIssue] = []
    /// Per patient (twin id): events imported, flagged and set aside.
    public var patients: [String: PatientImportCounts] = [:]

    public init() {}

    mutating func add(_ o: ImportReport) {
        files += o.files; personsCreated += o.personsCreated; personsUpdated += o.personsUpdated
        organisationsCreated += o.organisationsCreated; twinsUnchanged += o.twinsUnchanged
        eventsAppended += o.eventsAppended; eventsAlreadyPresent += o.eventsAlreadyPresent
        recordsCreated += o.recordsCreated; recordsAlreadyPresent += o.recordsAlreadyPresent
        for (k, v) in o.skipped { skipped[k, default: 0] += v }
        failures += o.failures
        refusedFiles += o.refusedFiles
        eventsSkipped += o.eventsSkipped
        issues += o.issues
        for (k, v) in o.patients {
            patients[k, default: PatientImportCounts()].imported += v.imported
            patients[k, default: PatientImportCounts()].flagged += v.flagged
            patients[k, default: PatientImportCounts()].setAside += v.setAside
        }
    }
}

/// Imports FHIR R4 JSON files (Bundles of type transaction, batch or collection, or single resources) into a
/// bank, file by file (so memory is bounded by the largest file, never by the whole set).
///
/// Guarantees: a file is parsed, validated and fully planned (references resolved, units checked) before
/// anything is written, so a malformed or invalid file writes nothing. The events of a transaction go to the
/// bank in one append batch (all or none). Re-importing the same file changes nothing: twins that are equal are
/// left alone, organisations and practitioners are created only if absent (conditional create by identifier),
/// and events whose content hash is already in the thread are skipped.
///
/// Each unit (a transaction or collection bundle, a single resource, or one entry of a batch) is written
/// through one bank transaction (``TwinBank/Bank/write(_:)``): twins, events and records together or not at all.
public struct FHIRImporter: Sendable {
    public let bank: Bank
    public var planner = ImportPlanner()
    /// Files larger than this are read entry by entry (`BundleStream`) instead of whole, so memory stays
    /// bounded by the largest entry (and `entriesPerWrite` planned entries) whatever the file's size.
    public var streamingThreshold = 64 * 1024 * 1024
    /// When streaming, how many entries are planned before they are written (inside the same transaction
    /// for a transaction bundle).
    public var entriesPerWrite = 2_000

    /// What to do with a record dated before the patient's birth (the bank refuses such events; Synthea has a
    /// few, e.g. medication requests decades before birth).
    public enum BeforeBirth: Sendable { case reject, skip }
    /// `.skip` (the default) leaves such events out and lists them in `ImportReport.eventsSkipped`;
    /// `.reject` fails the whole transaction.
    public var beforeBirth: BeforeBirth = .skip
    /// All or nothing, as before data-quality handling (`twinbank fhir import --strict`): a value whose unit
    /// cannot be read or does not fit its code, a record that cannot be sound data (`FHIRError.Code.notImportable`:
    /// no time, no usable code, no patient, an absent or bounded value, withdrawn), or an event the bank refuses,
    /// refuses the whole transaction.
    /// When false (the default) such values are set aside and listed in ``ImportReport/issues``, values the
    /// bank stores with a flag are listed as flagged, and the rest is imported. What makes a bundle invalid
    /// FHIR (a broken reference, a missing required element) refuses it either way.
    public var strict: Bool {
        get { planner.strict }
        set { planner.strict = newValue }
    }

    /// When true (the default), ``importPaths(_:progress:)`` stops at the first file that is refused; when false
    /// (`twinbank fhir import` without `--strict`) a refused file is listed in ``ImportReport/refusedFiles`` with
    /// its error and the other files are imported: one invalid bundle does not keep the other patients out.
    public var stopAtFirstRefusedFile = true

    public init(bank: Bank) { self.bank = bank }

    /// Imports every `.json` file of the given files and directories (directories not recursively, sorted by
    /// name). Stops at the first file that fails (earlier files stay imported), naming the file, unless
    /// ``stopAtFirstRefusedFile`` is false: then each refused file is listed in ``ImportReport/refusedFiles`` and
    /// the others are imported. A path that does not exist is an error before anything is imported. Tells
    /// `progress` before each file (unit "files").
    public func importPaths(_ paths: [String], progress: any ProgressReporter = SilentProgress()) throws(FHIRError) -> ImportReport {
        var files: [String] = []
        for p in paths {
            var isDir: ObjCBool = false
            guard FileManager.default.fileExists(atPath: p, isDirectory: &isDir) else {
                throw FHIRError(.io, "no such file or directory", value: p, file: p)
            }
            if isDir.boolValue {
                let names = ((try? FileManager.default.contentsOfDirectory(atPath: p)) ?? []).filter { $0.hasSuffix(".json") }.sorted()
                // Shared records (hospitals, practitioners) first, so patient bundles find them.
                let shared = names.filter { $0.contains("Information") }
                files += (shared + names.filter { !$0.contains("Information") }).map { (p as NSString).appendingPathComponent($0) }
            } else {
                files.append(p)
            }
        }
        var report = ImportReport()
        defer { progress.finish() }
        for (i, f) in files.enumerated() {
            progress.update(done: i, of: files.count, unit: "files")
            do throws(FHIRError) {
                report.add(try importFile(f))
            } catch {
                if stopAtFirstRefusedFile { throw error }
                report.refusedFiles.append(error.description)
            }
        }
        return report
    }

    public func importFile(_ path: String) throws(FHIRError) -> ImportReport {
        let name = (path as NSString).lastPathComponent
        let attrs = try? FileManager.default.attributesOfItem(atPath: path)
        do throws(FHIRError) {
            var r: ImportReport
            if let size = (attrs?[.size] as? NSNumber)?.intValue, size > streamingThreshold {
                r = try importStreaming(path)
            } else {
                guard let data = FileManager.default.contents(atPath: path) else {
                    throw FHIRError(.io, "cannot read the file", value: path, file: path)
                }
                let tree = try JSONReader().read([UInt8](data))
                let origin = "bundle:" + (tree["resourceType"]?.stringValue == "Bundle" ? (tree["id"]?.stringValue ?? Self.uriSafe(name)) : Self.uriSafe(name))
                r = try importResource(tree, origin: origin)
            }
            r.files = 1
            return r
        } catch {
            var e = error
            e.file = path
            throw e
        }
    }

    static func uriSafe(_ s: String) -> String {
        var out = ""
        for u in s.unicodeScalars {
            if u == " " || u == "%" || u.value < 0x21 { out += String(format: "%%%02X", u.value) } else { out.unicodeScalars.append(u) }
        }
        return out
    }

    /// Plans and writes one parsed resource or bundle.
    public func importResource(_ tree: JSONValue, origin: String) throws(FHIRError) -> ImportReport {
        try importResource(tree, origin: origin, precondition: nil)
    }

    /// Plans and writes one parsed resource or bundle; for a resource or a transaction (all or nothing),
    /// `precondition` runs first inside the same bank transaction as the writes (once, even when the bundle writes
    /// nothing), so a check it makes of the bank's state (a conditional update's `If-Match`) holds for the writes: if
    /// it throws, nothing is written and its error is rethrown (a ``FHIRError`` as it is, any other error as
    /// ``FHIRError/Code-swift.struct/bank``). For a batch it is not called (each entry is its own transaction):
    /// `entryPrecondition` runs instead inside each entry's own transaction, given the entries the unit stands for
    /// (their fullUrls, else `Bundle.entry[i].resource`); if it throws, that entry writes nothing and its error is one of
    /// the report's failures, and the other entries go on.
    public func importResource(_ tree: JSONValue, origin: String, precondition: ((BankWriter) throws -> Void)?,
                               entryPrecondition: (([String], BankWriter) throws -> Void)? = nil) throws(FHIRError) -> ImportReport {
        let plan = try planner.plan(tree, origin: origin)
        var report = ImportReport()
        report.skipped = plan.skipped
        report.failures = plan.failures.map(\.description)
        if plan.atomicity == .allOrNothing, plan.units.isEmpty, let precondition {
            do { try bank.write { w in try precondition(w) } } catch let e as FHIRError { throw e } catch { throw bankError(error, entry: nil) }
        }
        for unit in plan.units {
            switch plan.atomicity {
            case .allOrNothing:
                report.add(try apply(unit, precondition: precondition))
            case .perEntry:
                let entries = unit.entries
                let check = entryPrecondition.map { p in { (w: BankWriter) throws in try p(entries, w) } }
                do throws(FHIRError) { report.add(try apply(unit, precondition: check)) } catch { report.failures.append(error.description) }
            }
        }
        return report
    }

    func bankError(_ error: any Error, entry: String?) -> FHIRError {
        FHIRError.bank(error, "the bank refused the import: ", fullUrl: entry)
    }

    func apply(_ unit: ImportPlan.Unit, precondition: ((BankWriter) throws -> Void)?) throws(FHIRError) -> ImportReport {
        do {
            return try bank.write { w in
                try precondition?(w)
                return try apply(unit, w)
            }
        } catch let e as FHIRError {
            throw e
        } catch {
            throw bankError(error, entry: unit.entries.first)
        }
    }

    /// Checks and writes one unit through one bank transaction: if anything fails, nothing of it is written.
    func apply(_ unit: ImportPlan.Unit, _ w: BankWriter) throws -> ImportReport {
        var report = ImportReport()
        for issue in unit.setAside { report.record(issue) }
        var cache: [TwinID: Twin?] = [:]
        func existing(_ id: TwinID) throws -> Twin? {
            if let t = cache[id] { return t }
            let t = try w.twin(id)?.twin
            cache[id] = t
            return t
        }
        for req in unit.requiredTwins where !unit.twins.contains(where: { $0.id == req.twin }) {
            if try existing(req.twin) == nil {
                throw FHIRError(.danglingReference, "the subject 'Patient/\(req.twin)' is neither in the bundle nor a twin of the bank", location: req.path, value: req.twin.rawValue, fullUrl: req.fullUrl)
            }
        }
        var known: [TwinID: Twin] = [:]
        var twinExisted = Set<TwinID>()
        for t in unit.twins {
            if known[t.id] != nil { continue }
            if let old = try existing(t.id) {
                twinExisted.insert(t.id)
                known[t.id] = old
                if t.kind == .person && old != t {
                    guard old.kind == .person else {
                        throw FHIRError(.bank, "twin '\(t.id)' exists and is a \(old.kind) twin, not a person", value: t.id.rawValue)
                    }
                    try w.updateTwin(t)
                    report.personsUpdated += 1
                    known[t.id] = t
                } else {
                    report.twinsUnchanged += 1
                }
            } else {
                try w.createTwin(t)
                if t.kind == .person { report.personsCreated += 1 } else { report.organisationsCreated += 1 }
                known[t.id] = t
            }
        }
        var keep = [Bool](repeating: true, count: unit.events.count)
        for (k, d) in unit.events.enumerated() {
            let twin: Twin?
            if let t = known[d.twin] { twin = t } else { twin = try existing(d.twin); known[d.twin] = twin; if twin != nil { twinExisted.insert(d.twin) } }
            if let start = twin?.existenceStart, d.effective.start < start {
                let e = FHIRError(.invalidResource, "the record's time \(d.effective.start) is before the patient was born (\(start))", value: d.effective.start.iso8601, fullUrl: unit.eventEntries[k])
                if beforeBirth == .reject { throw e }
                keep[k] = false
                report.eventsSkipped.append(e.description)
            }
        }
        // Skip events already in the bank (re-import) or repeated in the unit.
        var hasher = EventHasher()
        var present: [TwinID: Set<ContentHash>] = [:]
        for id in twinExisted {
            present[id] = Set(try w.events(ThreadQuery(twin: id, includeRetracted: true)).map(\.id))
        }
        var seen = Set<ContentHash>()
        var drafts: [EventDraft] = []
        var origins: [Int] = []
        drafts.reserveCapacity(unit.events.count)
        for (k, d) in unit.events.enumerated() where keep[k] {
            // The bank stores an implausible observation with its flag note, which is part of its content hash:
            // hash it as the bank will store it, so a re-import finds it present.
            var stored = d
            if d.category == .observation, !d.provenance.isFlaggedImplausible, let why = Plausibility.problem(d.value, for: d.code) {
                stored.provenance.flagImplausible(why)
            }
            let h = hasher.hash(stored)
            if present[d.twin]?.contains(h) == true || !seen.insert(h).inserted { report.eventsAlreadyPresent += 1; continue }
            drafts.append(d)
            origins.append(k)
        }
        if !drafts.isEmpty { try append(drafts, origins: origins, of: unit, w, into: &report) }
        // Practitioners, locations, devices and medications are kept as FHIR records (content-addressed
        // documents named `fhir/TYPE/<hash of identifier>`), created only if absent.
        for r in unit.records {
            if try w.storeRecordIfAbsent(named: Self.recordName(type: r.resourceType, key: r.key), kind: "fhir", bytes: JSONWriter().write(r.json)) {
                report.recordsCreated += 1
            } else {
                report.recordsAlreadyPresent += 1
            }
        }
        return report
    }

    /// Appends `drafts` (from `unit.events[origins[i]]`) and records in `report` what landed and what the bank
    /// flagged. When not ``strict`` and the bank refuses the batch for a reason of its own (a `BankError`: a
    /// wrong value type, a unit mismatch, a time it does not accept), the batch is split in halves, each appended
    /// in the same transaction (the bank checks a batch before writing any of it), down to single events: those
    /// it refuses are set aside with its reason, whatever the reason; the others are written. A long history
    /// with a few refused events costs a few appends per refusal, not one per event.
    func append(_ drafts: [EventDraft], origins: [Int], of unit: ImportPlan.Unit, _ w: BankWriter, into report: inout ImportReport) throws {
        func landed(_ r: AppendResult, _ rows: ArraySlice<Int>) {
            for k in rows { report.patients[unit.events[k].twin.rawValue, default: PatientImportCounts()].imported += 1 }
            report.eventsAppended += r.count
            for f in r.flagged where f.row >= 1 && f.row <= rows.count {
                let k = rows[rows.startIndex + f.row - 1]
                report.record(issue(.flagged, k, of: unit, reason: f.reason, value: unit.events[k].value?.description))
            }
        }
        func appendSplitting(_ range: Range<Int>) throws {
            do {
                landed(try w.append(Array(drafts[range])), origins[range])
            } catch let refused as BankError where !strict {
                if range.count > 1 {
                    let mid = range.lowerBound + range.count / 2
                    try appendSplitting(range.lowerBound..<mid)
                    try appendSplitting(mid..<range.upperBound)
                } else if refused.code == .duplicateEvent {
                    report.eventsAlreadyPresent += 1
                } else {
                    var why = refused.message
                    for prefix in ["row 1: ", "the event (\(drafts[range.lowerBound].code.key)): "] where why.hasPrefix(prefix) { why = String(why.dropFirst(prefix.count)) }
                    report.record(issue(.setAside, origins[range.lowerBound], of: unit, reason: "the bank refused it: " + why, value: refused.value))
                }
            }
        }
        try appendSplitting(0..<drafts.count)
    }

    func issue(_ d: ImportIssue.Disposition, _ k: Int, of unit: ImportPlan.Unit, reason: String, value: String?) -> ImportIssue {
        let e = unit.events[k]
        return ImportIssue(disposition: d, patient: e.twin.rawValue, entry: unit.eventEntries[k],
                           path: k < unit.eventPaths.count ? unit.eventPaths[k] : unit.eventEntries[k],
                           code: e.code.key.description, reason: reason, value: value)
    }

    /// The bank record name of a FHIR record: `fhir/TYPE/` and a hash of its identifier.
    static func recordName(type: String, key: String) -> String {
        "fhir/\(type)/" + EventHasher.sha256(Array(key.utf8)).abbreviated(24)
    }
}
