import Foundation
import Testing
import TwinBank
import TwinCore
import TwinGovernance
import TwinTesting

@Suite struct SafeHarborTests {
    static let key = try! PseudonymKey(bytes: Array(repeating: 42, count: 32))
    static let harbor = SafeHarbor(key: key, referenceYear: 2026)

    /// Every value of the input that must not appear in the output: names, streets, cities, phones and emails,
    /// identifier values (SSN, MRN, driver's licence, passport), resource ids.
    static func identifying(_ bundle: Any) -> (quoted: Set<String>, anywhere: Set<String>) {
        var quoted = Set<String>(), anywhere = Set<String>()
        func walk(_ v: Any, _ key: String?) {
            if let o = v as? [String: Any] {
                if key == "name" || key == "contact" {
                    let given = (o["given"] as? [String]) ?? []
                    if let f = o["family"] as? String {
                        quoted.insert(f)
                        if let g = given.first { anywhere.insert("\(g) \(f)") }
                    }
                    given.forEach { quoted.insert($0) }
                }
                if key == "address" {
                    ((o["line"] as? [String]) ?? []).forEach { anywhere.insert($0) }
                    if let c = o["city"] as? String { quoted.insert(c) }
                }
                if key == "telecom", let t = o["value"] as? String { anywhere.insert(t) }
                if key == "identifier", let t = o["value"] as? String {
                    // an all-digit value (a claim group 99999999999) would also match inside a decimal: compare it as a value
                    if t.allSatisfy(\.isNumber) { if t.count >= 6 { quoted.insert(t) } } else { anywhere.insert(t) }
                }
                if o["resourceType"] != nil, let id = o["id"] as? String, id.count >= 16 { anywhere.insert(id) }  // not a contained #id
                for (k, c) in o { walk(c, k) }
            } else if let a = v as? [Any] {
                for c in a { walk(c, key) }
            } else if let s = v as? String, key == "valueString", s.contains(" ") {
                _ = s
            }
        }
        walk(bundle, nil)
        return (quoted, anywhere)
    }

    @Test(.enabled(if: SyntheaFixture.available, "needs ../shared/data/synthea"), arguments: SyntheaFixture.bundles)
    func noNameStreetDatePhoneOrRecordNumberOfASyntheaBundleSurvives(url: URL) throws {
        let input = try [UInt8](Data(contentsOf: url))
        let output = try Self.harbor.deidentify(fhir: input)
        let text = String(decoding: output, as: UTF8.self)
        let bytes = Data(output)
        let tree = try JSONSerialization.jsonObject(with: Data(input))
        let values = Self.identifying(tree)
        #expect(values.anywhere.count > 5, "the fixture should have names, streets and identifiers")
        for v in values.anywhere where v.count >= 4 {
            let survives = bytes.range(of: Data(v.utf8)) != nil
            #expect(!survives, "'\(v)' survives in \(url.lastPathComponent)")
        }
        for v in values.quoted where v.count >= 2 {
            let survives = bytes.range(of: Data("\"\(v)\"".utf8)) != nil
            #expect(!survives, "'\(v)' survives in \(url.lastPathComponent)")
        }
        // no date with more than a year
        let fullDate = text.range(of: #"\d{4}-\d{2}-\d{2}"#, options: .regularExpression).map { String(text[$0]) }
        let yearMonth = text.range(of: #""\d{4}-\d{2}""#, options: .regularExpression).map { String(text[$0]) }
        #expect(fullDate == nil && yearMonth == nil, "a date survives in \(url.lastPathComponent)")
        // the output is still a Bundle with all its resources
        let released = try #require(try JSONSerialization.jsonObject(with: Data(output)) as? [String: Any])
        #expect(released["resourceType"] as? String == "Bundle")
        #expect(((released["entry"] as? [Any]) ?? []).count == ((tree as? [String: Any])?["entry"] as? [Any] ?? []).count)
    }

    @Test func addressesKeepOnlyStateAndZIP3AndRestrictedPrefixesBecome000() throws {
        let patient: [String: Any] = [
            "resourceType": "Patient", "id": "p1", "birthDate": "1930-05-17", "gender": "female",
            "address": [["line": ["1 Elm Street"], "city": "Smallville", "state": "WY", "postalCode": "82001", "country": "US"]],
            "telecom": [["system": "email", "value": "jane@example.org"]],
            "text": ["status": "generated", "div": "<div>Jane Doe</div>"],
            "note": [["text": "lives alone with her cat"]],
        ]
        let out = try Self.harbor.deidentify(fhir: [UInt8](JSONSerialization.data(withJSONObject: patient)))
        let p = try #require(try JSONSerialization.jsonObject(with: Data(out)) as? [String: Any])
        let address = try #require((p["address"] as? [[String: Any]])?.first)
        #expect(address["state"] as? String == "WY")
        #expect(address["postalCode"] as? String == "820")
        #expect(address["line"] == nil && address["city"] == nil)
        #expect(p["telecom"] == nil && p["text"] == nil && p["note"] == nil)
        // born 1930: over 89 in 2026, so no birth year, only the pooled category
        #expect(p["birthDate"] == nil)
        #expect(String(decoding: out, as: UTF8.self).contains("90+"))
        #expect(p["id"] as? String == Self.key.pseudonym("p1", domain: "fhir"))
        // the same patient gets the same pseudonym in another release with the same key, another with another key
        #expect(try Self.harbor.deidentify(fhir: [UInt8](JSONSerialization.data(withJSONObject: patient))) == out)
        let other = SafeHarbor(key: try PseudonymKey(bytes: Array(repeating: 43, count: 32)), referenceYear: 2026)
        #expect(try other.deidentify(fhir: [UInt8](JSONSerialization.data(withJSONObject: patient))) != out)
        #expect(SafeHarbor.zip3(of: "03601") == "000" && SafeHarbor.zip3(of: "82301") == "000")
        #expect(SafeHarbor.zip3(of: "02110-1234") == "021")
        #expect(SafeHarbor.zip3(of: "SW1A 1AA") == nil)
    }

    @Test func aMemberRecordKeepsOnlyYearSexRegionAndCodedAttributes() throws {
        let twin = Twin(id: TwinID("ann"), kind: .person, attributes: [
            "name": .text("Ann Smith"), "gender": .text("female"), "birthDate": .date(try Instant(parsing: "1980-02-03")),
            "address": .text("12 High St, Boston, MA, 02110, US"), "fhir.id": .text("abc-123"),
            "maritalStatus": .concept(Concept(system: "http://terminology.hl7.org/CodeSystem/v3-MaritalStatus", code: "M")),
            "occupation": .text("baker at Joe's"),
        ])
        let r = Self.harbor.record(of: twin)
        #expect(r.fields == ["birthYear": "1980", "sex": "female", "state": "MA", "zip3": "021",
                             "maritalStatus": "http://terminology.hl7.org/CodeSystem/v3-MaritalStatus:M"])
        #expect(r.id == Self.key.pseudonym("ann", domain: "twin") && r.id != "ann")
        let old = Twin(id: TwinID("bo"), kind: .person, attributes: ["birthDate": .date(try Instant(parsing: "1935-01-01"))])
        #expect(Self.harbor.record(of: old).fields["birthYear"] == "90+")
    }
}
