import Foundation
import TwinCore

extension ThreadBinding {
    /// What the ``BindingSynchroniser`` checks before it writes a forecast back, and the clinical alerts it
    /// raises, written down as data in the binding: adding a model with safety checks means choosing them here,
    /// not writing a synchroniser.
    ///
    /// With a safety section, one synchronisation
    /// 1. alerts on the **readings** themselves when ``rule`` says so (whatever the model says, before and
    ///    independently of any estimate, so a diverged or stale model cannot silence it);
    /// 2. runs the **model health** check (``ModelHealth``, thresholds ``health``) on the watched ``output``: the
    ///    now-cast and forecast within the plausible range, the innovations consistent with the estimator's own
    ///    uncertainty, the now-cast near the latest reading, each estimated parameter within
    ///    ``ModelHealth/Settings/parameterPriorSDs`` prior SDs of its prior; an estimator that fails on the readings
    ///    (``ModelHealth/filterFailureCodes``) is a finding too, not an error;
    /// 3. when the twin is **unreliable**, writes no forecast and no estimate, but a ``ModelHealth/unreliableAlert``
    ///    naming each finding with its numbers (a clinician reading the thread sees no forecast to mistake for a
    ///    normal one);
    /// 4. when it is reliable, evaluates ``rule``'s predicted alert on the forecast.
    public struct Safety: Sendable, Hashable, Codable {
        /// A clinical alert rule: vetted once, in code (its thresholds, texts and references); which twins use it
        /// is data.
        public enum Rule: String, Sendable, Hashable, Codable, CaseIterable {
            /// Hypoglycaemia (the watched output is glucose in mg/dL): an alert on each episode of low readings
            /// (``LowGlucoseReading``: below 70 mg/dL level 1, below 54 mg/dL level 2, International Consensus on
            /// Time in Range) and, on the forecast, the ``HypoglycaemiaWatcher`` (glucose below ``Safety/threshold``
            /// within ``Safety/horizon`` with probability at least ``Safety/probability``).
            case hypoglycaemia
            /// Hypotension (the watched output is mean arterial pressure in mm[Hg]): an alert on each episode of low
            /// readings (``LowPressureReading``: below 65 mmHg, severe below 55) and, on the forecast, the
            /// ``HypotensionWatcher`` (pressure below ``Safety/threshold`` within ``Safety/horizon`` with probability
            /// at least ``Safety/probability``).
            case hypotension
        }
        /// The measured output (its id) the checks watch.
        public var output: String
        /// The model health check's thresholds (the plausible range in the output's unit).
        public var health: ModelHealth.Settings
        /// The clinical alert rule, if any.
        public var rule: Rule?
        /// The predicted alert's threshold (output unit), horizon (model time unit, after the origin) and probability.
        public var threshold: Double
        public var horizon: Double
        public var probability: Double
        public init(output: String, health: ModelHealth.Settings, rule: Rule? = nil, threshold: Double = 70, horizon: Double = 30, probability: Double = 0.5) {
            self.output = output; self.health = health; self.rule = rule; self.threshold = threshold; self.horizon = horizon; self.probability = probability
        }

        /// Checks the section against its binding.
        /// - Throws: ``SyncError`` `invalidBinding` naming the offending item.
        public func validate(in binding: ThreadBinding) throws {
            func fail(_ message: String, _ value: String) -> SyncError { SyncError(.invalidBinding, "binding '\(binding.name)' safety: \(message)", value: value) }
            guard let o = binding.outputs.first(where: { $0.output == output }) else {
                throw fail("it watches output '\(output)', which the binding does not have (outputs: \(binding.outputs.map(\.output).joined(separator: ", "))).", output)
            }
            let r = health.plausibleRange
            guard r.lowerBound.isFinite, r.upperBound.isFinite, r.lowerBound < r.upperBound else {
                throw fail("the plausible range \(r) is empty or not finite.", "\(r)")
            }
            guard probability > 0, probability <= 1 else { throw fail("the alert probability must be in (0, 1].", String(probability)) }
            guard horizon > 0, horizon.isFinite, threshold.isFinite else { throw fail("the alert horizon must be positive and the threshold finite.", "\(horizon) \(threshold)") }
            guard health.innovationWindow >= 1, health.innovationQuantile > 0, health.innovationQuantile < 1, health.nowcastSDs > 0, health.parameterPriorSDs > 0 else {
                throw fail("the health thresholds must be positive (innovation window ≥ 1, quantile in (0, 1)).", "\(health.innovationWindow) \(health.innovationQuantile)")
            }
            if rule == .hypoglycaemia, o.unit != "mg/dL" {
                throw fail("the hypoglycaemia rule watches glucose in mg/dL (output '\(output)' is in \(o.unit)).", o.unit)
            }
            if rule == .hypotension, o.unit != "mm[Hg]" {
                throw fail("the hypotension rule watches mean arterial pressure in mm[Hg] (output '\(output)' is in \(o.unit)).", o.unit)
            }
        }
    }
}

extension ModelHealth {
    /// Code of the alert written instead of the forecast when the twin's model fails its check.
    public static let unreliableAlert = Concept(system: "urn:twinbank:alert", code: "model-unreliable", display: "Twin's model unreliable: forecast withheld")
}
