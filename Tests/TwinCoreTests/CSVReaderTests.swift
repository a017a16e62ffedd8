import Foundation
import Testing
@testable import TwinCore

/// The streaming RFC 4180 reader (issue 22, defect 7).
@Suite struct CSVReaderTests {
    /// All records of a text, read in chunks of `chunk` bytes (1 byte exercises every boundary).
    func records(_ text: String, chunk: Int = 1, separator: UInt8? = nil) throws -> [CSVReader.Record] {
        var bytes = Array(text.utf8)[...]
        let reader = CSVReader(name: "t.csv", separator: separator) {
            guard !bytes.isEmpty else { return nil }
            let n = Swift.min(chunk, bytes.count)
            defer { bytes = bytes.dropFirst(n) }
            return Array(bytes.prefix(n))
        }
        var out: [CSVReader.Record] = []
        while let r = try reader.next() { out.append(r) }
        return out
    }

    @Test(arguments: [1, 2, 7, 65536])
    func quotedFieldsCRLFAndBOM(chunk: Int) throws {
        let text = "\u{FEFF}time,value\r\n2024-01-01,\"a, b\"\r\n2024-01-02,\"say \"\"hi\"\"\"\r\n2024-01-03,\"two\nlines\"\r\n2024-01-04,\r\n"
        let r = try records(text, chunk: chunk)
        #expect(r.map(\.fields) == [["time", "value"], ["2024-01-01", "a, b"], ["2024-01-02", "say \"hi\""],
                                     ["2024-01-03", "two\nlines"], ["2024-01-04", ""]])
        #expect(r.map(\.line) == [1, 2, 3, 4, 6])
    }

    @Test(arguments: [("a;b;c\n1;2,5;3\n", ";"), ("a\tb\n1\t2\n", "\t"), ("a,b\n1,2", ","), ("a\n1\n", ",")])
    func detectsTheSeparator(text: String, separator: String) throws {
        let reader = CSVReader(text: text)
        let header = try reader.next()
        #expect(reader.separator == UInt8(ascii: Unicode.Scalar(separator)!))
        #expect(header?.fields.first == "a")
        if text.hasPrefix("a;") { #expect(try reader.next()?.fields == ["1", "2,5", "3"]) }
    }

    @Test func aGivenSeparatorWins() throws {
        #expect(try records("a;b,c\n", separator: UInt8(ascii: ",")).first?.fields == ["a;b", "c"])
        #expect(try CSVReader.separator(named: "tab") == 9)
        #expect(throws: TwinError.self) { try CSVReader.separator(named: "|") }
    }

    @Test func lastLineWithoutNewlineAndLoneCR() throws {
        #expect(try records("a,b\r1,2").map(\.fields) == [["a", "b"], ["1", "2"]])
    }

    @Test(arguments: [
        ("a,b\n1,\"open\n", "line 2", "unterminated"),
        ("a,b\n1,\"x\"y\n", "line 2, column 2", "after a closing quote"),
    ])
    func errorsNameTheLine(text: String, place: String, why: String) {
        #expect {
            _ = try records(text)
        } throws: { error in
            guard let e = error as? TwinError else { return false }
            return e.code == .invalidCSV && e.message.contains("t.csv: \(place)") && e.message.contains(why)
        }
    }

    @Test func invalidUTF8IsAnError() {
        var bytes: [UInt8]? = Array("a\n".utf8) + [0xFF, 0xFE, 10]
        let reader = CSVReader(name: "bin.csv") { defer { bytes = nil }; return bytes }
        #expect(throws: TwinError.self) { while try reader.next() != nil {} }
    }

    @Test func readsAFileInChunks() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("csvreader-\(UInt64.random(in: 0...UInt64.max)).csv")
        defer { try? FileManager.default.removeItem(at: url) }
        var text = "n,text\n"
        for i in 0..<5000 { text += "\(i),\"row \(i), quoted\"\r\n" }
        try text.write(to: url, atomically: true, encoding: .utf8)
        let handle = try FileHandle(forReadingFrom: url)
        defer { try? handle.close() }
        let reader = CSVReader(name: "big.csv") {
            let data = try handle.read(upToCount: 100) ?? Data()
            return data.isEmpty ? nil : [UInt8](data)
        }
        var n = 0
        _ = try reader.next()
        while let r = try reader.next() {
            #expect(r.fields == ["\(n)", "row \(n), quoted"])
            n += 1
        }
        #expect(n == 5000)
    }

    // MARK: Field bytes (issue 23 item 5)

    /// A reader over `text` in chunks of `chunk` bytes.
    func reader(_ text: [UInt8], chunk: Int) -> CSVReader {
        var bytes = text[...]
        return CSVReader(name: "t.csv") {
            guard !bytes.isEmpty else { return nil }
            let n = Swift.min(chunk, bytes.count)
            defer { bytes = bytes.dropFirst(n) }
            return Array(bytes.prefix(n))
        }
    }

    /// `advance()` and the field bytes give what `next()` gives, for every chunk size: records that straddle
    /// chunks, a doubled quote, a CR and a multi-byte character split by a chunk boundary.
    @Test(arguments: [1, 2, 3, 5, 8, 13, 64, 65536])
    func fieldBytesAreTheRecordsFields(chunk: Int) throws {
        let text = "\u{FEFF}time,note,n\r\n2024-01-01,\"caf\u{E9} \"\"au lait\"\"\",1\r2024-01-02,\u{6F22}\u{5B57},2\n2024-01-03,\"a\nb, c\",\r\n\n2024-01-04,,\"\""
        let expected = try records(text, chunk: 65536)
        #expect(expected.map(\.fields) == [["time", "note", "n"], ["2024-01-01", "caf\u{E9} \"au lait\"", "1"], ["2024-01-02", "\u{6F22}\u{5B57}", "2"],
                                            ["2024-01-03", "a\nb, c", ""], [""], ["2024-01-04", "", ""]])
        let r = reader(Array(text.utf8), chunk: chunk)
        var got: [CSVReader.Record] = []
        while try r.advance() {
            var fields: [String] = []
            for i in 0..<r.fieldCount { fields.append(String(decoding: r.fieldBytes(i), as: UTF8.self)) }
            #expect(fields == (0..<r.fieldCount).map { r.field($0) })
            got.append(CSVReader.Record(fields: fields, line: r.recordLine))
        }
        #expect(got == expected)
        #expect(try records(text, chunk: chunk) == expected)
        #expect(expected.map(\.line) == [1, 2, 3, 4, 6, 7])
    }

    /// Bytes that are not UTF-8 are an error naming the line and the column, wherever the chunks end.
    @Test(arguments: [1, 4, 65536])
    func invalidUTF8NamesTheColumn(chunk: Int) {
        let r = reader(Array("a,b\n1,2\n3,".utf8) + [0xC3, 0x28] + Array("\n".utf8), chunk: chunk)
        #expect {
            while try r.advance() {}
        } throws: { error in
            (error as? TwinError)?.message.contains("t.csv: line 3, column 2: the text is not UTF-8") == true
        }
    }
}
