#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// What makes two pings a contact: great-circle (haversine) distance at most ``distance`` metres on a sphere of
/// radius ``earthRadius``, times at most ``window`` seconds apart, different people.
///
/// ``accepts(_:_:_:_:_:_:)`` is the one exact test: every search (the index, the brute-force scan) asks it, and it
/// computes in Double exactly what `proximity_baseline.py` computes with numpy (the same operations in the same
/// order, `sin` and `cos` from the C library as numpy's), so a pair exactly at the distance or at the window's
/// edge is decided the same way.
public struct ProximityCriteria: Sendable, Hashable {
    /// The IUGG mean Earth radius, metres.
    public static let earthRadius = 6_371_008.8

    /// At most this many metres apart.
    public let distance: Double
    /// At most this many seconds apart.
    public let window: Double
    /// `sin²(distance / 2R)`: the haversine of the largest accepted angle.
    public let threshold: Double

    /// - Throws: ``PopulationError`` `invalidArgument` when the distance is not a finite number in
    ///   0...πR (half the circumference: 20,015 km) or the window is not a finite number >= 0.
    public init(distance: Double, window: Double) throws(PopulationError) {
        guard distance.isFinite, distance >= 0, distance <= Double.pi * Self.earthRadius else {
            throw PopulationError(.invalidArgument, "the distance \(distance) m is not a number of metres in 0...20015086 (half the Earth's circumference)", value: "\(distance)")
        }
        guard window.isFinite, window >= 0 else {
            throw PopulationError(.invalidArgument, "the window \(window) s is not a finite number of seconds >= 0", value: "\(window)")
        }
        self.distance = distance
        self.window = window
        let s = sin(distance / (2 * Self.earthRadius))
        threshold = s * s
    }

    /// Degrees to radians as numpy's `radians` computes it.
    @usableFromInline static let radiansPerDegree = Double.pi / 180

    /// The haversine `sin²(Δφ/2) + cos φ1 cos φ2 sin²(Δλ/2)` of two positions in degrees, computed as the
    /// anchor computes it (point 1 is the index case's ping).
    @inlinable
    public static func haversine(_ lat1: Double, _ lon1: Double, _ lat2: Double, _ lon2: Double) -> Double {
        let p1 = lat1 * radiansPerDegree, p2 = lat2 * radiansPerDegree
        return haversine(p1: p1, cosP1: cos(p1), lon1: lon1, p2: p2, cosP2: cos(p2), lon2: lon2)
    }

    /// The same haversine from latitudes already in radians (`p = latitude * π/180`) and their cosines, so that
    /// a search can compute them once per ping; the arithmetic is the one above, operation for operation.
    @inlinable @inline(__always)
    static func haversine(p1: Double, cosP1: Double, lon1: Double, p2: Double, cosP2: Double, lon2: Double) -> Double {
        let a = sin((p2 - p1) / 2)
        let b = sin(((lon2 - lon1) * radiansPerDegree) / 2)
        return a * a + cosP1 * cosP2 * (b * b)
    }

    /// Whether a ping of the index case at (`time1`, `lat1`, `lon1`) and a ping of another person at (`time2`,
    /// `lat2`, `lon2`) are a contact: `|time2 - time1| <= window` and haversine `<= sin²(distance / 2R)`.
    /// (Whether the people differ is the caller's to check.)
    @inlinable
    public func accepts(_ time1: Double, _ lat1: Double, _ lon1: Double,
                        _ time2: Double, _ lat2: Double, _ lon2: Double) -> Bool {
        abs(time2 - time1) <= window && Self.haversine(lat1, lon1, lat2, lon2) <= threshold
    }
}
