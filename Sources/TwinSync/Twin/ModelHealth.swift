import TwinSimulation
import Foundation
import TwinCore

/// Whether a twin's model still explains its readings: the check the ``BindingSynchroniser`` runs, for a
/// binding with ``ThreadBinding/Safety``, before its forecast may be written as a forecast (the glucose twin's
/// binding has it; any binding can).
///
/// ``check(_:settings:)`` is a pure function of what the estimator reports (``Input``, about one watched
/// output, in its unit): it never reads a bank and never changes the model. The twin is **reliable** when no check fires; each check that fires is a
/// ``Finding`` with its reason in words and the numbers behind it (``Finding/measures``). The checks:
/// - ``Finding/Kind/nonFinite``: the output now, its sd, a forecast point or an estimated parameter is not finite;
/// - ``Finding/Kind/stateOutOfRange``: the output now (the estimator's now-cast), or a forecast mean, lies
///   outside ``Settings/plausibleRange`` (for glucose 10-600 mg/dL, beyond what a CGM or a living person shows);
/// - ``Finding/Kind/parameterOutOfRange``: an estimated parameter lies more than ``Settings/parameterPriorSDs``
///   prior standard deviations (on the log scale) from its prior value (the population's, the cohort's or the
///   twin's own);
/// - ``Finding/Kind/innovationsInconsistent``: over the last ``Settings/innovationWindow`` readings, the sum of
///   the normalised innovations squared, Σ (reading − predicted)² / (predicted variance + noise variance),
///   exceeds the ``Settings/innovationQuantile`` quantile of its chi-square distribution with as many degrees
///   of freedom (Wilson–Hilferty approximation), so the filter's predictions are far worse than it believes;
/// - ``Finding/Kind/nowcastFarFromReading``: the output now differs from the latest reading (taken at
///   most ``Settings/nowcastMaximumAge`` minutes before the origin) by more than ``Settings/nowcastSDs``
///   combined standard deviations √(sd now² + noise sd²);
/// - ``Finding/Kind/lowReadingNotForecast`` (the stale-model guard, when ``Settings/lowReadingThreshold`` is
///   set): the latest reading, taken at most ``Settings/nowcastMaximumAge`` minutes before the origin, is below
///   the threshold but the output now is not: the reading wins.
///
/// A synchroniser adds ``Finding/Kind/filterFailed`` when the filter itself throws (``filterFailureCodes``).
public struct ModelHealth: Sendable, Hashable, Codable {
    /// The thresholds of the checks.
    public struct Settings: Sendable, Hashable, Codable {
        /// Values (in the output's unit) the output now and its forecast may take (the default is glucose's, mg/dL).
        public var plausibleRange = 10.0...600.0
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
        /// A latest reading below it with a now-cast not below it fires the stale-model guard (nil: no guard;
        /// the default is level 1 hypoglycaemia, 70 mg/dL).
        public var lowReadingThreshold: Double? = LowGlucoseReading.level1
        public init() {}
        /// The defaults with `range` as the plausible range and no stale-model guard (for outputs other than glucose).
        public init(plausibleRange range: ClosedRange<Double>, lowReadingThreshold: Double? = nil) {
            plausibleRange = range; self.lowReadingThreshold = lowReadingThreshold
        }
    }

    /// One innovation: a reading against what the estimator predicted for it just before assimilating it.
    public struct Innovation: Sendable, Hashable, Codable {
        /// Model time of the reading.
        public var time: Double
        /// Reading minus predicted (output unit).
        public var residual: Double
        /// Predicted variance of the reading: the estimator's variance of the predicted output plus the noise
        /// variance (output unit squared).
        public var variance: Double
        public init(time: Double, residual: Double, variance: Double) { self.time = time; self.residual = residual; self.variance = variance }
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

    /// What an estimator reports after assimilating a window about one output, all in the output's unit.
    public struct Input: Sendable, Hashable {
        /// The output's name (in messages: `glucose`) and unit (`mg/dL`).
        public var output: String
        public var unit: String
        /// The output at the origin (the now-cast) and its sd.
        public var nowcast: Double
        public var nowcastSD: Double
        /// The latest reading, and its age at the origin (in the model's time unit; minutes for glucose).
        public var latestReading: Double
        public var latestReadingAge: Double
        public var noiseSD: Double
        /// Innovations in reading order (empty when the filter does not report them).
        public var innovations: [Innovation]
        public var parameters: [Parameter]
        /// The forecast means after the origin.
        public var forecast: [Double]
        public init(output: String, unit: String, nowcast: Double, nowcastSD: Double, latestReading: Double, latestReadingAge: Double, noiseSD: Double,
                    innovations: [Innovation] = [], parameters: [Parameter] = [], forecast: [Double] = []) {
            self.output = output; self.unit = unit
            self.nowcast = nowcast; self.nowcastSD = nowcastSD; self.latestReading = latestReading
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
        let u = input.unit, name = input.output
        let numbers = [input.nowcast, input.nowcastSD] + input.forecast + input.parameters.map(\.estimated)
        if numbers.contains(where: { !$0.isFinite }) {
            findings.append(Finding(kind: .nonFinite, message: "the twin's state, forecast or parameters are not finite (\(name) now \(input.nowcast) ± \(input.nowcastSD) \(u)).",
                                    measures: [:]))
        }
        let range = settings.plausibleRange
        let outside = ([("now", input.nowcast)] + input.forecast.enumerated().map { ("forecast point \($0.offset + 1)", $0.element) })
            .filter { $0.1.isFinite && !range.contains($0.1) }
        if let (label, g) = outside.first {
            findings.append(Finding(kind: .stateOutOfRange,
                                    message: "the twin's \(name) \(label) is \(f(g)) \(u), outside the plausible \(f(range.lowerBound))-\(f(range.upperBound)) \(u).",
                                    measures: [name: g]))
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
        if input.latestReadingAge <= settings.nowcastMaximumAge, input.nowcast.isFinite, input.nowcastSD.isFinite {
            let sd = (input.nowcastSD * input.nowcastSD + input.noiseSD * input.noiseSD).squareRoot()
            let z = abs(input.nowcast - input.latestReading) / sd
            if z > settings.nowcastSDs {
                findings.append(Finding(kind: .nowcastFarFromReading,
                                        message: "the twin's \(name) now, \(f(input.nowcast)) ± \(f(input.nowcastSD)) \(u), is \(f(z)) SDs from the latest reading \(f(input.latestReading)) \(u) (noise SD \(f(input.noiseSD)); at most \(f(settings.nowcastSDs)) expected).",
                                        measures: ["\(name)Now": (input.nowcast * 10).rounded() / 10, "latestReading": input.latestReading, "nowcastSDs": (z * 10).rounded() / 10]))
            }
        }
        if let threshold = settings.lowReadingThreshold, input.latestReadingAge <= settings.nowcastMaximumAge, input.latestReading < threshold,
           !(input.nowcast < threshold) {
            findings.append(Finding(kind: .lowReadingNotForecast,
                                    message: "the latest reading \(f(input.latestReading)) \(u) is below \(f(threshold)) \(u) but the twin's \(name) now is \(f(input.nowcast)) \(u): the reading wins.",
                                    measures: ["latestReading": input.latestReading, "\(name)Now": (input.nowcast * 10).rounded() / 10]))
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
