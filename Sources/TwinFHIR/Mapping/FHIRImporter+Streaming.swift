import Foundation
import TwinBank
import TwinCore

extension FHIRImporter {
    /// Imports a Bundle file without holding it in memory, in passes over the file:
    /// 1. index every entry (fullUrl, type, id) and read the bundle's other members;
    /// 2. for a batch, validate every entry first, so an invalid file writes nothing (as in memory);
    /// 3. plan and write `entriesPerWrite` entries at a time. A transaction or collection is written in one
    ///    bank transaction (all or nothing, any size); a batch entry by entry, twins first.
    ///
    /// The result equals importing the same file in memory.
    func importStreaming(_ path: String) throws(FHIRError) -> ImportReport {
        let stream = BundleStream(path: path)
        var top = JSONObject()
        var index = ImportPlanner.BundleIndex()
        try stream.read(member: { k, v in top.members.append(JSONObject.Member(k, v)) },
                        entry: { i, e in index.add(ImportPlanner.Entry(bundleEntry: e, index: i)) })
        let name = (path as NSString).lastPathComponent
        let origin = "bundle:" + (top["id"]?.stringValue ?? Self.uriSafe(name))
        var bundle = try ImportPlanner.StreamedBundle(validator: planner.validator, top: top, index: index, origin: origin, strict: planner.strict)
        var report = ImportReport()
        if bundle.isAtomic {
            do {
                report = try bank.write { w in
                    var r = ImportReport()
                    var unit = ImportPlan.Unit()
                    try stream.read(member: { _, _ in }, entry: { i, e throws(FHIRError) in
                        try bundle.validate(i, e)
                        try bundle.map(i, e, into: &unit)
                        if unit.entries.count >= entriesPerWrite {
                            r.add(try applyConverting(unit, w))
                            unit = ImportPlan.Unit()
                        }
                    })
                    r.add(try applyConverting(unit, w))
                    return r
                }
            } catch let e as FHIRError {
                throw e
            } catch {
                throw bankError(error, entry: nil)
            }
        } else {
            try stream.read(member: { _, _ in }, entry: { i, e throws(FHIRError) in try bundle.validate(i, e) })
            // Twins first, so an entry about a patient created by another entry finds it.
            for twinsPass in [true, false] {
                try stream.read(member: { _, _ in }, entry: { i, e throws(FHIRError) in
                    let creates = ["Patient", "Organization"].contains(e["resource"]?["resourceType"]?.stringValue ?? "")
                    guard creates == twinsPass else { return }
                    var unit = ImportPlan.Unit()
                    do throws(FHIRError) {
                        try bundle.map(i, e, into: &unit)
                        report.add(try apply(unit, precondition: nil))
                    } catch {
                        report.failures.append(error.description)
                    }
                })
            }
        }
        for (k, v) in bundle.skipped { report.skipped[k, default: 0] += v }
        return report
    }

    /// `apply(_:_:)` with bank errors turned into `FHIRError`s naming the unit's first entry.
    func applyConverting(_ unit: ImportPlan.Unit, _ w: BankWriter) throws(FHIRError) -> ImportReport {
        do {
            return try apply(unit, w)
        } catch let e as FHIRError {
            throw e
        } catch {
            throw bankError(error, entry: unit.entries.first)
        }
    }
}
