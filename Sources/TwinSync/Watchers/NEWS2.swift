/// The National Early Warning Score 2 (Royal College of Physicians, 2017) from one set of vital signs.
///
/// Each parameter scores 0-3 on the published chart; the total and the presence of a single red score (3)
/// give the clinical risk: low (0-4), low-medium (a single 3), medium (5-6), high (≥ 7).
public struct NEWS2: Sendable, Hashable {
    public enum Consciousness: String, Sendable, Hashable { case alert, confusion, voice, pain, unresponsive }
    public enum Risk: String, Sendable, Hashable { case low, lowMedium = "low-medium", medium, high }

    public struct Observation: Sendable, Hashable {
        /// Breaths per minute.
        public var respirationRate: Double
        /// Percent.
        public var oxygenSaturation: Double
        /// Use SpO₂ scale 2 (target 88-92 %, hypercapnic respiratory failure), as prescribed by a clinician.
        public var useScale2: Bool
        public var onSupplementalOxygen: Bool
        /// mmHg.
        public var systolicBloodPressure: Double
        /// Beats per minute.
        public var pulse: Double
        public var consciousness: Consciousness
        /// °C.
        public var temperature: Double

        public init(respirationRate: Double, oxygenSaturation: Double, useScale2: Bool = false, onSupplementalOxygen: Bool,
                    systolicBloodPressure: Double, pulse: Double, consciousness: Consciousness, temperature: Double) {
            self.respirationRate = respirationRate; self.oxygenSaturation = oxygenSaturation; self.useScale2 = useScale2
            self.onSupplementalOxygen = onSupplementalOxygen; self.systolicBloodPressure = systolicBloodPressure
            self.pulse = pulse; self.consciousness = consciousness; self.temperature = temperature
        }
    }

    /// Score per parameter, in chart order.
    public let components: [(name: String, score: Int)]
    public var total: Int { components.reduce(0) { $0 + $1.score } }
    public var risk: Risk {
        if total >= 7 { return .high }
        if total >= 5 { return .medium }
        if components.contains(where: { $0.score == 3 }) { return .lowMedium }
        return .low
    }

    public static func == (a: NEWS2, b: NEWS2) -> Bool { a.components.map(\.score) == b.components.map(\.score) }
    public func hash(into h: inout Hasher) { h.combine(components.map(\.score)) }

    /// Scores a set of vital signs; values outside physiological ranges are errors naming the sign.
    public init(_ o: Observation) throws {
        func check(_ v: Double, _ name: String, _ range: ClosedRange<Double>) throws {
            guard v.isFinite, range.contains(v) else {
                throw SyncError(.invalidArgument, "\(name) \(v) is outside the plausible range \(range.lowerBound)-\(range.upperBound).", value: String(v))
            }
        }
        try check(o.respirationRate, "respiration rate", 0...80)
        try check(o.oxygenSaturation, "oxygen saturation", 0...100)
        try check(o.systolicBloodPressure, "systolic blood pressure", 0...350)
        try check(o.pulse, "pulse", 0...300)
        try check(o.temperature, "temperature", 20...45)
        let rr = o.respirationRate
        let rrScore = rr <= 8 ? 3 : rr <= 11 ? 1 : rr <= 20 ? 0 : rr <= 24 ? 2 : 3
        let s = o.oxygenSaturation
        let spo2Score: Int
        if !o.useScale2 {
            spo2Score = s <= 91 ? 3 : s <= 93 ? 2 : s <= 95 ? 1 : 0
        } else if s <= 87 || !o.onSupplementalOxygen {
            spo2Score = s <= 83 ? 3 : s <= 85 ? 2 : s <= 87 ? 1 : 0
        } else {
            spo2Score = s <= 92 ? 0 : s <= 94 ? 1 : s <= 96 ? 2 : 3
        }
        let airScore = o.onSupplementalOxygen ? 2 : 0
        let bp = o.systolicBloodPressure
        let bpScore = bp <= 90 ? 3 : bp <= 100 ? 2 : bp <= 110 ? 1 : bp <= 219 ? 0 : 3
        let p = o.pulse
        let pulseScore = p <= 40 ? 3 : p <= 50 ? 1 : p <= 90 ? 0 : p <= 110 ? 1 : p <= 130 ? 2 : 3
        let cScore = o.consciousness == .alert ? 0 : 3
        let t = o.temperature
        let tScore = t <= 35.0 ? 3 : t <= 36.0 ? 1 : t <= 38.0 ? 0 : t <= 39.0 ? 1 : 2
        components = [("respiration rate", rrScore), ("SpO2 scale \(o.useScale2 ? 2 : 1)", spo2Score), ("air or oxygen", airScore),
                      ("systolic blood pressure", bpScore), ("pulse", pulseScore), ("consciousness", cScore), ("temperature", tScore)]
    }
}

/// Raises an alert when the NEWS2 score of the latest vital signs reaches a threshold (5 by default, the
/// RCP's trigger for an urgent response) or any single parameter scores 3.
public struct NEWS2Watcher: Sendable, Hashable {
    public var threshold: Int
    public init(threshold: Int = 5) { self.threshold = threshold }

    public func evaluate(_ observation: NEWS2.Observation, at time: Double) throws -> Alert? {
        let score = try NEWS2(observation)
        let red = score.components.filter { $0.score == 3 }
        guard score.total >= threshold || !red.isEmpty else { return nil }
        let severity: Alert.Severity = switch score.risk { case .high: .high; case .medium: .medium; case .lowMedium, .low: .low }
        let reasons = score.components.filter { $0.score > 0 }.map { "\($0.name) scores \($0.score)" }
        return Alert(kind: "news2", severity: severity, time: time,
                     message: "NEWS2 \(score.total) (\(score.risk.rawValue) clinical risk)", reasons: reasons, forecast: nil)
    }
}
