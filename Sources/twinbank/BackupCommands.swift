import ArgumentParser
import Foundation
import TwinBank
import TwinBankSQLite
import TwinCore
import TwinGovernance

/// `twinbank backup`: a consistent backup of the whole bank (``TwinBank/BankBackup``), asked of the gate as a
/// bank-wide `export`.
struct BackupCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backup",
        abstract: "Write a consistent backup of the whole bank (twins, threads, commits, aggregates, the audit log) to a new file.",
        discussion: "Read in one transaction; written to a temporary file that takes its name only when complete. Restore it with `twinbank restore FILE --bank NEW`.")
    @OptionGroup var bankOptions: BankOptions
    @Option(help: "The backup file to write (a new file: an existing file or folder is refused).") var out: String
    @OptionGroup var output: OutputOptions

    func run() throws {
        let bank = try bankOptions.open()
        guard let storage = bank.storage as? SQLiteStorage else { throw ValidationError("--bank: the backup reads a SQLite bank's audit log; this bank is not one") }
        Interruption.install(Interruption.nothingWritten)
        let summary = try bank.backup(to: out, attachments: [AuditLogBackup(store: SQLiteAuditStore(storage))], source: bankOptions.path,
                                      progress: TerminalProgress.make("backup", json: output.json))
        if output.json { try printJSON(summary); return }
        print("backed up \(bankOptions.path) to \(out): \(BackupCommand.describe(summary.counts)), up to sequence \(summary.lastSequence)")
        print("sha256 \(summary.sha256)")
    }

    static func describe(_ c: BackupCounts) -> String {
        "\(c.events) event(s) in \(c.batches) batch(es), \(c.objects) object(s), \(c.refs) reference(s), \(c.units) unit(s), \(c.attachments["audit", default: 0]) audit record(s)"
    }
}

/// `twinbank restore FILE --bank NEW`: a backup into a new bank file, asked of the restored bank's gate as `import`
/// (its policy is the backup's), the decision recorded in the restored audit log.
struct RestoreCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "restore",
        abstract: "Restore a backup into a new bank file: checked whole first (a truncated or altered backup is refused), all or nothing.",
        discussion: """
            The bank is built in a temporary file beside --bank and named only when complete; an existing path is never \
            overwritten. A backup with an audit log needs the source bank's audit key beside the new bank (copy the \
            folder SOURCE.keys to NEW.keys first), so the restored log verifies and continues under the same key.
            """)
    @Argument(help: "The backup file (written by `twinbank backup`).") var file: String
    @OptionGroup var bankOptions: BankOptions
    @OptionGroup var output: OutputOptions

    func run() throws {
        let path = bankOptions.path
        var st = stat()
        if lstat(path, &st) == 0 {
            throw BankError(.bankExists, "'\(path)' exists: a backup is restored only into a new bank file; give a new path (nothing was restored)", value: path)
        }
        let checked = try BankBackup.verify(path: file)
        let keyFile = AuditSigner.defaultKeyFile(bank: path)
        let keysFolder = (keyFile.path as NSString).deletingLastPathComponent
        let hadKeys = FileManager.default.fileExists(atPath: keysFolder)
        let hasAuditLog = checked.counts.attachments["audit", default: 0] > 0
        let sourceKeys = checked.source.map { "\($0).keys" } ?? "the source bank's keys folder"
        if hasAuditLog && !keyFile.exists {
            throw GovernanceError(.invalidKey, "the backup's audit log is signed with the source bank's audit key, and there is none at \(keyFile.path): copy \(sourceKeys) to \(keysFolder) (owner-only), so the restored log verifies and continues under the same key (nothing was restored)", value: keyFile.path)
        }
        Interruption.install("nothing restored (the bank is built in a temporary file and named only when complete)")
        let actor = bankOptions.actor, purpose = bankOptions.purpose
        let summary: BackupSummary
        do {
            summary = try SQLiteStorage.restoreBackup(from: file, toNewBank: path, progress: TerminalProgress.make("restore", json: output.json),
                                                      temporary: { tmp in Interruption.temporaries.withLock { $0 += [tmp, tmp + "-wal", tmp + "-shm"] } }) { storage in
                let signer = try AuditSigner(keyFile: keyFile)
                let log = try AuditLog(store: SQLiteAuditStore(storage), signer: signer)
                if hasAuditLog {
                    do { _ = try log.verify(publicKey: signer.publicKey) } catch let e as GovernanceError {
                        throw GovernanceError(.invalidKey, "the restored audit log does not verify with the key at \(keyFile.path) (\(e.message)): copy \(sourceKeys) there (nothing was restored)", value: keyFile.path)
                    }
                }
                let gate = GovernedGate(store: BankGovernanceStore(storage: storage), log: log, owner: actor)
                try Bank(storage: storage, gate: gate, actor: actor, purpose: purpose).authorize(.import, nil)
            }
        } catch {
            // the keys folder a failed restore made (no bank uses it)
            if !hadKeys { try? FileManager.default.removeItem(atPath: keysFolder) }
            throw error
        }
        if output.json { try printJSON(summary); return }
        print("restored \(file) into \(path): \(BackupCommand.describe(summary.counts)), up to sequence \(summary.lastSequence)")
    }
}
