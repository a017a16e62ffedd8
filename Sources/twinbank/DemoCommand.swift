import ArgumentParser
import Foundation
import TwinBank
import TwinBankSQLite
import TwinCore
import TwinDemo

struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Build a small demo bank: health records, a population with threads, a retraction, an aggregate, commits, a simulated day, a what-if fork, a treatment comparison and an SBML model.")
    @Option(help: "The demo bank to create (default: $TWINBANK_BANK, else ./twinbank.sqlite). An existing demo bank there is replaced; any other file is left alone.")
    var bank: String?
    @Option(help: "External data (the published SBML models); default: ../shared/data if present.")
    var data: String?
    @Option(help: "Seed of the generated population.") var seed: UInt64 = 2021
    @Option(help: "How many person twins.") var people: Int = 8

    func run() async throws {
        let path = bank ?? BankOptions.defaultPath
        let fm = FileManager.default
        if fm.fileExists(atPath: path) {
            let existing = try SQLiteStorage(path: path, create: false)
            let isDemo = try existing.read { try $0.ref("demo/created-by") } != nil
            let isEmpty = try existing.read { try $0.lastSequence() == 0 && $0.refs(prefix: "").isEmpty }
            guard isDemo || isEmpty else {
                throw ValidationError("'\(path)' holds a bank that the demo did not create; give --bank NEW_PATH")
            }
            for suffix in ["", "-wal", "-shm"] { try? fm.removeItem(atPath: path + suffix) }
        }
        let storage = try SQLiteStorage(path: path, create: true)
        try storage.write { try $0.setRef("demo/created-by", "twinbank demo") }
        let dataDir = data ?? (fm.fileExists(atPath: "../shared/data/models") ? "../shared/data" : nil)
        print("Twinbank demo: building a bank at \(path)\n")
        let summary = try await Demo(dataDirectory: dataDir, seed: seed, people: people).run(in: Bank(storage: storage, actor: "demo")) { print($0) }
        print("""

        Done: \(summary.twins) twins, \(summary.events) thread events, \(summary.commits.count) commits in \(path).
        Look next:
          twinbank log --bank \(path)
          twinbank thread query --bank \(path) --twin \(summary.forkedTwin) --as-of 2024-01-07T12:00:00Z
          twinbank thread query --bank \(path) --twin \(summary.fork) --category prediction --from 2024-01-07T17:00:00Z --to 2024-01-07T21:00:00Z
          twinbank aggregate show --bank \(path) --id women-a1c-over-7
          twinbank diff --bank \(path) \(summary.commits[0].prefix(12)) \(summary.commits[1].prefix(12))
          twinbank simulate glucose --patient adult#001 --meals 7:45,12:70,18:80 --hours 24 --controller basal-bolus --out trace.csv
        """)
    }
}
