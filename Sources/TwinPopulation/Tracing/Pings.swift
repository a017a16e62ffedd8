#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Location pings as columns (struct of arrays): the `i`-th ping is `person[i]` at `latitude[i]`,
/// `longitude[i]` (degrees, WGS 84 as GPS gives them) at `time[i]` (seconds, any origin).
///
/// Promises: the four columns always have the same length, and every ping in them is valid: a finite time,
/// a latitude in -90...90 and a longitude in -180...180 (both inclusive). Nothing else is kept per ping, so
/// ten million pings take 280 MB.
public struct Pings: Sendable, Equatable {
    /// The person each ping belongs to.
    public private(set) var person: [Int32] = []
    /// Seconds, any origin (the tracing anchor writes seconds since midnight).
    public private(set) var time: [Double] = []
    /// Degrees north, -90...90.
    public private(set) var latitude: [Double] = []
    /// Degrees east, -180...180 (-180 and 180 are the same meridian).
    public private(set) var longitude: [Double] = []

    /// The number of pings.
    public var count: Int { person.count }

    /// No pings.
    public init() {}

    /// Pings from columns of equal length, each ping validated.
    /// - Throws: ``PopulationError`` `invalidPings` naming the first bad ping (by its position, from 1) and value.
    public init(person: [Int32], time: [Double], latitude: [Double], longitude: [Double]) throws(PopulationError) {
        guard person.count == time.count, time.count == latitude.count, latitude.count == longitude.count else {
            throw PopulationError(.invalidPings, "the ping columns differ in length (person \(person.count), time \(time.count), latitude \(latitude.count), longitude \(longitude.count))")
        }
        for i in person.indices {
            try Self.check(time: time[i], latitude: latitude[i], longitude: longitude[i], at: "ping \(i + 1)")
        }
        self.person = person
        self.time = time
        self.latitude = latitude
        self.longitude = longitude
    }

    /// Reserves room for `count` pings in every column.
    public mutating func reserveCapacity(_ count: Int) {
        person.reserveCapacity(count)
        time.reserveCapacity(count)
        latitude.reserveCapacity(count)
        longitude.reserveCapacity(count)
    }

    /// Appends one ping after validating it.
    /// - Throws: ``PopulationError`` `invalidPings` naming the ping (by its position, from 1) and the value.
    public mutating func append(person: Int32, time: Double, latitude: Double, longitude: Double) throws(PopulationError) {
        try Self.check(time: time, latitude: latitude, longitude: longitude, at: "ping \(count + 1)")
        appendValid(person: person, time: time, latitude: latitude, longitude: longitude)
    }

    @inline(__always)
    mutating func appendValid(person p: Int32, time t: Double, latitude a: Double, longitude o: Double) {
        person.append(p)
        time.append(t)
        latitude.append(a)
        longitude.append(o)
    }

    static func check(time: Double, latitude: Double, longitude: Double, at place: String) throws(PopulationError) {
        guard time.isFinite else {
            throw PopulationError(.invalidPings, "\(place): the time \(time) is not a finite number of seconds", value: "\(time)")
        }
        guard latitude >= -90, latitude <= 90 else {
            throw PopulationError(.invalidPings, "\(place): the latitude \(latitude) is outside -90...90", value: "\(latitude)")
        }
        guard longitude >= -180, longitude <= 180 else {
            throw PopulationError(.invalidPings, "\(place): the longitude \(longitude) is outside -180...180", value: "\(longitude)")
        }
    }
}

// MARK: - Reading the pings CSV

extension Pings {
    /// Reads a pings CSV file as `proximity_baseline.py --save-pings` writes it: a header `person,t,lat,lon`
    /// (the columns may come in any order; `time`, `latitude`, `longitude`, `lng` and `id` are accepted too), then
    /// one ping a line: an integer person id (Int32), a time in seconds (any finite decimal number), a latitude and
    /// a longitude in decimal degrees. Without a header the columns are `person,t,lat,lon`. Blank lines are
    /// skipped; CRLF line ends and spaces around values are accepted; quoted fields are not.
    ///
    /// The file is read in chunks of 1 MiB, never whole: memory is the columns (28 bytes a ping) and one chunk.
    /// Decimal values are converted exactly as `strtod` (and so numpy and Python's `float`) converts them, so
    /// the coordinates are the very numbers the anchor traced.
    /// - Throws: ``PopulationError`` `invalidPings` naming the file, the line and the offending value (a latitude
    ///   outside -90...90, a longitude outside -180...180, a time or id that is not a number, a wrong field count),
    ///   or that the file cannot be read.
    public static func read(path: String) throws(PopulationError) -> Pings {
        let file = try TracingInputFile(path: path, what: "pings", code: .invalidPings)
        defer { file.closeFile() }
        var parser = PingsParser(name: path)
        let capacity = 1 << 20
        let buffer = UnsafeMutablePointer<UInt8>.allocate(capacity: capacity)
        defer { buffer.deallocate() }
        var filled = 0
        var estimated = false
        while true {
            if filled == capacity {
                // One line longer than the buffer: a pings line is a few dozen bytes, so this is not a pings file.
                throw PopulationError(.invalidPings, "\(path): line \(parser.line) is longer than \(capacity) bytes: not a pings CSV (person,t,lat,lon)", value: "line \(parser.line)")
            }
            let got = try file.readChunk(into: UnsafeMutableRawBufferPointer(start: buffer + filled, count: capacity - filled))
            if got == 0 {
                _ = try parser.parse(UnsafeBufferPointer(start: buffer, count: filled), final: true)
                break
            }
            filled += got
            let consumed = try parser.parse(UnsafeBufferPointer(start: buffer, count: filled), final: false)
            if !estimated, consumed > 0, parser.pings.count > 0, let size = file.size {
                // Reserve the columns once from the first chunk's bytes per ping (5 % to spare), so that they do not
                // grow by doubling (which would hold two copies of a column for a moment).
                estimated = true
                let perPing = Double(consumed) / Double(parser.pings.count)
                parser.pings.reserveCapacity(Int(Double(size) / perPing * 1.05) + 1024)
            }
            if consumed > 0 {
                memmove(buffer, buffer + consumed, filled - consumed)
                filled -= consumed
            }
        }
        return parser.pings
    }

    /// Parses pings CSV text held in memory (tests, small inputs); the format of ``read(path:)``.
    /// - Throws: ``PopulationError`` `invalidPings` naming `name`, the line and the value.
    public static func parse(_ text: String, name: String = "pings") throws(PopulationError) -> Pings {
        var parser = PingsParser(name: name)
        let bytes = Array(text.utf8)
        let copy = UnsafeMutablePointer<UInt8>.allocate(capacity: max(1, bytes.count))
        defer { copy.deallocate() }
        copy.initialize(from: bytes, count: bytes.count)
        _ = try parser.parse(UnsafeBufferPointer(start: copy, count: bytes.count), final: true)
        return parser.pings
    }
}

/// The line parser behind ``Pings/read(path:)``: whole lines in, pings out.
struct PingsParser {
    let name: String
    var pings = Pings()
    /// The number of the next line to parse (1-based).
    var line = 1
    private var sawHeaderOrData = false
    /// Where person, time, latitude and longitude are among the four fields.
    private var columns = (person: 0, time: 1, latitude: 2, longitude: 3)

    init(name: String) { self.name = name }

    /// Parses every complete line of `bytes` (all of it when `final`) and returns how many bytes it consumed.
    mutating func parse(_ bytes: UnsafeBufferPointer<UInt8>, final: Bool) throws(PopulationError) -> Int {
        guard let p = bytes.baseAddress, bytes.count > 0 else { return 0 }
        let n = bytes.count
        var start = 0
        while start < n {
            var end = start
            while end < n, p[end] != 10 { end += 1 }
            if end == n, !final { break }
            var stop = end
            if stop > start, p[stop - 1] == 13 { stop -= 1 }
            try parseLine(p, start, stop)
            line += 1
            start = end + 1
        }
        return min(start, n)
    }

    private mutating func parseLine(_ p: UnsafePointer<UInt8>, _ s: Int, _ e: Int) throws(PopulationError) {
        // blank lines (a trailing newline, spaces) are skipped
        var blank = true
        for i in s..<e where p[i] != 32 && p[i] != 9 { blank = false; break }
        if blank { return }
        var fields: (Int, Int, Int, Int, Int) = (s, 0, 0, 0, 0)   // start of field k; end of the last one
        var k = 0
        var i = s
        while i < e {
            let c = p[i]
            if c == 44 {
                k += 1
                if k > 3 { throw failure("expected 4 fields (person,t,lat,lon), found more", p, s, e) }
                switch k {
                case 1: fields.1 = i + 1
                case 2: fields.2 = i + 1
                default: fields.3 = i + 1
                }
            } else if c == 34 {
                throw failure("quoted fields are not supported in a pings file (expected person,t,lat,lon)", p, s, e)
            }
            i += 1
        }
        fields.4 = e
        if !sawHeaderOrData {
            sawHeaderOrData = true
            if let first = Self.firstNonBlank(p, s, e), !(first >= 48 && first <= 57) && first != 45 && first != 43 && first != 46 {
                try header(p, s, e, fieldCount: k + 1, bounds: fields)
                return
            }
        }
        guard k == 3 else { throw failure("expected 4 fields (person,t,lat,lon), found \(k + 1)", p, s, e) }
        // the bounds of field k (no arrays: this runs ten million times)
        @inline(__always) func bounds(_ k: Int) -> (Int, Int) {
            switch k {
            case 0: (fields.0, fields.1 - 1)
            case 1: (fields.1, fields.2 - 1)
            case 2: (fields.2, fields.3 - 1)
            default: (fields.3, fields.4)
            }
        }
        let (ps, pe) = bounds(columns.person), (ts, te) = bounds(columns.time)
        let (as_, ae) = bounds(columns.latitude), (os, oe) = bounds(columns.longitude)
        guard let person = Self.int32(p, ps, pe) else {
            throw fieldFailure("the person '\(Self.trimmed(Self.text(p, ps, pe)))' is not an integer id in -2147483648...2147483647", p, ps, pe)
        }
        guard let time = Self.double(p, ts, te), time.isFinite else {
            throw fieldFailure("the time '\(Self.trimmed(Self.text(p, ts, te)))' is not a finite number of seconds", p, ts, te)
        }
        guard let lat = Self.double(p, as_, ae), lat >= -90, lat <= 90 else {
            throw fieldFailure("the latitude '\(Self.trimmed(Self.text(p, as_, ae)))' is not a number in -90...90", p, as_, ae)
        }
        guard let lon = Self.double(p, os, oe), lon >= -180, lon <= 180 else {
            throw fieldFailure("the longitude '\(Self.trimmed(Self.text(p, os, oe)))' is not a number in -180...180", p, os, oe)
        }
        pings.appendValid(person: person, time: time, latitude: lat, longitude: lon)
    }

    private mutating func header(_ p: UnsafePointer<UInt8>, _ s: Int, _ e: Int, fieldCount: Int,
                                 bounds: (Int, Int, Int, Int, Int)) throws(PopulationError) {
        guard fieldCount == 4 else {
            throw failure("the header must name 4 columns person,t,lat,lon; it has \(fieldCount)", p, s, e)
        }
        let starts = [bounds.0, bounds.1, bounds.2, bounds.3]
        let ends = [bounds.1 - 1, bounds.2 - 1, bounds.3 - 1, bounds.4]
        var found: [Int?] = [nil, nil, nil, nil]
        for f in 0..<4 {
            let word = Self.trimmed(Self.text(p, starts[f], ends[f])).lowercased()
            let role: Int? = switch word {
            case "person", "id", "person_id": 0
            case "t", "time": 1
            case "lat", "latitude": 2
            case "lon", "lng", "longitude": 3
            default: nil
            }
            guard let role else {
                throw failure("unknown column '\(word)' in the header (expected person,t,lat,lon)", p, s, e)
            }
            guard found[role] == nil else {
                throw failure("the column '\(word)' is named twice in the header (expected person,t,lat,lon)", p, s, e)
            }
            found[role] = f
        }
        columns = (found[0]!, found[1]!, found[2]!, found[3]!)
    }

    private func failure(_ why: String, _ p: UnsafePointer<UInt8>, _ s: Int, _ e: Int) -> PopulationError {
        let text = Self.text(p, s, min(e, s + 200))
        return PopulationError(.invalidPings, "\(name): line \(line): \(why): '\(text)'", value: text)
    }

    private func fieldFailure(_ why: String, _ p: UnsafePointer<UInt8>, _ s: Int, _ e: Int) -> PopulationError {
        PopulationError(.invalidPings, "\(name): line \(line): \(why)", value: Self.trimmed(Self.text(p, s, e)))
    }

    static func text(_ p: UnsafePointer<UInt8>, _ s: Int, _ e: Int) -> String {
        String(decoding: UnsafeBufferPointer(start: p + s, count: max(0, e - s)), as: UTF8.self)
    }

    static func firstNonBlank(_ p: UnsafePointer<UInt8>, _ s: Int, _ e: Int) -> UInt8? {
        var i = s
        while i < e, p[i] == 32 || p[i] == 9 { i += 1 }
        return i < e ? p[i] : nil
    }

    @inline(__always)
    static func trim(_ p: UnsafePointer<UInt8>, _ s: inout Int, _ e: inout Int) {
        while s < e, p[s] == 32 || p[s] == 9 { s += 1 }
        while e > s, p[e - 1] == 32 || p[e - 1] == 9 { e -= 1 }
    }

    /// An optionally signed decimal integer in the Int32 range.
    @inline(__always)
    static func int32(_ p: UnsafePointer<UInt8>, _ s0: Int, _ e0: Int) -> Int32? {
        var s = s0, e = e0
        trim(p, &s, &e)
        guard s < e else { return nil }
        var negative = false
        if p[s] == 45 { negative = true; s += 1 } else if p[s] == 43 { s += 1 }
        guard s < e, e - s <= 11 else { return nil }
        var v: Int64 = 0
        for i in s..<e {
            let d = p[i] &- 48
            guard d < 10 else { return nil }
            v = v * 10 + Int64(d)
        }
        if negative { v = -v }
        return Int32(exactly: v)
    }

    /// Powers of ten that are exact doubles.
    static let powersOfTen: [Double] = (0...22).map { k in (0..<k).reduce(1.0) { acc, _ in acc * 10 } }

    /// A decimal number, correctly rounded (as `strtod`). Plain decimals of at most 15 significant digits and 22
    /// decimals (every coordinate and time the anchor writes) take Clinger's fast path: the digits as an exact
    /// integer divided by an exact power of ten is one correctly rounded operation. Anything else (exponents,
    /// long mantissas) goes to the standard library's conversion.
    @inline(__always)
    static func double(_ p: UnsafePointer<UInt8>, _ s0: Int, _ e0: Int) -> Double? {
        var s = s0, e = e0
        trim(p, &s, &e)
        guard s < e else { return nil }
        var i = s
        var negative = false
        if p[i] == 45 { negative = true; i += 1 } else if p[i] == 43 { i += 1 }
        var mantissa: UInt64 = 0
        var significant = 0
        var decimals = 0
        var digits = 0
        while i < e {
            let d = p[i] &- 48
            guard d < 10 else { break }
            if mantissa != 0 || d != 0 { significant += 1 }
            mantissa = mantissa &* 10 &+ UInt64(d)
            digits += 1
            i += 1
        }
        if i < e, p[i] == 46 {
            i += 1
            while i < e {
                let d = p[i] &- 48
                guard d < 10 else { break }
                if mantissa != 0 || d != 0 { significant += 1 }
                mantissa = mantissa &* 10 &+ UInt64(d)
                digits += 1
                decimals += 1
                i += 1
            }
        }
        if i == e, digits > 0, significant <= 15, decimals <= 22 {
            var v = Double(mantissa)
            if decimals > 0 { v /= powersOfTen[decimals] }
            return negative ? -v : v
        }
        return Double(text(p, s, e))
    }
}

extension PingsParser {
    /// `text` without the spaces and tabs around it.
    static func trimmed<S: StringProtocol>(_ text: S) -> String {
        var s = Substring(text)
        while let f = s.first, f == " " || f == "\t" { s = s.dropFirst() }
        while let l = s.last, l == " " || l == "\t" { s = s.dropLast() }
        return String(s)
    }
}
