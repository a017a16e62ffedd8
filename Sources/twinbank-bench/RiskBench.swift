import ArgumentParser
import Foundation
import TwinPopulation

/// `twinbank-bench risk`: classifying location pings into regions (issue 24 item 4): the grid-indexed
/// `RegionLocator` against testing every region's polygons (the brute force a simple script does), on the 58
/// Montreal districts. The brute force runs on a sample (its time is scaled to all points); the answers on the
/// sample must be identical.
struct RiskBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "risk",
        abstract: "Point-in-region for 1,000,000 pings over the Montreal districts: grid index vs testing every region (identical answers, times, ratio)."
    )

    @Option(help: "Pings.") var pings = 1_000_000
    @Option(help: "Pings the brute force classifies (its time is scaled up).") var sample = 20_000
    @Option(help: "Seed of the pings.") var seed: UInt64 = 1
    @Option(help: "The shared folder holding data/geo/.") var shared = "../shared"

    func run() throws {
        let regions = try GeoRegions(contentsOf: "\(shared)/data/geo/montreal-districts.geojson")
        var state = seed
        func next() -> Double {   // splitmix64, uniform in [0, 1)
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return Double((z ^ (z >> 31)) >> 11) / Double(1 << 53)
        }
        // the tracing anchor's 10 km box (south-west corner 45.46 N, 73.70 W) and the whole city's box, half each
        var lon = [Double](), lat = [Double]()
        lon.reserveCapacity(pings); lat.reserveCapacity(pings)
        for i in 0..<pings {
            if i % 2 == 0 { lat.append(45.46 + next() * 0.09); lon.append(-73.70 + next() * 0.128) }
            else { lat.append(45.40 + next() * 0.32); lon.append(-73.96 + next() * 0.50) }
        }
        let t0 = ContinuousClock.now
        let locator = regions.locator()
        let t1 = ContinuousClock.now
        let found = locator.regions(lon: lon, lat: lat)
        let t2 = ContinuousClock.now
        let m = min(sample, pings)
        var brute = [Int32](repeating: -1, count: m)
        for i in 0..<m { brute[i] = Int32(regions.regions.firstIndex { $0.contains(GeoPoint(lon: lon[i], lat: lat[i])) } ?? -1) }
        let t3 = ContinuousClock.now
        func s(_ d: Duration) -> Double { Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18 }
        let mismatches = (0..<m).filter { brute[$0] != found[$0] }.count
        let bruteAll = s(t3 - t2) * Double(pings) / Double(m)
        print("regions \(regions.regions.count), pings \(pings), inside a district \(found.filter { $0 >= 0 }.count)")
        print(String(format: "index build %.4f s, classify %.4f s (%.1f M pings/s)", s(t1 - t0), s(t2 - t1), Double(pings) / s(t2 - t1) / 1e6))
        print(String(format: "brute force %.4f s for %d pings, %.2f s scaled to all; ratio %.1fx", s(t3 - t2), m, bruteAll, bruteAll / s(t2 - t1)))
        print("identical on the sample: \(mismatches == 0 ? "yes" : "NO (\(mismatches) differ)")")
        if mismatches > 0 { throw ExitCode(1) }
    }
}
