import Foundation
import Testing
@testable import TwinCore

@Suite struct VocabularyTests {
    @Test func identifiers() throws {
        _ = try TwinID("alice")
        _ = try TwinID("alice.v2:fork#1_x-y")
        for bad in ["", " alice", "al ice", "-x", "a/b", "a@1", String(repeating: "a", count: 129), "ä"] {
            #expect {
                try TwinID(bad)
            } throws: { e in (e as? TwinError)?.code == .invalidIdentifier && (e as? TwinError)?.value == bad }
        }
    }

    @Test func kinds() throws {
        #expect(try Twin.Kind(parsing: "person") == .person)
        #expect(try Twin.Kind(parsing: "body-system") == .bodySystem)
        #expect(try Twin.Kind(parsing: "organization") == .organisation)
        #expect {
            try Twin.Kind(parsing: "robot")
        } throws: { e in
            let m = "\(e)"
            return m.contains("robot") && m.contains("body-system") && m.contains("pathogen")
        }
    }

    @Test func codes() throws {
        #expect(try CodeKey(parsing: "loinc:2339-0") == CodeKey(system: "http://loinc.org", code: "2339-0"))
        #expect(try CodeKey(parsing: "snomed:44054006") == CodeKey(system: "http://snomed.info/sct", code: "44054006"))
        #expect(try CodeKey(parsing: "http://loinc.org|2339-0") == .loinc("2339-0"))
        #expect(try CodeKey(parsing: "http://loinc.org:2339-0") == .loinc("2339-0"))
        #expect(try CodeKey(parsing: "rxnorm:860975").system == "http://www.nlm.nih.gov/research/umls/rxnorm")
        #expect(try CodeKey(parsing: "icd10:E11.9").system == "http://hl7.org/fhir/sid/icd-10")
        #expect(CodeKey.loinc("2339-0").description == "loinc:2339-0")
        let c = try Concept(parsing: "http://snomed.info/sct|44054006|Diabetes type 2")
        #expect(c.display == "Diabetes type 2" && c.code == "44054006")
        for bad in ["2339-0", "lonic:2339-0", "loinc:", ":2339", "loinc:23 39", "http://loinc.org"] {
            #expect {
                try CodeKey(parsing: bad)
            } throws: { e in (e as? TwinError)?.code == .invalidConcept && (e as? TwinError)?.value == bad }
        }
    }

    @Test func attributeValues() throws {
        let a = try Twin.parseAttributes(["sex=female", "birthDate=1980-04-02", "weight=72 kg",
                                          "dx=http://snomed.info/sct|44054006|Diabetes type 2", "smoker=false",
                                          "ecg=[0.1,0.5,-0.2] mV", "ratio=0.5", "code=snomed:73211009", "note=text:a=b"])
        #expect(a["sex"] == .text("female"))
        #expect(a["birthDate"] == .date(try Instant(parsing: "1980-04-02")))
        #expect(a["weight"] == .quantity(Quantity(72, "kg")))
        #expect(a["dx"] == .concept(Concept(system: "http://snomed.info/sct", code: "44054006", display: "Diabetes type 2")))
        #expect(a["smoker"] == .boolean(false))
        #expect(a["ecg"] == .vector(Vector([0.1, 0.5, -0.2], unit: "mV")))
        #expect(a["ratio"] == .quantity(Quantity(0.5, "1")))
        #expect(a["code"] == .concept(Concept(.snomed("73211009"))))
        #expect(a["note"] == .text("a=b"))
        #expect(throws: TwinError.self) { try Twin.parseAttributes(["weight=72 kgg"]) }
        #expect(throws: TwinError.self) { try Twin.parseAttributes(["birthDate=1980-02-30"]) }
        #expect(throws: TwinError.self) { try Twin.parseAttributes(["noequals"]) }
        #expect(throws: TwinError.self) { try Twin.parseAttributes(["a=1", "a=2"]) }
    }

    @Test func sources() throws {
        #expect(try Source(parsing: "device:cgm-7") == Source(.device, "cgm-7"))
        #expect(try Source(parsing: "model:uva-padova@1").kind == .model)
        #expect(try Source(parsing: "import:/tmp/file.csv").id == "/tmp/file.csv")
        #expect(throws: TwinError.self) { try Source(parsing: "cgm-7") }
        #expect(throws: TwinError.self) { try Source(parsing: "robot:x") }
        #expect(throws: TwinError.self) { try Source(parsing: "device:") }
    }

    @Test func twinCodableIsCanonical() throws {
        var t = Twin(id: "alice", kind: .person)
        t.attributes = ["z": .text("last"), "a": .quantity(Quantity(1, "kg")), "m": .date(Instant(microseconds: 0))]
        t.parts = [Twin.Part(role: "liver", twin: "alice-liver")]
        t.template = Twin.TemplateReference(id: "adult", version: 2)
        let enc = JSONEncoder()
        enc.outputFormatting = [.sortedKeys]
        let data = try enc.encode(t)
        let text = String(decoding: data, as: UTF8.self)
        #expect(text.range(of: "\"a\"")!.lowerBound < text.range(of: "\"z\"")!.lowerBound)
        let back = try JSONDecoder().decode(Twin.self, from: data)
        #expect(back == t)
    }

    @Test func contentHashHex() {
        let bytes = (0..<32).map { UInt8($0 * 7 & 255) }
        let h = ContentHash(bytes: bytes)!
        #expect(h.bytes == bytes)
        #expect(ContentHash(hex: h.hex) == h)
        #expect(ContentHash(hex: "zz") == nil)
    }

    @Test func categoriesAndPeriods() throws {
        #expect(try Event.Category(parsing: "Prediction") == .prediction)
        #expect(throws: TwinError.self) { try Event.Category(parsing: "gossip") }
        let p = try EffectiveTime(parsing: "2024-01-01/2024-01-02")
        #expect(p.end != nil)
        #expect(throws: TwinError.self) { try EffectiveTime(parsing: "2024-01-02/2024-01-01") }
    }
}

@Suite struct EventDraftParsingTests {
    @Test func parsesCommandLineEvents() throws {
        let d = try EventDraft.parse(twin: "alice", code: "loinc:2339-0", value: "105", unit: "mg/dL", at: "2024-01-01T07:45Z",
                                     source: "device:cgm-7", category: "observation")
        #expect(d.value == .quantity(Quantity(105, "mg/dL")) && d.code.key == .loinc("2339-0") && d.source == Source(.device, "cgm-7"))
        let n = try EventDraft.parse(twin: "alice", code: "local:note", value: "felt dizzy", at: "2024-01-01", category: "annotation")
        #expect(n.value == .text("felt dizzy") && n.source == Source(.person, "local") && n.category == .annotation)
        #expect(throws: TwinError.self) { try EventDraft.parse(twin: "a", code: "loinc:1", value: "1", unit: "kgg", at: "2024-01-01") }
        #expect(throws: TwinError.self) { try EventDraft.parse(twin: "a", code: "loinc:1", value: "1", at: "yesterday") }
        #expect(throws: TwinError.self) { try EventDraft.parse(twin: "a", code: "loinc:1", value: "1", at: "2024-01-01", category: "gossip") }
    }
}
