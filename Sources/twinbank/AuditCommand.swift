import ArgumentParser
import Foundation
import TwinBankSQLite
import TwinBank
import TwinBankAccess
import TwinCore
import TwinFHIR
import TwinGovernance

/// `twinbank audit`: the bank's tamper-evident log of access decisions (TwinGovernance's ``AuditLog``).
struct AuditCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit",
        abstract: "The tamper-evident audit log of access decisions: verify it, prove an entry, show the signed head, list entries.",
        subcommands: [Verify.self, Prove.self, Head.self, Log.self, Export.self])

    /// `--public-key FILE`: the key that checks the signed heads.
    struct KeyOptions: ParsableArguments {
        @Option(help: "The audit public key file (64 hex digits; default: <bank>.keys/audit-signing.key.pub, written when the signing key was made).")
        var publicKey: String?

        func key(bank: String?) throws -> AuditSigner.PublicKey {
            if let publicKey { return try AuditSigner.PublicKey(file: publicKey) }
            guard let bank else { throw ValidationError("--public-key: give the audit public key file (or --bank, to use the one beside the bank)") }
            return try AuditSigner.PublicKey(file: AuditSigner.publicKeyPath(for: try BankLocation(bank).auditKeyFile()))
        }
    }

    /// Opens the bank's audit log for reading (no signing key needed).
    static func open(_ bank: BankOptions) throws -> AuditLog {
        try AuditLog(store: try BankLocation(bank.path).open(create: false).auditStore, signer: nil)
    }

    /// Asks the bank's gate before entries are shown (the asking is itself audited): the entries about one twin are
    /// that twin's accounting of disclosures, shown to whoever may `read` the twin (the patient on their own, a
    /// clinician for treatment ...); the whole log, or an entry about no twin, needs `administer`. (`verify` and
    /// `head` show no entry, only counts, hashes and signatures: anyone with the file may check the log.)
    static func permit(_ bank: BankOptions, twin: String?) throws {
        let b = try bank.open()
        if let twin { try b.authorize(.read, try TwinID(twin)) } else { try b.authorize(.administer, nil) }
    }

    struct Verify: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Recompute the whole log from its rows and check the Merkle tree, every signed head and their consistency; names the first altered entry.")
        @OptionGroup var bankOptions: BankOptions
        @OptionGroup var keyOptions: KeyOptions
        @OptionGroup var output: OutputOptions

        func run() throws {
            let log = try AuditCommand.open(bankOptions)
            if try log.latestHead() == nil && log.entries(matching: AuditQuery(limit: 1)).isEmpty {
                // nothing signed yet, so no key to check against (it is made with the first entry)
                if output.json { print(AuditJSON.render(["verified": true, "entries": 0, "heads": 0, "root": Merkle.emptyRoot.hex] as [String: Any])); return }
                print("audit log verified: it is empty")
                return
            }
            let key = try keyOptions.key(bank: bankOptions.path)
            let report = try log.verify(publicKey: key)
            if output.json {
                print(AuditJSON.render(["verified": true, "entries": report.entries, "heads": report.heads, "root": report.root.hex, "publicKey": key.hex] as [String: Any]))
                return
            }
            print("audit log verified: \(report.entries) entries, \(report.heads) signed head\(report.heads == 1 ? "" : "s"), root \(report.root.hex), signed by \(key.hex)")
        }
    }

    struct Prove: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print an entry with its Merkle inclusion proof and the signed head; or check a saved proof offline (--verify FILE).")
        @OptionGroup var bankOptions: BankOptions
        @Option(help: "The entry's sequence number (from 0).") var entry: UInt64?
        @Option(help: "Prove against the tree of the first M entries (default: the whole log, with its signed head).") var size: UInt64?
        @Option(help: "Check a proof saved with `audit prove --json` instead: needs only the public key.") var verify: String?
        @OptionGroup var keyOptions: KeyOptions
        @OptionGroup var output: OutputOptions

        func validate() throws {
            if verify == nil && entry == nil { throw ValidationError("--entry: give the entry to prove (or --verify FILE to check a saved proof)") }
            if verify != nil && (entry != nil || size != nil) { throw ValidationError("--verify checks a saved proof: it takes no --entry or --size") }
        }

        func run() throws {
            if let verify {
                guard let text = try? String(contentsOfFile: verify, encoding: .utf8) else {
                    throw ValidationError("--verify: cannot read '\(verify)'")
                }
                let proof = try InclusionProof(json: text)
                let key = try keyOptions.key(bank: bankOptions.bank ?? (proof.head == nil ? nil : bankOptions.path))
                try proof.verify(publicKey: proof.head == nil && keyOptions.publicKey == nil ? nil : key)
                let signed = proof.head == nil ? "against root \(proof.root.hex) (no signed head in the proof)" : "signed by \(key.hex)"
                if output.json {
                    print(AuditJSON.render(["verified": true, "entry": proof.entry.sequence, "treeSize": proof.treeSize, "root": proof.root.hex, "signed": proof.head != nil] as [String: Any]))
                } else {
                    print("proof verified: entry \(proof.entry.sequence) is in the log of \(proof.treeSize) entries, \(signed)")
                }
                return
            }
            let proof = try AuditCommand.open(bankOptions).inclusionProof(entry: entry!, size: size)
            try AuditCommand.permit(bankOptions, twin: proof.entry.twin)
            if output.json { print(proof.json); return }
            print(AuditCommand.line(proof.entry))
            print("leaf hash \(proof.entry.leafHash.hex)")
            print("inclusion proof in the tree of \(proof.treeSize) entries (\(proof.hashes.count) hashes, leaf upwards):")
            for h in proof.hashes { print("  \(h.hex)") }
            print("root \(proof.root.hex)")
            if let h = proof.head { print("signed head: size \(h.size), time \(h.time), signature \(h.signature.map { String(format: "%02x", $0) }.joined())") }
        }
    }

    struct Head: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show the latest signed tree head (size, root, time, signature).")
        @OptionGroup var bankOptions: BankOptions
        @OptionGroup var output: OutputOptions

        func run() throws {
            let head = try AuditCommand.open(bankOptions).latestHead()
            if output.json {
                print(head.map { AuditJSON.render(AuditJSON.object($0)) } ?? AuditJSON.render(["size": 0, "root": Merkle.emptyRoot.hex] as [String: Any]))
                return
            }
            guard let head else { print("the audit log is empty"); return }
            print("size \(head.size)\nroot \(head.root.hex)\ntime \(head.time)\nsignature \(head.signature.map { String(format: "%02x", $0) }.joined())")
        }
    }

    struct Log: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List audit entries, oldest first (optionally for one twin, between two times).")
        @OptionGroup var bankOptions: BankOptions
        @Option(help: "Only entries about this twin.") var twin: String?
        @Option(parsing: .unconditional, help: "Only entries recorded at or after this time.") var from: String?
        @Option(parsing: .unconditional, help: "Only entries recorded at or before this time.") var to: String?
        @Option(help: "At most this many entries.") var limit: Int?
        @OptionGroup var output: OutputOptions

        func run() throws {
            if let limit, limit < 1 { throw ValidationError("--limit: must be at least 1, not \(limit)") }
            let query = AuditQuery(twin: try twin.map { try TwinID($0).rawValue },
                                   from: try from.map { try parseInstant($0, option: "--from", bound: .lower) },
                                   to: try to.map { try parseInstant($0, option: "--to", bound: .upper) }, limit: limit)
            try AuditCommand.permit(bankOptions, twin: query.twin)
            let entries = try AuditCommand.open(bankOptions).entries(matching: query)
            if output.json { print(AuditJSON.render(entries.map(AuditJSON.object))); return }
            for e in entries { print(AuditCommand.line(e)) }
        }
    }

    struct Export: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Write audit entries as a FHIR R4 Bundle of AuditEvents (a twin is its Patient reference).")
        @OptionGroup var bankOptions: BankOptions
        @Option(help: "The Bundle file to write.") var out: String
        @Flag(help: "Replace an existing file.") var force = false
        @Option(help: "Only entries about this twin.") var twin: String?
        @Option(parsing: .unconditional, help: "Only entries recorded at or after this time.") var from: String?
        @Option(parsing: .unconditional, help: "Only entries recorded at or before this time.") var to: String?
        @OptionGroup var output: OutputOptions

        func run() throws {
            try OutputFile.checkWritable(out, overwrite: force)
            let query = AuditQuery(twin: try twin.map { try TwinID($0).rawValue },
                                   from: try from.map { try parseInstant($0, option: "--from", bound: .lower) },
                                   to: try to.map { try parseInstant($0, option: "--to", bound: .upper) })
            try AuditCommand.permit(bankOptions, twin: query.twin)
            let bank = try bankOptions.open()
            let entries = try AuditCommand.open(bankOptions).entries(matching: query)
            let bundle = AuditEventExport.bundle(entries, bank: bank)
            try OutputFile.write(JSONWriter(indent: 2).write(bundle), to: out, overwrite: force)
            if output.json { print(AuditJSON.render(["file": out, "auditEvents": entries.count] as [String: Any])); return }
            print("wrote \(entries.count) AuditEvents to \(out)")
        }
    }

    /// One line for an entry: `#seq time actor (role, organisation) action twin for purpose: decision (reason)`.
    static func line(_ e: AuditEntry) -> String {
        let who = [e.role, e.organisation].compactMap { $0 }
        return "#\(e.sequence)  \(e.time)  \(e.actor)\(who.isEmpty ? "" : " (\(who.joined(separator: ", ")))")  \(e.action) \(e.twin ?? "(bank)") for \(e.purpose): \(e.decision.rawValue) (\(e.reason))"
    }
}
