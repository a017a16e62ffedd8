/// The checks ``GeoRegions`` makes on every polygon (see its promises).
enum GeoValidation {
    static func check(_ polygon: GeoPolygon, feature: String, polygon k: Int) throws(PopulationError) {
        let rings = [polygon.exterior] + polygon.holes
        var cleaned: [[GeoPoint]] = []
        for (r, ring) in rings.enumerated() {
            let at = "\(feature), polygon \(k), ring \(r)\(r == 0 ? " (exterior)" : " (hole)")"
            guard ring.count >= 4 else {
                throw PopulationError(.invalidGeoJSON, "\(at) has \(ring.count) position\(ring.count == 1 ? "" : "s"): a ring needs at least 4 (3 corners and the first repeated)", value: ring.map(\.description).joined(separator: ", "))
            }
            for p in ring {
                guard p.lon.isFinite, p.lat.isFinite, (-180...180).contains(p.lon), (-90...90).contains(p.lat) else {
                    throw PopulationError(.invalidGeoJSON, "\(at): position \(p) is out of range (longitude -180...180, latitude -90...90)", value: p.description)
                }
            }
            guard ring.first == ring.last else {
                throw PopulationError(.invalidGeoJSON, "\(at) is not closed: its first position \(ring.first!) differs from its last \(ring.last!) (position \(ring.count - 1)); repeat the first position at the end", value: ring.last!.description)
            }
            // consecutive repeated positions are allowed and skipped
            var c: [GeoPoint] = [ring[0]]
            for p in ring.dropFirst() where p != c.last! { c.append(p) }
            guard c.count >= 4, GeoPolygon.signedArea2(c) != 0 || !collinear(c) else {
                throw PopulationError(.invalidGeoJSON, "\(at) encloses no area (its positions lie on one line)", value: ring.map(\.description).joined(separator: ", "))
            }
            cleaned.append(c)
        }
        try checkCrossings(cleaned, original: rings, feature: feature, polygon: k)
        for (h, hole) in cleaned.enumerated().dropFirst() {
            // rings do not cross (checked above), so one vertex inside decides it
            guard GeoPolygon.crosses(cleaned[0], hole[0]) else {
                throw PopulationError(.invalidGeoJSON, "\(feature), polygon \(k), ring \(h) (hole) lies outside its exterior ring: position \(hole[0]) is not inside it", value: hole[0].description)
            }
            for (g, other) in cleaned.enumerated().dropFirst() where g != h && GeoPolygon.crosses(other, hole[0]) {
                throw PopulationError(.invalidGeoJSON, "\(feature), polygon \(k), ring \(h) (hole) lies inside hole \(g): holes must not nest", value: hole[0].description)
            }
        }
    }

    static func collinear(_ ring: [GeoPoint]) -> Bool {
        let a = ring[0], b = ring[1]
        return ring.allSatisfy { ExactGeometry.orientation(a.lon, a.lat, b.lon, b.lat, $0.lon, $0.lat) == 0 }
    }

    /// Every pair of edges of the polygon's rings, by a sweep over longitude: two edges may meet only where one
    /// ends and the next begins (in one ring), and there only at that shared position (no fold back).
    static func checkCrossings(_ rings: [[GeoPoint]], original: [[GeoPoint]], feature: String, polygon k: Int) throws(PopulationError) {
        struct Edge { var ring: Int; var index: Int; var a: GeoPoint; var b: GeoPoint; var minLon: Double; var maxLon: Double }
        var edges: [Edge] = []
        for (r, ring) in rings.enumerated() {
            for i in 0..<(ring.count - 1) {
                let a = ring[i], b = ring[i + 1]
                edges.append(Edge(ring: r, index: i, a: a, b: b, minLon: min(a.lon, b.lon), maxLon: max(a.lon, b.lon)))
            }
        }
        edges.sort { $0.minLon < $1.minLon }
        func position(_ e: Edge) -> Int {
            // the index of e.a in the original ring (repeated positions were skipped)
            original[e.ring].firstIndex(of: e.a) ?? e.index
        }
        for x in 0..<edges.count {
            let e = edges[x]
            var y = x + 1
            while y < edges.count && edges[y].minLon <= e.maxLon {
                let f = edges[y]
                y += 1
                if max(e.a.lat, e.b.lat) < min(f.a.lat, f.b.lat) || max(f.a.lat, f.b.lat) < min(e.a.lat, e.b.lat) { continue }
                let n = rings[e.ring].count - 1
                let adjacent = e.ring == f.ring && ((e.index + 1) % n == f.index || (f.index + 1) % n == e.index)
                if adjacent {
                    // they share one endpoint; they must not overlap beyond it
                    let (first, second) = (e.index + 1) % n == f.index ? (e, f) : (f, e)
                    let o = ExactGeometry.orientation(first.a.lon, first.a.lat, first.b.lon, first.b.lat, second.b.lon, second.b.lat)
                    if o == 0 && (ExactGeometry.onSegment(first.a, first.b, second.b) || ExactGeometry.onSegment(second.a, second.b, first.a)) {
                        if n == 2 { continue }
                        throw PopulationError(.invalidGeoJSON, "\(feature), polygon \(k), ring \(e.ring) folds back on itself at position \(position(second)) \(second.a): the edges before and after it overlap", value: second.a.description)
                    }
                    continue
                }
                if ExactGeometry.segmentsIntersect(e.a, e.b, f.a, f.b) {
                    let (p, q) = e.ring < f.ring || (e.ring == f.ring && e.index < f.index) ? (e, f) : (f, e)
                    let what = p.ring == q.ring ? "is self-intersecting" : "touches or crosses ring \(q.ring)"
                    throw PopulationError(.invalidGeoJSON, "\(feature), polygon \(k), ring \(p.ring) \(what): the edge from position \(position(p)) \(p.a) to \(p.b) meets the edge of ring \(q.ring) from position \(position(q)) \(q.a) to \(q.b)", value: q.a.description)
                }
            }
        }
    }
}
