import ArgumentParser
import TwinBank
import TwinCore

struct EraseCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "erase",
        abstract: "Erase a person's twin (the right to erasure): its thread, forks, parts, derived values, definitions, aggregate memberships and records; tombstones and the audit log stay.",
        discussion: """
        To correct known-wrong data, retract it instead (`retract --erase` keeps what was measured and when).
        The twin's id stays reserved. The bank file is rebuilt afterwards so no freed byte keeps the erased values.
        """)
    @OptionGroup var bankOptions: BankOptions
    @Option(help: "The twin to erase (a person's twin, not a template).") var twin: String
    @Option(help: "Why (kept in the erasure record, e.g. the request's reference).") var reason: String
    @Flag(help: "Report what would be erased without changing anything.") var dryRun = false
    @OptionGroup var output: OutputOptions

    func run() throws {
        let bank = try bankOptions.open()
        let r = try bank.erase(twin: try TwinID(twin), reason: reason, dryRun: dryRun)
        if output.json { try printJSON(r); return }
        print(r.dryRun ? "would erase \(r.twin) (dry run: nothing changed)" : "erased \(r.twin): \(r.reason)")
        for t in r.twins {
            print("  \(t.twin) (\(t.why)): \(t.eventsPurged) event(s) purged, \(t.definitionVersionsRewritten) definition version(s) rewritten")
        }
        for (t, n) in r.derivedEventsPurged.sorted(by: { $0.key < $1.key }) {
            print("  derived events purged in \(t): \(n)")
        }
        if !r.aggregatesChanged.isEmpty {
            print("  aggregates changed: \(r.aggregatesChanged.map(\.rawValue).joined(separator: ", ")) (\(r.aggregateVersionsRewritten) version(s) rewritten)")
        }
        if !r.partsUnlinked.isEmpty { print("  no longer listing an erased twin as a part: \(r.partsUnlinked.map(\.rawValue).joined(separator: ", "))") }
        if !r.recordsRemoved.isEmpty { print("  records removed: \(r.recordsRemoved.joined(separator: ", "))") }
        print("  index rows removed: \(r.indexRowsRemoved); dictionary entries dropped: \(r.dictionaryEntriesDropped)")
        if let p = r.physical, p.applies {
            print("  file rebuilt: \(p.rebuilt ? "yes" : "no"); write-ahead log emptied: \(p.walTruncated == true ? "yes" : "no")")
            if let advice = p.advice { print("  warning: \(advice)") }
        }
    }
}
