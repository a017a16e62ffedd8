import ArgumentParser
import Foundation
import TwinBank
import TwinBankSQLite
import TwinCore
import TwinGovernance

/// `twinbank-bench audit`: the audit log of issue 27 on a SQLite bank on disk.
///
/// (a) append rate with batched group commit (`--batch` entries per transaction, as concurrent callers share
///     one; target >= 100,000 entries/s), every batch committed with `synchronous = FULL` and a signed head;
/// (b) group commit from `--threads` threads each appending single entries (the gate's path);
/// (c) single-entry commits, one transaction (and fsync) each;
/// (d) inclusion proof build + verify in a log of `--entries` entries (default 10 million; target < 1 ms),
///     the log built once in batches (`--keep` keeps the bank for a rerun with `--bank`).
struct AuditBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit",
        abstract: "Audit log benchmarks: append rate (batched, concurrent, single), inclusion proofs in a large log."
    )

    @Option(help: "Entries in the log the proofs are timed in (built once, in batches).") var entries = 10_000_000
    @Option(help: "Entries appended to time the batched rate.") var append = 1_000_000
    @Option(help: "Entries per transaction for the batched rate and the build.") var batch = 10_000
    @Option(help: "Threads appending single entries concurrently (group commit).") var threads = 16
    @Option(help: "Entries each thread appends.") var perThread = 500
    @Option(help: "Single-entry commits to time.") var single = 1000
    @Option(help: "Inclusion proofs to time.") var proofs = 2000
    @Option(help: "Directory for the temporary bank (default: the system temporary directory).") var directory: String?
    @Option(help: "Reuse this bank (built by an earlier run with --keep) for the proofs instead of building one.") var bank: String?
    @Flag(help: "Keep the bank (and its key) after the run.") var keep = false

    static func draft(_ i: Int) -> AuditEntry.Draft {
        AuditEntry.Draft(actor: "clinician-\(i % 97)", role: "clinician", organisation: "hospital-\(i % 5)", action: i % 4 == 0 ? "write" : "read",
                         twin: "person-\(i % 100_003)", purpose: i % 10 == 0 ? "research" : "care", decision: i % 50 == 0 ? .deny : .permit,
                         reason: i % 50 == 0 ? "no consent for research" : "policy: clinician reads for care")
    }

    func run() throws {
        let dir = (directory ?? NSTemporaryDirectory()) + "/twinbank-bench-audit-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { if !keep { try? FileManager.default.removeItem(atPath: dir) } }
        print("twinbank-bench audit  (cores: \(ProcessInfo.processInfo.activeProcessorCount), batch: \(batch), entries for proofs: \(entries))\n")

        // (a) batched appends into a fresh bank
        do {
            let path = dir + "/rate.sqlite"
            let log = try AuditLog(store: SQLiteAuditStore(SQLiteStorage(path: path)), signer: AuditSigner(keyFile: AuditSigner.defaultKeyFile(bank: path)))
            let clock = ContinuousClock()
            var done = 0
            var s = 0.0, cpu = 0.0  // the appends only, not the formatting of the drafts (the callers' work)
            while done < append {
                let n = min(batch, append - done)
                let drafts = (done ..< done + n).map(Self.draft)
                let t0 = clock.now, c0 = Measure.cpuSeconds()
                try log.append(contentsOf: drafts)
                s += Measure.seconds(clock.now - t0); cpu += Measure.cpuSeconds() - c0
                done += n
            }
            print(String(format: "(a) batched append: %d entries in %.2f s = %.0f entries/s (%d per transaction, %d commits; target >= 100,000/s); CPU %.2f s = %.0f entries per CPU second",
                         append, s, Double(append) / s, batch, log.commits, cpu, Double(append) / cpu))

            // (b) concurrent single appends: group commit
            let before = log.commits
            let group = DispatchGroup()
            let t1 = clock.now
            for t in 0 ..< threads {
                group.enter()
                let thread = Thread {
                    for k in 0 ..< perThread { _ = try? log.append(Self.draft(t * perThread + k)) }
                    group.leave()
                }
                thread.start()
            }
            group.wait()
            let s1 = Measure.seconds(clock.now - t1)
            let total = threads * perThread
            print(String(format: "(b) group commit: %d threads x %d single appends = %d entries in %.2f s = %.0f entries/s in %d commits (%.1f entries per commit)",
                         threads, perThread, total, s1, Double(total) / s1, log.commits - before, Double(total) / Double(max(1, log.commits - before))))

            // (c) single-entry commits, one after the other
            let t2 = clock.now
            for k in 0 ..< single { try log.append(Self.draft(k)) }
            let s2 = Measure.seconds(clock.now - t2)
            print(String(format: "(c) single-entry commits: %d in %.2f s = %.0f entries/s (%.2f ms each, fsync included)", single, s2, Double(single) / s2, s2 * 1000 / Double(single)))
        }

        // (d) proofs in a large log
        guard entries > 0 else { return }
        let path = bank ?? dir + "/proofs.sqlite"
        let storage = try SQLiteStorage(path: path, create: bank == nil)
        let log = try AuditLog(store: SQLiteAuditStore(storage), signer: AuditSigner(keyFile: AuditSigner.defaultKeyFile(bank: path)))
        let clock = ContinuousClock()
        if log.size < UInt64(entries) {
            let t0 = clock.now
            var done = Int(log.size)
            let start = done
            while done < entries {
                let n = min(max(batch, 50_000), entries - done)
                try log.append(contentsOf: (done ..< done + n).map(Self.draft))
                done += n
                if done % 1_000_000 == 0 { print("  built \(done) entries (\(Int(Measure.seconds(clock.now - t0))) s)") }
            }
            let s = Measure.seconds(clock.now - t0)
            print(String(format: "    log built: %d entries in %.1f s (%.0f entries/s)", entries - start, s, Double(entries - start) / s))
        }
        let size = log.size
        let key = try AuditSigner.PublicKey(file: AuditSigner.publicKeyPath(for: AuditSigner.defaultKeyFile(bank: path)))
        var rng = SystemRandomNumberGenerator()
        var build: [Double] = [], check: [Double] = []
        for _ in 0 ..< proofs {
            let i = UInt64.random(in: 0 ..< size, using: &rng)
            let t0 = clock.now
            let p = try log.inclusionProof(entry: i)
            let t1 = clock.now
            try p.verify(publicKey: key)
            let t2 = clock.now
            build.append(Measure.seconds(t1 - t0) * 1000); check.append(Measure.seconds(t2 - t1) * 1000)
        }
        let both = zip(build, check).map { $0 + $1 }
        print(String(format: "(d) inclusion proof in a log of %llu entries: build p50 %.3f ms p99 %.3f ms, verify (path + signature) p50 %.3f ms, build + verify p50 %.3f ms p99 %.3f ms (target < 1 ms)",
                     size, Measure.median(build), Measure.percentile(build, 0.99), Measure.median(check), Measure.median(both), Measure.percentile(both, 0.99)))
        let fileMB = Double((try? FileManager.default.attributesOfItem(atPath: path)[.size] as? NSNumber)??.intValue ?? 0) / 1e6
        print(String(format: "    bank file %.0f MB%@", fileMB, keep ? " (kept: \(path))" : ""))
    }
}
