import ArgumentParser
import Foundation
import NIOPosix
import TwinBank
import TwinBankAccess
import TwinBankSQLite
import TwinCore
import TwinDemo
import TwinGovernance

struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Build a small demo bank: health records, a population with threads, a retraction, an aggregate, commits, a simulated day, a what-if fork, a treatment comparison, an SBML model, and an outbreak with its risk map (written beside the bank).")
    @Option(help: "The demo bank to create (default: $TWINBANK_BANK, else ./twinbank.sqlite). A bank an earlier demo made there is replaced, an empty bank is filled; any other file is refused and left alone.")
    var bank: String?
    @Option(help: "External data, the folder holding models/ and synthea/ (default: $TWINBANK_SHARED/data, else ../shared/data from here, else ../shared/data beside the package that built this command).")
    var data: String?
    @Option(help: "Seed of the generated population.") var seed: UInt64 = 2021
    @Option(help: "How many person twins (at least 3).") var people: Int = 8

    func validate() throws {
        if people < 3 { throw ValidationError("--people must be at least 3 (the tour retracts the third person's sensor), got \(people)") }
        // a folder named on purpose that holds no models is a mistake to name, not a step to skip quietly
        if let data, DemoData.locate(given: data).directory == nil {
            throw ValidationError("--data \(data) holds no models/ folder: \(DemoData.howToPass)")
        }
    }

    func run() async throws {
        let path = bank ?? BankOptions.defaultPath
        let location = try BankLocation(path)
        // the bank is checked, made and opened on a blocking thread, not on the command's task
        let opened = try await NIOThreadPool.singleton.runIfActive { () throws -> BankLocation.Opened in
            func isEmpty(_ storage: any BankStorage) throws -> Bool {
                // `init` records the bank's owner (outside version control): still an empty bank
                try storage.read { try $0.lastSequence() == 0 && $0.refs(prefix: "").allSatisfy { $0.name == BankGovernanceStore.ownerRef } }
            }
            let opened: BankLocation.Opened
            switch location {
            case .sqlite(let path):
                let fm = FileManager.default
                let storage: SQLiteStorage
                if fm.fileExists(atPath: path) {
                    let existing = try SQLiteStorage(path: path, create: false)
                    let isDemo = try existing.read { try $0.ref("demo/created-by") } != nil
                    let empty = try isEmpty(existing)
                    guard isDemo || empty else {
                        throw ValidationError("'\(path)' holds a bank that the demo did not create; give --bank NEW_PATH")
                    }
                    if isDemo {
                        // Only a bank this command made itself is removed.
                        for suffix in ["", "-wal", "-shm"] { try? fm.removeItem(atPath: path + suffix) }
                        storage = try SQLiteStorage(path: path, create: true)
                    } else {
                        storage = existing
                    }
                } else {
                    storage = try SQLiteStorage(path: path, create: true)
                }
                opened = BankLocation.Opened(storage: storage, auditStore: SQLiteAuditStore(storage))
            case .postgres:
                // a database is never dropped by the demo: it fills an empty one
                opened = try location.open(create: true)
                guard try isEmpty(opened.storage) else {
                    throw ValidationError("the database \(location) holds a bank (perhaps an earlier demo's): the demo fills an empty database; give --bank with a new, empty database")
                }
            }
            try opened.storage.write { try $0.setRef("demo/created-by", "twinbank demo") }
            return opened
        }
        Interruption.install("the demo bank at \(location) is incomplete; run `twinbank demo` again to rebuild it (it replaces only a bank the demo made)")
        let located = DemoData.locate(given: data)
        if let problem = located.problem { print(problem + "\n") }
        let dataDir = located.directory
        print("Twinbank demo: building a bank at \(location)\n")
        // The risk map goes beside the bank (the demo's output folder).
        // (a PostgreSQL bank: the current folder)
        let outputDirectory: String
        if case .sqlite(let file) = location, !((file as NSString).deletingLastPathComponent).isEmpty {
            outputDirectory = (file as NSString).deletingLastPathComponent
        } else {
            outputDirectory = "."
        }
        let demo = Demo(dataDirectory: dataDir, seed: seed, people: people, outputDirectory: outputDirectory)
        // every step goes through the decision point, each access in the bank's audit log, signed with the key
        // beside the bank; the demo's own actor owns the bank (admin by the default policy)
        let (signer, log) = try await NIOThreadPool.singleton.runIfActive {
            let signer = try AuditSigner(keyFile: location.auditKeyFile())
            return (signer, try AuditLog(store: opened.auditStore, signer: signer))
        }
        let gate = GovernedGate(store: BankGovernanceStore(storage: opened.storage), log: log, owner: "demo")
        let bank = Bank(storage: opened.storage, gate: gate, actor: "demo")
        let summary = try await demo.run(in: bank) { print($0) }
        // 12. governance on the demo's bank (its lines printed as they come: printing is safe from any thread)
        _ = try await bank.run { bank in
            try demo.governanceStep(in: bank, log: log, publicKey: signer.publicKey, consenting: "person-01", other: "person-02",
                                    admins: [BankAccess.actor(nil)]) { print($0) }
        }
        print("""

        Done: \(summary.twins) twins, \(summary.events) thread events, \(summary.commits.count) commits in \(location).
        Look next:
          twinbank log --bank \(location)
          twinbank audit log --bank \(location) ; twinbank consent show --bank \(location) --twin person-01
          twinbank thread query --bank \(location) --twin \(summary.forkedTwin) --as-of 2024-01-07T12:00:00Z
          twinbank thread query --bank \(location) --twin \(summary.fork) --category prediction --from 2024-01-07T17:00:00Z --to 2024-01-07T21:00:00Z
          twinbank aggregate show --bank \(location) --id women-a1c-over-7
          twinbank diff --bank \(location) \(summary.commits[0].prefix(12)) \(summary.commits[1].prefix(12))
          twinbank simulate glucose --patient adult#001 --meals 7:45,12:70,18:80 --hours 24 --controller basal-bolus --out trace.csv
          twinbank thread query --bank \(location) --twin \(Demo.town) --code 'urn:twinbank:outbreak|new_infections' --category prediction
        """ + summary.riskMap.map { "\n  open \($0)" }.joined() + """

        See it in a browser: twinbank serve --bank \(location) --dashboard-link
          then open the sign-in link it prints (http://127.0.0.1:8080/#token=...) and pick \(summary.forkedTwin)
        """)
    }
}

/// Where the demo finds the published SBML models and Synthea records (`shared/data`), and what to say when it
/// does not, in the words of the README's "Safety of files and banks" (`--data`, `TWINBANK_SHARED`).
enum DemoData {
    static let howToPass = "pass --data PATH (the shared/data folder) or set TWINBANK_SHARED to the shared folder (README: Safety of files and banks)"

    /// The data folder, or nil with a sentence saying where the demo looked and how to pass it.
    static func locate(given: String?) -> (directory: String?, problem: String?) {
        let fm = FileManager.default
        func hasModels(_ dir: String) -> Bool { fm.fileExists(atPath: (dir as NSString).appendingPathComponent("models")) }
        if let given {
            if hasModels(given) { return (given, nil) }
            return (nil, "note: --data \(given) holds no models/ folder, so the SBML step (9) and the health records are skipped; \(howToPass)")
        }
        var candidates: [String] = []
        if let env = ProcessInfo.processInfo.environment["TWINBANK_SHARED"], !env.isEmpty {
            candidates.append((env as NSString).appendingPathComponent("data"))
        }
        candidates.append("../shared/data")
        // Beside the package whose build folder holds this executable (`swift run` from anywhere).
        var dir = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        while dir.path != "/" {
            if fm.fileExists(atPath: dir.appendingPathComponent("Package.swift").path) {
                candidates.append(dir.appendingPathComponent("../shared/data").standardizedFileURL.path)
                break
            }
            dir.deleteLastPathComponent()
        }
        if let found = candidates.first(where: hasModels) { return (found, nil) }
        return (nil, "note: no shared data found (looked in \(candidates.joined(separator: ", "))), so the SBML step (9) and the health records are skipped; \(howToPass)")
    }
}
