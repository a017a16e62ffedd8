import TwinSimulation
import Foundation
import TwinCore

/// Whether a twin's model still explains its readings: the check every synchroniser runs before its forecast
/// may be written as a forecast (``GlucoseSynchroniser`` keeps it for every filter; a model-agnostic
/// synchroniser must keep it too).
///
/// ``check(_:settings:)`` is a pure function of what the filter reports (``Input``): it never reads a bank and
/// never changes the model. The twin is **reliable** when no check fires; each check that fires is a
/// ``Finding`` with its reason in words and the numbers behind it (``Finding/measures``). The checks:
/// - ``Finding/Kind/nonFinite``: the state now, its sd, a forecast point or an estimated parameter is not finite;
/// - ``Finding/Kind/stateOutOfRange``: the filtered glucose now, or a forecast mean, lies outside
///   ``Settings/plausibleGlucose`` (10-600 mg/dL, beyond what a CGM or a living person shows);
/// - ``Finding/Kind/parameterOutOfRange``: an estimated parameter lies more than ``Settings/parameterPriorSDs``
///   prior standard deviations (on the log scale) from its prior value (the population's, the cohort's or the
///   twin's own);
/// - ``Finding/Kind/innovationsInconsistent``: over the last ``Settings/innovationWindow`` readings, the sum of
///   the normalised innovations squared, Σ (reading − predicted)² / (predicted variance + noise variance),
///   exceeds the ``Settings/innovationQuantile`` quantile of its chi-square distribution with as many degrees
///   of freedom (Wilson–Hilferty approximation), so the filter's predictions are far worse than it believes;
/// - ``Finding/Kind/nowcastFarFromReading``: the filtered glucose now differs from the latest reading (taken at
///   most ``Settings/nowcastMaximumAge`` minutes before the origin) by more than ``Settings/nowcastSDs``
///   combined standard deviations √(sd now² + noise sd²);
/// - ``Finding/Kind/lowReadingNotForecast`` (the stale-model guard): the latest reading, taken at most
///   ``Settings/nowcastMaximumAge`` minutes before the origin, is below the hypoglycaemia threshold but the
///   filtered glucose now is not: the reading wins.
///
/// A synchroniser adds ``Finding/Kind/filterFailed`` when the filter itself throws (``filterFailureCodes``).
public struct ModelHealth: Sendable, Hashable, Codable {
    /// The thresholds of the checks.
    public struct Settings: Sendable, Hashable {
        /// Glucose (mg/dL) a twin's state and forecast may take.
        public var plausibleGlucose = 10.0...600.0
        /// Prior standard deviations (log scale) an estimated parameter may move from its prior value.
        public var parameterPriorSDs = 4.0
        /// Readings whose innovations are tested together (the most recent ones).
        public var innovationWindow = 12
        /// The chi-square quantile above which the innovations are inconsistent.
        public var innovationQuantile = 0.999
        /// Combined standard deviations by which the now-cast may differ from the latest reading.
        public var nowcastSDs = 4.0
        /// The latest reading counts for the now-cast check and the stale-model guard only when taken at most
        /// this many minutes before the origin.
        public var nowcastMaximumAge = 15.0
        /// Level 1 hypoglycaemia (mg/dL): a latest reading below it with a now-cast not below it fires the
        /// stale-model guard.
        public var hypoglycaemiaThreshold = LowGlucoseReading.level1
        public init() {}
    }

    /// One innovation: a reading against what the filter predicted for it just before assimilating it.
    public struct Innovation: Sendable, Hashable, Codable {
        /// Minute of the reading.
        public var minute: Int
        /// Reading minus predicted (mg/dL).
        public var residual: Double
        /// Predicted variance of the reading: the filter's variance of the predicted glucose plus the noise
        /// variance (mg/dL²).
        public var variance: Double
        public init(minute: Int, residual: Double, variance: Double) { self.minute = minute; self.residual = residual; self.variance = variance }
        /// The normalised innovation squared, residual² / variance.
        public var normalisedSquared: Double { residual * residual / variance }
    }

    /// An estimated parameter next to its prior.
    public struct Parameter: Sendable, Hashable, Codable {
        public var name: String
        public var prior: Double
        public var estimated: Double
        /// The prior's standard deviation of the parameter's logarithm.
        public var logPriorSD: Double
        public init(name: String, prior: Double, estimated: Double, logPriorSD: Double) {
            self.name = name; self.prior = prior; self.estimated = estimated; self.logPriorSD = logPriorSD
        }
    }

    /// What a filter reports after assimilating a window, all glucose in mg/dL.
    public struct Input: Sendable, Hashable {
        public var glucoseNow: Double
        public var glucoseNowSD: Double
        /// The latest reading, and its age in minutes at the origin.
        public var latestReading: Double
        public var latestReadingAge: Double
        public var noiseSD: Double
        /// Innovations in reading order (empty when the filter does not report them).
        public var innovations: [Innovation]
        public var parameters: [Parameter]
        /// The forecast means after the origin.
        public var forecast: [Double]
        public init(glucoseNow: Double, glucoseNowSD: Double, latestReading: Double, latestReadingAge: Double, noiseSD: Double,
                    innovations: [Innovation] = [], parameters: [Parameter] = [], forecast: [Double] = []) {
            self.glucoseNow = glucoseNow; self.glucoseNowSD = glucoseNowSD; self.latestReading = latestReading
            self.latestReadingAge = latestReadingAge; self.noiseSD = noiseSD; self.innovations = innovations
            self.parameters = parameters; self.forecast = forecast
        }
    }

    /// A check that fired.
    public struct Finding: Sendable, Hashable, Codable, CustomStringConvertible {
        public enum Kind: String, Sendable, Hashable, Codable, CaseIterable {
            case nonFinite = "non-finite"
            case stateOutOfRange = "state-out-of-range"
            case parameterOutOfRange = "parameter-out-of-range"
            case innovationsInconsistent = "innovations-inconsistent"
            case nowcastFarFromReading = "nowcast-far-from-reading"
            case lowReadingNotForecast = "low-reading-not-forecast"
            /// The filter itself failed (diverged, lost its covariance, went non-finite); set by the synchroniser.
            case filterFailed = "filter-failed"
        }
        public var kind: Kind
        /// The reason, with its numbers, in words a clinician can check.
        public var message: String
        /// The numbers behind it by name.
        public var measures: [String: Double]
        public var description: String { message }
    }

    public var findings: [Finding]
    /// True when no check fired.
    public var reliable: Bool { findings.isEmpty }
    /// The findings' messages, in check order.
    public var warnings: [String] { findings.map(\.message) }

    public init(findings: [Finding] = []) { self.findings = findings }

    /// The ``SyncError`` codes by which a filter says it failed on the readings (rather than on its input):
    /// a synchroniser reports them as a ``Finding/Kind/filterFailed`` finding instead of failing.
    public static let filterFailureCodes: [SyncError.Code] = [.diverged, .nonFinite, .notPositiveDefinite, .simulationFailed]

    /// Runs every check on `input`.
    public static func check(_ input: Input, settings: Settings = Settings()) -> ModelHealth {
        var findings: [Finding] = []
        func f(_ x: Double) -> String { Value.format((x * 10).rounded() / 10) }
        func g3(_ x: Double) -> String { String(format: "%.3g", x) }
        let numbers = [input.glucoseNow, input.glucoseNowSD] + input.forecast + input.parameters.map(\.estimated)
        if numbers.contains(where: { !$0.isFinite }) {
            findings.append(Finding(kind: .nonFinite, message: "the twin's state, forecast or parameters are not finite (glucose now \(input.glucoseNow) ± \(input.glucoseNowSD) mg/dL).",
                                    measures: [:]))
        }
        let range = settings.plausibleGlucose
        let outside = ([("now", input.glucoseNow)] + input.forecast.enumerated().map { ("forecast point \($0.offset + 1)", $0.element) })
            .filter { $0.1.isFinite && !range.contains($0.1) }
        if let (label, g) = outside.first {
            findings.append(Finding(kind: .stateOutOfRange,
                                    message: "the twin's glucose \(label) is \(f(g)) mg/dL, outside the plausible \(f(range.lowerBound))-\(f(range.upperBound)) mg/dL.",
                                    measures: ["glucose": g]))
        }
        for p in input.parameters where p.prior > 0 && p.estimated > 0 && p.logPriorSD > 0 {
            let sds = abs(log(p.estimated / p.prior)) / p.logPriorSD
            guard sds > settings.parameterPriorSDs else { continue }
            findings.append(Finding(kind: .parameterOutOfRange,
                                    message: "the estimated \(p.name) is \(g3(p.estimated)), \(f(sds)) prior SDs (log scale, SD \(g3(p.logPriorSD))) from its prior \(g3(p.prior)) (a factor of \(g3(max(p.estimated / p.prior, p.prior / p.estimated))); plausible within \(f(settings.parameterPriorSDs)) SDs).",
                                    measures: ["\(p.name)": p.estimated, "\(p.name)Prior": p.prior, "\(p.name)PriorSDs": (sds * 10).rounded() / 10]))
        }
        let recent = input.innovations.suffix(max(settings.innovationWindow, 1)).filter { $0.variance > 0 && $0.residual.isFinite }
        if !recent.isEmpty {
            let nis = recent.reduce(0) { $0 + $1.normalisedSquared }
            let limit = chiSquareQuantile(settings.innovationQuantile, degreesOfFreedom: Double(recent.count))
            if nis > limit {
                findings.append(Finding(kind: .innovationsInconsistent,
                                        message: "over the last \(recent.count) readings the normalised innovations squared sum to \(f(nis)), above the \(Value.format(settings.innovationQuantile * 100)) % chi-square quantile \(f(limit)) (expected \(recent.count)): the model no longer explains the readings.",
                                        measures: ["normalisedInnovationsSquared": (nis * 10).rounded() / 10, "chiSquareLimit": (limit * 10).rounded() / 10,
                                                   "innovationReadings": Double(recent.count)]))
            }
        }
        if input.latestReadingAge <= settings.nowcastMaximumAge, input.glucoseNow.isFinite, input.glucoseNowSD.isFinite {
            let sd = (input.glucoseNowSD * input.glucoseNowSD + input.noiseSD * input.noiseSD).squareRoot()
            let z = abs(input.glucoseNow - input.latestReading) / sd
            if z > settings.nowcastSDs {
                findings.append(Finding(kind: .nowcastFarFromReading,
                                        message: "the twin's glucose now, \(f(input.glucoseNow)) ± \(f(input.glucoseNowSD)) mg/dL, is \(f(z)) SDs from the latest reading \(f(input.latestReading)) mg/dL (noise SD \(f(input.noiseSD)); at most \(f(settings.nowcastSDs)) expected).",
                                        measures: ["glucoseNow": (input.glucoseNow * 10).rounded() / 10, "latestReading": input.latestReading, "nowcastSDs": (z * 10).rounded() / 10]))
            }
        }
        if input.latestReadingAge <= settings.nowcastMaximumAge, input.latestReading < settings.hypoglycaemiaThreshold,
           !(input.glucoseNow < settings.hypoglycaemiaThreshold) {
            findings.append(Finding(kind: .lowReadingNotForecast,
                                    message: "the latest reading \(f(input.latestReading)) mg/dL is below \(f(settings.hypoglycaemiaThreshold)) mg/dL but the twin's glucose now is \(f(input.glucoseNow)) mg/dL: the reading wins.",
                                    measures: ["latestReading": input.latestReading, "glucoseNow": (input.glucoseNow * 10).rounded() / 10]))
        }
        return ModelHealth(findings: findings)
    }

    /// The `p` quantile of the chi-square distribution with `k` degrees of freedom, by the Wilson–Hilferty
    /// approximation k (1 − 2/(9k) + z √(2/(9k)))³ with z the standard normal quantile (within about 1.5 % at
    /// the 99.9 % quantile for k ≥ 5).
    public static func chiSquareQuantile(_ p: Double, degreesOfFreedom k: Double) -> Double {
        let z = inverseStandardNormal(p)
        let a = 2 / (9 * k)
        return k * pow(1 - a + z * a.squareRoot(), 3)
    }
}
