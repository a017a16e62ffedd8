import TwinSimulation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Dormand-Prince 5(4) with Hairer's 5th-order continuous extension, one step at a time, used by the
/// SBML simulator (which needs to stop at events, restart after discontinuities and read dense output
/// for event location and `delay()`). Error control is the usual mixed norm
/// `|err_i| <= atol + rtol * max(|y_i|, |y_i_new|)` in RMS.
///
/// All vectors live in one preallocated block; a step does not allocate.
final class DormandPrinceStepper: SimulationStepper {
    let n: Int
    let rtol: Double
    let atol: Double
    private let model: CompiledModel
    private(set) var t: Double = 0
    private(set) var tPrevious: Double = 0
    private let block: UnsafeMutablePointer<Double>
    private let yp, k1, k2, k3, k4, k5, k6, k7, ytmp, ynew, r1, r2, r3, r4, r5: UnsafeMutablePointer<Double>
    private var h: Double = 0
    private(set) var steps = 0
    /// Set after 15 accepted steps whose stability estimate `h·|λ|` exceeds 3.25 (Hairer's test).
    private(set) var stiffnessDetected = false
    private var stiffCount = 0
    private var nonStiffCount = 0
    var failure: String? { nil }
    /// The step size the next step will try first.
    var proposedStep: Double { h }

    init(model: CompiledModel, rtol: Double, atol: Double) {
        let n = model.dimension
        self.n = n
        self.rtol = rtol
        self.atol = atol
        self.model = model
        let m = Swift.max(n, 1)
        block = .allocate(capacity: 15 * m)
        block.initialize(repeating: 0, count: 15 * m)
        yp = block; k1 = block + m; k2 = block + 2 * m; k3 = block + 3 * m; k4 = block + 4 * m
        k5 = block + 5 * m; k6 = block + 6 * m; k7 = block + 7 * m; ytmp = block + 8 * m; ynew = block + 9 * m
        r1 = block + 10 * m; r2 = block + 11 * m; r3 = block + 12 * m; r4 = block + 13 * m; r5 = block + 14 * m
    }

    deinit { block.deallocate() }

    var y: [Double] { Array(UnsafeBufferPointer(start: yp, count: n)) }
    /// The derivative at the current point (valid after `reset` and each `step`).
    var derivative: [Double] { Array(UnsafeBufferPointer(start: k1, count: n)) }

    func withState<R>(_ body: (UnsafeBufferPointer<Double>) -> R) -> R {
        body(UnsafeBufferPointer(start: yp, count: n))
    }

    @inline(__always)
    private func eval(_ t: Double, _ y: UnsafeMutablePointer<Double>, _ out: UnsafeMutablePointer<Double>) {
        model.derivatives(t: t, y: UnsafeBufferPointer(start: y, count: n), dy: UnsafeMutableBufferPointer(start: out, count: n))
    }

    /// Starts (or restarts after a discontinuity) at (t, y).
    func reset(t: Double, y: [Double], initialStep: Double? = nil) {
        self.t = t
        tPrevious = t
        let n = self.n
        let yp = self.yp, k1 = self.k1, k2 = self.k2, ytmp = self.ytmp
        for i in 0..<n { yp[i] = y[i]; r1[i] = y[i]; r2[i] = 0; r3[i] = 0; r4[i] = 0; r5[i] = 0 }
        eval(t, yp, k1)
        if let hs = initialStep { h = hs } else {
            // Hairer's initial step heuristic.
            var d0 = 0.0, d1 = 0.0
            for i in 0..<n {
                let sc = atol + rtol * abs(yp[i])
                d0 += (yp[i] / sc) * (yp[i] / sc)
                d1 += (k1[i] / sc) * (k1[i] / sc)
            }
            d0 = (d0 / Double(max(n, 1))).squareRoot(); d1 = (d1 / Double(max(n, 1))).squareRoot()
            var h0 = (d0 < 1e-5 || d1 < 1e-5) ? 1e-6 : 0.01 * d0 / d1
            for i in 0..<n { ytmp[i] = yp[i] + h0 * k1[i] }
            eval(t + h0, ytmp, k2)
            var d2 = 0.0
            for i in 0..<n {
                let sc = atol + rtol * abs(yp[i])
                d2 += ((k2[i] - k1[i]) / sc) * ((k2[i] - k1[i]) / sc)
            }
            d2 = (d2 / Double(max(n, 1))).squareRoot() / h0
            let h1 = max(d1, d2) <= 1e-15 ? max(1e-6, h0 * 1e-3) : Glibc.pow(0.01 / max(d1, d2), 0.2)
            h0 = min(100 * h0, h1)
            h = h0.isFinite && h0 > 0 ? h0 : 1e-6
        }
    }

    /// Takes one accepted step, not beyond `tMax` nor longer than `hMax`. Returns false if the step
    /// size underflows or the derivatives are not finite.
    func step(tMax: Double, hMax: Double) -> Bool {
        let c2 = 1.0 / 5, c3 = 3.0 / 10, c4 = 4.0 / 5, c5 = 8.0 / 9
        let a21 = 1.0 / 5
        let a31 = 3.0 / 40, a32 = 9.0 / 40
        let a41 = 44.0 / 45, a42 = -56.0 / 15, a43 = 32.0 / 9
        let a51 = 19372.0 / 6561, a52 = -25360.0 / 2187, a53 = 64448.0 / 6561, a54 = -212.0 / 729
        let a61 = 9017.0 / 3168, a62 = -355.0 / 33, a63 = 46732.0 / 5247, a64 = 49.0 / 176, a65 = -5103.0 / 18656
        let a71 = 35.0 / 384, a73 = 500.0 / 1113, a74 = 125.0 / 192, a75 = -2187.0 / 6784, a76 = 11.0 / 84
        let e1 = 71.0 / 57600, e3 = -71.0 / 16695, e4 = 71.0 / 1920, e5 = -17253.0 / 339200, e6 = 22.0 / 525, e7 = -1.0 / 40
        let d1 = -12715105075.0 / 11282082432, d3 = 87487479700.0 / 32700410799, d4 = -10690763975.0 / 1880347072
        let d5 = 701980252875.0 / 199316789632, d6 = -1453857185.0 / 822651844, d7 = 69997945.0 / 29380423
        let n = self.n, rtol = self.rtol, atol = self.atol
        let y = yp, k1 = self.k1, k2 = self.k2, k3 = self.k3, k4 = self.k4, k5 = self.k5, k6 = self.k6, k7 = self.k7
        let ytmp = self.ytmp, ynew = self.ynew
        let t = self.t
        var h = self.h
        var rejected = false
        while true {
            if !h.isFinite || h <= 0 { self.h = h; return false }
            var hh = min(h, hMax)
            var last = false
            if t + hh >= tMax || t + hh * 1.0000001 >= tMax { hh = tMax - t; last = true }
            if hh <= abs(t) * 1e-15 + 1e-300 { self.h = h; return false }
            for i in 0..<n { ytmp[i] = y[i] + hh * a21 * k1[i] }
            eval(t + c2 * hh, ytmp, k2)
            for i in 0..<n { ytmp[i] = y[i] + hh * (a31 * k1[i] + a32 * k2[i]) }
            eval(t + c3 * hh, ytmp, k3)
            for i in 0..<n { ytmp[i] = y[i] + hh * (a41 * k1[i] + a42 * k2[i] + a43 * k3[i]) }
            eval(t + c4 * hh, ytmp, k4)
            for i in 0..<n { ytmp[i] = y[i] + hh * (a51 * k1[i] + a52 * k2[i] + a53 * k3[i] + a54 * k4[i]) }
            eval(t + c5 * hh, ytmp, k5)
            for i in 0..<n { ytmp[i] = y[i] + hh * (a61 * k1[i] + a62 * k2[i] + a63 * k3[i] + a64 * k4[i] + a65 * k5[i]) }
            let tn = last ? tMax : t + hh
            eval(tn, ytmp, k6)
            for i in 0..<n { ynew[i] = y[i] + hh * (a71 * k1[i] + a73 * k3[i] + a74 * k4[i] + a75 * k5[i] + a76 * k6[i]) }
            eval(tn, ynew, k7)
            var err = 0.0
            var finite = true
            for i in 0..<n {
                let e = hh * (e1 * k1[i] + e3 * k3[i] + e4 * k4[i] + e5 * k5[i] + e6 * k6[i] + e7 * k7[i])
                let sc = atol + rtol * max(abs(y[i]), abs(ynew[i]))
                err += (e / sc) * (e / sc)
                if !ynew[i].isFinite || !k7[i].isFinite { finite = false }
            }
            err = n > 0 ? (err / Double(n)).squareRoot() : 0
            if !finite { err = .infinity }
            if err <= 1 {
                let r1 = self.r1, r2 = self.r2, r3 = self.r3, r4 = self.r4, r5 = self.r5
                for i in 0..<n {
                    let dy = ynew[i] - y[i]
                    let bspl = hh * k1[i] - dy
                    r1[i] = y[i]
                    r2[i] = dy
                    r3[i] = bspl
                    r4[i] = dy - hh * k7[i] - bspl
                    r5[i] = hh * (d1 * k1[i] + d3 * k3[i] + d4 * k4[i] + d5 * k5[i] + d6 * k6[i] + d7 * k7[i])
                }
                // Hairer's stiffness test: h·|λ| estimated from the last two stages.
                var num = 0.0, den = 0.0
                for i in 0..<n {
                    num += (k7[i] - k6[i]) * (k7[i] - k6[i])
                    den += (ynew[i] - ytmp[i]) * (ynew[i] - ytmp[i])
                }
                if den > 0 && hh * hh * num > 3.25 * 3.25 * den {
                    nonStiffCount = 0
                    stiffCount += 1
                    if stiffCount >= 15 { stiffnessDetected = true }
                } else {
                    nonStiffCount += 1
                    if nonStiffCount >= 6 { stiffCount = 0 }
                }
                tPrevious = t
                for i in 0..<n { y[i] = ynew[i]; k1[i] = k7[i] }
                self.t = tn
                steps += 1
                let fac = err == 0 ? 5 : min(5, max(0.2, 0.9 * Glibc.pow(err, -0.2)))
                h = rejected ? min(hh, hh * fac) : hh * fac
                if last && h < hh { h = max(h, hh) }
                self.h = h
                return true
            }
            if !finite && hh < 1e-300 { self.h = h; return false }
            rejected = true
            h = hh * (finite ? max(0.2, 0.9 * Glibc.pow(err, -0.2)) : 0.25)
        }
    }

    /// The solution at `time` within the last step (`tPrevious ... t`).
    func interpolate(_ time: Double, into out: inout [Double]) {
        let hh = t - tPrevious
        if out.count != n { out = [Double](repeating: 0, count: n) }
        if hh == 0 {
            for i in 0..<n { out[i] = yp[i] }
            return
        }
        let th = (time - tPrevious) / hh, th1 = 1 - th
        let r1 = self.r1, r2 = self.r2, r3 = self.r3, r4 = self.r4, r5 = self.r5
        out.withUnsafeMutableBufferPointer { o in
            for i in 0..<n {
                o[i] = r1[i] + th * (r2[i] + th1 * (r3[i] + th * (r4[i] + th1 * r5[i])))
            }
        }
    }
}

/// What the simulator needs from a one-step integrator: steps bounded by a limit, dense output, restarts.
protocol SimulationStepper: AnyObject {
    var t: Double { get }
    var tPrevious: Double { get }
    var y: [Double] { get }
    var derivative: [Double] { get }
    /// The step size the next step will try first (`.infinity` when not yet known).
    var proposedStep: Double { get }
    /// Calls `body` with the current state (no copy).
    func withState<R>(_ body: (UnsafeBufferPointer<Double>) -> R) -> R
    var stiffnessDetected: Bool { get }
    /// Why the last `step` or `reset` failed.
    var failure: String? { get }
    func step(tMax: Double, hMax: Double) -> Bool
    func interpolate(_ time: Double, into out: inout [Double])
    func reset(t: Double, y: [Double], initialStep: Double?)
}

/// `TwinSimulation`'s Rodas5P (stiff, L-stable Rosenbrock with a dense output that stays accurate on
/// stiff problems) behind the simulator's stepper interface.
final class Rodas5Adapter: SimulationStepper {
    private let stepper: any ODEStepper
    private let model: CompiledModel
    private(set) var failure: String?
    private(set) var failed = false

    init?(model: CompiledModel, t: Double, y: [Double], rtol: Double, atol: Double, maxStep: Double) {
        self.model = model
        var o = SolverOptions(method: .rodas5P, relativeTolerance: rtol, absoluteTolerance: .scalar(atol), maxSteps: Int.max / 2)
        o.maxStep = maxStep
        do {
            stepper = try makeStepper(for: model, time: t, state: y, options: o)
        } catch {
            return nil
        }
    }

    /// Set by `reset`: the next step chooses its size afresh.
    private var fresh = true
    var proposedStep: Double { fresh ? .infinity : stepper.nextStepSize }
    var t: Double { stepper.time }
    var tPrevious: Double { stepper.previousTime }
    var y: [Double] { stepper.state }
    func withState<R>(_ body: (UnsafeBufferPointer<Double>) -> R) -> R { stepper.withState(body) }
    var stiffnessDetected: Bool { true }
    var derivative: [Double] {
        var d = [Double](repeating: 0, count: stepper.dimension)
        let yy = stepper.state
        yy.withUnsafeBufferPointer { yb in d.withUnsafeMutableBufferPointer { model.derivatives(t: stepper.time, y: yb, dy: $0) } }
        return d
    }

    func step(tMax: Double, hMax: Double) -> Bool {
        do {
            try stepper.step(limit: tMax)
            fresh = false
            return true
        } catch {
            failure = "\(error)"
            return false
        }
    }

    func interpolate(_ time: Double, into out: inout [Double]) {
        if out.count != stepper.dimension { out = [Double](repeating: 0, count: stepper.dimension) }
        out.withUnsafeMutableBufferPointer { stepper.interpolate(at: time, into: $0) }
    }

    func reset(t: Double, y: [Double], initialStep: Double?) {
        fresh = true
        do {
            try stepper.reset(time: t, state: y)
        } catch {
            failure = "\(error)"
            failed = true
        }
    }
}
