import Foundation
import Testing
import TwinTesting
@testable import TwinPopulation

/// GeoJSON regions: reading and validating them, finding the region of a point, writing them back.
@Suite struct GeoTests {
    static let montrealPath = SharedFolder.data("geo/montreal-districts.geojson").path

    static func collection(_ geometry: String, properties: String = #"{"name": "A"}"#) -> [UInt8] {
        Array(#"{"type": "FeatureCollection", "features": [{"type": "Feature", "properties": \#(properties), "geometry": \#(geometry)}]}"#.utf8)
    }

    static func refused(_ geometry: String, _ fragment: String, sourceLocation: SourceLocation = #_sourceLocation) {
        let e = #expect(throws: PopulationError.self, sourceLocation: sourceLocation) { _ = try GeoRegions(geoJSON: collection(geometry)) }
        #expect(e?.code == .invalidGeoJSON, sourceLocation: sourceLocation)
        #expect(e?.message.contains(fragment) == true, "\(String(describing: e?.message))", sourceLocation: sourceLocation)
    }

    @Test(.enabled(if: SharedFolder.has("data/geo/montreal-districts.geojson"),

                   "skipped: the Montreal districts data/geo/montreal-districts.geojson are missing (put ../shared beside the package or set TWINBANK_SHARED)"))
    func everyMontrealDistrictHoldsItsOwnInteriorPointAndNoOther() throws {
        let set = try GeoRegions(contentsOf: Self.montrealPath, nameProperty: "district")
        #expect(set.regions.count == 58)
        #expect(set.regions.filter { $0.polygons.count > 1 }.count == 8)
        #expect(set.names.contains("11-Sault-au-Récollet"))
        // the default name is the first string property, which is `district` here
        #expect(try GeoRegions(contentsOf: Self.montrealPath).names == set.names)
        let locator = set.locator()
        for (i, region) in set.regions.enumerated() {
            let p = region.interiorPoint
            let holding = set.regions.indices.filter { set.regions[$0].contains(p) }
            #expect(holding == [i], "\(region.name): \(p) is in \(holding.map { set.regions[$0].name })")
            #expect(locator.region(lon: p.lon, lat: p.lat) == i, "\(region.name)")
        }
        // outside the city: west of the island, the St. Lawrence south shore far east, north of Laval, far away
        for (lon, lat) in [(-74.2, 45.5), (-73.3, 45.5), (-73.7, 45.8), (-73.6, 45.3), (0.0, 0.0), (-73.95, 45.71)] {
            #expect(set.regions.allSatisfy { !$0.contains(GeoPoint(lon: lon, lat: lat)) }, "\(lon), \(lat)")
            #expect(locator.region(lon: lon, lat: lat) == nil, "\(lon), \(lat)")
        }
        // the tracing anchor's ping box (south-west corner 45.46 N, 73.70 W, 10 km) lies in the districts
        #expect(locator.region(lon: -73.65, lat: 45.50) != nil)
    }

    @Test(.enabled(if: SharedFolder.has("data/geo/montreal-districts.geojson"),

                   "skipped: the Montreal districts data/geo/montreal-districts.geojson are missing (put ../shared beside the package or set TWINBANK_SHARED)"))
    func theIndexAgreesWithTestingEveryRegion() throws {
        let set = try GeoRegions(contentsOf: Self.montrealPath)
        let locator = set.locator()
        var rng = SystemRandomNumberGenerator()  // any points: the index must agree everywhere
        var disagreements = 0
        for _ in 0..<20_000 {
            let lon = Double.random(in: -74.0 ... -73.42, using: &rng), lat = Double.random(in: 45.38 ... 45.74, using: &rng)
            let brute = set.regions.firstIndex { $0.contains(GeoPoint(lon: lon, lat: lat)) }
            if brute != locator.region(lon: lon, lat: lat) { disagreements += 1 }
        }
        #expect(disagreements == 0)
        // many points at once (split over the processors) get the same answers one by one
        let lons = (0..<70_000).map { -74.0 + Double($0 % 700) * 0.00083 }, lats = (0..<70_000).map { 45.38 + Double($0 / 700) * 0.0036 }
        let all = locator.regions(lon: lons, lat: lats)
        #expect((0..<70_000).allSatisfy { all[$0] == Int32(locator.region(lon: lons[$0], lat: lats[$0]) ?? -1) })
        #expect(Set(all).count > 50)
        // points exactly on vertices and borders: the index agrees with testing every region
        for region in set.regions.prefix(10) {
            for p in region.polygons[0].exterior.prefix(20) {
                let first = set.regions.firstIndex { $0.contains(p) }
                #expect(locator.region(lon: p.lon, lat: p.lat) == first)
            }
        }
    }

    @Test func holesAndMultiPolygons() throws {
        let donut = #"{"type": "Polygon", "coordinates": [[[0,0],[10,0],[10,10],[0,10],[0,0]], [[4,4],[4,6],[6,6],[6,4],[4,4]]]}"#
        let set = try GeoRegions(geoJSON: Self.collection(donut))
        let r = set.regions[0]
        #expect(r.contains(GeoPoint(lon: 2, lat: 2)))
        #expect(!r.contains(GeoPoint(lon: 5, lat: 5)))
        #expect(!r.contains(GeoPoint(lon: 11, lat: 5)))
        #expect(r.contains(r.interiorPoint))
        #expect(set.locator().region(lon: 5, lat: 5) == nil)
        #expect(set.locator().region(lon: 9, lat: 9) == 0)
        let two = #"{"type": "MultiPolygon", "coordinates": [[[[0,0],[1,0],[1,1],[0,0]]], [[[5,5],[6,5],[6,6],[5,5]]]]}"#
        let m = try GeoRegions(geoJSON: Self.collection(two))
        #expect(m.regions[0].polygons.count == 2)
        #expect(m.locator().region(lon: 5.9, lat: 5.5) == 0)
        #expect(m.locator().region(lon: 3, lat: 3) == nil)
    }

    @Test func overlappingRegionsGoToTheFirstInFileOrder() throws {
        func square(_ name: String, _ lo: Double, _ hi: Double) -> GeoRegion {
            GeoRegion(name: name, polygons: [GeoPolygon(exterior: [.init(lon: lo, lat: lo), .init(lon: hi, lat: lo), .init(lon: hi, lat: hi), .init(lon: lo, lat: hi), .init(lon: lo, lat: lo)])])
        }
        for order in [[square("small", 4, 6), square("big", 0, 10), square("far", 20, 21)], [square("big", 0, 10), square("small", 4, 6), square("far", 20, 21)]] {
            let set = try GeoRegions(order)
            let locator = set.locator()
            var rng = SystemRandomNumberGenerator()
            for _ in 0..<5_000 {
                let p = GeoPoint(lon: Double.random(in: -1...22, using: &rng), lat: Double.random(in: -1...22, using: &rng))
                #expect(locator.region(lon: p.lon, lat: p.lat) == set.regions.firstIndex { $0.contains(p) }, "\(p)")
            }
            #expect(locator.region(lon: 5, lat: 5) == 0)
        }
    }

    @Test func badGeoJSONIsRefusedNamingTheFeatureAndThePosition() {
        // unclosed
        Self.refused(#"{"type": "Polygon", "coordinates": [[[0,0],[1,0],[1,1],[0,1]]]}"#,
                     "feature 0 ('A'), polygon 0, ring 0 (exterior) is not closed: its first position [0.0, 0.0] differs from its last [0.0, 1.0]")
        // a bow tie: edges 0 and 2 cross at (0.5, 0.5)
        Self.refused(#"{"type": "Polygon", "coordinates": [[[0,0],[1,1],[1,0],[0,1],[0,0]]]}"#,
                     "ring 0 is self-intersecting: the edge from position 0 [0.0, 0.0] to [1.0, 1.0] meets the edge of ring 0 from position 2 [1.0, 0.0] to [0.0, 1.0]")
        // a figure eight touching itself at one vertex (2,1) that is not consecutive
        Self.refused(#"{"type": "Polygon", "coordinates": [[[0,0],[2,1],[4,0],[4,2],[2,1],[0,2],[0,0]]]}"#, "is self-intersecting")
        // a vertex lying exactly on another edge
        Self.refused(#"{"type": "Polygon", "coordinates": [[[0,0],[4,0],[4,4],[2,0.0],[0,4],[0,0]]]}"#, "is self-intersecting")
        // a spike that folds back
        Self.refused(#"{"type": "Polygon", "coordinates": [[[0,0],[4,0],[6,0],[5,0],[4,4],[0,0]]]}"#, "polygon 0, ring 0 ")
        Self.refused(#"{"type": "Polygon", "coordinates": [[[0,0],[1,0],[0,0]]]}"#, "has 3 positions: a ring needs at least 4")
        Self.refused(#"{"type": "Polygon", "coordinates": [[[0,0],[1,0],[2,0],[0,0]]]}"#, "encloses no area")
        Self.refused(#"{"type": "Polygon", "coordinates": [[[0,0],[1,0],[1,91],[0,0]]]}"#, "position 2 = [1, 91] is out of range")
        Self.refused(#"{"type": "Polygon", "coordinates": [[[0,0],[1,0],[1,"x"],[0,0]]]}"#, "position 2 is not [longitude, latitude]")
        // a number too large for a double reads as infinity: not finite, refused
        Self.refused(#"{"type": "Polygon", "coordinates": [[[0,0],[1e400,0],[1,1],[0,0]]]}"#, "position 1 = [1e400, 0] is out of range")
        Self.refused(#"null"#, "has no geometry with a type and coordinates")
        // a hole outside its exterior, a hole crossing it
        Self.refused(#"{"type": "Polygon", "coordinates": [[[0,0],[1,0],[1,1],[0,1],[0,0]], [[5,5],[6,5],[6,6],[5,5]]]}"#, "ring 1 (hole) lies outside its exterior ring")
        Self.refused(#"{"type": "Polygon", "coordinates": [[[0,0],[4,0],[4,4],[0,4],[0,0]], [[2,2],[6,2],[6,3],[2,2]]]}"#, "touches or crosses ring 1")
        Self.refused(#"{"type": "Point", "coordinates": [0, 0]}"#, "is a Point: only Polygon and MultiPolygon")
        let noName = #expect(throws: PopulationError.self) {
            _ = try GeoRegions(geoJSON: Self.collection(#"{"type": "Polygon", "coordinates": [[[0,0],[1,0],[1,1],[0,0]]]}"#, properties: #"{"id": 3}"#))
        }
        #expect(noName?.message.contains("feature 0 has no string property") == true)
        let notJSON = #expect(throws: PopulationError.self) { _ = try GeoRegions(geoJSON: Array("{".utf8)) }
        #expect(notJSON?.code == .invalidGeoJSON)
        let twice = #expect(throws: PopulationError.self) {
            _ = try GeoRegions([GeoRegion(name: "x", polygons: [GeoPolygon(exterior: [.init(lon: 0, lat: 0), .init(lon: 1, lat: 0), .init(lon: 1, lat: 1), .init(lon: 0, lat: 0)])]),
                                GeoRegion(name: "x", polygons: [GeoPolygon(exterior: [.init(lon: 0, lat: 0), .init(lon: 1, lat: 0), .init(lon: 1, lat: 1), .init(lon: 0, lat: 0)])])])
        }
        #expect(twice?.message.contains("feature 1 ('x'): the name 'x' is taken") == true)
    }

    @Test func orientationIsExactWhereFloatingPointIsNot() {
        // collinear exactly
        #expect(ExactGeometry.orientation(0.5, 0.5, 12, 12, 24, 24) == 0)
        // one ulp off the line: the naive determinant rounds to 0 here, the exact one does not
        let up = (24.0).nextUp
        #expect(ExactGeometry.orientation(0.5, 0.5, 12, 12, 24, up) == 1)
        #expect(ExactGeometry.orientation(0.5, 0.5, 12, 12, up, 24) == -1)
        // points with many digits: a = (0.1, 0.1), b = (0.3, 0.3); c = 0.2 as double is not exactly on the line
        // through the doubles 0.1 and 0.3 unless the sums are exact; the exact answer agrees with rationals
        let o = ExactGeometry.orientation(0.1, 0.1, 0.3, 0.3, 0.2, 0.2)
        #expect(o == 0)   // the doubles (x, x) always lie on the line y = x
    }

    @Test(.enabled(if: SharedFolder.has("data/geo/montreal-districts.geojson"),

                   "skipped: the Montreal districts data/geo/montreal-districts.geojson are missing (put ../shared beside the package or set TWINBANK_SHARED)"))
    func writtenGeoJSONFollowsTheRightHandRuleAndReadsBack() throws {
        // a clockwise exterior and a counterclockwise hole: written the other way round
        let cw = #"{"type": "Polygon", "coordinates": [[[0,0],[0,10],[10,10],[10,0],[0,0]], [[4,4],[6,4],[6,6],[4,6],[4,4]]]}"#
        let set = try GeoRegions(geoJSON: Self.collection(cw))
        let text = GeoJSONWriter.featureCollection(set.regions, properties: [["level": "high"]])
        #expect(text.contains(#"[[[0,0],[10,0],[10,10],[0,10],[0,0]],[[4,4],[4,6],[6,6],[6,4],[4,4]]]"#), "\(text)")
        #expect(text.contains(#""properties":{"name":"A","level":"high"}"#), "\(text)")
        let back = try GeoRegions(geoJSON: Array(text.utf8))
        #expect(back.names == ["A"])
        #expect(back.regions[0].contains(GeoPoint(lon: 1, lat: 1)))
        let montreal = try GeoRegions(contentsOf: Self.montrealPath)
        let again = try GeoRegions(geoJSON: Array(GeoJSONWriter.featureCollection(montreal.regions, nameProperty: "district").utf8))
        #expect(again.names == montreal.names)
        #expect(zip(again.regions, montreal.regions).allSatisfy { abs($0.polygons[0].area - $1.polygons[0].area) < 1e-15 })
        // MultiPolygons stay MultiPolygons
        #expect(again.regions.filter { $0.polygons.count > 1 }.count == 8)
    }

    @Test func aGridOfSquareCells() throws {
        // 2 km x 1 km at 45.5 N in 1 km cells: 1 row, 2 columns
        let dLat = 1000 / (6_371_008.8 * Double.pi / 180)
        let dLon = dLat / cos(45.5 * Double.pi / 180)
        let grid = try GeoRegions.grid(west: -73.6, south: 45.5 - dLat / 2, east: -73.6 + 2 * dLon - 1e-9, north: 45.5 + dLat / 2 - 1e-9, cellMeters: 1000)
        #expect(grid.names == ["r0-c0", "r0-c1"])
        #expect(grid.locator().region(lon: -73.6 + 1.5 * dLon, lat: 45.5) == 1)
        #expect(try GeoRegions.cellSize(parsing: "1km") == 1000)
        #expect(try GeoRegions.cellSize(parsing: "250m") == 250)
        #expect(throws: PopulationError.self) { _ = try GeoRegions.cellSize(parsing: "-1km") }
        let big = #expect(throws: PopulationError.self) { _ = try GeoRegions.grid(west: -180, south: -80, east: 180, north: 80, cellMeters: 100) }
        #expect(big?.code == .tooLarge)
    }
}
