import Testing
import TwinCore

@Suite("CSVTable: small tables read whole through CSVReader")
struct CSVTableTests {
    @Test func headerRecordsAndLines() throws {
        let table = try CSVTable(text: "a,b\r\n1,\"two\r\nlines\"\r\n\r\n,\r\n3,4", name: "t.csv", separator: UInt8(ascii: ","))
        #expect(table.header == ["a", "b"])
        #expect(table.rows == [["1", "two\r\nlines"], ["3", "4"]])
        #expect(table.records.map(\.line) == [2, 6])
        #expect(table.column("b") == 1)
        #expect(table.numbers(0) == [1, 3])
    }

    @Test func tabsAndBlankLinesKeptWhenAsked() throws {
        let table = try CSVTable(text: "x\ty\n\n1\t\"a\tb\"\n", separator: UInt8(ascii: "\t"), skippingBlankLines: false)
        #expect(table.rows == [[""], ["1", "a\tb"]])
    }

    @Test func emptyTextHasNoHeader() throws {
        #expect(try CSVTable(text: "").header.isEmpty)
        #expect(try CSVTable(text: "\n\n").records.isEmpty)
    }

    @Test func errorsNameTheFileAndLine() {
        let error = #expect(throws: TwinError.self) { _ = try CSVTable(text: "a\n\"open\n", name: "t.csv") }
        #expect(error?.code == .invalidCSV)
        #expect(error?.message.hasPrefix("t.csv: line 2") == true, "\(error?.message ?? "")")
    }
}
