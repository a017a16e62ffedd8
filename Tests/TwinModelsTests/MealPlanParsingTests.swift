import Testing
import TwinModels

/// `--meals` says what it means (issue 22, defect 8): `07:30` no longer silently means 30 g at 07:00.
@Suite struct MealPlanParsingTests {
    @Test(arguments: [
        ("7:45,12:70,18:80", [7.0, 12, 18], [45.0, 70, 80]),
        ("7.5:30", [7.5], [30]),
        ("07:30=45", [7.5], [45]),
        ("7:30=45", [7.5], [45]),
        ("00:15=20, 13:00=60", [0.25, 13], [20, 60]),
        ("0:45", [0], [45]),
        ("", [], []),
    ])
    func parses(spec: String, hours: [Double], grams: [Double]) throws {
        let plan = try MealPlan(parsing: spec)
        #expect(plan.meals.map(\.hours) == hours)
        #expect(plan.meals.map(\.grams) == grams)
    }

    @Test(arguments: [("07:30", "ambiguous"), ("00:45", "ambiguous"), ("07:75=10", "HH:MM=GRAMS"),
                      ("07:30=", "HH:MM=GRAMS"), ("7", "HOUR:GRAMS")])
    func refusesWhatItCannotReadUnambiguously(spec: String, why: String) {
        #expect {
            try MealPlan(parsing: spec)
        } throws: { error in
            guard let e = error as? ModelError else { return false }
            return e.code == .invalidMealPlan && e.message.contains(why) && e.message.contains(spec)
        }
    }

    @Test func mealsOutsideTheRunAreRefused() throws {
        let plan = try MealPlan(parsing: "1:45,30:20")
        #expect(throws: ModelError.self) { try plan.check(withinHours: 24) }
        try plan.check(withinHours: 31)
        #expect(throws: ModelError.self) { try MealPlan(parsing: "24:10").check(withinHours: 24) }
    }
}
