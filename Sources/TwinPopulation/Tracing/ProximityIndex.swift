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
/// one cell only, its own, and there at once at the entries within its window (a binary search). A cell does
/// not depend on the time, so a person's successive pings at one place (at home, at work) look up the same cell
/// and its entries, which stay in the cache.
///
/// Exactness: the cap's radius is the largest angle ``ProximityCriteria/accepts(_:_:_:_:_:_:)`` can accept plus a
/// margin (relative 1e-9 and 1e-12 rad, about 6 µm, orders of magnitude above the rounding of the haversine and of
/// the cell arithmetic), the time range searched is the window widened by a relative 1e-12 (far above the
/// rounding of `|t2 - t1|`), and cell numbers are monotone functions of the coordinates shared by entering and
/// looking up, so a pair the exact test accepts is never filtered out. A candidate is first checked against the
/// window, against the radius in latitude alone (an accepted pair's latitudes differ by less: the haversine's
/// first term alone would exceed the threshold) and against the cap's longitude half-width (the longitude
/// extent of a spherical cap, `asin(sin r / cos φ)`, with the same margins; around the circle), then goes through
/// the exact test, computed operation for operation as ``ProximityCriteria/haversine(_:_:_:_:)``. The result
/// equals a brute-force scan, pairs exactly at the distance or the window included.
///
/// Memory: the indexed pings; per cell entry (a few per indexed ping: about four when the cells are much larger
/// than the pings' spread) 48 bytes; a cell table of 16 bytes a slot, two to four slots per cell; and one Int32 per
/// latitude band (at most 2^21).
public struct ProximityIndex: Sendable {
    /// The contact criteria the index answers for.
    public let criteria: ProximityCriteria
    /// The indexed pings.
    public let pings: Pings

    // Geometry.
    let bandCount: Int
    let bandsPerDegree: Double
    /// Per band: its number of longitude cells, or 0 when no entry lies in the band.
    let lonCells: [Int32]
    /// The largest latitude difference (degrees) of an accepted pair, margin included: a cheap first filter.
    let radius: Double

    // Cell table, open addressing: two words a slot, the cell's key (``emptySlot`` when free), then its entries'
    // range (start in the low 32 bits, end in the high ones).
    let table: [UInt64]
    let tableShift: UInt64
    let tableMask: Int

    // The entries, grouped by cell and sorted by time within a cell (struct of arrays, read in order).
    let entryTime: [Double]
    let entryLatitude: [Double]
    let entryLongitude: [Double]
    /// The cosine of the entry's latitude in radians, as the exact test computes it.
    let entryCosine: [Double]
    /// The longitude half-width (degrees) of the entry's cap, margin included; infinity when it holds a pole.
    let entryHalfWidth: [Double]
    let entryPerson: [Int32]
    /// The entry's position in ``pings``.
    let entryPing: [Int32]

    /// The number of cell entries (each indexed ping is in a few cells).
    public var entryCount: Int { entryTime.count }
    /// The number of cells holding entries.
    public let cellCount: Int

    static let emptySlot = UInt64.max

    /// Indexes `pings` for `criteria`.
    public init(_ pings: Pings, criteria: ProximityCriteria) {
        self.criteria = criteria
        self.pings = pings
        let k = ProximityCriteria.radiansPerDegree
        // The largest angle the exact test can accept, with a margin.
        let theta = 2 * asin(min(1, criteria.threshold.squareRoot() * (1 + 1e-9))) + 1e-12
        let radius = theta / k * (1 + 1e-9) + 1e-10          // degrees
        self.radius = radius
        let bands = min(1 << 21, max(1, Int((180 / (2 * radius)).rounded(.down))))
        bandCount = bands
        bandsPerDegree = Double(bands) / 180

        // Every (cell, ping) entry, pings in their order (a person's pings, often at one place, in a row).
        var lonCells = [Int32](repeating: 0, count: bands)
        var entryCell: [UInt64] = []
        var owners: [Int32] = []
        entryCell.reserveCapacity(pings.count * 4)
        owners.reserveCapacity(pings.count * 4)
        let sinTheta = sin(min(theta, Double.pi / 2))
        var cells: [Int] = []
        var halfWidths = [Double](repeating: .infinity, count: pings.count)
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
                if lonCells[b] == 0 { lonCells[b] = Self.cellsInBand(b, bands: bands, radius: radius) }
                let n = Int(lonCells[b])
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
        var entryTime = [Double](repeating: 0, count: grouped.count)
        var entryLatitude = entryTime, entryLongitude = entryTime, entryCosine = entryTime, entryHalfWidth = entryTime
        var entryPerson = [Int32](repeating: 0, count: grouped.count)
        for (e, i32) in grouped.enumerated() {
            let i = Int(i32)
            entryTime[e] = pings.time[i]
            entryLatitude[e] = pings.latitude[i]
            entryLongitude[e] = pings.longitude[i]
            entryCosine[e] = cos(pings.latitude[i] * k)
            entryHalfWidth[e] = halfWidths[i]
            entryPerson[e] = pings.person[i]
        }
        self.entryTime = entryTime
        self.entryLatitude = entryLatitude
        self.entryLongitude = entryLongitude
        self.entryCosine = entryCosine
        self.entryHalfWidth = entryHalfWidth
        self.entryPerson = entryPerson
        entryPing = grouped

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
        let n = (360 * cos(poleward * ProximityCriteria.radiansPerDegree) / (2 * radius)).rounded(.down)
        return Int32(max(1, min(Double(1 << 24), n.isFinite ? n : 1)))
    }

    @inline(__always)
    static func lonCell(_ lon: Double, n: Int) -> Int {
        min(n - 1, Int((lon + 180) * (Double(n) / 360)))
    }

    /// A cell's key: the band (< 2^21) above the longitude cell (< 2^24). Never ``emptySlot``.
    @inline(__always)
    static func cellKey(_ band: Int, _ cell: Int) -> UInt64 {
        UInt64(truncatingIfNeeded: band) << 24 | UInt64(truncatingIfNeeded: cell)
    }

    /// The home slot of `key` in a table of `slots` (a power of two) slots: the top bits of a multiplicative hash.
    @inline(__always)
    static func slot(_ key: UInt64, slots: Int) -> Int {
        Int(truncatingIfNeeded: (key &* 0x9E37_79B9_7F4A_7C15) >> UInt64(64 - slots.trailingZeroBitCount))
    }

    // MARK: Queries

    /// Calls `body` with the position (in ``pings``) of every indexed ping that the ping (`time`, `latitude`,
    /// `longitude`) of another person `person` is a contact of: the indexed ping is point 1 of the exact test,
    /// this one point 2. Indexed pings of `person` itself are skipped.
    /// - Returns: how many candidates (entries of this ping's cell within its window) were examined.
    @inline(__always) @discardableResult
    public func forEachMatch(person: Int32, time: Double, latitude: Double, longitude: Double, _ body: (Int) -> Void) -> Int {
        let b = Self.band(latitude, bandsPerDegree: bandsPerDegree, count: bandCount)
        let n = Int(lonCells[b])
        if n == 0 { return 0 }
        let key = Self.cellKey(b, Self.lonCell(longitude, n: n))
        var s = Int(truncatingIfNeeded: (key &* 0x9E37_79B9_7F4A_7C15) >> tableShift)
        var range: UInt64
        while true {
            let k = table[2 * s]
            if k == key { range = table[2 * s + 1]; break }
            if k == Self.emptySlot { return 0 }
            s = (s + 1) & tableMask
        }
        var e = Int(range & 0xFFFF_FFFF)
        let end = Int(range >> 32)
        let window = criteria.window, threshold = criteria.threshold
        // the window, widened far above the rounding of |t2 - t1| (see the type's note)
        let pad = (abs(time) + window) * 1e-12
        let earliest = time - window - pad, latest = time + window + pad
        if end - e > 12 {
            // the first entry not before the window
            var hi = end
            while e < hi {
                let mid = (e + hi) >> 1
                if entryTime[mid] < earliest { e = mid + 1 } else { hi = mid }
            }
        }
        var p2 = Double.nan, cosP2 = Double.nan
        var examined = 0
        while e < end {
            let t1 = entryTime[e]
            if t1 > latest { break }
            let x = e
            e += 1
            if t1 < earliest { continue }
            examined += 1
            // cheap filters first: the person, the window, the latitude difference (the exact test cannot accept a
            // pair whose latitudes differ by more than the radius: see the type's note), then the exact haversine
            let lat1 = entryLatitude[x]
            guard entryPerson[x] != person, abs(time - t1) <= window, abs(latitude - lat1) <= radius else { continue }
            let lon1 = entryLongitude[x]
            let dLon = abs(longitude - lon1)
            guard min(dLon, 360 - dLon) <= entryHalfWidth[x] else { continue }
            if p2.isNaN {
                p2 = latitude * ProximityCriteria.radiansPerDegree
                cosP2 = cos(p2)
            }
            if ProximityCriteria.haversine(p1: lat1 * ProximityCriteria.radiansPerDegree, cosP1: entryCosine[x], lon1: lon1,
                                           p2: p2, cosP2: cosP2, lon2: longitude) <= threshold {
                body(Int(entryPing[x]))
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
