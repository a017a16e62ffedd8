import Foundation
import Testing
@testable import TwinBank
import TwinCore

/// ``TwinRecordReader`` reads stored twin records from their bytes for aggregate queries: what it reads must be
/// exactly what Foundation's `JSONDecoder` reads (``QueryRecord``, or ``TwinRecord`` for every attribute), on
/// random twins with every kind of value, escapes, Unicode and nulls; what it does not read it leaves to
/// `JSONDecoder` (nil), never guessing.
@Suite struct TwinRecordReaderTests {
    typealias Rng = ReplayPropertyTests.Rng

    /// Pieces of text: escapes JSON must write, Unicode (combining marks, emoji, the Kelvin sign, which equals
    /// `K` as a Swift `String`), separators.
    static let pieces = ["a", "Bob", " ", "\"", "\\", "/", "\n", "\t", "\r", "\u{0}", "\u{1F}", "\u{7F}", "é", "e\u{301}", "日本",
                         "😀", "\u{2028}", "\u{FEFF}", "\u{212A}", "K", "{\"x\":[1,2]}", "\\u0041", "null", "1e5", "%", "mmol/mol"]
    static let keys = ["sex", "gender", "birthDate", "deceased", "name", "weight", "K", "\u{212A}", "é", "e\u{301}", "a\"b", "x\\y", "", "日本", "n/a"]
    static let wantedSets: [Set<String>?] = [nil, [], ["sex", "gender"], ["birthDate", "deceased"], ["K"], ["\u{212A}"], ["e\u{301}"],
                                              ["a\"b", "x\\y", "", "日本"], ["name", "weight", "missing"], Set(keys)]

    static func text(_ rng: inout Rng) -> String {
        (0..<rng.int(6)).map { _ in pieces[rng.int(pieces.count)] }.joined()
    }

    static func double(_ rng: inout Rng) -> Double {
        switch rng.int(9) {
        case 0: return Double(rng.int(200)) - 100
        case 1: return Double(rng.int(1000)) / 10
        case 2: return [6.5, 0.1, 1e-7, 1e300, -0.0, 0, 123456789012345678, 1e15, 1e16 + 2, 5e-324, .greatestFiniteMagnitude][rng.int(11)]
        case 3: return Double(Int64(bitPattern: rng.next()))
        default:
            while true {
                let x = Double(bitPattern: rng.next())
                if x.isFinite { return x }
            }
        }
    }

    static func instant(_ rng: inout Rng) -> Instant {
        // 1900 to 2100, to the second or the microsecond
        let us = Int64(rng.int(200 * 365 * 86_400)) * 1_000_000 - 2_208_988_800_000_000
        return Instant(microseconds: rng.int(2) == 0 ? us : us + Int64(rng.int(1_000_000)))
    }

    static func id(_ rng: inout Rng) -> TwinID {
        let first = Array("abcXYZ0189"), rest = Array("abcXYZ0189._:#-")
        let s = String(first[rng.int(first.count)]) + String((0..<rng.int(20)).map { _ in rest[rng.int(rest.count)] })
        return try! TwinID(s)
    }

    static func value(_ rng: inout Rng) -> Value {
        switch rng.int(6) {
        case 0: return .quantity(Quantity(double(&rng), rng.int(3) == 0 ? text(&rng) : ["kg", "%", "mmol/mol", "1", "mm[Hg]"][rng.int(5)]))
        case 1: return .concept(Concept(system: text(&rng), code: text(&rng), display: rng.int(2) == 0 ? nil : text(&rng)))
        case 2: return .text(text(&rng))
        case 3: return .date(instant(&rng))
        case 4: return .vector(Vector((0..<rng.int(5)).map { _ in double(&rng) }, unit: text(&rng)))
        default: return .boolean(rng.int(2) == 0)
        }
    }

    static func record(_ rng: inout Rng) -> TwinRecord {
        var attributes: [String: Value] = [:]
        for _ in 0..<rng.int(6) { attributes[keys[rng.int(keys.count)]] = value(&rng) }
        var twin = Twin(id: id(&rng), kind: Twin.Kind.allCases[rng.int(Twin.Kind.allCases.count)], attributes: attributes)
        if rng.int(4) == 0 { twin.templateVersion = rng.int(5) + 1 }
        if rng.int(3) == 0 { twin.parts = [Twin.Part(role: text(&rng), twin: id(&rng))] }
        if rng.int(3) == 0 { twin.template = Twin.TemplateReference(id: id(&rng), version: rng.int(9) + 1) }
        if rng.int(3) == 0 { twin.dataSources = [Twin.DataSourceBinding(source: text(&rng), cadence: rng.int(2) == 0 ? nil : text(&rng))] }
        if rng.int(3) == 0 { twin.models = [Twin.ModelBinding(model: text(&rng), version: text(&rng), validation: nil)] }
        if rng.int(3) == 0 { twin.origin = instant(&rng) }
        let fork = rng.int(3) == 0 ? ForkInfo(parent: id(&rng), parentSequence: Int64(bitPattern: rng.next()) >> Int64(rng.int(63)), forkPoint: instant(&rng)) : nil
        return TwinRecord(twin: twin, fork: fork, created: instant(&rng))
    }

    /// What `JSONDecoder` reads of a record for a query: ``QueryRecord`` for a set of attributes; for all of
    /// them, the full ``TwinRecord`` cut to the fields a query reads.
    static func reference(_ bytes: [UInt8], _ wanted: Set<String>?) throws -> TwinRecord {
        guard let wanted else {
            let full = try ObjectCodec.decode(TwinRecord.self, from: bytes)
            var twin = Twin(id: full.twin.id, kind: full.twin.kind, attributes: full.twin.attributes)
            twin.templateVersion = full.twin.templateVersion
            return TwinRecord(twin: twin, fork: full.fork, created: full.created)
        }
        let decoder = JSONDecoder()
        decoder.userInfo[QueryRecord.attributesKey] = wanted
        return try decoder.decode(QueryRecord.self, from: Data(bytes)).record
    }

    @Test(arguments: [1, 2, 3, 4] as [UInt64])
    func readsRandomTwinsAsJSONDecoderDoes(seed: UInt64) throws {
        var rng = Rng(s: seed)
        for _ in 0..<500 {
            let record = Self.record(&rng)
            let bytes = try ObjectCodec.encode(record)
            for wanted in Self.wantedSets {
                let read = TwinRecordReader(attributes: wanted).read(bytes)
                // the bank's own encoding is always read (not left to JSONDecoder)
                let got = try #require(read, "\(String(decoding: bytes, as: UTF8.self))")
                #expect(got == (try Self.reference(bytes, wanted)), "\(String(decoding: bytes, as: UTF8.self)) for \(wanted.map { "\($0.sorted())" } ?? "all")")
            }
        }
    }

    /// JSON the bank does not write but JSONDecoder reads: spaces, another key order, nulls, unknown keys,
    /// escapes. Read alike (or left to JSONDecoder).
    static let variants: [(json: String, readHere: Bool)] = [
        (#" { "twin" : { "kind" : "person" , "id" : "p1" , "attributes" : [ { "value" : { "value" : "female" , "type" : "text" } , "key" : "sex" } ] } , "created" : "2020-01-01T00:00:00Z" } "#, true),
        (#"{"created":"2020-01-01T00:00:00Z","fork":null,"twin":{"attributes":null,"id":"p1","kind":"organ","templateVersion":null}}"#, true),
        (#"{"created":"2020-01-01","twin":{"id":"p1","kind":"person","attributes":[{"key":"sex","value":{"type":"concept","system":"s","code":"c","display":null}}]}}"#, true),
        (#"{"created":"2020-01-01","extra":[1,{"a":[true,false,null,-0.5e-3]}],"twin":{"id":"p1","kind":"person","more":{"x":"\u00e9\ud83d\ude00"},"attributes":[{"key":"sex","value":{"type":"text","value":"f\u00e9\ud83d\ude00\n\"\\\/","unit":5}}]}}"#, true),
        (#"{"created":"2020-01-01","twin":{"id":"p1","kind":"person","attributes":[{"key":"w\u00e9ight","value":{"type":"quantity","value":7.25E+1,"unit":"k\u0067"}},{"key":"sex","value":{"type":"boolean","value":true}},{"key":"sex","value":{"type":"boolean","value":false}}]}}"#, true),
        (#"{"created":"2020-01-01","twin":{"id":"p\u0031","kind":"person"},"fork":{"parent":"p0","parentSequence":-12,"forkPoint":"2019-12-31T23:59:59.000001Z"}}"#, true),
        (#"{"created":"2020-01-01","twin":{"id":"p1","kind":"person"},"fork":{"parent":"p0","parentSequence":-9223372036854775808,"forkPoint":"2020-01-01"}}"#, true),
        (#"{"created":"2020-01-01","twin":{"id":"p1","kind":"person"},"fork":{"parent":"p0","parentSequence":9223372036854775807,"forkPoint":"2020-01-01"}}"#, true),
        (#"{"created":"2020-01-01","twin":{"id":"p1","kind":"person","attributes":[{"key":"v","value":{"type":"vector","values":[],"unit":"mV"}},{"key":"x","value":"not a value"}]}}"#, true),
        // left to JSONDecoder: an escaped key, a duplicate key, a fractional or exponent integer
        (#"{"created":"2020-01-01","tw\u0069n":{"id":"p1","kind":"person"}}"#, false),
        (#"{"created":"2020-01-01","created":"2021-01-01","twin":{"id":"p1","kind":"person"}}"#, false),
        (#"{"created":"2020-01-01","twin":{"id":"p1","kind":"person","templateVersion":2.0}}"#, false),
        (#"{"created":"2020-01-01","twin":{"id":"p1","kind":"person","templateVersion":1e1}}"#, false),
    ]

    @Test func readsOtherSpellingsAsJSONDecoderDoes() throws {
        for (json, readHere) in Self.variants {
            let bytes = Array(json.utf8)
            for wanted in [["sex", "wéight", "v"], ["sex"], []] as [Set<String>] {
                let read = TwinRecordReader(attributes: wanted).read(bytes)
                #expect((read != nil) == readHere, "\(json)")
                if let read { #expect(read == (try Self.reference(bytes, wanted)), "\(json)") }
            }
            // every attribute: the same, except where one is not a value (x): neither reads it
            let all = TwinRecordReader(attributes: nil).read(bytes)
            if json.contains("not a value") {
                #expect(all == nil)
                #expect(throws: DecodingError.self) { try Self.reference(bytes, nil) }
            } else {
                #expect((all != nil) == readHere, "\(json)")
                if let all { #expect(all == (try Self.reference(bytes, nil)), "\(json)") }
            }
        }
    }

    /// Malformed or unreadable records are never read here: JSONDecoder gives its error.
    static let malformed = [
        "", "{", "[]", "null", #"{"created":"2020-01-01","twin":{"id":"p1","kind":"person"}"#,
        #"{"created":"2020-01-01","twin":{"id":"p1","kind":"person"},}"#,
        #"{"created":"2020-01-01","twin":{"id":"p1","kind":"person"}} x"#,
        #"{"created":"2020-01-01","twin":{"id":"p1","kind":"person","n":01}}"#,
        "{\"created\":\"2020-01-01\",\"twin\":{\"id\":\"p1\",\"kind\":\"person\",\"n\":\"a\u{1}\"}}",
        "{\"created\":\"2020-01-01\",\"twin\":{\"id\":\"p1\",\"kind\":\"person\",\"n\":\"tab\tinside\"}}",
        #"{"created":"2020-01-01","twin":{"id":"p1","kind":"person","n":"\ud800"}}"#,
        #"{"created":"2020-01-01","twin":{"id":"p1","kind":"person","n":"\x"}}"#,
        #"{"created":"2020-01-01","twin":{"id":"p1","kind":"robot"}}"#,
        #"{"created":"2020-01-01","twin":{"id":"-p1","kind":"person"}}"#,
        #"{"created":"yesterday","twin":{"id":"p1","kind":"person"}}"#,
        #"{"twin":{"id":"p1","kind":"person"}}"#,
        #"{"created":"2020-01-01","twin":{"id":"p1","kind":"person","attributes":[{"key":"sex","value":{"type":"colour","value":"red"}}]}}"#,
        #"{"created":"2020-01-01","twin":{"id":"p1","kind":"person","attributes":[{"key":"sex","value":{"type":"quantity","value":1}}]}}"#,
        #"{"created":"2020-01-01","twin":{"id":"p1","kind":"person","attributes":[{"key":"sex","value":{"type":"quantity","value":1e999,"unit":"1"}}]}}"#,
        #"{"created":"2020-01-01","twin":{"id":"p1","kind":"person","attributes":[{"key":"sex","value":{"type":"text","value":null}}]}}"#,
        #"{"created":"2020-01-01","twin":{"id":"p1","kind":"person","attributes":[{"value":{"type":"text","value":"f"}}]}}"#,
        #"{"created":"2020-01-01","twin":{"id":"p1","kind":"person","attributes":{"sex":"f"}}}"#,
        #"{"created":"2020-01-01","fork":{"parent":"p0","forkPoint":"2020-01-01"},"twin":{"id":"p1","kind":"person"}}"#,
        #"{"created":"2020-01-01","fork":{"parent":"p0","parentSequence":9223372036854775808,"forkPoint":"2020-01-01"},"twin":{"id":"p1","kind":"person"}}"#,
    ]

    @Test func leavesMalformedRecordsToJSONDecoder() throws {
        var bytes = malformedWithInvalidUTF8()
        for json in Self.malformed { bytes.append(Array(json.utf8)) }
        for b in bytes {
            for wanted in [nil, ["sex"]] as [Set<String>?] {
                #expect(TwinRecordReader(attributes: wanted).read(b) == nil, "\(String(decoding: b, as: UTF8.self))")
            }
        }
    }

    func malformedWithInvalidUTF8() -> [[UInt8]] {
        let head = Array(#"{"created":"2020-01-01","twin":{"id":"p1","kind":"person","n":""#.utf8)
        return [head + [0xC3, 0x28] + Array(#""}}"#.utf8), head + [0xFF] + Array(#""}}"#.utf8)]
    }

    /// Through the bank: every twin record of a bank with forks, templates and organisations is read as
    /// JSONDecoder reads it, and a malformed stored record gives JSONDecoder's error, not a wrong record.
    @Test(arguments: StorageKind.allCases)
    func queryRecordsEqualTheDecoderPath(kind: StorageKind) throws {
        let (bank, _) = try AggregateScaleTests.mixedBank(kind)
        try bank.storage.read { tx in
            let hexes = try tx.refs(prefix: "twin/").map(\.value)
            let found = try tx.objects(hexes.map { ContentHash(hex: $0)! })
            for wanted in Self.wantedSets {
                let records = try bank.queryRecords(hexes, attributes: wanted, tx)
                #expect(records.count == hexes.count)
                for (hex, r) in zip(hexes, records) {
                    #expect(r == (try Self.reference(found[ContentHash(hex: hex)!]!, wanted)))
                }
            }
        }
        let bad = Array(#"{"created":"2020-01-01","twin":{"id":"p1","kind":"robot"}}"#.utf8)
        let hash = EventHasher.sha256(bad)
        try bank.storage.write { tx in try tx.putObject(hash, kind: "twin", bytes: bad) }
        try bank.storage.read { tx in
            #expect(throws: DecodingError.self) { try bank.queryRecords([hash.hex], attributes: ["sex"], tx) }
            #expect(throws: DecodingError.self) { try bank.queryRecords([hash.hex], attributes: nil, tx) }
        }
    }
}
