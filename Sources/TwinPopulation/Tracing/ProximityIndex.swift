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
/// poles), numbered around the whole circle so that longitude wraps at the antimeridian; time cells twice the
/// window wide. Each indexed ping is entered in every cell its search region touches: the spherical cap of the
/// radius around it (every longitude when the cap holds a pole; both sides of the antimeridian when it crosses
/// it) times its window. Any other ping then has to look in one cell only, its own.
///
/// Exactness: the cap's radius is the largest angle ``ProximityCriteria/accepts(_:_:_:_:_:_:)`` can accept plus a
/// margin (relative 1e-9 and 1e-12 rad, about 6 µm, orders of magnitude above the rounding of the haversine and of
/// the cell arithmetic), and cell numbers are monotone functions of the coordinates shared by entering and
/// looking up, so a pair the exact test accepts is never filtered out. A candidate is first checked against the
/// window, against the radius in latitude alone (an accepted pair's latitudes differ by less: the haversine's
/// first term alone would exceed the threshold) and against the cap's longitude half-width (the longitude
/// extent of a spherical cap, `asin(sin r / cos φ)`, with the same margins; around the circle), then goes through
/// the exact test, computed operation for
/// operation as ``ProximityCriteria/haversine(_:_:_:_:)``. The result equals a brute-force scan, pairs exactly at
/// the distance or the window included.
///
/// Memory: the indexed pings, about 12 bytes per cell entry (a handful per indexed ping), a bucket table twice the entries, and one
/// Int32 per latitude band (at most 2^21).
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
    let timeCellWidth: Double
    /// The largest latitude difference (degrees) of an accepted pair, margin included: a cheap first filter.
    let radius: Double
    /// Per indexed ping: its latitude in radians and the cosine of that, as the exact test computes them.
    let radians: [Double]
    let cosines: [Double]
    /// Per indexed ping: the longitude half-width (degrees) of its cap, margin included; infinity when the cap
    /// holds a pole.
    let halfWidths: [Double]

    // Cell table: entries grouped by bucket (hash & mask), with their full hash.
    let mask: Int
    let bucketStart: [Int32]
    /// A bitmap over other bits of the cell hash, 16 bits per entry (about 2 MB for 100,000 case pings): most pings
    /// are in no case's cell, and this tells them so from cache, with about 6 % false positives.
    let filter: [UInt64]
    let filterShift: UInt64
    let entryHash: [UInt64]
    let entryPing: [Int32]

    /// The number of cell entries (each indexed ping is in a few cells).
    public var entryCount: Int { entryHash.count }

    /// Indexes `pings` for `criteria`.
    public init(_ pings: Pings, criteria: ProximityCriteria) {
        self.criteria = criteria
        self.pings = pings
        let k = ProximityCriteria.radiansPerDegree
        // The largest angle the exact test can accept, with a margin.
        let theta = 2 * asin(min(1, criteria.threshold.squareRoot() * (1 + 1e-9))) + 1e-12
        let radius = theta / k * (1 + 1e-9) + 1e-10          // degrees
        self.radius = radius
        radians = pings.latitude.map { $0 * k }
        cosines = pings.latitude.map { cos($0 * k) }
        let bands = min(1 << 21, max(1, Int((180 / (2 * radius)).rounded(.down))))
        bandCount = bands
        bandsPerDegree = Double(bands) / 180
        timeCellWidth = criteria.window > 0 ? 2 * criteria.window : 1
        let window = criteria.window

        var lonCells = [Int32](repeating: 0, count: bands)
        var hashes: [UInt64] = []
        var owners: [Int32] = []
        hashes.reserveCapacity(pings.count * 8)
        owners.reserveCapacity(pings.count * 8)
        let sinTheta = sin(min(theta, Double.pi / 2))
        var cells: [Int] = []
        var halfWidths = [Double](repeating: .infinity, count: pings.count)
        for i in 0..<pings.count {
            let lat = pings.latitude[i], lon = pings.longitude[i], t = pings.time[i]
            let b0 = Self.band(max(-90, lat - radius), bandsPerDegree: bandsPerDegree, count: bands)
            let b1 = Self.band(min(90, lat + radius), bandsPerDegree: bandsPerDegree, count: bands)
            // the cap's longitude half-width (degrees), or nil for the whole circle
            var halfWidth: Double? = nil
            if abs(lat) + radius < 90, radius < 90 {
                let x = sinTheta / cos(lat * k) * (1 + 1e-9)
                if x < 1 { halfWidth = asin(x) / k * (1 + 1e-9) + 1e-10 }
            }
            halfWidths[i] = halfWidth ?? .infinity
            let pad = (abs(t) + window) * 1e-12
            let t0 = Self.timeCell(t - window - pad, width: timeCellWidth)
            let t1 = Self.timeCell(t + window + pad, width: timeCellWidth)
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
                    for tc in t0...t1 {
                        hashes.append(Self.cellHash(b, c, tc))
                        owners.append(Int32(i))
                    }
                }
            }
        }
        self.lonCells = lonCells
        self.halfWidths = halfWidths

        // Group the entries by bucket (a counting sort), and set their bits in the filter.
        var buckets = 64
        while buckets < hashes.count * 2 { buckets <<= 1 }
        mask = buckets - 1
        var start = [Int32](repeating: 0, count: buckets + 1)
        for h in hashes { start[Int(h & UInt64(buckets - 1)) + 1] += 1 }
        for b in 0..<buckets { start[b + 1] += start[b] }
        var fill = start
        var sortedHash = [UInt64](repeating: 0, count: hashes.count)
        var sortedPing = [Int32](repeating: 0, count: hashes.count)
        var filterBits = 1 << 12
        while filterBits < hashes.count * 16 { filterBits <<= 1 }
        let shift = UInt64(64 - filterBits.trailingZeroBitCount)
        var filter = [UInt64](repeating: 0, count: filterBits / 64)
        for e in 0..<hashes.count {
            let b = Int(hashes[e] & UInt64(buckets - 1))
            let at = Int(fill[b])
            fill[b] += 1
            sortedHash[at] = hashes[e]
            sortedPing[at] = owners[e]
            let f = Int(hashes[e] >> shift)
            filter[f >> 6] |= 1 << UInt64(f & 63)
        }
        bucketStart = start
        entryHash = sortedHash
        entryPing = sortedPing
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
        let n = (360 * cos(poleward * ProximityCriteria.radiansPerDegree) / (2 * radius)).rounded(.down)
        return Int32(max(1, min(Double(1 << 24), n.isFinite ? n : 1)))
    }

    @inline(__always)
    static func lonCell(_ lon: Double, n: Int) -> Int {
        min(n - 1, Int((lon + 180) * (Double(n) / 360)))
    }

    @inline(__always)
    static func timeCell(_ t: Double, width: Double) -> Int64 {
        Int64(max(-4e18, min(4e18, (t / width).rounded(.down))))
    }

    @inline(__always)
    static func cellHash(_ band: Int, _ cell: Int, _ time: Int64) -> UInt64 {
        var h = UInt64(truncatingIfNeeded: band) &* 0x9E37_79B9_7F4A_7C15
        h = (h ^ UInt64(truncatingIfNeeded: cell)) &* 0xBF58_476D_1CE4_E5B9
        h = (h ^ UInt64(bitPattern: time)) &* 0x94D0_49BB_1331_11EB
        h ^= h >> 31
        h = h &* 0xBF58_476D_1CE4_E5B9
        return h ^ (h >> 29)
    }

    // MARK: Queries

    /// Calls `body` with the position (in ``pings``) of every indexed ping that the ping (`time`, `latitude`,
    /// `longitude`) of another person `person` is a contact of: the indexed ping is point 1 of the exact test,
    /// this one point 2. Indexed pings of `person` itself are skipped.
    /// - Returns: how many candidates (indexed pings in this ping's cell) were examined.
    @inline(__always) @discardableResult
    public func forEachMatch(person: Int32, time: Double, latitude: Double, longitude: Double, _ body: (Int) -> Void) -> Int {
        let b = Self.band(latitude, bandsPerDegree: bandsPerDegree, count: bandCount)
        let n = Int(lonCells[b])
        if n == 0 { return 0 }
        let h = Self.cellHash(b, Self.lonCell(longitude, n: n), Self.timeCell(time, width: timeCellWidth))
        let f = Int(h >> filterShift)
        if filter[f >> 6] & (1 << UInt64(f & 63)) == 0 { return 0 }
        let bucket = Int(truncatingIfNeeded: h) & mask
        let window = criteria.window, threshold = criteria.threshold
        var p2 = Double.nan, cosP2 = Double.nan
        var examined = 0
        for e in Int(bucketStart[bucket])..<Int(bucketStart[bucket + 1]) where entryHash[e] == h {
            examined += 1
            let i = Int(entryPing[e])
            // cheap filters first: the person, the window, the latitude difference (the exact test cannot accept a
            // pair whose latitudes differ by more than the radius: see the type's note), then the exact haversine
            guard pings.person[i] != person, abs(time - pings.time[i]) <= window,
                  abs(latitude - pings.latitude[i]) <= radius else { continue }
            let dLon = abs(longitude - pings.longitude[i])
            guard min(dLon, 360 - dLon) <= halfWidths[i] else { continue }
            if p2.isNaN {
                p2 = latitude * ProximityCriteria.radiansPerDegree
                cosP2 = cos(p2)
            }
            if ProximityCriteria.haversine(p1: radians[i], cosP1: cosines[i], lon1: pings.longitude[i],
                                           p2: p2, cosP2: cosP2, lon2: longitude) <= threshold {
                body(i)
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
