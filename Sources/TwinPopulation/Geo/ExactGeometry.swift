/// Exact planar predicates on `Double` coordinates: the sign of the orientation determinant is computed without
/// rounding (error-free products by fused multiply-add, summed as a floating-point expansion), so a segment test
/// never mistakes touching for crossing or misses a crossing by a rounding error.
enum ExactGeometry {
    /// The exact sign (-1, 0, 1) of `(b - a) x (c - a)`: positive when `a, b, c` turn counterclockwise.
    /// Exact for coordinates whose products neither overflow nor fall below the normal range (any longitude and
    /// latitude written with up to ~300 decimals).
    static func orientation(_ ax: Double, _ ay: Double, _ bx: Double, _ by: Double, _ cx: Double, _ cy: Double) -> Int {
        // det = ax*by - ax*cy + bx*cy - bx*ay + cx*ay - cx*by (the ax*ay terms cancel)
        let approx = (bx - ax) * (cy - ay) - (by - ay) * (cx - ax)
        let bound = 1e-14 * (abs(bx - ax) * abs(cy - ay) + abs(by - ay) * abs(cx - ax))
        if approx > bound { return 1 }
        if approx < -bound { return -1 }
        var expansion: [Double] = []
        expansion.reserveCapacity(12)
        for (p, q) in [(ax, by), (-ax, cy), (bx, cy), (-bx, ay), (cx, ay), (-cx, by)] {
            let hi = p * q
            let lo = (-hi).addingProduct(p, q)   // fma: p*q - hi exactly
            grow(&expansion, lo)
            grow(&expansion, hi)
        }
        for v in expansion.reversed() where v != 0 { return v > 0 ? 1 : -1 }
        return 0
    }

    /// Shewchuk's Grow-Expansion: adds `b` to the nonoverlapping expansion `e` (increasing magnitude) exactly.
    private static func grow(_ e: inout [Double], _ b: Double) {
        var q = b
        for i in e.indices {
            let a = e[i]
            let x = q + a
            let bv = x - q
            let av = x - bv
            let err = (q - av) + (a - bv)
            e[i] = err
            q = x
        }
        e.append(q)
        e.removeAll { $0 == 0 }
    }

    /// Whether the closed segments `p1p2` and `p3p4` share at least one point (exactly).
    static func segmentsIntersect(_ p1: GeoPoint, _ p2: GeoPoint, _ p3: GeoPoint, _ p4: GeoPoint) -> Bool {
        if max(p1.lon, p2.lon) < min(p3.lon, p4.lon) || max(p3.lon, p4.lon) < min(p1.lon, p2.lon)
            || max(p1.lat, p2.lat) < min(p3.lat, p4.lat) || max(p3.lat, p4.lat) < min(p1.lat, p2.lat) { return false }
        let d1 = orientation(p3.lon, p3.lat, p4.lon, p4.lat, p1.lon, p1.lat)
        let d2 = orientation(p3.lon, p3.lat, p4.lon, p4.lat, p2.lon, p2.lat)
        let d3 = orientation(p1.lon, p1.lat, p2.lon, p2.lat, p3.lon, p3.lat)
        let d4 = orientation(p1.lon, p1.lat, p2.lon, p2.lat, p4.lon, p4.lat)
        if d1 * d2 < 0 && d3 * d4 < 0 { return true }
        if d1 == 0 && onSegment(p3, p4, p1) { return true }
        if d2 == 0 && onSegment(p3, p4, p2) { return true }
        if d3 == 0 && onSegment(p1, p2, p3) { return true }
        if d4 == 0 && onSegment(p1, p2, p4) { return true }
        return false
    }

    /// For `c` collinear with `a`-`b`: whether it lies on the closed segment.
    static func onSegment(_ a: GeoPoint, _ b: GeoPoint, _ c: GeoPoint) -> Bool {
        min(a.lon, b.lon) <= c.lon && c.lon <= max(a.lon, b.lon) && min(a.lat, b.lat) <= c.lat && c.lat <= max(a.lat, b.lat)
    }
}
