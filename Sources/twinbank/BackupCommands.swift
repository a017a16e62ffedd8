import ArgumentParser
import Foundation
import TwinBank
import TwinBankAccess
import TwinBankSQLite
import TwinCore
import TwinGovernance

/// `twinbank backup`: a consistent backup of the whole bank (``TwinBank/BankBackup``), asked of the gate as a
/// bank-wide `export`.
struct BackupCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backup",
        abstract: "Write a consistent backup of the whole bank (twins, threads, commits, aggregates, the audit log, the server's job records and webhook cursors) to a new file.",
        discussion: "Read in one transaction; written to a temporary file that takes its name only when complete. Restore it with `twinbank restore FILE --bank NEW`.")
    @OptionGroup var bankOptions: BankOptions
    @Option(help: "The backup file to write (a new file: an existing file or folder is refused).") var out: String
    @OptionGroup var output: OutputOptions

    func run() throws {
        let bank = try bankOptions.open()
        let location = try BankLocation(bankOptions.path)
        guard let auditStore = BankLocation.auditStore(of: bank.storage) else { throw ValidationError("--bank: this bank keeps no audit log to back up") }
        Interruption.install(Interruption.nothingWritten)
        // the source as its location names it (a PostgreSQL URL without its password)
        // the server's job records (`server_jobs`) and webhook cursors (`webhook_cursors`) beside the audit log
        let jobs: [any BackupAttachment] = BankLocation.jobRecordStore(of: bank.storage).map { [JobRecordBackup(store: $0)] } ?? []
        let webhooks: [any BackupAttachment] = BankLocation.webhookCursorStore(of: bank.storage).map { [WebhookCursorBackup(store: $0)] } ?? []
        let summary = try bank.backup(to: out, attachments: [AuditLogBackup(store: auditStore)] + jobs + webhooks, source: location.description,
                                      progress: TerminalProgress.make("backup", json: output.json))
        if output.json { try printJSON(summary); return }
        print("backed up \(location) to \(out): \(BackupCommand.describe(summary.counts)), up to sequence \(summary.lastSequence)")
        print("sha256 \(summary.sha256)")
    }

    static func describe(_ c: BackupCounts) -> String {
        "\(c.events) event(s) in \(c.batches) batch(es), \(c.objects) object(s), \(c.refs) reference(s), \(c.units) unit(s), \(c.attachments["audit", default: 0]) audit record(s), \(c.attachments["jobs", default: 0]) job record(s), \(c.attachments["webhooks", default: 0]) webhook cursor(s)"
    }
}

/// `twinbank restore FILE --bank NEW`: a backup into a new bank file, asked of the restored bank's gate as `import`
/// (its policy is the backup's), the decision recorded in the restored audit log.
struct RestoreCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "restore",
        abstract: "Restore a backup into a new bank (a new file, or an empty PostgreSQL database): checked whole first (a truncated or altered backup is refused).",
        discussion: """
            A file bank is built in a temporary file beside --bank and named only when complete; an existing path is never \
            overwritten. A PostgreSQL bank is restored into a database that holds no bank (its content in one transaction). \
            A backup with an audit log needs the source bank's audit key beside the new bank (copy the \
            folder SOURCE.keys to NEW.keys first), so the restored log verifies and continues under the same key.
            """)
    @Argument(help: "The backup file (written by `twinbank backup`).") var file: String
    @OptionGroup var bankOptions: BankOptions
    @OptionGroup var output: OutputOptions

    func run() throws {
        let location = try BankLocation(bankOptions.path)
        let path = location.description
        if case .sqlite(let file) = location {
            var st = stat()
            if lstat(file, &st) == 0 {
                throw BankError(.bankExists, "'\(file)' exists: a backup is restored only into a new bank file; give a new path (nothing was restored)", value: file)
            }
        }
        let checked = try BankBackup.verify(path: file)
        let keyFile = location.auditKeyFile()
        let keysFolder = (keyFile.path as NSString).deletingLastPathComponent
        let hadKeys = FileManager.default.fileExists(atPath: keysFolder)
        let hasAuditLog = checked.counts.attachments["audit", default: 0] > 0
        let sourceKeys = checked.source.map { "\($0).keys" } ?? "the source bank's keys folder"
        if hasAuditLog && !keyFile.exists {
            throw GovernanceError(.invalidKey, "the backup's audit log is signed with the source bank's audit key, and there is none at \(keyFile.path): copy \(sourceKeys) to \(keysFolder) (owner-only), so the restored log verifies and continues under the same key (nothing was restored)", value: keyFile.path)
        }
        let actor = bankOptions.actor, purpose = bankOptions.purpose
        /// The restored log verifies with the bank's key, and the restored bank's own gate permits the import.
        func admit(_ storage: any BankStorage, _ auditStore: any AuditStore) throws {
            let signer = try AuditSigner(keyFile: keyFile)
            let log = try AuditLog(store: auditStore, signer: signer)
            if hasAuditLog {
                do { _ = try log.verify(publicKey: signer.publicKey) } catch let e as GovernanceError {
                    throw GovernanceError(.invalidKey, "the restored audit log does not verify with the key at \(keyFile.path) (\(e.message)): copy \(sourceKeys) there (nothing was restored)", value: keyFile.path)
                }
            }
            let gate = GovernedGate(store: BankGovernanceStore(storage: storage), log: log, owner: actor)
            try Bank(storage: storage, gate: gate, actor: actor, purpose: purpose).authorize(.import, nil)
        }
        let summary: BackupSummary
        do {
            switch location {
            case .sqlite(let file):
                Interruption.install("nothing restored (the bank is built in a temporary file and named only when complete)")
                summary = try SQLiteStorage.restoreBackup(from: self.file, toNewBank: file, progress: TerminalProgress.make("restore", json: output.json),
                                                          temporary: { tmp in Interruption.temporaries.withLock { $0 += [tmp, tmp + "-wal", tmp + "-shm"] } }) { storage in
                    try admit(storage, SQLiteAuditStore(storage))
                }
            case .postgres:
                // the bank's content is one transaction into a database that holds no bank yet (createNew refuses one
                // that does); the audit log follows it, then the restored bank's gate is asked
                Interruption.install("the database holds the bank's schema and at most the part of the restore that committed; drop and recreate the database before restoring again")
                let opened = try location.createNew()
                summary = try BankBackup.restore(from: self.file, into: opened.storage, attachments: [AuditLogBackup(store: opened.auditStore)] + (BankLocation.jobRecordStore(of: opened.storage).map { [JobRecordBackup(store: $0)] } ?? [])
                                                     + (BankLocation.webhookCursorStore(of: opened.storage).map { [WebhookCursorBackup(store: $0, storage: opened.storage)] } ?? []),
                                                 progress: TerminalProgress.make("restore", json: output.json))
                try admit(opened.storage, opened.auditStore)
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
