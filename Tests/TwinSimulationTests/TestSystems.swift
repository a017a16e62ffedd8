import RealModule
import TwinSimulation

/// y' = -k y, y(0) = y0: y(t) = y0 e^{-kt}.
struct Decay: ODESystem {
    var rate: Double
    var dimension: Int { 1 }
    func derivatives(t: Double, y: UnsafeBufferPointer<Double>, dy: UnsafeMutableBufferPointer<Double>) {
        dy[0] = -rate * y[0]
    }
    var variableNames: [String] { ["x"] }
}

/// x'' = -ω² x as a first-order system; x(0) = 1, v(0) = 0: x = cos ωt, v = -ω sin ωt.
struct Oscillator: ODESystem {
    var omega: Double
    var dimension: Int { 2 }
    func derivatives(t: Double, y: UnsafeBufferPointer<Double>, dy: UnsafeMutableBufferPointer<Double>) {
        dy[0] = y[1]
        dy[1] = -omega * omega * y[0]
    }
    var variableNames: [String] { ["x", "v"] }
}

/// Robertson's chemical kinetics (Robertson 1966), stiff. IVP test set problem ROBER.
struct Robertson: ODESystem {
    var analyticJacobian: Bool
    var dimension: Int { 3 }
    func derivatives(t: Double, y: UnsafeBufferPointer<Double>, dy: UnsafeMutableBufferPointer<Double>) {
        let r1 = 0.04 * y[0], r2 = 1e4 * y[1] * y[2], r3 = 3e7 * y[1] * y[1]
        dy[0] = -r1 + r2
        dy[1] = r1 - r2 - r3
        dy[2] = r3
    }
    func jacobian(t: Double, y: UnsafeBufferPointer<Double>, into j: UnsafeMutableBufferPointer<Double>) -> Bool {
        guard analyticJacobian else { return false }
        j[0] = -0.04; j[1] = 1e4 * y[2]; j[2] = 1e4 * y[1]
        j[3] = 0.04; j[4] = -1e4 * y[2] - 6e7 * y[1]; j[5] = -1e4 * y[1]
        j[6] = 0; j[7] = 6e7 * y[1]; j[8] = 0
        return true
    }
    var variableNames: [String] { ["y1", "y2", "y3"] }
}

/// Van der Pol oscillator y1' = y2, y2' = mu((1 - y1²) y2) - y1 (IVP test set problem VDPOL, mu = 1000).
struct VanDerPol: ODESystem {
    var mu: Double
    var dimension: Int { 2 }
    func derivatives(t: Double, y: UnsafeBufferPointer<Double>, dy: UnsafeMutableBufferPointer<Double>) {
        dy[0] = y[1]
        dy[1] = mu * (1 - y[0] * y[0]) * y[1] - y[0]
    }
    func jacobian(t: Double, y: UnsafeBufferPointer<Double>, into j: UnsafeMutableBufferPointer<Double>) -> Bool {
        j[0] = 0; j[1] = 1
        j[2] = -2 * mu * y[0] * y[1] - 1; j[3] = mu * (1 - y[0] * y[0])
        return true
    }
    var variableNames: [String] { ["y1", "y2"] }
}

/// Brusselator reaction-diffusion on [0, 1] with N interior points (Hairer & Wanner II, section IV.1, BRUS):
/// u' = 1 + u²v - 4u + α N²... here written with spacing 1/(N+1), Dirichlet boundaries u = 1, v = 3,
/// states interleaved (u_1, v_1, u_2, v_2, ...) so the Jacobian is banded.
struct Brusselator: ODESystem {
    var points: Int
    var alpha: Double = 0.02
    var giveSparsity: Bool = true
    var analyticSparseJacobian: Bool = false
    var dimension: Int { 2 * points }
    /// Values in the order of `jacobianSparsity`.
    func sparseJacobian(t: Double, y: UnsafeBufferPointer<Double>, values: UnsafeMutableBufferPointer<Double>) -> Bool {
        guard analyticSparseJacobian else { return false }
        let c = alpha * Double(points + 1) * Double(points + 1)
        var k = 0
        for i in 0..<points {
            let u = y[2 * i], v = y[2 * i + 1]
            // row u_i: d/du_i, d/dv_i, then neighbours
            values[k] = 2 * u * v - 4 - 2 * c; values[k + 1] = u * u; k += 2
            if i > 0 { values[k] = c; k += 1 }
            if i < points - 1 { values[k] = c; k += 1 }
            // row v_i
            values[k] = 3 - 2 * u * v; values[k + 1] = -u * u - 2 * c; k += 2
            if i > 0 { values[k] = c; k += 1 }
            if i < points - 1 { values[k] = c; k += 1 }
        }
        return true
    }
    func derivatives(t: Double, y: UnsafeBufferPointer<Double>, dy: UnsafeMutableBufferPointer<Double>) {
        let n = points
        let c = alpha * Double(n + 1) * Double(n + 1)
        for i in 0..<n {
            let u = y[2 * i], v = y[2 * i + 1]
            let uL = i == 0 ? 1.0 : y[2 * (i - 1)], uR = i == n - 1 ? 1.0 : y[2 * (i + 1)]
            let vL = i == 0 ? 3.0 : y[2 * (i - 1) + 1], vR = i == n - 1 ? 3.0 : y[2 * (i + 1) + 1]
            dy[2 * i] = 1 + u * u * v - 4 * u + c * (uL - 2 * u + uR)
            dy[2 * i + 1] = 3 * u - u * u * v + c * (vL - 2 * v + vR)
        }
    }
    var jacobianSparsity: [(row: Int, column: Int)]? {
        guard giveSparsity else { return nil }
        var pattern: [(row: Int, column: Int)] = []
        for i in 0..<points {
            for r in [2 * i, 2 * i + 1] {
                pattern.append((r, 2 * i)); pattern.append((r, 2 * i + 1))
                if i > 0 { pattern.append((r, r - 2)) }
                if i < points - 1 { pattern.append((r, r + 2)) }
            }
        }
        return pattern
    }
    var initialState: [Double] {
        (0..<points).flatMap { i -> [Double] in
            let x = Double(i + 1) / Double(points + 1)
            return [1 + Double.sin(2 * Double.pi * x), 3]
        }
    }
}

func relativeError(_ a: Double, _ b: Double) -> Double { abs(a - b) / max(abs(b), 1e-300) }
