import NIOCore
import Testing
@testable import TwinBankPostgres

/// The `COPY` text rows ingest sends (no server needed): integers are written digit by digit into the buffer.
@Suite struct PostgresCopyTests {
    static func row(_ write: (inout CopyTextRow) -> Void) -> String {
        var w = CopyTextRow(into: ByteBuffer())
        write(&w)
        w.end()
        return String(buffer: w.buffer)
    }

    @Test(arguments: [Int64(0), 1, -1, 9, 10, -10, 1_234_567_890, 1_733_500_800_000_000, -1_733_500_800_000_000, .max, .min])
    func integersAsDecimal(_ v: Int64) {
        #expect(PostgresCopyTests.row { $0.int(v) } == "\(v)\n")
    }

    @Test func fieldsSeparatedAndEscaped() {
        let text = PostgresCopyTests.row { w in
            w.int(Int64(42)); w.int(Int64?.none); w.double(2.5); w.text("a\tb\\c\nd"); w.bytes([0x00, 0xAB] as [UInt8]); w.int(Int64(-7))
        }
        #expect(text == "42\t\\N\t2.5\ta\\tb\\\\c\\nd\t\\\\x00ab\t-7\n")
    }
}
