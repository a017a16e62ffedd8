import Foundation
import TwinFHIR

/// Regional risk as files a program or a person reads: GeoJSON with the figures per region, and a choropleth SVG.
public enum RiskMap {
    /// The regions as a GeoJSON FeatureCollection (``GeoJSONWriter``) whose properties per region are: `name`,
    /// `date` (the assessed day), `level` (null without data), `incidence_7d_per_100k`, `growth_week_over_week`,
    /// `test_positivity`, `admissions_7d_per_100k` (null when not computable), `population`, `cases_7d`,
    /// `contacts_7d`, `tests_7d`, `positives_7d`, `admissions_7d`, `reasons`, and `levels_by_day` (one level or
    /// null per day counted, from ``RegionalRisk/assess(_:region:day:thresholds:)``).
    public static func geoJSON(regions: GeoRegions, counts: RegionalCounts, risks: [RegionRisk], daily: [[RegionRisk]]? = nil) -> String {
        let props: [JSONObject] = risks.map { r in
            func opt(_ v: Double?) -> JSONValue { v.map(GeoJSONWriter.number) ?? .null }
            var o: JSONObject = [
                "date": .string(counts.date(r.day)),
                "level": r.level.map { .string($0.rawValue) } ?? .null,
                "incidence_7d_per_100k": opt(r.incidence),
                "growth_week_over_week": opt(r.growth),
                "test_positivity": opt(r.positivity),
                "admissions_7d_per_100k": opt(r.admissionRate),
                "population": .number(String(r.population)),
                "cases_7d": .number(String(r.cases7)),
                "contacts_7d": .number(String(r.contacts7)),
                "tests_7d": .number(String(r.tests7)),
                "positives_7d": .number(String(r.positives7)),
                "admissions_7d": .number(String(r.admissions7)),
                "reasons": .array(r.reasons.map { .string($0) }),
            ]
            if let daily {
                o.members.append(.init("levels_by_day", .array(daily.map { day in day[r.region].level.map { .string($0.rawValue) } ?? .null })))
            }
            return o
        }
        return GeoJSONWriter.featureCollection(regions.regions, properties: props)
    }

    /// The fill colour of each level (and of no data): the CDC's blue-yellow-orange-red order.
    public static func colour(_ level: RiskLevel?) -> String {
        switch level {
        case .low?: "#4575b4"
        case .moderate?: "#fee090"
        case .substantial?: "#fc8d59"
        case .high?: "#d73027"
        case nil: "#d9d9d9"
        }
    }

    /// A choropleth map as SVG: each region filled by its level, its name, level and figures shown on hover (an
    /// SVG `<title>`), a legend, and a title. Equirectangular projection scaled by the cosine of the middle
    /// latitude (x = longitude x cos(lat0), y = -latitude), fitted to 960 pixels wide.
    public static func svg(regions: GeoRegions, risks: [RegionRisk], title: String) -> String {
        var w = Double.infinity, s = Double.infinity, e = -Double.infinity, n = -Double.infinity
        for r in regions.regions { let b = r.bounds; w = min(w, b.west); s = min(s, b.south); e = max(e, b.east); n = max(n, b.north) }
        let k = cos((s + n) / 2 * Double.pi / 180)
        let mapWidth = 960.0, margin = 20.0, top = 40.0
        let scale = mapWidth / max((e - w) * k, 1e-12)
        let mapHeight = max((n - s) * scale, 1)
        let legendTop = top + mapHeight + 20
        let height = legendTop + 5 * 22 + margin
        func x(_ lon: Double) -> String { f((lon - w) * k * scale + margin) }
        func y(_ lat: Double) -> String { f((n - lat) * scale + top) }
        var out = """
        <?xml version="1.0" encoding="UTF-8"?>
        <svg xmlns="http://www.w3.org/2000/svg" width="\(f(mapWidth + 2 * margin))" height="\(f(height))" viewBox="0 0 \(f(mapWidth + 2 * margin)) \(f(height))" font-family="sans-serif">
        <rect width="100%" height="100%" fill="white"/>
        <text x="\(f(margin))" y="26" font-size="18">\(escape(title))</text>

        """
        for (i, region) in regions.regions.enumerated() {
            let risk = i < risks.count ? risks[i] : nil
            var d = ""
            for poly in region.polygons {
                for ring in [poly.exterior] + poly.holes {
                    d += "M" + ring.dropLast().map { "\(x($0.lon)),\(y($0.lat))" }.joined(separator: "L") + "Z"
                }
            }
            var hover = region.name + ": " + (risk?.level?.rawValue ?? "no data")
            if let r = risk {
                if let inc = r.incidence { hover += ", \(RegionalRisk.fmt(inc)) cases per 100,000 in 7 days" }
                if let p = r.positivity { hover += ", positivity \(RegionalRisk.fmt(p * 100)) %" }
                if !r.reasons.isEmpty { hover += " (" + r.reasons.joined(separator: "; ") + ")" }
            }
            out += "<path d=\"\(d)\" fill=\"\(colour(risk?.level))\" fill-rule=\"evenodd\" stroke=\"#333\" stroke-width=\"0.6\"><title>\(escape(hover))</title></path>\n"
        }
        let entries: [(RiskLevel?, String)] = RiskLevel.allCases.map { ($0, $0.rawValue) } + [(nil, "no data")]
        for (j, (level, label)) in entries.enumerated() {
            let ly = legendTop + Double(j) * 22
            out += "<rect x=\"\(f(margin))\" y=\"\(f(ly))\" width=\"18\" height=\"16\" fill=\"\(colour(level))\" stroke=\"#333\" stroke-width=\"0.6\"/>"
            out += "<text x=\"\(f(margin + 26))\" y=\"\(f(ly + 13))\" font-size=\"14\">\(escape(label))</text>\n"
        }
        out += "</svg>\n"
        return out
    }

    static func f(_ v: Double) -> String {
        let r = (v * 100).rounded() / 100
        return r == r.rounded() ? String(Int(r)) : String(r)
    }

    /// XML text and attribute escaping.
    static func escape(_ s: String) -> String {
        var o = ""
        for c in s {
            switch c {
            case "&": o += "&amp;"
            case "<": o += "&lt;"
            case ">": o += "&gt;"
            case "\"": o += "&quot;"
            case "'": o += "&apos;"
            default: o.append(c)
            }
        }
        return o
    }
}
