import Foundation
import GRDB
import TwinBank
import TwinCore
import TwinGovernance

extension SQLiteStorage {
    /// Closes every connection of the storage (the write-ahead log is checkpointed and removed): it cannot be used
    /// afterwards. For a caller that moves the file (``restoreBackup(from:toNewBank:progress:temporary:beforeCommit:)`` closes the restored bank before it names it).
    public func closeConnections() throws {
        do {
            // everything into the bank file itself, so the file alone is the bank
            let busy = try pool.writeWithoutTransaction { db -> Bool in
                let row = try Row.fetchOne(db, sql: "PRAGMA wal_checkpoint(TRUNCATE)")
                return (row?[0] as Int64? ?? 1) != 0
            }
            if busy { throw BankError(.storageFailure, "cannot close the bank '\(path)': another connection keeps its write-ahead log busy", value: path) }
            try pool.close()
        } catch let e as BankError { throw e } catch {
            throw BankError(.storageFailure, "cannot close the bank '\(path)': \(SQLiteStorage.describe(error))", value: path)
        }
        let attributes = try? FileManager.default.attributesOfItem(atPath: path + "-wal")
        if let size = (attributes?[.size] as? NSNumber)?.intValue, size > 0 {
            throw BankError(.storageFailure, "the bank '\(path)' was closed with \(size) bytes still in its write-ahead log", value: path)
        }
    }

    /// Restores a backup (``TwinBank/BankBackup``) into a **new** bank file at `path`, with its audit log
    /// (``TwinGovernance/AuditLogBackup`` on ``SQLiteAuditStore``).
    ///
    /// The bank is built in a temporary file beside `path` (owner-only, like every bank file): the backup is
    /// checked whole, restored in one write transaction and its audit log after it; then `beforeCommit` runs on the
    /// restored storage (the command asks the restored bank's gate there, so the decision is recorded in the
    /// restored audit log, and a deny throws); then the storage is closed and the file takes the name `path` with a
    /// hard link that fails if the name appeared meanwhile. Any failure removes the temporary file (and its `-wal`
    /// and `-shm`): no file is left at `path`, and nothing existing is overwritten.
    /// - Parameter temporary: told the temporary file's path before it is created (an interrupt handler that exits
    ///   the process removes it, with its `-wal` and `-shm`).
    /// - Throws: ``TwinBank/BankError`` `bankExists` when something is at `path`, `invalidBackup` (truncated,
    ///   altered, not a backup), what `beforeCommit` throws, and the storage's errors.
    @discardableResult
    public static func restoreBackup(from backup: String, toNewBank path: String, progress: any ProgressReporter = SilentProgress(),
                                     temporary: (String) -> Void = { _ in },
                                     beforeCommit: (SQLiteStorage) throws -> Void = { _ in }) throws -> BackupSummary {
        func refuseExisting() throws {
            var st = stat()
            if lstat(path, &st) == 0 {
                throw BankError(.bankExists, "'\(path)' exists: a backup is restored only into a new bank file; give a new path (nothing was restored)", value: path)
            }
        }
        try refuseExisting()
        let slash = path.lastIndex(of: "/")
        let folder = slash.map { String(path[..<$0]) } ?? "."
        let name = slash.map { String(path[path.index(after: $0)...]) } ?? path
        guard FileManager.default.fileExists(atPath: folder.isEmpty ? "/" : folder) else {
            throw BankError(.notABank, "cannot create the bank '\(path)': the folder '\(folder)' does not exist (nothing was restored)", value: path)
        }
        let tmp = (folder.isEmpty ? "" : folder + "/") + ".\(name).restore-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        func removeTemporary() { for f in [tmp, tmp + "-wal", tmp + "-shm"] { unlink(f) } }
        temporary(tmp)
        do {
            var storage: SQLiteStorage? = try SQLiteStorage.createNew(path: tmp)
            let summary = try BankBackup.restore(from: backup, into: storage!, attachments: [AuditLogBackup(store: SQLiteAuditStore(storage!)), JobRecordBackup(store: SQLiteJobRecordStore(storage!)),
                                                               WebhookCursorBackup(store: SQLiteWebhookCursorStore(storage!), storage: storage!)],
                                                 progress: progress)
            try beforeCommit(storage!)
            try storage!.closeConnections()
            storage = nil
            try refuseExisting()
            guard link(tmp, path) == 0 else {
                let e = errno
                if e == EEXIST {
                    throw BankError(.bankExists, "'\(path)' appeared while the backup was restored: nothing was overwritten (nothing was restored)", value: path)
                }
                throw BankError(.storageFailure, "cannot create the bank '\(path)': \(String(cString: strerror(e))) (nothing was restored)", value: path)
            }
            removeTemporary()
            return summary
        } catch {
            removeTemporary()
            throw error
        }
    }
}
