import ArgumentParser
import Foundation
import NIOPosix
import TwinBank
import TwinCore
import TwinPopulation

/// `twinbank trace`: exact proximity contact tracing over a pings file. Wiring only: `TwinPopulation`.
struct TraceCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "trace",
        abstract: "Find every person who was near an index case: exact proximity contact tracing over location pings.",
        discussion: """
        A contact is a ping of another person within --distance metres (great-circle, haversine, on a sphere of \
        radius 6,371,008.8 m) and --window seconds of a ping of an index case: exactly the pairs a brute-force scan \
        finds, at the poles and across the antimeridian too. Files as ../shared/anchors/proximity_baseline.py \
        --save-pings/--save-cases/--save-pairs writes them: PINGS.csv is person,t,lat,lon (integer person id, \
        seconds, decimal degrees); CASES.txt one person id a line; PAIRS.csv is case,contact, sorted.
        With --bank and --aggregate, the pings are the location events (code local:location, value \
        "[LAT,LON] deg") in the threads of the aggregate's members and of the --case twins, and each close contact \
        is written to the contact's thread as a local:close-contact event naming the index case (once: a repeated \
        trace writes nothing new).
        Examples:
          twinbank trace --pings pings.csv --cases cases.txt --distance 10 --window 900 --out pairs.csv
          twinbank trace --bank city.sqlite --aggregate district-7 --case alice --case bob --distance 2 --window 900
        """
    )

    @Option(help: "The pings CSV: person,t,lat,lon.") var pings: String?
    @Option(help: "The index cases: one person id a line.") var cases: String?
    @OptionGroup var bankOptions: BankOptions
    @Option(help: "With --bank: the aggregate whose members' location events are traced.") var aggregate: String?
    @Option(name: .customLong("case"), help: "With --aggregate: an index case's twin id (repeatable).") var caseTwins: [String] = []
    @Option(parsing: .unconditional, help: "The largest distance of a contact, metres (inclusive).") var distance: Double = 10
    @Option(parsing: .unconditional, help: "The largest time apart of a contact, seconds (inclusive).") var window: Double = 900
    @Option(help: "The pairs CSV to write (case,contact; a new file, written whole or not at all; an existing file only with --force, never a folder); standard output if omitted.")
    var out: String?
    @Flag(help: "Replace an existing file at --out.") var force = false
    @OptionGroup var output: OutputOptions

    func run() async throws {
        if let aggregate {
            // the bank's threads are read on a blocking thread, not on the command's task
            let command = self
            return try await NIOThreadPool.singleton.runIfActive { try command.traceBank(aggregate) }
        }
        guard let pings, let cases else {
            throw ValidationError("give --pings and --cases (files), or --aggregate and --case (the bank's threads)")
        }
        guard caseTwins.isEmpty else { throw ValidationError("--case goes with --aggregate; with --pings, index cases come from --cases") }
        if output.json, out == nil { throw ValidationError("--json prints the counts and times: give --out for the pairs") }
        let criteria = try ProximityCriteria(distance: distance, window: window)
        if let out {
            try OutputFile.checkWritable(out, overwrite: force)
            Interruption.install(Interruption.nothingWritten)
        }
        let clock = ContinuousClock()
        let started = clock.now
        let indexCases = try IndexCases.read(path: cases)
        let table = try Pings.read(path: pings)
        let read = clock.now - started
        let result = ContactTracer.trace(table, cases: indexCases, criteria: criteria)
        let csv = ContactPairsCSV.render(result.pairs)
        guard let out else {
            FileHandle.standardOutput.write(Data(csv))
            return
        }
        try OutputFile.write(csv, to: out, overwrite: force)
        if output.json {
            try printJSON(Summary(pairs: result.pairs.count, pings: table.count, cases: indexCases.count,
                                  casePings: result.casePings, matchingPingPairs: result.matchingPingPairs, candidates: result.candidates,
                                  indexSeconds: result.indexSeconds, querySeconds: result.querySeconds,
                                  readSeconds: Double(read.components.seconds) + Double(read.components.attoseconds) * 1e-18,
                                  out: out))
            return
        }
        print(String(format: "%d (case, contact) pairs within %g m and %g s: %d index cases, %d of the %d pings theirs; index %.3f s, query %.3f s",
                     result.pairs.count, distance, window, indexCases.count, result.casePings, table.count,
                     result.indexSeconds, result.querySeconds))
        print("written to \(out)")
    }

    func traceBank(_ aggregate: String) throws {
        guard pings == nil, cases == nil, out == nil else {
            throw ValidationError("--aggregate traces the bank's threads: --pings, --cases and --out are for files")
        }
        guard !caseTwins.isEmpty else { throw ValidationError("give the index cases with --case TWIN (repeatable)") }
        let criteria = try ProximityCriteria(distance: distance, window: window)
        let bank = try bankOptions.open()
        let result = try ContactTracer.trace(bank: bank, aggregate: try AggregateID(aggregate),
                                             cases: try caseTwins.map { try TwinID($0) }, criteria: criteria)
        if output.json {
            try printJSON(BankSummary(pairs: result.contacts.count, contacts: result.contacts, pings: result.pings,
                                      twins: result.twins, written: result.written, alreadyInThreads: result.alreadyInThreads,
                                      indexSeconds: result.indexSeconds, querySeconds: result.querySeconds))
            return
        }
        print(String(format: "%d close contacts of %d index cases within %g m and %g s, from %d pings of %d twins; index %.3f s, query %.3f s",
                     result.contacts.count, caseTwins.count, distance, window, result.pings, result.twins,
                     result.indexSeconds, result.querySeconds))
        for c in result.contacts { print("  \(c.contact) near \(c.indexCase) from \(c.from) to \(c.to)") }
        print("written to the contacts' threads: \(result.written) close-contact events\(result.alreadyInThreads > 0 ? " (\(result.alreadyInThreads) already there)" : "")")
    }

    struct BankSummary: Encodable {
        var pairs: Int
        var contacts: [BankTraceResult.Contact]
        var pings: Int
        var twins: Int
        var written: Int
        var alreadyInThreads: Int
        var indexSeconds: Double
        var querySeconds: Double

        enum CodingKeys: String, CodingKey {
            case pairs, contacts, pings, twins, written
            case alreadyInThreads = "already_in_threads"
            case indexSeconds = "index_seconds"
            case querySeconds = "query_seconds"
        }
    }

    struct Summary: Encodable {
        var pairs: Int
        var pings: Int
        var cases: Int
        var casePings: Int
        var matchingPingPairs: Int
        var candidates: Int
        var indexSeconds: Double
        var querySeconds: Double
        var readSeconds: Double
        var out: String

        enum CodingKeys: String, CodingKey {
            case pairs, pings, cases, out, candidates
            case casePings = "case_pings"
            case matchingPingPairs = "matching_ping_pairs"
            case indexSeconds = "index_seconds"
            case querySeconds = "query_seconds"
            case readSeconds = "read_seconds"
        }
    }
}
