/// Announced meals: carbohydrate (g) at a time after the start (h). simglucose's `CustomScenario` semantics: a
/// meal is announced at minute `round(hours * 60)` (Python's round, half to even); if two meals fall on the
/// same minute only the first listed is announced (as simglucose's `list.index` does). The patient then eats
/// at 5 g/min until the announced carbohydrate is consumed.
public struct MealPlan: Sendable, Hashable {
    public struct Meal: Sendable, Hashable {
        /// Hours after the start of the run.
        public var hours: Double
        /// Carbohydrate, g.
        public var grams: Double
        public init(hours: Double, grams: Double) { self.hours = hours; self.grams = grams }
        /// The minute at which simglucose announces this meal.
        public var minute: Int { Int((hours * 60.0).rounded(.toNearestOrEven)) }
    }

    public var meals: [Meal]

    /// A plan from meals; throws `invalidMealPlan` for a negative or non-finite time or amount.
    public init(_ meals: [Meal]) throws(ModelError) {
        for m in meals {
            guard m.hours.isFinite, m.hours >= 0, m.hours < 1e6 else {
                throw ModelError(.invalidMealPlan, "meal time must be a number of hours >= 0, got \(m.hours)", value: "\(m.hours)")
            }
            guard m.grams.isFinite, m.grams >= 0 else {
                throw ModelError(.invalidMealPlan, "meal carbohydrate must be a number of grams >= 0, got \(m.grams)",
                                 value: "\(m.grams)")
            }
        }
        self.meals = meals
    }

    /// Parses a comma-separated list of meals, each either
    /// - `HOUR:GRAMS`: grams of carbohydrate at a number of hours after the start (`7:45` is 45 g at hour 7;
    ///   hours may be fractional: `7.5:30` is 30 g at 07:30), or
    /// - `HH:MM=GRAMS`: grams at hours and minutes after the start of the run (`07:30=45` is 45 g at 7 h 30 min;
    ///   the clock time 07:30 only when the run starts at midnight).
    ///
    /// A zero-padded hour without `=` (`07:30`, `00:15`) is refused as ambiguous: it reads like a clock time,
    /// but `HOUR:GRAMS` would mean 30 g at hour 7. An empty string is a plan without meals.
    /// - Throws: `invalidMealPlan` naming the offending item.
    public init(parsing spec: String) throws(ModelError) {
        var meals: [Meal] = []
        let trimmed = spec.filter { !$0.isWhitespace }
        if !trimmed.isEmpty {
            for item in trimmed.split(separator: ",", omittingEmptySubsequences: false) {
                let h: Double, g: Double
                if let eq = item.firstIndex(of: "=") {
                    let clock = item[..<eq].split(separator: ":", omittingEmptySubsequences: false)
                    guard clock.count == 2, clock[1].count == 2, clock.allSatisfy({ !$0.isEmpty && $0.allSatisfy(\.isASCII) && $0.allSatisfy(\.isNumber) }),
                          let hh = Int(clock[0]), let mm = Int(clock[1]), mm < 60, let grams = Double(item[item.index(after: eq)...]) else {
                        throw ModelError(.invalidMealPlan,
                                         "bad meal '\(item)' in meal plan '\(spec)': expected HH:MM=GRAMS (hours and minutes after the start of the run), e.g. 07:30=45",
                                         value: String(item))
                    }
                    h = Double(hh) + Double(mm) / 60
                    g = grams
                } else {
                    let parts = item.split(separator: ":", omittingEmptySubsequences: false)
                    guard parts.count == 2, let hour = Double(parts[0]), let grams = Double(parts[1]) else {
                        throw ModelError(.invalidMealPlan,
                                         "bad meal '\(item)' in meal plan '\(spec)': expected HOUR:GRAMS (e.g. 7:45, 45 g at hour 7) or HH:MM=GRAMS (e.g. 07:30=45)",
                                         value: String(item))
                    }
                    if parts[0].count == 2, parts[0].first == "0" {
                        throw ModelError(.invalidMealPlan,
                                         "ambiguous meal '\(item)': it reads like the clock time \(item), but the syntax is HOUR:GRAMS (\(Value(grams)) g at hour \(Value(hour))); write \(Value(hour)):\(parts[1]) for that, or \(item)=GRAMS for a meal \(item) after the start of the run (the clock time \(item) only when the run starts at midnight)",
                                         value: String(item))
                    }
                    h = hour; g = grams
                }
                guard h.isFinite, h >= 0, h < 1e6 else {
                    throw ModelError(.invalidMealPlan, "bad meal '\(item)': the hour must be >= 0", value: String(item))
                }
                guard g.isFinite, g >= 0 else {
                    throw ModelError(.invalidMealPlan, "bad meal '\(item)': the grams must be >= 0", value: String(item))
                }
                meals.append(Meal(hours: h, grams: g))
            }
        }
        try self.init(meals)
    }

    /// Checks that every meal falls within a run of `hours` hours (a meal at or after the end would never be
    /// eaten).
    /// - Throws: `invalidMealPlan` naming the first meal outside the run.
    public func check(withinHours hours: Double) throws(ModelError) {
        for m in meals where m.hours >= hours {
            throw ModelError(.invalidMealPlan,
                             "meal of \(Value(m.grams)) g at hour \(Value(m.hours)) is not within the run of \(Value(hours)) hours: lengthen --hours or remove the meal",
                             value: "\(Value(m.hours)):\(Value(m.grams))")
        }
    }

    /// A number printed without a trailing `.0`.
    private struct Value: CustomStringConvertible {
        let v: Double
        init(_ v: Double) { self.v = v }
        var description: String { v == v.rounded() && abs(v) < 1e15 ? String(Int64(v)) : "\(v)" }
    }

    /// The carbohydrate (g) announced at `minute`, 0 if none.
    public func announced(atMinute minute: Int) -> Double {
        for m in meals where m.minute == minute { return m.grams }
        return 0
    }
}
