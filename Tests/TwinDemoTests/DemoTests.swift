import Foundation
import TwinSBML
import Testing
import TwinBank
import TwinCore
import TwinDemo
import TwinPopulation
import TwinTesting

@Suite("The demo tour")
struct DemoTests {
    var dataDirectory: String { SharedFolder.data.path }

    @Test(.enabled(if: SharedFolder.has(["data/synthea", "data/models/apap_reddyhoff2015_reconstructed.xml", "data/geo/montreal-districts.geojson"]),
                   "skipped: the demo's shared data (data/synthea, data/models, data/geo) is missing (put ../shared beside the package or set TWINBANK_SHARED)"))
    func buildsTheBankItDescribes() async throws {
        let bank = Bank(storage: MemoryStorage(), clock: ManualClock(try Instant(parsing: "2024-02-01T00:00:00Z"), stepMicroseconds: 1000))
        var lines: [String] = []
        let summary = try await Demo(dataDirectory: dataDirectory, people: 4, records: 3).run(in: bank) { lines.append($0) }
        #expect(summary.importedPatients == 3)
        let organisations = try bank.twinIDs().filter { (try? bank.twin($0).twin.kind) == .organisation }.count
        // people; liver, body, hospital, fork, template; comparison forks; the drug twin and its 3 regimen forks;
        // the outbreak's population twin; the cardiac twin; the prognostic cohort and bp-new; records
        #expect(summary.twins == 4 + 5 + 3 + 4 + 1 + 1 + 61 + 3 + (organisations - 1))
        // the prognostic prediction is in bp-new's thread
        #expect(try bank.events(ThreadQuery(twin: "bp-new", category: .prediction)).count == 1)
        // the cardiac twin: heart rate, SDNN and RMSSD derived from its strip, and its circulation's predictions
        // heart rate twice: from the ECG strip and from the arterial line's waveform (with its systolic, diastolic, mean)
        #expect(try bank.events(ThreadQuery(twin: "person-01-heart", code: CodeKey(system: "http://loinc.org", code: "8867-4"), category: .observation)).count == 2)
        #expect(try bank.events(ThreadQuery(twin: "person-01-heart", code: CodeKey(system: "http://loinc.org", code: "8478-0"), category: .observation)).count == 1)
        #expect(try bank.events(ThreadQuery(twin: "person-01-heart", category: .prediction)).count == 18)
        #expect(lines.contains { $0.contains("the level calibrates the twin: clearance 2.8 -> ") })
        #expect(try bank.events(ThreadQuery(twin: "person-01-theophylline", category: .recommendation)).count == 1)
        #expect(try bank.events(ThreadQuery(twin: summary.forkedTwin, category: .recommendation)).count == 1)
        #expect(lines.contains { $0.contains("imported 3 patients") })
        #expect(try bank.log().count == 2)
        #expect(try bank.twin(summary.fork).fork?.parent == summary.forkedTwin)
        // The fork's hypothetical dinner never appears in the original.
        let originalMeals = try bank.events(ThreadQuery(twin: summary.forkedTwin, category: .intervention))
        #expect(!originalMeals.contains { $0.source == Source(.person, "what-if") })
        #expect(summary.timeInRange.fork < summary.timeInRange.original)
        #expect(summary.liverPredictions == 97)
        #expect(lines.contains { $0.contains("Retracted device:cgm-person-03") })
        #expect(lines.contains { $0.contains("forecast events written to the thread") })
        #expect(try bank.events(ThreadQuery(twin: summary.forkedTwin, code: .loinc("2339-0"), category: .prediction)).count > 288)
        // The retracted device's readings are gone from the current view but not from the replay.
        #expect(try bank.events(ThreadQuery(twin: "person-03", code: .loinc("2339-0"))).isEmpty)
    }

    @Test func sameSeedSameBank() async throws {
        func build() async throws -> [String] {
            let bank = Bank(storage: MemoryStorage(), clock: ManualClock(try Instant(parsing: "2024-02-01T00:00:00Z"), stepMicroseconds: 1000))
            _ = try await Demo(dataDirectory: nil, seed: 7, people: 3, records: 0).run(in: bank) { _ in }
            return try bank.events(ThreadQuery(twin: "person-02")).map { $0.id.hex }
        }
        let first = try await build()
        let second = try await build()
        #expect(first == second)
    }

    /// Step 11: an outbreak on a population twin, its run in the twin's thread, and a risk map of the real
    /// Montreal districts written to the output folder as an SVG that parses and GeoJSON that reads back.
    @Test(.enabled(if: SharedFolder.has("data/geo/montreal-districts.geojson"),
                   "skipped: the Montreal districts data/geo/montreal-districts.geojson are missing (put ../shared beside the package or set TWINBANK_SHARED)"))
    func outbreakStepWritesARiskMapOfTheDistricts() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("demo-risk-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let bank = Bank(storage: MemoryStorage(), clock: ManualClock(try Instant(parsing: "2024-02-01T00:00:00Z"), stepMicroseconds: 1000))
        var lines: [String] = []
        let summary = try await Demo(dataDirectory: dataDirectory, people: 3, records: 0, outputDirectory: dir.path).run(in: bank) { lines.append($0) }
        let svg = dir.appendingPathComponent(Demo.riskMapFiles.svg).path, geo = dir.appendingPathComponent(Demo.riskMapFiles.geoJSON).path
        #expect(summary.riskMap == [svg, geo])
        #expect(lines.contains { $0.contains("open \(svg)") })
        // The SVG is well-formed XML; the GeoJSON reads back as the districts, with the figures per region.
        #expect(throws: Never.self) { _ = try XMLDocumentParser.parse([UInt8](Data(contentsOf: URL(fileURLWithPath: svg)))) }
        let districts = try GeoRegions(contentsOf: SharedFolder.data("geo/montreal-districts.geojson").path)
        let map = try GeoRegions(contentsOf: geo, nameProperty: "name")
        #expect(map.names == districts.names)
        #expect(summary.outbreak.regions == districts.regions.count)
        let root = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: geo))) as? [String: Any])
        let features = try #require(root["features"] as? [[String: Any]])
        let properties = features.compactMap { $0["properties"] as? [String: Any] }
        // Every diagnosis of the last 7 days is counted in some district, and every resident lives in one.
        let cases7 = properties.compactMap { $0["cases_7d"] as? Int }.reduce(0, +)
        let residents = properties.compactMap { $0["population"] as? Int }.reduce(0, +)
        #expect(residents == 3000)
        let diagnoses = try bank.events(ThreadQuery(twin: Demo.town, code: OutbreakThread.code(.newDiagnoses).key, category: .prediction)).sorted { $0.effective.start < $1.effective.start }
        #expect(diagnoses.count == 61)
        let last7 = diagnoses.suffix(7).compactMap { if case .quantity(let q)? = $0.value { Int(q.value) } else { nil } }.reduce(0, +)
        #expect(cases7 == last7)
        #expect(summary.outbreak.infected > 20 && summary.outbreak.diagnosed > 0)
        #expect(try bank.twin(Demo.town).twin.kind == .population)
    }

    /// Without the shared data the regions are a grid over Montreal; a file of the same name that the demo did
    /// not write is left alone, while the demo's own file is replaced by the next run.
    @Test func outbreakStepFallsBackToAGridAndLeavesOtherFilesAlone() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("demo-risk-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let svg = dir.appendingPathComponent(Demo.riskMapFiles.svg), geo = dir.appendingPathComponent(Demo.riskMapFiles.geoJSON)
        try Data("<svg>mine</svg>".utf8).write(to: svg)
        func run() async throws -> (Demo.Summary, [String]) {
            let bank = Bank(storage: MemoryStorage(), clock: ManualClock(try Instant(parsing: "2024-02-01T00:00:00Z"), stepMicroseconds: 1000))
            var lines: [String] = []
            let summary = try await Demo(dataDirectory: nil, seed: 7, people: 3, records: 0, outputDirectory: dir.path, agents: 1000).run(in: bank) { lines.append($0) }
            return (summary, lines)
        }
        let (summary, lines) = try await run()
        #expect(summary.riskMap == [geo.path])
        #expect(try String(contentsOf: svg, encoding: .utf8) == "<svg>mine</svg>")
        #expect(lines.contains { $0.contains("\(svg.path) exists and is not the demo's: left alone") })
        let grid = try GeoRegions(contentsOf: geo.path, nameProperty: "name")
        #expect(grid.regions.count == summary.outbreak.regions && grid.regions.count > 20)
        let first = try Data(contentsOf: geo)
        try Data("{}".utf8).write(to: geo)       // not the demo's any more: left alone too
        let (again, _) = try await run()
        #expect(again.riskMap.isEmpty)
        try first.write(to: geo)                  // the demo's own file: replaced
        try FileManager.default.removeItem(at: svg)
        let (third, _) = try await run()
        #expect(third.riskMap == [svg.path, geo.path])
        #expect(try Data(contentsOf: geo) == first)
    }
}
