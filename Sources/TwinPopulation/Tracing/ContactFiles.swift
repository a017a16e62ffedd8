import TwinCore

/// The index cases of a trace: person ids, as `proximity_baseline.py --save-cases` writes them (one integer a
/// line).
public enum IndexCases {
    /// Reads a cases file: one person id (an integer in the Int32 range) a line; blank lines are skipped, spaces
    /// and CRLF line ends are accepted. Returns the ids sorted, each once.
    /// - Throws: ``PopulationError`` `invalidCases` naming the file, the line and the value, or that the file holds
    ///   no id or cannot be read.
    public static func read(path: String) throws(PopulationError) -> [Int32] {
        let file = try TracingInputFile(path: path, what: "index cases", code: .invalidCases)
        defer { file.closeFile() }
        return try parse(String(decoding: try file.readAll(), as: UTF8.self), name: path)
    }

    /// Parses the text of a cases file (see ``read(path:)``).
    public static func parse(_ text: String, name: String = "cases") throws(PopulationError) -> [Int32] {
        var ids: [Int32] = []
        var number = 0
        // split at LF, CRLF or CR (CRLF is one Character)
        for line in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline) {
            number += 1
            let word = PingsParser.trimmed(line)
            if word.isEmpty { continue }
            guard let id = Int32(word.hasPrefix("+") ? String(word.dropFirst()) : word) else {
                throw PopulationError(.invalidCases, "\(name): line \(number): '\(word)' is not a person id (an integer in -2147483648...2147483647, one a line)", value: word)
            }
            ids.append(id)
        }
        guard !ids.isEmpty else {
            throw PopulationError(.invalidCases, "\(name) holds no index case: give one person id a line", value: name)
        }
        return Array(Set(ids)).sorted()
    }
}

/// One close contact: `contact` was near `indexCase` (within the distance and the window), in that direction.
public struct ContactPair: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// The index case.
    public var indexCase: Int32
    /// The person who was near the index case.
    public var contact: Int32

    public init(indexCase: Int32, contact: Int32) {
        self.indexCase = indexCase
        self.contact = contact
    }

    /// Ordered by index case, then contact (as the anchor sorts its pairs).
    public static func < (a: ContactPair, b: ContactPair) -> Bool {
        (a.indexCase, a.contact) < (b.indexCase, b.contact)
    }

    public var description: String { "(\(indexCase), \(contact))" }

    /// A 64-bit key whose unsigned order is the pair order (for sorting many pairs fast).
    @inline(__always)
    var key: UInt64 {
        UInt64(UInt32(bitPattern: indexCase) ^ 0x8000_0000) << 32 | UInt64(UInt32(bitPattern: contact) ^ 0x8000_0000)
    }

    @inline(__always)
    init(key: UInt64) {
        indexCase = Int32(bitPattern: UInt32(truncatingIfNeeded: key >> 32) ^ 0x8000_0000)
        contact = Int32(bitPattern: UInt32(truncatingIfNeeded: key) ^ 0x8000_0000)
    }
}

/// The pairs CSV of `proximity_baseline.py --save-pairs`: a header `case,contact`, then one pair a line, sorted by
/// case then contact, as integers.
public enum ContactPairsCSV {
    /// The file's bytes for `pairs` (sorted and made unique here), byte for byte what the anchor writes for the
    /// same pairs.
    public static func render(_ pairs: [ContactPair]) -> [UInt8] {
        // a trace's pairs are sorted and unique already: no copy then
        let sorted = zip(pairs, pairs.dropFirst()).allSatisfy { $0 < $1 } ? pairs : Array(Set(pairs)).sorted()
        var out: [UInt8] = Array("case,contact\n".utf8)
        out.reserveCapacity(out.count + sorted.count * 16)
        for p in sorted {
            out.append(contentsOf: String(p.indexCase).utf8)
            out.append(UInt8(ascii: ","))
            out.append(contentsOf: String(p.contact).utf8)
            out.append(10)
        }
        return out
    }

    /// Parses a pairs CSV (the anchor's or ours), in file order, through TwinCore's ``CSVReader`` (LF or CRLF
    /// line ends, quoted fields). Blank lines and a first line starting with `case` are skipped.
    /// - Throws: ``PopulationError`` `invalidArgument` naming the line when a line is not two integers.
    public static func parse(_ text: String, name: String = "pairs") throws(PopulationError) -> [ContactPair] {
        let reader = CSVReader(text: text, name: name, separator: UInt8(ascii: ","))
        var pairs: [ContactPair] = []
        while true {
            let next: CSVReader.Record?
            do { next = try reader.next() } catch { throw PopulationError(.invalidArgument, "\(error)", value: name) }
            guard let record = next else { break }
            let f = record.fields
            if record.isBlank || (record.line == 1 && f[0].lowercased().hasPrefix("case")) { continue }
            guard f.count == 2, let a = Int32(PingsParser.trimmed(f[0])), let b = Int32(PingsParser.trimmed(f[1])) else {
                let line = f.joined(separator: ",")
                throw PopulationError(.invalidArgument, "\(name): line \(record.line): '\(line)' is not case,contact", value: line)
            }
            pairs.append(ContactPair(indexCase: a, contact: b))
        }
        return pairs
    }
}
