import Foundation
import Testing
import TwinSimulation
import TwinTesting
@testable import TwinPopulation

/// Issue 24 item 3: the pings, cases and pairs files of the tracing anchor; bad input names the line and value.
/// The PopulationError `body` throws, or nil (recording an issue when it throws something else).
func tracingError(_ body: () throws -> Void) -> PopulationError? {
    do { try body() } catch let e as PopulationError { return e } catch { Issue.record("unexpected \(error)") }
    return nil
}

@Suite("tracing: pings, cases and pairs files")
struct TracingFilesTests {
    @Test func readsTheAnchorsPingsFormat() throws {
        let pings = try Pings.parse("person,t,lat,lon\n7,86399,45.4612345,-73.6999999\r\n12,0,-90.0000000,180.0000000\n\n")
        #expect(pings.count == 2)
        #expect(pings.person == [7, 12])
        #expect(pings.time == [86399, 0])
        #expect(pings.latitude == [45.4612345, -90])
        #expect(pings.longitude == [-73.6999999, 180])
    }

    @Test func columnsInAnyOrderAndNoHeader() throws {
        let named = try Pings.parse("lat, lon ,time,id\n1.5,2.5,30,4\n")
        #expect(named.person == [4] && named.time == [30] && named.latitude == [1.5] && named.longitude == [2.5])
        let bare = try Pings.parse("4,30,1.5,2.5")
        #expect(bare == named)
    }

    /// The fast decimal path must give the same double as strtod (numpy's and Python's conversion) for every
    /// kind of number the anchor and other tools write.
    @Test func decimalsAreCorrectlyRounded() throws {
        var rng = Xoshiro256StarStar(seed: 24)
        var texts: [String] = ["0.1", "-0.0", "1e-3", "2.5E2", "123456789012345678", "0.30000000000000004",
                               "45.46000000000000085265128291212022304534912109375", "+7", ".5", "5.", "1.7976931348623157e308"]
        for _ in 0..<20_000 {
            let v = (rng.nextUniform() - 0.5) * 360
            texts.append(String(format: "%.7f", v))
            texts.append(String(format: "%.\(Int(rng.next() % 17))f", v))
            texts.append("\(v)")
        }
        for text in texts {
            let pings = try Pings.parse("1,\(text),0,0\n")
            #expect(pings.time[0].bitPattern == Double(text)!.bitPattern, "\(text)")
            if let lat = Double(text), abs(lat) <= 90 {
                let p = try Pings.parse("1,0,\(text),0\n")
                #expect(p.latitude[0].bitPattern == lat.bitPattern, "\(text)")
            }
        }
    }

    static let bad: [(line: String, value: String, words: String)] = [
        ("1,100,91,-73.6", "91", "latitude"),
        ("1,100,45.5,200", "200", "longitude"),
        ("1,abc,45.5,-73.6", "abc", "time"),
        ("1,nan,45.5,-73.6", "nan", "time"),
        ("1,inf,45.5,-73.6", "inf", "time"),
        ("x1,100,45.5,-73.6", "x1", "person"),
        ("3000000000,100,45.5,-73.6", "3000000000", "person"),
        ("1,100,-90.5,-73.6", "-90.5", "latitude"),
        ("1,100,45.5", "1,100,45.5", "4 fields"),
        ("1,100,45.5,-73.6,9", "1,100,45.5,-73.6,9", "4 fields"),
        ("1,100,\"45.5\",-73.6", "1,100,\"45.5\",-73.6", "quoted"),
    ]

    @Test("bad pings name the line and the value", arguments: bad)
    func badPings(_ bad: (line: String, value: String, words: String)) {
        let text = "person,t,lat,lon\n1,0,45.5,-73.6\n\(bad.line)\n2,0,45.5,-73.6\n"
        guard let e = tracingError({ _ = try Pings.parse(text, name: "p.csv") }) else {
            Issue.record("accepted \(bad.line)")
            return
        }
        #expect(e.code == .invalidPings)
        #expect(e.value == bad.value, "\(e.message)")
        #expect(e.message.contains("p.csv: line 3"), "\(e.message)")
        #expect(e.message.contains(bad.words), "\(e.message)")
        #expect(e.message.contains(bad.value), "\(e.message)")
    }

    @Test func badHeaderIsNamed() {
        let e = tracingError { _ = try Pings.parse("person,t,lat,height\n1,0,0,0\n") }
        #expect(e?.message.contains("height") == true)
    }

    @Test func columnsValidatedWhenBuiltInMemory() {
        let e = tracingError { _ = try Pings(person: [1, 2], time: [0, 0], latitude: [0, 91], longitude: [0, 0]) }
        #expect(e?.code == .invalidPings && e?.message.contains("ping 2") == true && e?.value == "91.0")
    }

    /// A file of several MiB is read in 1 MiB chunks: lines cut by a chunk boundary are joined, the line numbers
    /// of errors count across chunks, and the result equals parsing the text whole.
    @Test func streamingReadAcrossChunks() throws {
        var text = "person,t,lat,lon\n"
        var rng = Xoshiro256StarStar(seed: 3)
        for i in 0..<120_000 {
            text += "\(i % 997),\(rng.next() % 86_400),\(String(format: "%.7f", 45.46 + rng.nextUniform() * 0.09)),\(String(format: "%.7f", -73.7 + rng.nextUniform() * 0.13))\n"
        }
        #expect(text.utf8.count > 3 << 20)
        try TemporaryFiles.withDirectory("pings") { dir in
            let path = dir.appendingPathComponent("p.csv").path
            try Data(text.utf8).write(to: URL(fileURLWithPath: path))
            let read = try Pings.read(path: path)
            #expect(read.count == 120_000)
            #expect(read == (try Pings.parse(text)))

            let badPath = dir.appendingPathComponent("bad.csv").path
            try Data((text + "5,10,45.5,-181\n").utf8).write(to: URL(fileURLWithPath: badPath))
            let e = tracingError { _ = try Pings.read(path: badPath) }
            #expect(e?.message.contains("line 120002") == true && e?.message.contains("-181") == true
                     && e?.message.contains(badPath) == true, "\(String(describing: e))")
        }
    }

    @Test func missingFileAndFolderAreNamed() throws {
        #expect(throws: PopulationError.self) { try Pings.read(path: "/nonexistent/pings.csv") }
        try TemporaryFiles.withDirectory("pings") { dir in
            let e = tracingError { _ = try Pings.read(path: dir.path) }
            #expect(e?.message.contains("folder") == true && e?.value == dir.path)
        }
    }

    @Test func casesFile() throws {
        #expect(try IndexCases.parse("5\n3\r\n\n 5 \n-2\n") == [-2, 3, 5])
        let e = tracingError { _ = try IndexCases.parse("5\n3.5\n", name: "c.txt") }
        #expect(e?.code == .invalidCases && e?.value == "3.5" && e?.message.contains("c.txt: line 2") == true)
        #expect(throws: PopulationError.self) { try IndexCases.parse("\n\n") }
    }

    @Test func pairsFileIsTheAnchorsFormat() throws {
        let pairs = [ContactPair(indexCase: 12, contact: 3), ContactPair(indexCase: 2, contact: 40),
                     ContactPair(indexCase: 12, contact: 1), ContactPair(indexCase: 2, contact: 40),
                     ContactPair(indexCase: -1, contact: 7)]
        let text = String(decoding: ContactPairsCSV.render(pairs), as: UTF8.self)
        #expect(text == "case,contact\n-1,7\n2,40\n12,1\n12,3\n")
        #expect(try ContactPairsCSV.parse(text) == Array(Set(pairs)).sorted())
        #expect(String(decoding: ContactPairsCSV.render([]), as: UTF8.self) == "case,contact\n")
    }

    @Test func pairKeysSortAsPairs() {
        let ids: [Int32] = [.min, -5, -1, 0, 1, 7, .max]
        var pairs: [ContactPair] = []
        for a in ids { for b in ids { pairs.append(ContactPair(indexCase: a, contact: b)) } }
        #expect(pairs.map(\.key).sorted().map { ContactPair(key: $0) } == pairs.sorted())
    }
}
