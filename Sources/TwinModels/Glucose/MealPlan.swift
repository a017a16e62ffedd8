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

    /// Parses `HOUR:GRAMS[,HOUR:GRAMS...]`, e.g. `7:45,12:70,18:80` (hours may be fractional: `7.5:30`). An empty
    /// string is a plan without meals.
    /// - Throws: `invalidMealPlan` naming the offending item.
    public init(parsing spec: String) throws(ModelError) {
        var meals: [Meal] = []
        let trimmed = spec.filter { !$0.isWhitespace }
        if !trimmed.isEmpty {
            for item in trimmed.split(separator: ",", omittingEmptySubsequences: false) {
                let parts = item.split(separator: ":", omittingEmptySubsequences: false)
                guard parts.count == 2, let h = Double(parts[0]), let g = Double(parts[1]) else {
                    throw ModelError(.invalidMealPlan,
                                     "bad meal '\(item)' in meal plan '\(spec)': expected HOUR:GRAMS, e.g. 7:45",
                                     value: String(item))
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

    /// The carbohydrate (g) announced at `minute`, 0 if none.
    public func announced(atMinute minute: Int) -> Double {
        for m in meals where m.minute == minute { return m.grams }
        return 0
    }
}
