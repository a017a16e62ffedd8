import TwinFHIR

/// Writes regions as a GeoJSON FeatureCollection (RFC 7946): coordinates longitude then latitude, exterior rings
/// counterclockwise and holes clockwise (the right-hand rule of section 3.1.6), a region with one polygon as a
/// Polygon, with more as a MultiPolygon, and the given properties per feature (the name first, under
/// `nameProperty`).
public enum GeoJSONWriter {
    /// The GeoJSON text; `properties[i]` are region `i`'s properties (numbers must be finite: others are written
    /// as null).
    public static func featureCollection(_ regions: [GeoRegion], nameProperty: String = "name", properties: [JSONObject] = []) -> String {
        var features: [JSONValue] = []
        for (i, region) in regions.enumerated() {
            var props = JSONObject([JSONObject.Member(nameProperty, .string(region.name))])
            if i < properties.count { props.members += properties[i].members.filter { $0.key != nameProperty } }
            let polys = region.polygons.map { polygonJSON($0) }
            let geometry: JSONObject = polys.count == 1
                ? ["type": "Polygon", "coordinates": polys[0]]
                : ["type": "MultiPolygon", "coordinates": .array(polys)]
            features.append(.object(["type": "Feature", "properties": .object(props), "geometry": .object(geometry)]))
        }
        let root: JSONValue = .object(["type": "FeatureCollection", "features": .array(features)])
        return JSONWriter().string(root) + "\n"
    }

    /// A finite number as JSON (shortest text that reads back the same), null otherwise.
    public static func number(_ v: Double) -> JSONValue {
        guard v.isFinite else { return .null }
        if v == v.rounded(), abs(v) < 1e15 { return .number(String(Int64(v))) }
        return .number("\(v)")
    }

    static func polygonJSON(_ p: GeoPolygon) -> JSONValue {
        func ring(_ r: [GeoPoint], counterclockwise: Bool) -> JSONValue {
            let ccw = GeoPolygon.signedArea2(r) > 0
            let ordered = ccw == counterclockwise ? r : r.reversed()
            return .array(ordered.map { .array([number($0.lon), number($0.lat)]) })
        }
        return .array([ring(p.exterior, counterclockwise: true)] + p.holes.map { ring($0, counterclockwise: false) })
    }
}
