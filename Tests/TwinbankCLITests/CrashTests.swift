import Foundation
import Testing

/// A `kill -9` in the middle of a large `thread import` leaves the bank with the whole import or none of it,
/// and the bank opens cleanly afterwards.
@Suite("twinbank command: crash safety")
struct CrashTests {
    @Test func killDuringImportLeavesAllOrNothing() throws {
        let dir = try CommandRunner.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let bank = dir.appendingPathComponent("bank.sqlite").path
        let cli = CommandRunner()
        #expect(try cli.run(["init", "--bank", bank]).status == 0)
        #expect(try cli.run(["twin", "create", "--bank", bank, "--id", "p1", "--kind", "person"]).status == 0)

        let rows = 200_000
        var csv = "time,code,value,unit,source\n"
        csv.reserveCapacity(rows * 60)
        for i in 0..<rows {
            let minute = i % 60, hour = (i / 60) % 24, day = 1 + (i / 1440) % 28, month = 1 + (i / 40320) % 12
            let year = 2000 + i / 483840
            csv += "\(year)-\(month < 10 ? "0" : "")\(month)-\(day < 10 ? "0" : "")\(day)T\(hour < 10 ? "0" : "")\(hour):\(minute < 10 ? "0" : "")\(minute):00Z,loinc:2339-0,\(80 + i % 120),mg/dL,device:cgm-1\n"
        }
        let file = dir.appendingPathComponent("big.csv")
        try csv.write(to: file, atomically: true, encoding: .utf8)

        // Start the import, wait until it is writing (the WAL grows), then kill it without warning.
        let process = Process()
        process.executableURL = CommandRunner.executable
        process.arguments = ["thread", "import", "--bank", bank, "--twin", "p1", "--csv", file.path]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        let wal = bank + "-wal"
        let deadline = Date().addingTimeInterval(60)
        var sawWrites = false
        while Date() < deadline && process.isRunning {
            if let size = (try? FileManager.default.attributesOfItem(atPath: wal))?[.size] as? NSNumber, size.intValue > 64 * 1024 {
                sawWrites = true
                break
            }
            Thread.sleep(forTimeInterval: 0.002)
        }
        let killedMidway = process.isRunning
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        #expect(process.terminationReason == .uncaughtSignal || !killedMidway)

        // The bank opens and holds all of the import or none of it.
        let after = try cli.run(["thread", "query", "--bank", bank, "--twin", "p1", "--json"])
        #expect(after.status == 0, "bank did not open cleanly after kill -9: \(after.stderr)")
        let count = ((try? JSONSerialization.jsonObject(with: Data(after.stdout.utf8))) as? [Any])?.count ?? -1
        #expect(count == 0 || count == rows, "after kill -9 the thread holds \(count) of \(rows) rows")
        #expect(sawWrites || !killedMidway, "the import was killed before it wrote anything; the test did not exercise a crash mid-write")

        // And the import can be run again to completion.
        if count == 0 {
            let again = try cli.run(["thread", "import", "--bank", bank, "--twin", "p1", "--csv", file.path])
            #expect(again.status == 0, "\(again.stderr)")
            let full = try cli.run(["thread", "query", "--bank", bank, "--twin", "p1", "--json"])
            #expect(((try? JSONSerialization.jsonObject(with: Data(full.stdout.utf8))) as? [Any])?.count == rows)
        }
    }
}
