import TwinCore

/// One person's data a prognostic model reads: birth date and sex from the twin's attributes, and the time series
/// of the outcome and covariate codes (current observations with a quantity value, in the outcome's or covariate's
/// unit, in time order).
public struct PersonHistory: Sendable, Hashable {
    public struct Point: Sendable, Hashable {
        public var time: Instant
        public var value: Double
        public var event: ContentHash
    }

    public var twin: TwinID
    public var birthDate: Instant?
    /// 1 male, 0 female, nil unknown (from the `gender`, `sex` or `birthSex` attribute).
    public var male: Double?
    public var series: [CodeKey: [Point]]

    public init(twin: TwinID, birthDate: Instant?, male: Double?, series: [CodeKey: [Point]]) {
        self.twin = twin; self.birthDate = birthDate; self.male = male
        self.series = series.mapValues { $0.sorted { ($0.time, $0.event) < ($1.time, $1.event) } }
    }

    /// Reads a twin's attributes and events: observations of `codes` with a quantity convertible to the code's
    /// unit in `units` (the first value seen sets a code's unit when `units` has none; values in units that do not
    /// convert are left out). Returns the history and the units.
    public static func read(twin: Twin, events: [Event], codes: [CodeKey], units: [CodeKey: String] = [:]) -> (PersonHistory, [CodeKey: String]) {
        var units = units
        let wanted = Set(codes)
        var series: [CodeKey: [Point]] = [:]
        for e in events where e.category == .observation && wanted.contains(e.code.key) && !e.isErased && e.retractedAtSequence == nil {
            guard let q = e.value?.quantity, q.value.isFinite else { continue }
            let key = e.code.key
            let unit = units[key] ?? q.unit
            units[key] = unit
            let value: Double
            if q.unit == unit { value = q.value } else if let c = try? q.converted(to: unit) { value = c.value } else { continue }
            series[key, default: []].append(Point(time: e.effective.start, value: value, event: e.id))
        }
        var male: Double?
        for name in ["gender", "sex", "birthSex"] {
            guard case .text(let g)? = twin.attributes[name] else { continue }
            switch g.lowercased() {
            case "male", "m": male = 1
            case "female", "f": male = 0
            default: continue
            }
            break
        }
        return (PersonHistory(twin: twin.id, birthDate: twin.attributes["birthDate"]?.date, male: male, series: series), units)
    }
}
