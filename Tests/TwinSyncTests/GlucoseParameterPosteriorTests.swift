import TwinSimulation
import Foundation
import Testing
import TwinModels
@testable import TwinSync

@Suite("Glucose parameter posterior (sequential Monte Carlo)")
struct GlucoseParameterPosteriorTests {
    /// The steady state a particle starts from is the UVA/Padova model's own basal state: given a simglucose
    /// patient's parameters, basal glucose and basal rate, it reproduces the patient's basal state and
    /// production constant `kp1` as simglucose's parameter table (`vpatient_params.csv`) has them.
    @Test(arguments: ["adult#001", "adolescent#004", "child#008"])
    func theSteadyStateIsSimglucoseBasalState(_ name: String) throws {
        let patient = try VirtualPatient.named(name)
        let other = try VirtualPatient.named(name.hasPrefix("adult") ? "adult#002" : "adult#003")
        let p = patient.parameters
        let rate = p.basalInsulinRate
        let posterior = try GlucoseParameterPosterior(cohort: [p, other.parameters], carbohydrate: [0, 0], insulin: [rate, rate], firstReading: p.Gb,
                                                      settings: small(particles: 10))
        let steady = try #require(posterior.parameters(GlucoseParameterPosterior.coordinates(p, basalGlucose: p.Gb)))
        for (i, (mine, theirs)) in zip(steady.state, patient.initialState).enumerated() {
            #expect(abs(mine - theirs) <= 1e-3 * max(abs(theirs), 1), "\(name) \(UVAPadovaModel.stateNames[i]): \(mine) vs \(theirs)")
        }
        #expect(abs(steady.parameters.kp1 - p.kp1) <= 1e-3 * p.kp1, "\(name) kp1 \(steady.parameters.kp1) vs \(p.kp1)")
        #expect(abs(steady.parameters.Ib - p.Ib) <= 1e-3 * p.Ib, "\(name) Ib \(steady.parameters.Ib) vs \(p.Ib)")
    }

    /// A simulated adult's morning (two meals, basal-bolus therapy) plays the person; the twin's particles start
    /// from the other nine adults' mean and the covariance pooled within the three age groups. The posterior must now-cast better than the CGM, forecast 30 minutes ahead
    /// better than the last reading, move its particles (resampling with accepted moves), and be reproducible.
    @Test func thePosteriorLearnsASimulatedPerson() async throws {
        let patient = try VirtualPatient.named("adult#004")
        let truth = try GlucoseSimulator.run(GlucoseScenario(patient: patient, meals: try MealPlan(parsing: "1:50,4:70"), hours: 7))
        let trace = GlucoseSyncExperiment.Trace(bg: truth.bg, carbohydrate: truth.carbohydrate, insulin: truth.insulin)
        var o = GlucoseSyncExperiment.Options()
        o.candidates = GlucoseSyncExperiment.Population.cohort(around: patient.name)
        o.posterior = small(particles: 128)
        o.covarianceGroups = GlucoseSyncExperiment.Population.ageGroups(without: patient.name)
        #expect(o.covarianceGroups?.map(\.count) == [10, 10, 9])
        let r = try await GlucoseSyncExperiment.run(trace, options: o)
        #expect(r.filteredRMSE < r.cgmRMSE, "now-cast \(r.filteredRMSE) vs CGM \(r.cgmRMSE)")
        #expect(r.forecastRMSE < r.persistenceRMSE, "forecast \(r.forecastRMSE) vs persistence \(r.persistenceRMSE)")
        #expect(r.resamplings > 0)
        #expect((r.acceptanceRate ?? 0) > 0.02, "acceptance \(String(describing: r.acceptanceRate))")
        #expect(r.estimator.contains("SMC"))
        let again = try await GlucoseSyncExperiment.run(trace, options: o)
        #expect(again.forecastErrors.map(\.error) == r.forecastErrors.map(\.error))
    }

    /// Bad input is a clear error: a cohort of one, too few particles, a non-positive first reading, readings out
    /// of order or not positive; the forecast is the weighted mean of the particles, inside its interval.
    @Test func badInputIsAnErrorAndForecastsAreIntervals() throws {
        let a = try VirtualPatient.named("adult#001").parameters, b = try VirtualPatient.named("adult#002").parameters
        let rate = a.basalInsulinRate
        let cho = [Double](repeating: 0, count: 200), insulin = [Double](repeating: rate, count: 200)
        let one = #expect(throws: SyncError.self) { _ = try GlucoseParameterPosterior(cohort: [a], carbohydrate: cho, insulin: insulin, firstReading: 140) }
        #expect(one?.code == .invalidArgument && one?.value == "1")
        #expect(throws: SyncError.self) { _ = try GlucoseParameterPosterior(cohort: [a, b], carbohydrate: cho, insulin: insulin, firstReading: 140, settings: small(particles: 5)) }
        #expect(throws: SyncError.self) { _ = try GlucoseParameterPosterior(cohort: [a, b], carbohydrate: cho, insulin: insulin, firstReading: -3) }
        #expect(throws: SyncError.self) { _ = try GlucoseParameterPosterior(cohort: [a, b], carbohydrate: cho, insulin: [rate], firstReading: 140) }
        let lonely = #expect(throws: SyncError.self) {
            _ = try GlucoseParameterPosterior(cohort: [a, b], covarianceGroups: [[a], [b]], carbohydrate: cho, insulin: insulin, firstReading: 140)
        }
        #expect(lonely?.message.contains("two or more") == true)

        var posterior = try GlucoseParameterPosterior(cohort: [a, b], carbohydrate: cho, insulin: insulin, firstReading: 140, settings: small(particles: 20))
        for k in stride(from: 0, through: 60, by: 5) { try posterior.assimilate(minute: k, reading: 140) }
        let late = #expect(throws: SyncError.self) { try posterior.assimilate(minute: 30, reading: 140) }
        #expect(late?.code == .invalidTime && late?.value == "30")
        let bad = #expect(throws: SyncError.self) { try posterior.assimilate(minute: 65, reading: .nan) }
        #expect(bad?.code == .invalidArgument)
        #expect(posterior.readings.count == 13)
        #expect(abs(posterior.glucose.mean - 140) < 10, "\(posterior.glucose)")
        let points = try posterior.forecast(at: [90, 250])
        #expect(points.count == 2)
        for p in points { #expect(p.lower[0] <= p.mean[0] && p.mean[0] <= p.upper[0] && abs(p.mean[0] - 140) < 15, "\(p)") }
        #expect(abs(posterior.weights.reduce(0, +) - 1) < 1e-12)
    }

    /// A measured body weight conditions the prior: the particles hold it (within the measurement's 2 %) and,
    /// because a meal raises glucose in proportion to carbohydrate per kg, the prior forecast of the lightest
    /// child's (child#008, 23.7 kg; the other children weigh 28-46 kg) first meal peaks closer to the truth
    /// than without it. A weight outside 0-400 kg is an error naming it.
    @Test func aMeasuredBodyWeightConditionsThePrior() throws {
        let child = try VirtualPatient.named("child#008")
        let cohort = GlucoseSyncExperiment.Population.cohort(around: child.name).map(\.parameters)
        let groups = GlucoseSyncExperiment.Population.ageGroups(without: child.name).map { $0.map(\.parameters) }
        let truth = try GlucoseSimulator.run(GlucoseScenario(patient: child, meals: try MealPlan(parsing: "1:45"), hours: 4))
        func posterior(_ weight: Double?) throws -> GlucoseParameterPosterior {
            try GlucoseParameterPosterior(cohort: cohort, covarianceGroups: groups, bodyWeight: weight, carbohydrate: truth.carbohydrate,
                                          insulin: truth.insulin, firstReading: truth.bg[0], settings: small(particles: 200))
        }
        var known = try posterior(child.parameters.BW), unknown = try posterior(nil)
        let held = known.parameters(["BW"])[0].estimated
        #expect(abs(held / child.parameters.BW - 1) < 0.01, "BW \(held) vs measured \(child.parameters.BW)")
        let free = unknown.parameters(["BW"])[0].estimated
        #expect(free > 30, "without the weight the particles weigh what the cohort weighs (\(free))")
        let window = Array(60...240)
        let peak = truth.bg[60...240].max() ?? 0
        let peakKnown = try known.forecast(at: window).map { $0.mean[0] }.max() ?? 0
        let peakUnknown = try unknown.forecast(at: window).map { $0.mean[0] }.max() ?? 0
        #expect(abs(peakKnown - peak) < abs(peakUnknown - peak), "peak \(peak): with weight \(peakKnown), without \(peakUnknown)")
        for bad in [0, -5, 450, Double.nan] {
            let error = #expect(throws: SyncError.self) { _ = try posterior(bad) }
            #expect(error?.code == .invalidArgument && error?.value == String(bad))
        }
    }

    /// A Student t prior has the Gaussian's location and scale with polynomial tails: its log density of a point
    /// is −(ν + d)/2 · log(1 + s²/ν) where the Gaussian's is −s²/2 (s² the point's squared Mahalanobis distance),
    /// and its first particles include far draws that the Gaussian almost never makes (s² > 60 in 30 dimensions:
    /// a chance of about 1 in 1000 for the Gaussian, about 1 in 4 for ν = 4). Degrees of freedom of 2 or less are
    /// an error naming the value.
    @Test func aStudentTPriorHasHeavierTails() throws {
        let child = try VirtualPatient.named("child#008")
        let cohort = GlucoseSyncExperiment.Population.cohort(around: child.name).map(\.parameters)
        let groups = GlucoseSyncExperiment.Population.ageGroups(without: child.name).map { $0.map(\.parameters) }
        let rate = child.parameters.basalInsulinRate
        let cho = [Double](repeating: 0, count: 10), insulin = [Double](repeating: rate, count: 10)
        func posterior(_ nu: Double) throws -> GlucoseParameterPosterior {
            var s = small(particles: 200)
            s.priorDegreesOfFreedom = nu
            s.covarianceShrinkage = 0
            return try GlucoseParameterPosterior(cohort: cohort, covarianceGroups: groups, carbohydrate: cho, insulin: insulin,
                                                 firstReading: child.parameters.Gb, settings: s)
        }
        let gaussian = try posterior(.infinity), t = try posterior(4)
        let g = try #require(gaussian.logDensity(of: child.parameters, basalGlucose: child.parameters.Gb)).prior
        let tt = try #require(t.logDensity(of: child.parameters, basalGlucose: child.parameters.Gb)).prior
        let s2 = -2 * g, d = Double(GlucoseParameterPosterior.dimension)
        #expect(s2 > 30, "child#008 lies outside the other children's prior (s² = \(s2))")
        #expect(abs(tt - (-(4 + d) / 2 * log1p(s2 / 4))) < 1e-9 * abs(tt), "t log prior \(tt), Gaussian \(g)")
        let farGaussian = gaussian.particleLogDensities.filter { -2 * $0.prior > 60 }.count
        let threshold = -(4 + d) / 2 * log1p(60 / 4)
        let farT = t.particleLogDensities.filter { $0.prior < threshold }.count
        #expect(farGaussian < 5, "Gaussian particles with s² > 60: \(farGaussian) of 200")
        #expect(farT > 20, "t particles with s² > 60: \(farT) of 200")
        for bad in [2.0, 1, -3, Double.nan] {
            let error = #expect(throws: SyncError.self) { _ = try posterior(bad) }
            #expect(error?.code == .invalidArgument && error?.value == String(bad))
        }
    }

    /// Shrinking the pooled covariance toward its diagonal, (1 − λ)·S + λ·diag(S), moves a person the cohort has
    /// not seen to a typical distance: the squared Mahalanobis distances of three left-out patients from their
    /// age group's prior, computed independently with numpy from simglucose's `vpatient_params.csv` (29
    /// coordinates: log parameters and logit b, d; covariance pooled within the age groups leaving the patient
    /// out, plus 0.1² on the diagonal), for λ = 0, 0.3 and 1. A λ outside [0, 1] is an error naming it.
    @Test(arguments: [("child#008", [53.5579, 30.0718, 26.7024]), ("adolescent#006", [99.7504, 60.5319, 61.2329]),
                      ("adult#004", [49.1677, 34.0858, 37.9026])])
    func shrinkageMatchesAnIndependentMahalanobisDistance(_ name: String, _ expected: [Double]) throws {
        let person = try VirtualPatient.named(name)
        let cohort = GlucoseSyncExperiment.Population.cohort(around: name).map(\.parameters)
        let groups = GlucoseSyncExperiment.Population.ageGroups(without: name).map { $0.map(\.parameters) }
        let rate = person.parameters.basalInsulinRate
        let cho = [Double](repeating: 0, count: 10), insulin = [Double](repeating: rate, count: 10)
        func posterior(_ lambda: Double) throws -> GlucoseParameterPosterior {
            var s = small(particles: 20)
            s.covarianceShrinkage = lambda
            s.priorDegreesOfFreedom = .infinity
            return try GlucoseParameterPosterior(cohort: cohort, covarianceGroups: groups, carbohydrate: cho, insulin: insulin,
                                                 firstReading: person.parameters.Gb, settings: s)
        }
        for (lambda, reference) in zip([0.0, 0.3, 1.0], expected) {
            // the Gaussian's log prior is −s²/2; the basal glucose sits at the first reading (no distance)
            let prior = try #require(try posterior(lambda).logDensity(of: person.parameters, basalGlucose: person.parameters.Gb)).prior
            #expect(abs(-2 * prior - reference) < 1e-3, "\(name), λ = \(lambda): s² \(-2 * prior), numpy \(reference)")
        }
        for bad in [-0.1, 1.5, Double.nan] {
            let error = #expect(throws: SyncError.self) { _ = try posterior(bad) }
            #expect(error?.code == .invalidArgument && error?.value == String(bad))
        }
    }

    /// The gamma sampler's draws have the gamma law's mean and variance (both equal to the shape), also below
    /// shape 1 where it boosts a draw of shape + 1.
    @Test(arguments: [0.5, 2.0, 15.0])
    func gammaDrawsHaveTheirLawsMoments(_ shape: Double) {
        var rng = Xoshiro256StarStar(seed: 7)
        let n = 40_000
        let draws = (0..<n).map { _ in rng.gamma(shape: shape) }
        let mean = draws.reduce(0, +) / Double(n)
        let variance = draws.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(n - 1)
        #expect(draws.allSatisfy { $0 > 0 && $0.isFinite })
        // standard errors: √(k/n) for the mean; the variance's is √((μ4 − σ⁴)/n) with μ4 = 3k² + 6k
        #expect(abs(mean - shape) < 4 * (shape / Double(n)).squareRoot(), "mean \(mean) for shape \(shape)")
        #expect(abs(variance - shape) < 4 * ((2 * shape * shape + 6 * shape) / Double(n)).squareRoot(), "variance \(variance) for shape \(shape)")
    }

    private func small(particles: Int) -> GlucoseParameterPosterior.Settings {
        var s = GlucoseParameterPosterior.Settings()
        s.particles = particles
        s.moves = 3
        return s
    }
}
