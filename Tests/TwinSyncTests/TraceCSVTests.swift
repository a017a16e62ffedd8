import Foundation
import Testing
import TwinCore
@testable import TwinSync

/// The simglucose trace reader goes through TwinCore's CSV reader: CRLF line ends and quoted fields read as
/// LF and plain ones (the old reader split at every comma and kept quotes in the numbers).
@Suite("Trace CSV reading")
struct TraceCSVTests {
    static func trace(_ lineEnd: String, quoted: Bool) -> String {
        var text = "Time,BG,CGM,CHO,insulin\(lineEnd)"
        for k in 0..<61 {
            let time = quoted ? "\"2024-01-01 00:\(k < 10 ? "0" : "")\(k % 60):00, minute \(k)\"" : "2024-01-01 00:\(k)"
            text += "\(time),\(120 + Double(k) / 2),\(quoted ? "\"121\"" : "121"),\(k == 30 ? 45 : 0),0.02\(lineEnd)"
        }
        return text
    }

    @Test(arguments: [("\n", false), ("\r\n", false), ("\r\n", true), ("\n", true)])
    func readsCRLFAndQuotedFields(lineEnd: String, quoted: Bool) throws {
        let trace = try GlucoseSyncExperiment.Trace(csv: Self.trace(lineEnd, quoted: quoted), name: "t.csv")
        #expect(trace.bg.count == 61)
        #expect(trace.bg[60] == 150)
        #expect(trace.carbohydrate[30] == 45)
        #expect(trace.insulin.allSatisfy { $0 == 0.02 })
    }

    @Test func anUnclosedQuoteNamesTheFileAndLine() {
        let error = #expect(throws: SyncError.self) { _ = try GlucoseSyncExperiment.Trace(csv: "Time,BG,CHO,insulin\r\n0,\"120,0,0\r\n", name: "t.csv") }
        #expect(error?.message.contains("t.csv: line 2") == true, "\(error?.message ?? "")")
    }
}
