import Foundation

/// A right-hand side evaluated on raw pointers, for the allocation-free inner loops of the model library.
protocol PointerRHS {
    /// Writes `f(t, x)` into `dxdt`; both point to `dimension` doubles. Mutating only so that an implementation
    /// may memoise (the result must be a pure function of `x` and the system's inputs).
    mutating func rhs(_ x: UnsafePointer<Double>, _ dxdt: UnsafeMutablePointer<Double>)
}

extension UVAPadovaModel: PointerRHS {}

/// A step-for-step replica of E. Hairer and G. Wanner's `DOPRI5` (Dormand-Prince 5(4), the Fortran code of
/// Hairer, Nørsett and Wanner, *Solving Ordinary Differential Equations I*, 2nd ed., Springer 1993) as scipy's
/// `scipy.integrate.ode(f).set_integrator("dopri5")` runs it with its defaults: `rtol = 1e-6`, `atol = 1e-12`,
/// safety 0.9, step-size factor bounds 0.2 and 10, Lund stabilisation `beta = 0.04`, maximum step = the whole
/// interval, and a fresh start (initial step from `HINIT`) on every call to `integrate`.
///
/// simglucose integrates each 1-minute sample this way; reproducing the same step sequence, not just a solution
/// within tolerance, is what makes our trace agree with simglucose's to round-off rather than to `rtol` (its
/// model has non-smooth terms where two accurate solvers may part by more than their tolerances).
struct HairerDopri5 {
    let n: Int
    var rtol = 1e-6
    var atol = 1e-12
    var maxSteps = 500
    /// Workspace: y1, k1..k6, ysti, and the five dense-output coefficient vectors (13 vectors of n).
    private var work: [Double]

    init(dimension: Int) {
        n = dimension
        work = [Double](repeating: 0, count: 13 * dimension)
    }

    private static let d1 = -12715105075.0 / 11282082432.0, d3 = 87487479700.0 / 32700410799.0,
                       d4 = -10690763975.0 / 1880347072.0, d5 = 701980252875.0 / 199316789632.0,
                       d6 = -1453857185.0 / 822651844.0, d7 = 69997945.0 / 29380423.0

    private static let c2 = 0.2, c3 = 0.3, c4 = 0.8, c5 = 8.0 / 9.0
    private static let a21 = 0.2, a31 = 3.0 / 40.0, a32 = 9.0 / 40.0
    private static let a41 = 44.0 / 45.0, a42 = -56.0 / 15.0, a43 = 32.0 / 9.0
    private static let a51 = 19372.0 / 6561.0, a52 = -25360.0 / 2187.0, a53 = 64448.0 / 6561.0, a54 = -212.0 / 729.0
    private static let a61 = 9017.0 / 3168.0, a62 = -355.0 / 33.0, a63 = 46732.0 / 5247.0, a64 = 49.0 / 176.0,
                       a65 = -5103.0 / 18656.0
    private static let a71 = 35.0 / 384.0, a73 = 500.0 / 1113.0, a74 = 125.0 / 192.0, a75 = -2187.0 / 6784.0,
                       a76 = 11.0 / 84.0
    private static let e1 = 71.0 / 57600.0, e3 = -71.0 / 16695.0, e4 = 71.0 / 1920.0, e5 = -17253.0 / 339200.0,
                       e6 = 22.0 / 525.0, e7 = -1.0 / 40.0

    /// Integrates `y` in place from `t0` to `t1` (> t0). Returns `false` if the step size underflows or more than
    /// `maxSteps` steps are needed (scipy would report failure in both cases).
    ///
    /// With `denseOutputFrom` = m, calls `output(k, state)` for every integer time `k` with `m <= k < t1`, `k > t0`,
    /// from Hairer's 4th-order continuous extension (`CONTD5`) of the step containing it; the steps taken are
    /// the same as without output.
    mutating func integrate<F: PointerRHS>(_ f: inout F, y: UnsafeMutablePointer<Double>, from t0: Double, to t1: Double,
                                           denseOutputFrom firstOutput: Int? = nil,
                                           output: (Int, UnsafePointer<Double>) -> Void = { _, _ in }) -> Bool {
        let n = self.n, rtol = self.rtol, atol = self.atol, maxSteps = self.maxSteps
        let dense = firstOutput != nil
        var nextOutput = firstOutput ?? Int.max
        return work.withUnsafeMutableBufferPointer { wb -> Bool in
            let w = wb.baseAddress!
            let y1 = w, k1 = w + n, k2 = w + 2 * n, k3 = w + 3 * n, k4 = w + 4 * n, k5 = w + 5 * n, k6 = w + 6 * n,
                ysti = w + 7 * n
            let r1 = w + 8 * n, r2 = w + 9 * n, r3 = w + 10 * n, r4 = w + 11 * n, r5 = w + 12 * n
            let safe = 0.9, fac1 = 0.2, fac2 = 10.0, beta = 0.04
            let expo1 = 0.2 - beta * 0.75, facc1 = 1.0 / fac1, facc2 = 1.0 / fac2
            let uround = 2.3e-16
            var facold = 1.0e-4
            var x = t0
            let xend = t1
            let hmax = xend - x
            var last = false
            var reject = false
            f.rhs(y, k1)
            // HINIT
            var h: Double
            do {
                var dnf = 0.0, dny = 0.0
                for i in 0..<n {
                    let sk = atol + rtol * abs(y[i])
                    let a = k1[i] / sk, b = y[i] / sk
                    dnf += a * a; dny += b * b
                }
                if dnf <= 1e-10 || dny <= 1e-10 { h = 1.0e-6 } else { h = (dny / dnf).squareRoot() * 0.01 }
                h = min(h, hmax)
                for i in 0..<n { y1[i] = y[i] + h * k1[i] }
                f.rhs(y1, k2)
                var der2 = 0.0
                for i in 0..<n {
                    let sk = atol + rtol * abs(y[i])
                    let a = (k2[i] - k1[i]) / sk
                    der2 += a * a
                }
                der2 = der2.squareRoot() / h
                let der12 = max(abs(der2), dnf.squareRoot())
                let h1 = der12 <= 1e-15 ? max(1.0e-6, abs(h) * 1.0e-3) : pow(0.01 / der12, 1.0 / 5.0)
                h = min(100 * abs(h), h1, hmax)
            }
            var nstep = 0
            while true {
                if nstep > maxSteps { return false }
                if 0.1 * abs(h) <= abs(x) * uround { return false }
                if x + 1.01 * h - xend > 0 { h = xend - x; last = true }
                nstep += 1
                for i in 0..<n { y1[i] = y[i] + h * Self.a21 * k1[i] }
                f.rhs(y1, k2)
                for i in 0..<n { y1[i] = y[i] + h * (Self.a31 * k1[i] + Self.a32 * k2[i]) }
                f.rhs(y1, k3)
                for i in 0..<n { y1[i] = y[i] + h * (Self.a41 * k1[i] + Self.a42 * k2[i] + Self.a43 * k3[i]) }
                f.rhs(y1, k4)
                for i in 0..<n {
                    y1[i] = y[i] + h * (Self.a51 * k1[i] + Self.a52 * k2[i] + Self.a53 * k3[i] + Self.a54 * k4[i])
                }
                f.rhs(y1, k5)
                for i in 0..<n {
                    ysti[i] = y[i] + h * (Self.a61 * k1[i] + Self.a62 * k2[i] + Self.a63 * k3[i] + Self.a64 * k4[i]
                                          + Self.a65 * k5[i])
                }
                let xph = x + h
                f.rhs(ysti, k6)
                for i in 0..<n {
                    y1[i] = y[i] + h * (Self.a71 * k1[i] + Self.a73 * k3[i] + Self.a74 * k4[i] + Self.a75 * k5[i]
                                        + Self.a76 * k6[i])
                }
                f.rhs(y1, k2)
                if dense {
                    for i in 0..<n {
                        r5[i] = h * (Self.d1 * k1[i] + Self.d3 * k3[i] + Self.d4 * k4[i] + Self.d5 * k5[i]
                                     + Self.d6 * k6[i] + Self.d7 * k2[i])
                    }
                }
                var err = 0.0
                for i in 0..<n {
                    k4[i] = (Self.e1 * k1[i] + Self.e3 * k3[i] + Self.e4 * k4[i] + Self.e5 * k5[i] + Self.e6 * k6[i]
                             + Self.e7 * k2[i]) * h
                    let sk = atol + rtol * max(abs(y[i]), abs(y1[i]))
                    let a = k4[i] / sk
                    err += a * a
                }
                err = (err / Double(n)).squareRoot()
                let fac11 = pow(err, expo1)
                var fac = fac11 / pow(facold, beta)
                fac = max(facc2, min(facc1, fac / safe))
                var hnew = h / fac
                if err <= 1.0 {
                    facold = max(err, 1.0e-4)
                    if dense && Double(nextOutput) <= xph {
                        for i in 0..<n {
                            let ydiff = y1[i] - y[i]
                            let bspl = h * k1[i] - ydiff
                            r1[i] = y[i]; r2[i] = ydiff; r3[i] = bspl; r4[i] = -h * k2[i] + ydiff - bspl
                        }
                        while Double(nextOutput) <= xph && Double(nextOutput) < xend {
                            let theta = (Double(nextOutput) - x) / h, theta1 = 1 - theta
                            for i in 0..<n {
                                ysti[i] = r1[i] + theta * (r2[i] + theta1 * (r3[i] + theta * (r4[i] + theta1 * r5[i])))
                            }
                            output(nextOutput, UnsafePointer(ysti))
                            nextOutput += 1
                        }
                    }
                    for i in 0..<n { k1[i] = k2[i]; y[i] = y1[i] }
                    x = xph
                    if last { return true }
                    if abs(hnew) > hmax { hnew = hmax }
                    if reject { hnew = min(abs(hnew), abs(h)) }
                    reject = false
                } else {
                    hnew = h / min(facc1, fac11 / safe)
                    reject = true
                    last = false
                }
                h = hnew
            }
        }
    }
}
