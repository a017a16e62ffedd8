import Foundation
import TwinFHIR

/// A position as GeoJSON writes it: longitude, then latitude, in degrees (WGS84).
public struct GeoPoint: Sendable, Hashable, CustomStringConvertible {
    public var lon: Double
    public var lat: Double
    public init(lon: Double, lat: Double) { self.lon = lon; self.lat = lat }
    /// `[lon, lat]`, as GeoJSON writes a position.
    public var description: String { "[\(lon), \(lat)]" }
}

/// A polygon: one exterior ring and any number of holes. Rings are closed (the last position repeats the
/// first) and hold at least 4 positions.
public struct GeoPolygon: Sendable, Hashable {
    public var exterior: [GeoPoint]
    public var holes: [[GeoPoint]]
    public init(exterior: [GeoPoint], holes: [[GeoPoint]] = []) { self.exterior = exterior; self.holes = holes }

    /// Whether `p` is inside (the exterior but no hole), by the even-odd crossing rule with half-open edges: a
    /// point on an edge shared by two adjacent polygons belongs to exactly one of them.
    public func contains(_ p: GeoPoint) -> Bool {
        var inside = GeoPolygon.crosses(exterior, p)
        for h in holes where GeoPolygon.crosses(h, p) { inside.toggle() }
        return inside
    }

    static func crosses(_ ring: [GeoPoint], _ p: GeoPoint) -> Bool {
        var inside = false
        var j = ring.count - 1
        for i in 0..<ring.count {
            let a = ring[i], b = ring[j]
            if (a.lat > p.lat) != (b.lat > p.lat) {
                let x = a.lon + (p.lat - a.lat) * (b.lon - a.lon) / (b.lat - a.lat)
                if p.lon < x { inside.toggle() }
            }
            j = i
        }
        return inside
    }

    /// Twice the signed area of a closed ring in degrees² (positive: counterclockwise).
    static func signedArea2(_ ring: [GeoPoint]) -> Double {
        var s = 0.0
        for i in 0..<(ring.count - 1) { s += ring[i].lon * ring[i + 1].lat - ring[i + 1].lon * ring[i].lat }
        return s
    }

    /// The area in square degrees (exterior minus holes).
    public var area: Double {
        abs(GeoPolygon.signedArea2(exterior)) / 2 - holes.reduce(0) { $0 + abs(GeoPolygon.signedArea2($1)) / 2 }
    }

    /// A point strictly inside the polygon (for labels and tests): on the horizontal line through the middle of
    /// the exterior's latitude range (moved off any vertex), the middle of the widest inside stretch.
    public var interiorPoint: GeoPoint {
        let lats = exterior.map(\.lat)
        let lo = lats.min()!, hi = lats.max()!
        var y = (lo + hi) / 2
        let vertexLats = Set(([exterior] + holes).flatMap { $0.map(\.lat) })
        var step = (hi - lo) / 7.3
        while vertexLats.contains(y) { y += step; step /= 2 }
        var xs: [Double] = []
        for ring in [exterior] + holes {
            for i in 0..<(ring.count - 1) {
                let a = ring[i], b = ring[i + 1]
                if (a.lat > y) != (b.lat > y) { xs.append(a.lon + (y - a.lat) * (b.lon - a.lon) / (b.lat - a.lat)) }
            }
        }
        xs.sort()
        var best = GeoPoint(lon: exterior[0].lon, lat: exterior[0].lat), width = -1.0
        var k = 0
        while k + 1 < xs.count {
            if xs[k + 1] - xs[k] > width { width = xs[k + 1] - xs[k]; best = GeoPoint(lon: (xs[k] + xs[k + 1]) / 2, lat: y) }
            k += 2
        }
        return best
    }
}

/// A named region: one or more polygons (a GeoJSON Polygon or MultiPolygon feature).
public struct GeoRegion: Sendable, Hashable {
    public var name: String
    public var polygons: [GeoPolygon]
    public init(name: String, polygons: [GeoPolygon]) { self.name = name; self.polygons = polygons }

    public func contains(_ p: GeoPoint) -> Bool { polygons.contains { $0.contains(p) } }

    /// The longitude and latitude bounds `(west, south, east, north)`.
    public var bounds: (west: Double, south: Double, east: Double, north: Double) {
        var w = Double.infinity, s = Double.infinity, e = -Double.infinity, n = -Double.infinity
        for poly in polygons { for p in poly.exterior { w = min(w, p.lon); e = max(e, p.lon); s = min(s, p.lat); n = max(n, p.lat) } }
        return (w, s, e, n)
    }

    /// A point inside the region's largest polygon.
    public var interiorPoint: GeoPoint { polygons.max { $0.area < $1.area }!.interiorPoint }
}

/// Regions to count and map by: the features of a GeoJSON FeatureCollection (RFC 7946), or a regular grid.
///
/// Promises: every ring is closed, holds at least 4 positions, finite coordinates within longitude -180...180 and
/// latitude -90...90, encloses an area, and does not touch or cross itself or another ring of its polygon
/// (checked exactly, see ``init(geoJSON:nameProperty:)``); every hole lies inside its exterior; names are unique.
/// Coordinates are read as a plane of longitude and latitude: a region must not cross the antimeridian (RFC 7946
/// section 3.1.9 asks writers to split such a region).
public struct GeoRegions: Sendable, Hashable {
    public var regions: [GeoRegion]

    /// Regions as given (checked as a file's regions are).
    /// - Throws: ``PopulationError/Code/invalidGeoJSON`` as ``init(geoJSON:nameProperty:)``.
    public init(_ regions: [GeoRegion]) throws(PopulationError) {
        var seen = Set<String>()
        for (f, r) in regions.enumerated() {
            guard seen.insert(r.name).inserted else {
                throw PopulationError(.invalidGeoJSON, "feature \(f) ('\(r.name)'): the name '\(r.name)' is taken by an earlier feature: region names must be unique", value: r.name)
            }
            guard !r.polygons.isEmpty else {
                throw PopulationError(.invalidGeoJSON, "feature \(f) ('\(r.name)') has no polygon", value: r.name)
            }
            for (k, poly) in r.polygons.enumerated() { try GeoValidation.check(poly, feature: "feature \(f) ('\(r.name)')", polygon: k) }
        }
        self.regions = regions
    }

    /// The region names, in order.
    public var names: [String] { regions.map(\.name) }

    /// Reads a GeoJSON FeatureCollection (RFC 7946) of Polygon and MultiPolygon features. A feature's name is the
    /// property `nameProperty` (a string, or a number written as text), or by default the first property whose
    /// value is a string (in the order the file writes them).
    /// - Throws: ``PopulationError/Code/invalidGeoJSON`` naming the feature (its index and name), the polygon,
    ///   ring and position and the offending value: malformed JSON, not a FeatureCollection, a geometry other
    ///   than Polygon or MultiPolygon, a missing name, an unclosed ring, a ring of fewer than 4 positions, a
    ///   non-finite or out-of-range coordinate, a ring without area, a ring that touches or crosses itself or
    ///   another ring of its polygon, a hole outside its exterior, a repeated name.
    public init(geoJSON bytes: [UInt8], nameProperty: String? = nil) throws(PopulationError) {
        let root: JSONValue
        do { root = try JSONReader().read(bytes) } catch {
            throw PopulationError(.invalidGeoJSON, "the GeoJSON is not valid JSON: \(error.message)", value: nil)
        }
        guard root["type"]?.stringValue == "FeatureCollection", let features = root["features"]?.arrayValue else {
            throw PopulationError(.invalidGeoJSON, "the GeoJSON is not a FeatureCollection with a features array (type is \(root["type"].map { "\($0.stringValue ?? $0.kindName)" } ?? "missing"))", value: root["type"]?.stringValue)
        }
        var regions: [GeoRegion] = []
        for (f, feature) in features.enumerated() {
            let props = feature["properties"]?.objectValue ?? JSONObject()
            let name: String
            if let nameProperty {
                switch props[nameProperty] {
                case .string(let s)?: name = s
                case .number(let n)?: name = n
                default:
                    throw PopulationError(.invalidGeoJSON, "feature \(f) has no string property '\(nameProperty)' to name it (its properties: \(props.keys.joined(separator: ", ")))", value: nameProperty)
                }
            } else {
                guard let s = props.members.lazy.compactMap({ $0.value.stringValue }).first else {
                    throw PopulationError(.invalidGeoJSON, "feature \(f) has no string property to name it: give every feature one (or choose one with the name property option)", value: "\(f)")
                }
                name = s
            }
            let label = "feature \(f) ('\(name)')"
            guard let geometry = feature["geometry"], let type = geometry["type"]?.stringValue, let coordinates = geometry["coordinates"]?.arrayValue else {
                throw PopulationError(.invalidGeoJSON, "\(label) has no geometry with a type and coordinates", value: name)
            }
            var polygons: [GeoPolygon] = []
            switch type {
            case "Polygon": polygons = [try Self.polygon(coordinates, label: label, index: 0)]
            case "MultiPolygon":
                for (k, p) in coordinates.enumerated() {
                    guard let rings = p.arrayValue else {
                        throw PopulationError(.invalidGeoJSON, "\(label), polygon \(k): expected an array of rings, found a \(p.kindName)", value: name)
                    }
                    polygons.append(try Self.polygon(rings, label: label, index: k))
                }
            default:
                throw PopulationError(.invalidGeoJSON, "\(label) is a \(type): only Polygon and MultiPolygon regions are read", value: type)
            }
            regions.append(GeoRegion(name: name, polygons: polygons))
        }
        guard !regions.isEmpty else { throw PopulationError(.invalidGeoJSON, "the GeoJSON has no features", value: nil) }
        try self.init(regions)
    }

    /// Reads a GeoJSON file (see ``init(geoJSON:nameProperty:)``).
    public init(contentsOf path: String, nameProperty: String? = nil) throws(PopulationError) {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw PopulationError(.invalidArgument, "cannot read the regions file '\(path)'", value: path)
        }
        try self.init(geoJSON: [UInt8](data), nameProperty: nameProperty)
    }

    static func polygon(_ rings: [JSONValue], label: String, index k: Int) throws(PopulationError) -> GeoPolygon {
        guard !rings.isEmpty else { throw PopulationError(.invalidGeoJSON, "\(label), polygon \(k) has no ring", value: "[]") }
        var parsed: [[GeoPoint]] = []
        for (r, ring) in rings.enumerated() {
            guard let positions = ring.arrayValue else {
                throw PopulationError(.invalidGeoJSON, "\(label), polygon \(k), ring \(r): expected an array of positions, found a \(ring.kindName)", value: nil)
            }
            var points: [GeoPoint] = []
            points.reserveCapacity(positions.count)
            for (i, pos) in positions.enumerated() {
                let where_ = "\(label), polygon \(k), ring \(r), position \(i)"
                guard let a = pos.arrayValue, a.count >= 2, let lon = a[0].doubleValue, let lat = a[1].doubleValue else {
                    throw PopulationError(.invalidGeoJSON, "\(where_) is not [longitude, latitude]", value: JSONWriter().string(pos))
                }
                guard lon.isFinite, lat.isFinite, (-180...180).contains(lon), (-90...90).contains(lat) else {
                    throw PopulationError(.invalidGeoJSON, "\(where_) = [\(a[0].numberText ?? "?"), \(a[1].numberText ?? "?")] is out of range: longitude must be in -180...180 and latitude in -90...90 (GeoJSON writes longitude first)", value: JSONWriter().string(pos))
                }
                points.append(GeoPoint(lon: lon, lat: lat))
            }
            parsed.append(points)
        }
        return GeoPolygon(exterior: parsed[0], holes: Array(parsed.dropFirst()))
    }

    /// A regular grid of square cells `cellMeters` wide over the bounds (the last row and column may reach past
    /// them), named `rROW-cCOL` from the south-west corner (`r0-c0`); cells are `cellMeters` tall and, at the
    /// middle latitude, `cellMeters` wide (on a sphere of radius 6,371,008.8 m).
    /// - Throws: ``PopulationError/Code/invalidArgument`` for a size that is not positive or bounds that are
    ///   empty or out of range; ``PopulationError/Code/tooLarge`` beyond 1,000,000 cells.
    public static func grid(west: Double, south: Double, east: Double, north: Double, cellMeters: Double) throws(PopulationError) -> GeoRegions {
        guard cellMeters.isFinite, cellMeters > 0 else {
            throw PopulationError(.invalidArgument, "the grid cell size \(cellMeters) m is not a positive number", value: "\(cellMeters)")
        }
        guard west.isFinite, east.isFinite, south.isFinite, north.isFinite, -180 <= west, west <= east, east <= 180, -90 <= south, south <= north, north <= 90 else {
            throw PopulationError(.invalidArgument, "the grid bounds west \(west), south \(south), east \(east), north \(north) are not a box of longitudes and latitudes", value: "\(west),\(south),\(east),\(north)")
        }
        let metresPerDegree = 6_371_008.8 * Double.pi / 180
        let dLat = cellMeters / metresPerDegree
        let dLon = dLat / max(cos((south + north) / 2 * Double.pi / 180), 1e-6)
        let rows = max(1, Int(((north - south) / dLat).rounded(.up))), cols = max(1, Int(((east - west) / dLon).rounded(.up)))
        guard Double(rows) * Double(cols) <= 1_000_000 else {
            throw PopulationError(.tooLarge, "a \(Value_format(cellMeters)) m grid over this area has \(rows) x \(cols) cells, more than 1,000,000: choose larger cells", value: "\(cellMeters)")
        }
        var regions: [GeoRegion] = []
        regions.reserveCapacity(rows * cols)
        for r in 0..<rows {
            for c in 0..<cols {
                let w = west + Double(c) * dLon, s = south + Double(r) * dLat
                let e = min(w + dLon, 180), n = min(s + dLat, 90)
                let ring = [GeoPoint(lon: w, lat: s), GeoPoint(lon: e, lat: s), GeoPoint(lon: e, lat: n), GeoPoint(lon: w, lat: n), GeoPoint(lon: w, lat: s)]
                regions.append(GeoRegion(name: "r\(r)-c\(c)", polygons: [GeoPolygon(exterior: ring)]))
            }
        }
        return GeoRegions(unchecked: regions)
    }

    init(unchecked regions: [GeoRegion]) { self.regions = regions }

    /// Parses a cell size `1km`, `500m`, `250` (metres).
    public static func cellSize(parsing text: String) throws(PopulationError) -> Double {
        let t = text.trimmingCharacters(in: .whitespaces).lowercased()
        let (number, scale): (Substring, Double) = t.hasSuffix("km") ? (t.dropLast(2), 1000) : t.hasSuffix("m") ? (t.dropLast(), 1) : (Substring(t), 1)
        guard let v = Double(number.trimmingCharacters(in: .whitespaces)), v.isFinite, v > 0 else {
            throw PopulationError(.invalidArgument, "the grid cell size '\(text)' is not a positive length such as 1km or 500m", value: text)
        }
        return v * scale
    }

    /// An index that finds the region of a point fast (see ``RegionLocator``).
    public func locator() -> RegionLocator { RegionLocator(self) }
}

func Value_format(_ v: Double) -> String { v == v.rounded() && abs(v) < 1e15 ? String(Int(v)) : String(v) }
