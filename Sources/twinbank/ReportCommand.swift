import ArgumentParser
import Foundation
import TwinBank
import TwinCore
import TwinPopulation

struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Reports for a public agency, in aggregate only.",
        subcommands: [ReportCasesCommand.self])
}

struct ReportCasesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cases",
        abstract: "Confirmed cases per region and week (or any table), with small counts suppressed.",
        discussion: """
        Counts from 1 to --min-count minus 1 (cells and totals) are suppressed, then more cells (complementary \
        suppression, smallest counts first) until no suppressed count can be worked out from the totals and the \
        other cells (README, ### report). From the bank: the local:case.confirmed events of --aggregate's person \
        twins, by the region of their home (--regions or --grid) and ISO week. From --table: a CSV with a group column \
        and one column of counts per period. --out writes CSV (.csv) or JSON (.json).
        """)

    @OptionGroup var bankOptions: BankOptions
    @Option(help: "The aggregate of person twins whose cases are reported.") var aggregate: String?
    @Option(help: "With --aggregate: the rows, region (by --regions) or age (by --age-bands).") var by: ReportRows = .region
    @Option(help: "With --aggregate: the regions (GeoJSON).") var regions: String?
    @Option(help: "With --by age: the bands' lower bounds, from 0 (default 0,10,...,80).") var ageBands: String?
    @Option(help: "The property that names a region (default: the first string property).") var nameProperty: String?
    @Option(help: "Instead of --aggregate: a CSV table (group,PERIOD,...) of counts.") var table: String?
    @Option(help: "Suppress counts below this (at least 1; 1 suppresses nothing).") var minCount = CaseReporting.defaultMinimumCount
    @Option(help: "Write the released table here: FILE.csv or FILE.json.") var out: String
    @Flag(help: "Replace --out if it exists.") var force = false
    @OptionGroup var output: OutputOptions

    struct Released: Encodable {
        var min_count: Int
        var rows: [String]
        var columns: [String]
        var cells: [[Int?]]
        var row_totals: [Int?]
        var column_totals: [Int?]
        var total: Int?
        var suppressed: Int
    }

    func run() throws {
        guard minCount >= 1 else { throw ValidationError("--min-count \(minCount): give 1 or more (1 suppresses nothing)") }
        let lower = out.lowercased()
        guard lower.hasSuffix(".csv") || lower.hasSuffix(".json") else { throw ValidationError("--out \(out): name a .csv or .json file") }
        try OutputFile.checkWritable(out, overwrite: force)
        let cases: CaseTable
        var rowHeader = "group"
        switch (aggregate, table) {
        case (let id?, nil) where by == .age:
            guard regions == nil else { throw ValidationError("--regions goes with --by region") }
            var bands = CaseReporting.defaultAgeBands
            if let ageBands {
                do { bands = try CaseReporting.ageBands(parsing: ageBands) } catch { throw ValidationError("--age-bands: \(error.message)") }
            }
            cases = try CaseReporting.casesByAgeBandAndWeek(bank: try bankOptions.open(), aggregate: try AggregateID(id), bands: bands)
            rowHeader = "age"
        case (let id?, nil):
            guard ageBands == nil else { throw ValidationError("--age-bands goes with --by age") }
            guard let regions else { throw ValidationError("--aggregate needs --regions FILE.geojson (the regions to count by), or --by age") }
            let bank = try bankOptions.open()
            let set = try GeoRegions(contentsOf: regions, nameProperty: nameProperty)
            let input = try RiskTwins.read(bank: bank, aggregate: try AggregateID(id), regions: set, locator: set.locator())
            cases = try CaseReporting.casesByRegionAndWeek(input.counts)
            rowHeader = "region"
            if !input.refused.isEmpty, !output.json {
                print("\(input.refused.count) people left out: their consent or the policy refuses this use")
            }
            if !input.unlocated.isEmpty, !output.json {
                print("\(input.unlocated.count) people without a location in the regions are not counted")
            }
        case (nil, let file?):
            guard bankOptions.bank == nil, regions == nil, ageBands == nil, by == .region else { throw ValidationError("--table is the whole input: --bank, --by, --regions and --age-bands go with --aggregate") }
            guard let data = FileManager.default.contents(atPath: file) else { throw ValidationError("cannot read --table '\(file)'") }
            cases = try CaseReporting.table(csv: String(decoding: data, as: UTF8.self), name: file)
        case (.some, .some): throw ValidationError("give --aggregate ID (with --bank and --regions) or --table FILE.csv, not both")
        case (nil, nil): throw ValidationError("give the cases: --aggregate ID with --bank and --regions, or --table FILE.csv")
        }
        let released = try CaseReporting.release(cases, minimumCount: minCount)
        let doc = Released(min_count: minCount, rows: released.rowLabels, columns: released.columnLabels, cells: released.cells,
                           row_totals: released.rowTotals, column_totals: released.columnTotals, total: released.total,
                           suppressed: released.primaryCount + released.complementaryCount)
        if lower.hasSuffix(".json") {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            try OutputFile.write(Array(try encoder.encode(doc)) + [0x0A], to: out, overwrite: force)
        } else {
            try OutputFile.write(CaseReporting.csv(released, rowHeader: rowHeader), to: out, overwrite: force)
        }
        if output.json { try printJSON(doc); return }
        let cells = (released.rowLabels.count + 1) * (released.columnLabels.count + 1)
        print("\(released.rowLabels.count) \(rowHeader == "region" ? "regions" : rowHeader == "age" ? "age bands" : "groups") x \(released.columnLabels.count) columns; \(released.primaryCount + released.complementaryCount) of \(cells) values (totals included) suppressed (counts below \(minCount), and more so that none can be worked out)")
        print("wrote \(out)")
    }
}

/// The rows `report cases --by` counts by.
enum ReportRows: String, CaseIterable, ExpressibleByArgument {
    case region, age
}
