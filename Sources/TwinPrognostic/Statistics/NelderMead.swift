/// Derivative-free minimisation by the Nelder-Mead simplex (standard coefficients: reflection 1, expansion 2,
/// contraction 1/2, shrink 1/2; J. A. Nelder, R. Mead, Comput. J. 7 (1965) 308-313), with restarts from the best
/// point until a restart no longer improves.
///
/// Stops when the simplex's function values are within `tolerance` (absolute) of each other or after
/// `maxEvaluations` evaluations in all. A non-finite value counts as +∞ (the simplex moves away from it).
/// Deterministic: no randomness.
enum NelderMead {
    struct Result { var x: [Double]; var value: Double; var evaluations: Int }

    static func minimise(_ f: ([Double]) -> Double, start: [Double], step: [Double], tolerance: Double = 1e-6,
                         maxEvaluations: Int = 4_000, restarts: Int = 3) -> Result {
        var evaluations = 0
        func value(_ x: [Double]) -> Double {
            evaluations += 1
            let v = f(x)
            return v.isFinite ? v : .infinity
        }
        var best = start, bestValue = value(start)
        for _ in 0...restarts {
            let n = best.count
            var simplex = [best]
            for i in 0..<n { var p = best; p[i] += step[i]; simplex.append(p) }
            var values = simplex.map { $0 == best ? bestValue : value($0) }
            while evaluations < maxEvaluations {
                let order = values.indices.sorted { values[$0] < values[$1] }
                simplex = order.map { simplex[$0] }; values = order.map { values[$0] }
                if abs(values[n] - values[0]) <= tolerance { break }
                var centroid = [Double](repeating: 0, count: n)
                for p in simplex.dropLast() { for j in 0..<n { centroid[j] += p[j] / Double(n) } }
                func towards(_ t: Double) -> [Double] { (0..<n).map { centroid[$0] + t * (simplex[n][$0] - centroid[$0]) } }
                let reflected = towards(-1), fr = value(reflected)
                if fr < values[0] {
                    let expanded = towards(-2), fe = value(expanded)
                    if fe < fr { simplex[n] = expanded; values[n] = fe } else { simplex[n] = reflected; values[n] = fr }
                } else if fr < values[n - 1] {
                    simplex[n] = reflected; values[n] = fr
                } else {
                    let contracted = fr < values[n] ? towards(-0.5) : towards(0.5)
                    let fc = value(contracted)
                    if fc < min(fr, values[n]) {
                        simplex[n] = contracted; values[n] = fc
                    } else {
                        for i in 1...n {
                            simplex[i] = (0..<n).map { simplex[0][$0] + 0.5 * (simplex[i][$0] - simplex[0][$0]) }
                            values[i] = value(simplex[i])
                        }
                    }
                }
            }
            let i = values.indices.min { values[$0] < values[$1] }!
            let improved = values[i] < bestValue - tolerance
            if values[i] < bestValue { best = simplex[i]; bestValue = values[i] }
            if !improved || evaluations >= maxEvaluations { break }
        }
        return Result(x: best, value: bestValue, evaluations: evaluations)
    }
}
