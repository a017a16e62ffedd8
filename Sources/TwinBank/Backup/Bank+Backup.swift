import Foundation
import TwinCore

extension Bank {
    /// Writes a backup of the **whole** bank (``BankBackup``) to a new file at `path`, after asking the gate for
    /// `export` bank-wide (a backup reads every twin; the decision is recorded like any other). The storage is read
    /// in one read transaction; `attachments` (the audit log) are read after it.
    /// - Throws: ``BankError`` `accessDenied` (nothing written), ``TwinCore/TwinError`` `outputExists` or
    ///   `cannotWrite` naming the path, and the storage's errors; a failure leaves no file.
    @discardableResult
    public func backup(to path: String, attachments: [any BackupAttachment] = [], source: String? = nil,
                       progress: any ProgressReporter = SilentProgress()) throws -> BackupSummary {
        try BankBackup.checkNewFile(path)
        try authorize(.export, nil)
        return try BankBackup.write(from: storage, to: path, attachments: attachments, source: source, progress: progress, clock: clock)
    }
}
