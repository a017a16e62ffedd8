/// The National Early Warning Score 2 (Royal College of Physicians, 2017) from one set of vital signs.
///
/// Each parameter scores 0-3 on the published chart (RCP 2017, chart 1); the total and the presence of a
/// single red score (3) give the clinical risk: low (0-4), low-medium (a single 3), medium (5-6), high (≥ 7).
/// The bands are closed at the chart's printed boundaries (respiration rate ≤ 8 | 9-11 | 12-20 | 21-24 | ≥ 25,
/// and so on); a value above a band's printed upper bound falls in the next band (SpO₂ 91.5 % scores as 92 %,
/// a systolic pressure of 219.5 mmHg as 220).
///
/// A set may be partial (``init(partial:)``): parameters that were not recorded are listed in ``missing`` and
/// add nothing, so ``total`` is then a lower bound of the full score (every parameter scores at least 0, and
/// an unknown oxygen status counts SpO₂ scale 2 as on air, its lower score), and ``risk`` a lower bound of the
/// risk.
public struct NEWS2: Sendable, Hashable {
    public enum Consciousness: String, Sendable, Hashable, CaseIterable { case alert, confusion, voice, pain, unresponsive }
    public enum Risk: String, Sendable, Hashable, Comparable {
        case low, lowMedium = "low-medium", medium, high
        /// low < low-medium < medium < high.
        public static func < (a: Risk, b: Risk) -> Bool { a.rank < b.rank }
        var rank: Int { switch self { case .low: 0; case .lowMedium: 1; case .medium: 2; case .high: 3 } }
    }

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

    /// A set of vital signs in which any parameter may be unrecorded (nil), in the units of ``Observation``.
    public struct PartialObservation: Sendable, Hashable {
        public var respirationRate: Double?
        public var oxygenSaturation: Double?
        public var useScale2: Bool
        public var onSupplementalOxygen: Bool?
        public var systolicBloodPressure: Double?
        public var pulse: Double?
        public var consciousness: Consciousness?
        public var temperature: Double?

        public init(respirationRate: Double? = nil, oxygenSaturation: Double? = nil, useScale2: Bool = false, onSupplementalOxygen: Bool? = nil,
                    systolicBloodPressure: Double? = nil, pulse: Double? = nil, consciousness: Consciousness? = nil, temperature: Double? = nil) {
            self.respirationRate = respirationRate; self.oxygenSaturation = oxygenSaturation; self.useScale2 = useScale2
            self.onSupplementalOxygen = onSupplementalOxygen; self.systolicBloodPressure = systolicBloodPressure
            self.pulse = pulse; self.consciousness = consciousness; self.temperature = temperature
        }

        public init(_ o: Observation) {
            self.init(respirationRate: o.respirationRate, oxygenSaturation: o.oxygenSaturation, useScale2: o.useScale2,
                      onSupplementalOxygen: o.onSupplementalOxygen, systolicBloodPressure: o.systolicBloodPressure, pulse: o.pulse,
                      consciousness: o.consciousness, temperature: o.temperature)
        }
    }

    /// The chart's parameter names, in chart order (the names used in ``components`` and ``missing``).
    public static let parameterNames = ["respiration rate", "SpO2", "air or oxygen", "systolic blood pressure", "pulse", "consciousness", "temperature"]

    /// Score per recorded parameter, in chart order. The SpO₂ component is named "SpO2 scale 1" or "SpO2 scale 2".
    public let components: [(name: String, score: Int)]
    /// The parameters not recorded (names of ``parameterNames``), in chart order; empty for a full set.
    public let missing: [String]
    /// The aggregate score (a lower bound when ``missing`` is not empty).
    public var total: Int { components.reduce(0) { $0 + $1.score } }
    /// Whether every parameter was recorded.
    public var isComplete: Bool { missing.isEmpty }
    /// Whether some parameter scores 3 (a "red" score).
    public var hasRedScore: Bool { components.contains { $0.score == 3 } }
    public var risk: Risk {
        if total >= 7 { return .high }
        if total >= 5 { return .medium }
        if hasRedScore { return .lowMedium }
        return .low
    }

    public static func == (a: NEWS2, b: NEWS2) -> Bool {
        a.components.map(\.name) == b.components.map(\.name) && a.components.map(\.score) == b.components.map(\.score) && a.missing == b.missing
    }
    public func hash(into h: inout Hasher) { h.combine(components.map(\.score)); h.combine(missing) }

    /// Scores a full set of vital signs; values outside physiological ranges are errors naming the sign.
    /// - Throws: ``SyncError`` `invalidArgument` naming the sign and the value.
    public init(_ o: Observation) throws {
        try self.init(partial: PartialObservation(o))
    }

    /// Scores the recorded parameters of a set; see the type's discussion for what a partial score means.
    /// - Throws: ``SyncError`` `invalidArgument` naming the sign and the value when a value is not finite or
    ///   outside its plausible range.
    public init(partial o: PartialObservation) throws {
        func check(_ v: Double?, _ name: String, _ range: ClosedRange<Double>) throws {
            guard let v else { return }
            guard v.isFinite, range.contains(v) else {
                throw SyncError(.invalidArgument, "\(name) \(v) is outside the plausible range \(range.lowerBound)-\(range.upperBound).", value: String(v))
            }
        }
        try check(o.respirationRate, "respiration rate", 0...80)
        try check(o.oxygenSaturation, "oxygen saturation", 0...100)
        try check(o.systolicBloodPressure, "systolic blood pressure", 0...350)
        try check(o.pulse, "pulse", 0...300)
        try check(o.temperature, "temperature", 20...45)
        var components: [(name: String, score: Int)] = []
        var missing: [String] = []
        func add(_ name: String, _ score: Int?) {
            if let score { components.append((name, score)) } else { missing.append(name) }
        }
        add("respiration rate", o.respirationRate.map(Self.respirationRateScore))
        if let s = o.oxygenSaturation {
            let score: Int
            if let onOxygen = o.onSupplementalOxygen {
                score = Self.oxygenSaturationScore(s, scale2: o.useScale2, onOxygen: onOxygen)
            } else {
                score = min(Self.oxygenSaturationScore(s, scale2: o.useScale2, onOxygen: false), Self.oxygenSaturationScore(s, scale2: o.useScale2, onOxygen: true))
            }
            components.append(("SpO2 scale \(o.useScale2 ? 2 : 1)", score))
        } else {
            missing.append("SpO2")
        }
        add("air or oxygen", o.onSupplementalOxygen.map { $0 ? 2 : 0 })
        add("systolic blood pressure", o.systolicBloodPressure.map(Self.systolicBloodPressureScore))
        add("pulse", o.pulse.map(Self.pulseScore))
        add("consciousness", o.consciousness.map { $0 == .alert ? 0 : 3 })
        add("temperature", o.temperature.map(Self.temperatureScore))
        self.components = components
        self.missing = missing
    }

    /// Respiration rate (per minute): ≤ 8 → 3, 9-11 → 1, 12-20 → 0, 21-24 → 2, ≥ 25 → 3.
    public static func respirationRateScore(_ rr: Double) -> Int {
        rr <= 8 ? 3 : rr <= 11 ? 1 : rr <= 20 ? 0 : rr <= 24 ? 2 : 3
    }

    /// SpO₂ (%). Scale 1: ≤ 91 → 3, 92-93 → 2, 94-95 → 1, ≥ 96 → 0. Scale 2: ≤ 83 → 3, 84-85 → 2, 86-87 → 1,
    /// 88-92 or ≥ 93 on air → 0, 93-94 on oxygen → 1, 95-96 on oxygen → 2, ≥ 97 on oxygen → 3.
    public static func oxygenSaturationScore(_ s: Double, scale2: Bool, onOxygen: Bool) -> Int {
        if !scale2 { return s <= 91 ? 3 : s <= 93 ? 2 : s <= 95 ? 1 : 0 }
        if s <= 87 || !onOxygen { return s <= 83 ? 3 : s <= 85 ? 2 : s <= 87 ? 1 : 0 }
        return s <= 92 ? 0 : s <= 94 ? 1 : s <= 96 ? 2 : 3
    }

    /// Systolic blood pressure (mmHg): ≤ 90 → 3, 91-100 → 2, 101-110 → 1, 111-219 → 0, ≥ 220 → 3.
    public static func systolicBloodPressureScore(_ bp: Double) -> Int {
        bp <= 90 ? 3 : bp <= 100 ? 2 : bp <= 110 ? 1 : bp <= 219 ? 0 : 3
    }

    /// Pulse (per minute): ≤ 40 → 3, 41-50 → 1, 51-90 → 0, 91-110 → 1, 111-130 → 2, ≥ 131 → 3.
    public static func pulseScore(_ p: Double) -> Int {
        p <= 40 ? 3 : p <= 50 ? 1 : p <= 90 ? 0 : p <= 110 ? 1 : p <= 130 ? 2 : 3
    }

    /// Temperature (°C): ≤ 35.0 → 3, 35.1-36.0 → 1, 36.1-38.0 → 0, 38.1-39.0 → 1, ≥ 39.1 → 2.
    public static func temperatureScore(_ t: Double) -> Int {
        t <= 35.0 ? 3 : t <= 36.0 ? 1 : t <= 38.0 ? 0 : t <= 39.0 ? 1 : 2
    }
}

/// Raises an alert when the NEWS2 score of the latest vital signs reaches a threshold (5 by default, the
/// RCP's trigger for an urgent response) or any single parameter scores 3.
public struct NEWS2Watcher: Sendable, Hashable {
    public var threshold: Int
    public init(threshold: Int = 5) { self.threshold = threshold }

    public func evaluate(_ observation: NEWS2.Observation, at time: Double) throws -> Alert? {
        let score = try NEWS2(observation)
        guard score.total >= threshold || score.hasRedScore else { return nil }
        let reasons = score.components.filter { $0.score > 0 }.map { "\($0.name) scores \($0.score)" }
        return Alert(kind: "news2", severity: Self.severity(score.risk), time: time,
                     message: "NEWS2 \(score.total) (\(score.risk.rawValue) clinical risk)", reasons: reasons, forecast: nil)
    }

    /// The alert severity of a risk: high → high, medium → medium, low-medium and low → low.
    public static func severity(_ risk: NEWS2.Risk) -> Alert.Severity {
        switch risk { case .high: .high; case .medium: .medium; case .lowMedium, .low: .low }
    }
}
