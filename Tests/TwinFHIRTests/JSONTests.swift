import Testing
@testable import TwinFHIR

@Suite struct JSONTests {
    @Test func keepsNumberTextAndOrder() throws {
        let v = try JSONReader().read(#"{"b": 1.50, "a": [1e3, -0.0, 2], "c": "x\u00e9\n\ud83d\ude00"}"#)
        #expect(v["b"] == .number("1.50"))
        #expect(v["a"]?[0] == .number("1e3"))
        #expect(v.objectValue?.keys == ["b", "a", "c"])
        #expect(v["c"]?.stringValue == "xé\n😀")
        let again = try JSONReader().read(JSONWriter().write(v))
        #expect(again == v)
        let pretty = try JSONReader().read(JSONWriter(indent: 2).write(v))
        #expect(pretty == v)
    }

    @Test(arguments: [
        (#"{"a": 1,}"#, 8), (#"{"a": 01}"#, 6), (#"[1, 2"#, 5), (#"{"a": "x"#, 6), (#"{"a":1} x"#, 8),
        (#"{"a": 1, "a": 2}"#, 9), ("{\"a\": \"\u{01}\"}", 7), (#"{"a": tru}"#, 6), (#""\ud800""#, 1), ("", 0),
    ])
    func rejectsMalformed(text: String, offset: Int) {
        #expect {
            _ = try JSONReader().read(text)
        } throws: { error in
            guard let e = error as? FHIRError else { return false }
            return e.code == .malformedJSON && e.byteOffset == offset
        }
    }

    @Test func errorNamesPathAndLine() {
        let text = "{\"resourceType\": \"Bundle\",\n \"entry\": [{}, {\"resource\": {\"status\": [1,]}}]}"
        do {
            _ = try JSONReader().read(text)
            Issue.record("accepted malformed JSON")
        } catch {
            #expect(error.location == "Bundle.entry[1].resource.status[1]")
            #expect(error.line == 2)
        }
    }

    @Test func rejectsInvalidUTF8() {
        #expect(throws: FHIRError.self) { _ = try JSONReader().read([0x22, 0xC3, 0x28, 0x22]) }
    }

    @Test func rejectsDeepNesting() {
        let deep = String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000)
        #expect(throws: FHIRError.self) { _ = try JSONReader().read(deep) }
    }
}
