import Foundation
import TwinBank
import TwinCore

/// A vital sign of the NEWS2 chart and the thread codes it is read from.
public enum VitalSign: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    case respirationRate = "respiration rate"
    case oxygenSaturation = "SpO2"
    case supplementalOxygen = "air or oxygen"
    case systolicBloodPressure = "systolic blood pressure"
    case pulse
    case consciousness
    case temperature

    public var description: String { rawValue }

    /// The LOINC codes read for the sign, in order of preference (the latest of them wins):
    /// - respiration rate: 9279-1; SpO₂: 59408-5 (pulse oximetry), 2708-6 (arterial saturation);
    /// - systolic blood pressure: 8480-6 (alone, or a component of a blood-pressure panel such as 85354-9 or
    ///   55284-4, which TwinFHIR imports as one event per component with the component's code);
    /// - pulse: 8867-4; temperature: 8310-5 (body), 8331-1 (oral);
    /// - consciousness: 67775-7 (level of responsiveness, ACVPU);
    /// - air or oxygen: 3151-8 (inhaled oxygen flow rate; > 0 means supplemental oxygen) and 3150-0 (inhaled
    ///   oxygen concentration; above 21 % means supplemental oxygen).
    public var codes: [CodeKey] {
        switch self {
        case .respirationRate: [.loinc("9279-1")]
        case .oxygenSaturation: [.loinc("59408-5"), .loinc("2708-6")]
        case .supplementalOxygen: [.loinc("3151-8"), .loinc("3150-0")]
        case .systolicBloodPressure: [.loinc("8480-6")]
        case .pulse: [.loinc("8867-4")]
        case .consciousness: [.loinc("67775-7")]
        case .temperature: [.loinc("8310-5"), .loinc("8331-1")]
        }
    }

    /// Every code read for some sign.
    public static let allCodes: Set<CodeKey> = Set(allCases.flatMap(\.codes))

    /// The unit a code's quantity is converted to before scoring (nil: not a quantity).
    static func unit(of code: CodeKey) -> String? {
        switch code.code {
        case "9279-1", "8867-4": "/min"
        case "59408-5", "2708-6", "3150-0": "%"
        case "3151-8": "L/min"
        case "8480-6": "mm[Hg]"
        case "8310-5", "8331-1": "Cel"
        default: nil
        }
    }
}

/// The latest vital signs of a twin as its thread was known at some time: per ``VitalSign``, the latest
/// observation of its codes, kept when it lies within a freshness window before the latest of all of them;
/// older ones are ``stale`` and count as not recorded.
///
/// Values are converted with TwinCore's UCUM units to the units NEWS2 is charted in (per minute, %, mmHg,
/// °C); a value that cannot be converted (a unit of another dimension, a text where a number belongs, a
/// consciousness level that is not one of ACVPU) is an error naming the code, the unit and the value, never a
/// guess.
public struct VitalSignSet: Sendable, Hashable {
    /// One sign's reading: its value in the charted unit (for consciousness: the level; for air or oxygen:
    /// 1 on supplemental oxygen, 0 on air), and the event it came from.
    public struct Reading: Sendable, Hashable {
        public var sign: VitalSign
        public var value: Double
        public var consciousness: NEWS2.Consciousness?
        public var event: Event

        /// The value as recorded ("25 /min", "101.3 [degF]", "voice").
        public var recorded: String {
            if let q = event.value?.quantity { return q.description }
            return event.value.map { "\($0)" } ?? "no value"
        }
    }

    /// The effective time of the latest reading (the set's time), nil when the twin has none.
    public var time: Instant?
    /// The readings within the window, by sign.
    public var readings: [VitalSign: Reading]
    /// Signs whose latest reading is older than the window allows.
    public var stale: [VitalSign]
    /// The window, minutes before ``time``.
    public var windowMinutes: Double

    /// Signs without a reading in the window (stale ones included), in chart order.
    public var missing: [VitalSign] { VitalSign.allCases.filter { readings[$0] == nil } }
    /// The events of the readings, in chart order.
    public var events: [Event] { VitalSign.allCases.compactMap { readings[$0]?.event } }

    /// The set as a NEWS2 observation (missing signs nil).
    public func observation(useScale2: Bool) -> NEWS2.PartialObservation {
        NEWS2.PartialObservation(respirationRate: readings[.respirationRate]?.value, oxygenSaturation: readings[.oxygenSaturation]?.value,
                                 useScale2: useScale2, onSupplementalOxygen: readings[.supplementalOxygen].map { $0.value > 0 },
                                 systolicBloodPressure: readings[.systolicBloodPressure]?.value, pulse: readings[.pulse]?.value,
                                 consciousness: readings[.consciousness]?.consciousness, temperature: readings[.temperature]?.value)
    }

    /// Reads the set from the twin's thread as known at `knownAt` (the bank's `state(of:knownAt:code:category:)`,
    /// observations only).
    /// - Parameter windowMinutes: how far before the latest reading a sign's reading may lie (> 0).
    /// - Throws: ``SyncError`` `invalidArgument` naming the code, the unit and the value of a reading that
    ///   cannot be converted or read, or a window that is not positive; bank errors.
    public static func read(_ twin: TwinID, knownAt: Instant, windowMinutes: Double = 60, in thread: some ThreadReading) throws -> VitalSignSet {
        guard windowMinutes.isFinite, windowMinutes > 0 else {
            throw SyncError(.invalidArgument, "the vital-sign freshness window must be a positive number of minutes (got \(windowMinutes)).", value: String(windowMinutes))
        }
        var latest: [VitalSign: Event] = [:]
        for sign in VitalSign.allCases {
            for code in sign.codes {
                guard let e = try thread.state(of: twin, knownAt: knownAt, code: code, category: .observation).first else { continue }
                if let best = latest[sign], (best.effective.start, best.sequence) >= (e.effective.start, e.sequence) { continue }
                latest[sign] = e
            }
        }
        guard let time = latest.values.map(\.effective.start).max() else {
            return VitalSignSet(time: nil, readings: [:], stale: [], windowMinutes: windowMinutes)
        }
        let oldest = time.advanced(bySeconds: -windowMinutes * 60)
        var readings: [VitalSign: Reading] = [:]
        var stale: [VitalSign] = []
        for sign in VitalSign.allCases {
            guard let e = latest[sign] else { continue }
            guard e.effective.start >= oldest else { stale.append(sign); continue }
            readings[sign] = try reading(sign, e)
        }
        return VitalSignSet(time: time, readings: readings, stale: stale, windowMinutes: windowMinutes)
    }

    static func reading(_ sign: VitalSign, _ e: Event) throws -> Reading {
        let key = e.code.key
        func fail(_ why: String, unit: String?) -> SyncError {
            let shown = e.value.map { "\($0)" } ?? "no value"
            return SyncError(.invalidArgument, "cannot read \(sign) from \(key) at \(e.effective.start.iso8601): \(why) (value \(shown)\(unit.map { ", unit '\($0)'" } ?? "")).",
                             value: shown)
        }
        if sign == .consciousness {
            let words: String
            switch e.value {
            case .concept(let c)?: words = [c.code, c.display ?? ""].joined(separator: " ")
            case .text(let t)?: words = t
            default: throw fail("expected an ACVPU level (alert, confusion, voice, pain, unresponsive) as a concept or text", unit: e.value?.quantity?.unit)
            }
            guard let level = Self.consciousness(words) else {
                throw fail("not an ACVPU level (alert, new confusion, voice, pain, unresponsive, or A/C/V/P/U)", unit: nil)
            }
            return Reading(sign: sign, value: level == .alert ? 0 : 1, consciousness: level, event: e)
        }
        guard let target = VitalSign.unit(of: key) else { throw fail("no charted unit for this code", unit: nil) }
        guard let q = e.value?.quantity else { throw fail("expected a quantity in a unit convertible to \(target)", unit: nil) }
        let v: Double
        do {
            v = try q.converted(to: target).value
        } catch {
            throw fail("the unit does not convert to \(target)", unit: q.unit)
        }
        guard v.isFinite else { throw fail("not a finite number", unit: q.unit) }
        if sign == .supplementalOxygen {
            // flow rate > 0 L/min, or an inhaled concentration above room air's 21 %
            let onOxygen = key.code == "3151-8" ? v > 0 : v > 21
            return Reading(sign: sign, value: onOxygen ? 1 : 0, consciousness: nil, event: e)
        }
        return Reading(sign: sign, value: v, consciousness: nil, event: e)
    }

    /// The ACVPU level named by a code or display text: a letter A, C, V, P or U, or words containing alert,
    /// confus(ion/ed), voice or verbal, pain, unresponsive; nil otherwise. "Unresponsive" is checked before
    /// "responds to", so "responds to voice" is voice and "not alert" is not alert.
    static func consciousness(_ text: String) -> NEWS2.Consciousness? {
        let t = text.lowercased().trimmingCharacters(in: .whitespaces)
        switch t {
        case "a": return .alert
        case "c": return .confusion
        case "v": return .voice
        case "p": return .pain
        case "u": return .unresponsive
        default: break
        }
        if t.contains("unresponsive") || t.contains("no response") { return .unresponsive }
        if t.contains("pain") { return .pain }
        if t.contains("voice") || t.contains("verbal") { return .voice }
        if t.contains("confus") { return .confusion }
        if t.contains("not alert") { return nil }
        if t.contains("alert") { return .alert }
        return nil
    }
}
