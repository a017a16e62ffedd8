#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// An exact space-time index over a set of pings (the index cases' pings), correct everywhere on the sphere.
///
/// Cells: latitude bands at least twice the search radius high; in each band, longitude cells whose count is
/// scaled by the cosine of the band's poleward edge (so cells stay about as wide as they are high, up to the
/// poles), numbered around the whole circle so that longitude wraps at the antimeridian. Cells are places only:
/// time is not cut into cells. Each indexed ping is entered in every cell its search region touches (the
/// spherical cap of the radius around it: every longitude when the cap holds a pole; both sides of the
/// antimeridian when it crosses it), and a cell's entries are kept sorted by time, so that another ping looks in
/// one cell only, its own, and there at once at the entries within its window (through the cell's time
/// directory when it holds many entries, then a binary search). A cell does not depend on the time, so a
/// person's successive pings at one place (at home, at work) look up the same cell and its entries, which stay in
/// the cache; and a batch of pings is looked up stage by stage, so that their memory reads overlap.
///
/// Exactness: the cap's radius is the largest angle ``ProximityCriteria/accepts(_:_:_:_:_:_:)`` can accept plus a
/// margin (relative 1e-9 and 1e-12 rad, about 6 µm, orders of magnitude above the rounding of the haversine and of
/// the cell arithmetic), the time range searched is the window widened by a relative 1e-12 (far above the
/// rounding of `|t2 - t1|`), a directory slot is a non-decreasing function of the time shared by building and
/// searching, and cell numbers are monotone functions of the coordinates shared by entering and
/// looking up, so a pair the exact test accepts is never filtered out. A candidate is first checked against the
/// window, against the radius in latitude alone (an accepted pair's latitudes differ by less: the haversine's
/// first term alone would exceed the threshold) and against the cap's longitude half-width (the longitude
/// extent of a spherical cap, `asin(sin r / cos φ)`, with the same margins; around the circle), then goes through
/// the exact test, computed operation for operation as ``ProximityCriteria/haversine(_:_:_:_:)``. The result
/// equals a brute-force scan, pairs exactly at the distance or the window included.
///
/// Memory: the indexed pings; per cell entry (a few per indexed ping: about four when the cells are much larger
/// than the pings' spread) 52 bytes (the entry and its directory slot); a cell table of 16 bytes a slot, two to four
/// slots per cell, and a filter of 2 bytes per cell; and one Int32 and one Double per latitude band from the lowest
/// to the highest holding entries (at most 2^21).
public struct ProximityIndex: Sendable {
    /// The contact criteria the index answers for.
    public let criteria: ProximityCriteria
    /// The indexed pings.
    public let pings: Pings

    // Geometry.
    let bandCount: Int
    let bandsPerDegree: Double
    /// The lowest band holding entries (the band arrays start there).
    let bandLow: Int
    /// Per band from ``bandLow`` to the highest holding entries: its number of longitude cells, or 0 when no entry
    /// lies in the band.
    let lonCells: [Int32]
    /// Per band from ``bandLow``: its number of longitude cells over 360 (what ``lonCell(_:n:)`` multiplies by), or 0.
    let lonScales: [Double]
    /// The largest latitude difference (degrees) of an accepted pair, margin included: a cheap first filter.
    let radius: Double

    /// A bitmap over another hash of the cells' keys, 16 bits per cell (a few hundred kB): most pings are in no
    /// indexed cell, and this tells them so from the cache, with about 6 % false positives.
    let filter: [UInt64]
    let filterShift: UInt64

    // Cell table, open addressing: two words a slot, the cell's key (``emptySlot`` when free), then its entries'
    // range (start in the low 32 bits, end in the high ones).
    let table: [UInt64]
    let tableShift: UInt64
    let tableMask: Int

    /// One indexed ping in one cell, with what the filters and the exact test read of it, in one cache line or
    /// two (a cell's entries are read in order).
    struct Entry {
        var time: Double
        var latitude: Double
        var longitude: Double
        /// The cosine of the latitude in radians, as the exact test computes it.
        var cosine: Double
        /// The longitude half-width (degrees) of the ping's cap, margin included; infinity when it holds a pole.
        var halfWidth: Double
        var person: Int32
        /// The ping's position in ``pings``.
        var ping: Int32
    }

    /// The entries, grouped by cell and sorted by time within a cell.
    let entries: [Entry]
    /// Per cell of more than ``directoryMinimum`` entries whose times differ, a directory of its time
    /// (``directorySlot(_:first:scale:buckets:)``), kept at the cell's first entries' positions: `directory[start +
    /// k]` is the first entry whose time is in slot `k` or later.
    let directory: [Int32]
    static let directoryMinimum = 8

    /// The number of cell entries (each indexed ping is in a few cells).
    public var entryCount: Int { entries.count }
    /// The number of cells holding entries.
    public let cellCount: Int

    static let emptySlot = UInt64.max
    /// A cell's height (and least width) in search radii. Two: a cap touches at most two bands and, away from the
    /// poles, two cells of a band. (One radius cuts the candidates by 30 % but doubles the entries, and was slower
    /// overall on 10 million pings.)
    static let cellRadii = 2.0

    /// Indexes `pings` for `criteria`.
    public init(_ pings: Pings, criteria: ProximityCriteria) {
        self.criteria = criteria
        self.pings = pings
        let k = ProximityCriteria.radiansPerDegree
        // The largest angle the exact test can accept, with a margin.
        let theta = 2 * asin(min(1, criteria.threshold.squareRoot() * (1 + 1e-9))) + 1e-12
        let radius = theta / k * (1 + 1e-9) + 1e-10          // degrees
        self.radius = radius
        let bands = min(1 << 21, max(1, Int((180 / (Self.cellRadii * radius)).rounded(.down))))
        bandCount = bands
        bandsPerDegree = Double(bands) / 180

        // Every (cell, ping) entry, pings in their order (a person's pings, often at one place, in a row).
        var bandLow = bands, bandHigh = -1
        for lat in pings.latitude {
            bandLow = min(bandLow, Self.band(max(-90, lat - radius), bandsPerDegree: bandsPerDegree, count: bands))
            bandHigh = max(bandHigh, Self.band(min(90, lat + radius), bandsPerDegree: bandsPerDegree, count: bands))
        }
        if bandHigh < 0 { bandLow = 0 }
        self.bandLow = bandLow
        var lonCells = [Int32](repeating: 0, count: bandHigh - bandLow + 1)
        var entryCell: [UInt64] = []
        var owners: [Int32] = []
        entryCell.reserveCapacity(pings.count * 4)
        owners.reserveCapacity(pings.count * 4)
        let sinTheta = sin(min(theta, Double.pi / 2))
        var cells: [Int] = []
        var halfWidths = [Double](repeating: .infinity, count: pings.count)
        let cosines = pings.latitude.map { cos($0 * k) }
        for i in 0..<pings.count {
            let lat = pings.latitude[i], lon = pings.longitude[i]
            let b0 = Self.band(max(-90, lat - radius), bandsPerDegree: bandsPerDegree, count: bands)
            let b1 = Self.band(min(90, lat + radius), bandsPerDegree: bandsPerDegree, count: bands)
            // the cap's longitude half-width (degrees), or nil for the whole circle
            var halfWidth: Double? = nil
            if abs(lat) + radius < 90, radius < 90 {
                let x = sinTheta / cos(lat * k) * (1 + 1e-9)
                if x < 1 { halfWidth = asin(x) / k * (1 + 1e-9) + 1e-10 }
            }
            halfWidths[i] = halfWidth ?? .infinity
            for b in b0...b1 {
                if lonCells[b - bandLow] == 0 { lonCells[b - bandLow] = Self.cellsInBand(b, bands: bands, radius: radius) }
                let n = Int(lonCells[b - bandLow])
                cells.removeAll(keepingCapacity: true)
                if let w = halfWidth {
                    let lo = lon - w, hi = lon + w
                    // the cells of [a, z] (clamped to -180...180), each once
                    func add(_ a: Double, _ z: Double) {
                        let c0 = Self.lonCell(max(-180, min(180, a)), n: n), c1 = Self.lonCell(max(-180, min(180, z)), n: n)
                        var c = c0
                        while c <= c1, cells.count < n {
                            if !cells.contains(c) { cells.append(c) }
                            c += 1
                        }
                    }
                    // across the antimeridian: both ends of the circle (-180 and 180 are the same meridian)
                    if lo <= -180 { add(lo + 360, 180); add(-180, hi) }
                    else if hi >= 180 { add(lo, 180); add(-180, hi - 360) }
                    else { add(lo, hi) }
                    if cells.count >= n { cells = Array(0..<n) }
                } else {
                    cells = Array(0..<n)
                }
                for c in cells {
                    entryCell.append(Self.cellKey(b, c))
                    owners.append(Int32(i))
                }
            }
        }
        self.lonCells = lonCells
        lonScales = lonCells.map { $0 == 0 ? 0 : Double($0) / 360 }

        // The distinct cells: an open-addressing table (load at most 1/2) giving each its number, in order of
        // first entry; then each entry's cell number.
        var slots = 1 << 10
        var keys = [UInt64](repeating: Self.emptySlot, count: slots)
        var numbers = [Int32](repeating: 0, count: slots)
        var distinct = 0
        var entryNumber = [Int32](repeating: 0, count: entryCell.count)
        for e in 0..<entryCell.count {
            if (distinct + 1) * 2 > slots {
                // grow: rehash the cells into a table twice the size
                let oldKeys = keys, oldNumbers = numbers
                slots <<= 1
                keys = [UInt64](repeating: Self.emptySlot, count: slots)
                numbers = [Int32](repeating: 0, count: slots)
                for o in 0..<oldKeys.count where oldKeys[o] != Self.emptySlot {
                    var s = Self.slot(oldKeys[o], slots: slots)
                    while keys[s] != Self.emptySlot { s = (s + 1) & (slots - 1) }
                    keys[s] = oldKeys[o]
                    numbers[s] = oldNumbers[o]
                }
            }
            let key = entryCell[e]
            var s = Self.slot(key, slots: slots)
            while keys[s] != Self.emptySlot, keys[s] != key { s = (s + 1) & (slots - 1) }
            if keys[s] == Self.emptySlot {
                keys[s] = key
                numbers[s] = Int32(distinct)
                distinct += 1
            }
            entryNumber[e] = numbers[s]
        }
        cellCount = distinct

        // Group the entries by cell (a counting sort), then sort each cell's entries by time.
        var start = [Int32](repeating: 0, count: distinct + 1)
        for n in entryNumber { start[Int(n) + 1] += 1 }
        for c in 0..<distinct { start[c + 1] += start[c] }
        var fill = start
        var grouped = [Int32](repeating: 0, count: entryCell.count)
        for e in 0..<entryCell.count {
            let c = Int(entryNumber[e])
            grouped[Int(fill[c])] = owners[e]
            fill[c] += 1
        }
        entryCell = []
        owners = []
        entryNumber = []
        let times = pings.time
        grouped.withUnsafeMutableBufferPointer { g in
            times.withUnsafeBufferPointer { t in
                for c in 0..<distinct {
                    let lo = Int(start[c]), hi = Int(start[c + 1])
                    if hi - lo <= 32 {
                        // insertion sort (stable): a cell's entries are a few runs already in order
                        var i = lo + 1
                        while i < hi {
                            let v = g[i], tv = t[Int(v)]
                            var j = i - 1
                            while j >= lo, t[Int(g[j])] > tv {
                                g[j + 1] = g[j]
                                j -= 1
                            }
                            g[j + 1] = v
                            i += 1
                        }
                    } else {
                        var run = Array(g[lo..<hi])
                        run.sort { t[Int($0)] < t[Int($1)] || (t[Int($0)] == t[Int($1)] && $0 < $1) }
                        for (o, v) in run.enumerated() { g[lo + o] = v }
                    }
                }
            }
        }
        var entries: [Entry] = []
        entries.reserveCapacity(grouped.count)
        for i32 in grouped {
            let i = Int(i32)
            entries.append(Entry(time: pings.time[i], latitude: pings.latitude[i], longitude: pings.longitude[i],
                                 cosine: cosines[i], halfWidth: halfWidths[i], person: pings.person[i], ping: i32))
        }
        grouped = []
        // the time directories of the crowded cells
        var directory = [Int32](repeating: 0, count: entries.count)
        for c in 0..<distinct {
            let lo = Int(start[c]), hi = Int(start[c + 1])
            guard hi - lo > Self.directoryMinimum else { continue }
            let buckets = (hi - lo) >> 1
            let first = entries[lo].time, scale = Double(buckets) / (entries[hi - 1].time - first)
            guard scale.isFinite, scale > 0 else { continue }
            var next = 0
            for e in lo..<hi {
                let b = Self.directorySlot(entries[e].time, first: first, scale: scale, buckets: buckets)
                while next <= b { directory[lo + next] = Int32(e); next += 1 }
            }
            while next <= buckets { directory[lo + next] = Int32(hi); next += 1 }
        }
        self.entries = entries
        self.directory = directory

        // The query table: each cell's key and range, in a table sized for the cells (load at most 1/2).
        var size = 1 << 6
        while size < distinct * 2 { size <<= 1 }
        var table = [UInt64](repeating: Self.emptySlot, count: size * 2)
        for o in 0..<keys.count where keys[o] != Self.emptySlot {
            var s = Self.slot(keys[o], slots: size)
            while table[2 * s] != Self.emptySlot { s = (s + 1) & (size - 1) }
            let c = Int(numbers[o])
            table[2 * s] = keys[o]
            table[2 * s + 1] = UInt64(UInt32(start[c])) | UInt64(UInt32(start[c + 1])) << 32
        }
        self.table = table
        tableMask = size - 1
        tableShift = UInt64(64 - size.trailingZeroBitCount)
        var filterBits = 1 << 12
        while filterBits < distinct * 16 { filterBits <<= 1 }
        var filter = [UInt64](repeating: 0, count: filterBits / 64)
        let shift = UInt64(64 - filterBits.trailingZeroBitCount)
        for key in keys where key != Self.emptySlot {
            let f = Self.filterBit(key, shift: shift)
            filter[f >> 6] |= 1 << UInt64(f & 63)
        }
        self.filter = filter
        filterShift = shift
    }

    // MARK: Cells

    @inline(__always)
    static func band(_ lat: Double, bandsPerDegree: Double, count: Int) -> Int {
        min(count - 1, Int((lat + 90) * bandsPerDegree))
    }

    /// Longitude cells in band `b`: about 360 cos(poleward edge) / (2 radius), at least 1.
    static func cellsInBand(_ b: Int, bands: Int, radius: Double) -> Int32 {
        let height = 180 / Double(bands)
        let lo = -90 + Double(b) * height, hi = lo + height
        let poleward = min(90, max(abs(lo), abs(hi)))
        let n = (360 * cos(poleward * ProximityCriteria.radiansPerDegree) / (cellRadii * radius)).rounded(.down)
        return Int32(max(1, min(Double(1 << 24), n.isFinite ? n : 1)))
    }

    @inline(__always)
    static func lonCell(_ lon: Double, n: Int) -> Int {
        lonCell(lon, n: n, scale: Double(n) / 360)
    }

    /// The same with `scale` = `Double(n) / 360` computed once per band (the same number, so the same cell).
    @inline(__always)
    static func lonCell(_ lon: Double, n: Int, scale: Double) -> Int {
        min(n - 1, Int((lon + 180) * scale))
    }

    /// A cell's key: the band (< 2^21) above the longitude cell (< 2^24). Never ``emptySlot``.
    @inline(__always)
    static func cellKey(_ band: Int, _ cell: Int) -> UInt64 {
        UInt64(truncatingIfNeeded: band) << 24 | UInt64(truncatingIfNeeded: cell)
    }

    /// The directory slot of `time` in a cell whose first entry is at `first`: `(time - first) * scale` clamped to
    /// 0...`buckets`, rounded down; a non-decreasing function of `time`, so the entries of slots above a time's
    /// slot are all later than it.
    @inline(__always)
    static func directorySlot(_ time: Double, first: Double, scale: Double, buckets: Int) -> Int {
        Int(min(Double(buckets), max(0, (time - first) * scale)))
    }

    /// The filter bit of `key`: the top bits of another multiplicative hash.
    @inline(__always)
    static func filterBit(_ key: UInt64, shift: UInt64) -> Int {
        Int(truncatingIfNeeded: (key &* 0xBF58_476D_1CE4_E5B9) >> shift)
    }

    /// The home slot of `key` in a table of `slots` (a power of two) slots: the top bits of a multiplicative hash.
    @inline(__always)
    static func slot(_ key: UInt64, slots: Int) -> Int {
        Int(truncatingIfNeeded: (key &* 0x9E37_79B9_7F4A_7C15) >> UInt64(64 - slots.trailingZeroBitCount))
    }

    // MARK: Queries

    /// The cell key of the ping at (`latitude`, `longitude`) when that cell may hold entries (the band has cells
    /// and the filter lets it through), else nil.
    @inline(__always)
    func candidateCell(latitude: Double, longitude: Double) -> UInt64? {
        let b = Self.band(latitude, bandsPerDegree: bandsPerDegree, count: bandCount)
        let o = b - bandLow
        if UInt(bitPattern: o) >= UInt(lonCells.count) { return nil }
        let n = Int(lonCells[o])
        if n == 0 { return nil }
        let key = Self.cellKey(b, Self.lonCell(longitude, n: n, scale: lonScales[o]))
        let f = Self.filterBit(key, shift: filterShift)
        return filter[f >> 6] & (1 << UInt64(f & 63)) == 0 ? nil : key
    }

    /// The range of entries of the cell `key` (start in the low 32 bits, end in the high ones), or nil when the
    /// cell holds none.
    @inline(__always)
    func cellRange(_ key: UInt64) -> UInt64? {
        table.withUnsafeBufferPointer { table in
            var s = Int(truncatingIfNeeded: (key &* 0x9E37_79B9_7F4A_7C15) >> tableShift)
            while true {
                let k = table[2 * s]
                if k == key { return table[2 * s + 1] }
                if k == Self.emptySlot { return nil }
                s = (s + 1) & tableMask
            }
        }
    }

    /// The earliest and latest entry times a ping at `time` can be a contact of: the window, widened far above the
    /// rounding of `|t2 - t1|` (see the type's note).
    @inline(__always)
    func timeRange(_ time: Double) -> (earliest: Double, latest: Double) {
        let window = criteria.window
        let pad = (abs(time) + window) * 1e-12
        return (time - window - pad, time + window + pad)
    }

    /// Where the search for entries not before `earliest` starts and ends in the cell `first..<end`: the cell's
    /// time directory when it has one, else the whole cell.
    @inline(__always)
    static func searchRange(_ entries: UnsafeBufferPointer<Entry>, _ directory: UnsafeBufferPointer<Int32>,
                            first: Int, end: Int, earliest: Double) -> (Int, Int) {
        guard end - first > directoryMinimum else { return (first, first) }
        let buckets = (end - first) >> 1
        let t0 = entries[first].time, scale = Double(buckets) / (entries[end - 1].time - t0)
        guard scale.isFinite, scale > 0 else { return (first, end) }
        let k = directorySlot(earliest, first: t0, scale: scale, buckets: buckets)
        return (Int(directory[first + k]), k < buckets ? Int(directory[first + k + 1]) : end)
    }

    /// The first position in `lo..<hi` whose entry is not before `earliest` (`hi` when none is), the entries there
    /// being in time order: a binary search without branches on the data.
    @inline(__always)
    static func lowerBound(_ entries: UnsafeBufferPointer<Entry>, _ lo: Int, _ hi: Int, _ earliest: Double) -> Int {
        var e = lo, count = hi - lo
        while count > 1 {
            let half = count >> 1
            e = entries[e + half - 1].time < earliest ? e + half : e
            count -= half
        }
        if count == 1, entries[e].time < earliest { e += 1 }
        return e
    }

    /// Calls `body` with each entry of `e..<end` (one cell's, from the window's start) that the ping is a contact
    /// of. - Returns: how many entries within the window were examined.
    @inline(__always)
    func scan(_ entries: UnsafeBufferPointer<Entry>, from start: Int, to end: Int, person: Int32, time: Double,
              latitude: Double, longitude: Double, _ body: (Int) -> Void) -> Int {
        let window = criteria.window, threshold = criteria.threshold, radius = radius
        let (earliest, latest) = timeRange(time)
        var p2 = Double.nan, cosP2 = Double.nan
        var examined = 0
        var e = start
        while e < end {
            let entry = entries[e]
            let t1 = entry.time
            if t1 > latest { break }
            e += 1
            if t1 < earliest { continue }
            examined += 1
            // cheap filters first: the person, the window, the latitude difference (the exact test cannot accept
            // a pair whose latitudes differ by more than the radius: see the type's note), then the exact haversine
            let lat1 = entry.latitude
            guard entry.person != person, abs(time - t1) <= window, abs(latitude - lat1) <= radius else { continue }
            let lon1 = entry.longitude
            let dLon = abs(longitude - lon1)
            guard min(dLon, 360 - dLon) <= entry.halfWidth else { continue }
            if p2.isNaN {
                p2 = latitude * ProximityCriteria.radiansPerDegree
                cosP2 = cos(p2)
            }
            if ProximityCriteria.haversine(p1: lat1 * ProximityCriteria.radiansPerDegree, cosP1: entry.cosine, lon1: lon1,
                                           p2: p2, cosP2: cosP2, lon2: longitude) <= threshold {
                body(Int(entry.ping))
            }
        }
        return examined
    }

    /// Calls `body` with the position (in ``pings``) of every indexed ping that the ping (`time`, `latitude`,
    /// `longitude`) of another person `person` is a contact of: the indexed ping is point 1 of the exact test,
    /// this one point 2. Indexed pings of `person` itself are skipped.
    /// - Returns: how many candidates (entries of this ping's cell within its window) were examined.
    @inline(__always) @discardableResult
    public func forEachMatch(person: Int32, time: Double, latitude: Double, longitude: Double, _ body: (Int) -> Void) -> Int {
        guard let key = candidateCell(latitude: latitude, longitude: longitude), let range = cellRange(key) else { return 0 }
        let first = Int(range & 0xFFFF_FFFF), end = Int(range >> 32)
        let earliest = timeRange(time).earliest
        return entries.withUnsafeBufferPointer { entries in
            directory.withUnsafeBufferPointer { directory in
                let (lo, hi) = Self.searchRange(entries, directory, first: first, end: end, earliest: earliest)
                let start = lo == hi ? lo : Self.lowerBound(entries, lo, hi, earliest)
                return scan(entries, from: start, to: end, person: person, time: time, latitude: latitude,
                            longitude: longitude, body)
            }
        }
    }

    /// The same for the pings `range` of the columns, the matches given as (ping position in the columns,
    /// indexed ping position): the answer of ``forEachMatch(person:time:latitude:longitude:_:)`` ping by ping,
    /// computed a batch of pings at a time, stage by stage (cell, cell range, window start, scan), so that the
    /// memory reads of a stage for different pings overlap instead of waiting on one another.
    /// - Returns: how many candidates were examined.
    func forEachMatch(in range: Range<Int>, person: UnsafeBufferPointer<Int32>, time: UnsafeBufferPointer<Double>,
                      latitude: UnsafeBufferPointer<Double>, longitude: UnsafeBufferPointer<Double>,
                      _ body: (Int, Int) -> Void) -> Int {
        let batch = 64
        let ping = UnsafeMutablePointer<Int>.allocate(capacity: batch)
        let key = UnsafeMutablePointer<UInt64>.allocate(capacity: batch)
        let lo = UnsafeMutablePointer<Int>.allocate(capacity: batch)
        let hi = UnsafeMutablePointer<Int>.allocate(capacity: batch)
        let end = UnsafeMutablePointer<Int>.allocate(capacity: batch)
        defer { ping.deallocate(); key.deallocate(); lo.deallocate(); hi.deallocate(); end.deallocate() }
        var examined = 0
        entries.withUnsafeBufferPointer { entries in
            directory.withUnsafeBufferPointer { directory in
                var from = range.lowerBound
                while from < range.upperBound {
                    let to = min(range.upperBound, from + batch)
                    // the cells that may hold entries
                    var m = 0
                    for j in from..<to {
                        if let k = candidateCell(latitude: latitude[j], longitude: longitude[j]) {
                            ping[m] = j
                            key[m] = k
                            m += 1
                        }
                    }
                    // their entries' ranges
                    var r = 0
                    for q in 0..<m {
                        if let cell = cellRange(key[q]) {
                            ping[r] = ping[q]
                            lo[r] = Int(cell & 0xFFFF_FFFF)
                            end[r] = Int(cell >> 32)
                            r += 1
                        }
                    }
                    // where each window starts, by the directories, then by binary search
                    for q in 0..<r {
                        (lo[q], hi[q]) = Self.searchRange(entries, directory, first: lo[q], end: end[q],
                                                          earliest: timeRange(time[ping[q]]).earliest)
                    }
                    for q in 0..<r where hi[q] > lo[q] {
                        lo[q] = Self.lowerBound(entries, lo[q], hi[q], timeRange(time[ping[q]]).earliest)
                    }
                    // the candidates
                    for q in 0..<r {
                        let j = ping[q]
                        examined += scan(entries, from: lo[q], to: end[q], person: person[j], time: time[j],
                                         latitude: latitude[j], longitude: longitude[j]) { i in body(j, i) }
                    }
                    from = to
                }
            }
        }
        return examined
    }

    /// The positions (in ``pings``) of the indexed pings that a ping of `person` at (`time`, `latitude`,
    /// `longitude`) is a contact of, ascending.
    public func matches(person: Int32, time: Double, latitude: Double, longitude: Double) -> [Int] {
        var out: [Int] = []
        forEachMatch(person: person, time: time, latitude: latitude, longitude: longitude) { out.append($0) }
        return out.sorted()
    }
}
