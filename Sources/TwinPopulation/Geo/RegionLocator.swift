import Foundation

/// Finds the region a point lies in, fast enough for millions of points.
///
/// A grid of cells covers the regions' bounding box. A cell that no region edge reaches lies wholly in one
/// region (or in none): its answer is stored. Only a point in a cell that an edge reaches is tested against the
/// polygons whose bounding box overlaps the cell. Answers are those of ``GeoRegion/contains(_:)`` (even-odd,
/// half-open edges: a point on a border shared by two regions is in exactly one); where regions overlap, the
/// first in file order wins.
public struct RegionLocator: Sendable {
    let regions: [GeoRegion]
    let west: Double, south: Double, cellW: Double, cellH: Double
    let cols: Int, rows: Int
    /// Per cell: the region index (>= 0), -1 for none, or -2 for a mixed cell (see `candidates`: regions to test
    /// in order, or `-(index + 1)` for a region that covers the whole cell, which ends the list).
    let cell: [Int32]
    let candidateStart: [Int32]
    let candidates: [Int32]

    init(_ set: GeoRegions) {
        regions = set.regions
        var w = Double.infinity, s = Double.infinity, e = -Double.infinity, n = -Double.infinity
        var edgeCount = 0
        for r in regions {
            let b = r.bounds
            w = min(w, b.west); s = min(s, b.south); e = max(e, b.east); n = max(n, b.north)
            for p in r.polygons { edgeCount += p.exterior.count + p.holes.reduce(0) { $0 + $1.count } }
        }
        let side = min(1024, max(4, Int(Double(edgeCount).squareRoot() * 2)))
        west = w; south = s; cols = side; rows = side
        cellW = max((e - w) / Double(side), 1e-12); cellH = max((n - s) / Double(side), 1e-12)
        // per cell, the regions (in order) whose edges reach it
        var markers = [[Int32]](repeating: [], count: side * side)
        func col(_ lon: Double) -> Int { min(side - 1, max(0, Int((lon - w) / (max((e - w) / Double(side), 1e-12))))) }
        func row(_ lat: Double) -> Int { min(side - 1, max(0, Int((lat - s) / (max((n - s) / Double(side), 1e-12))))) }
        for (index, r) in regions.enumerated() {
            let ri = Int32(index)
            for p in r.polygons {
                for ring in [p.exterior] + p.holes {
                    for i in 0..<(ring.count - 1) {
                        let a = ring[i], b = ring[i + 1]
                        // a one-cell margin keeps rounding at cell borders on the safe side
                        let c0 = max(0, col(min(a.lon, b.lon)) - 1), c1 = min(side - 1, col(max(a.lon, b.lon)) + 1)
                        let r0 = max(0, row(min(a.lat, b.lat)) - 1), r1 = min(side - 1, row(max(a.lat, b.lat)) + 1)
                        for y in r0...r1 { for x in c0...c1 where markers[y * side + x].last != ri { markers[y * side + x].append(ri) } }
                    }
                }
            }
        }
        let all = set.regions
        let boxes = all.map(\.bounds)
        var cell = [Int32](repeating: -1, count: side * side)
        var starts = [Int32](repeating: 0, count: side * side + 1)
        var cands: [Int32] = []
        let cw = cellW, ch = cellH
        for y in 0..<side {
            for x in 0..<side {
                let k = y * side + x
                let cx0 = w + Double(x) * cw, cy0 = s + Double(y) * ch
                if !markers[k].isEmpty {
                    cell[k] = -2
                    // a region whose edges reach the cell is tested point by point; one whose edges do not covers
                    // the whole cell or none of it, so its answer for the centre is its answer for every point
                    let centre = GeoPoint(lon: cx0 + cw / 2, lat: cy0 + ch / 2)
                    for (i, b) in boxes.enumerated() where b.west <= cx0 + cw && b.east >= cx0 && b.south <= cy0 + ch && b.north >= cy0 {
                        if markers[k].contains(Int32(i)) {
                            cands.append(Int32(i))
                        } else if all[i].contains(centre) {
                            cands.append(-Int32(i) - 1)
                            break
                        }
                    }
                } else {
                    let centre = GeoPoint(lon: cx0 + cw / 2, lat: cy0 + ch / 2)
                    let holder = all.indices.first { i in
                        let b = boxes[i]
                        return b.west <= centre.lon && centre.lon <= b.east && b.south <= centre.lat && centre.lat <= b.north && all[i].contains(centre)
                    }
                    cell[k] = Int32(holder ?? -1)
                }
                starts[k + 1] = Int32(cands.count)
            }
        }
        self.cell = cell; candidateStart = starts; candidates = cands
    }

    /// The index (in the ``GeoRegions`` order) of the region holding the point, or nil outside all regions or
    /// for a non-finite coordinate.
    public func region(lon: Double, lat: Double) -> Int? {
        guard lon.isFinite, lat.isFinite else { return nil }
        let fx = (lon - west) / cellW, fy = (lat - south) / cellH
        guard fx >= 0, fy >= 0, fx <= Double(cols), fy <= Double(rows) else { return nil }
        let x = min(cols - 1, Int(fx)), y = min(rows - 1, Int(fy))
        let k = y * cols + x
        let v = cell[k]
        if v != -2 { return v >= 0 ? Int(v) : nil }
        let p = GeoPoint(lon: lon, lat: lat)
        for i in Int(candidateStart[k])..<Int(candidateStart[k + 1]) {
            let c = Int(candidates[i])
            if c < 0 { return -c - 1 }   // covers the whole cell
            if regions[c].contains(p) { return c }
        }
        return nil
    }

    /// The region index of every point, -1 outside all regions (the same answers as ``region(lon:lat:)``), the
    /// points split over the processors when there are many.
    public func regions(lon: [Double], lat: [Double]) -> [Int32] {
        precondition(lon.count == lat.count, "one latitude per longitude")
        let n = lon.count
        var out = [Int32](repeating: -1, count: n)
        let workers = n < 65_536 ? 1 : max(1, ProcessInfo.processInfo.activeProcessorCount)
        let chunk = (n + workers - 1) / max(workers, 1)
        out.withUnsafeMutableBufferPointer { buffer in
            nonisolated(unsafe) let result = buffer
            lon.withUnsafeBufferPointer { xs in
                lat.withUnsafeBufferPointer { ys in
                    nonisolated(unsafe) let xs = xs, ys = ys
                    DispatchQueue.concurrentPerform(iterations: workers) { w in
                        let start = w * chunk, end = min(n, start + chunk)
                        guard start < end else { return }
                        for i in start..<end { result[i] = Int32(self.region(lon: xs[i], lat: ys[i]) ?? -1) }
                    }
                }
            }
        }
        return out
    }
}
