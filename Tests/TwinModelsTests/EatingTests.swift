import Testing
import TwinModels

/// ``Eating``: announced carbohydrate eaten as simglucose 0.2.11's patient eats it (at most 5 g/min, the rest
/// carried over; an episode starts at the first minute with food after one without).
@Suite struct EatingTests {
    @Test func aMealIsEatenAtTheRateAndCountedAsOneEpisode() {
        var announced = [Double](repeating: 0, count: 20)
        announced[2] = 45
        let s = Eating.schedule(announced: announced)
        #expect(s.eaten == [0, 0] + [Double](repeating: 5, count: 9) + [Double](repeating: 0, count: 9))
        #expect(s.startsEpisode.indices.filter { s.startsEpisode[$0] } == [2])
        #expect(s.foodTaken[2] == 5 && s.foodTaken[10] == 45 && s.foodTaken[19] == 45)
        #expect(s.eaten.reduce(0, +) == 45)
    }

    @Test func aPartialLastMinuteAndOverlappingMealsAreCarriedOver() {
        var announced = [Double](repeating: 0, count: 30)
        announced[0] = 12          // 5, 5, 2
        announced[1] = 4           // announced while eating: carried over → 5, 5, 5, 1
        announced[20] = 3
        let s = Eating.schedule(announced: announced)
        #expect(Array(s.eaten[0..<5]) == [5, 5, 5, 1, 0])
        #expect(s.startsEpisode.indices.filter { s.startsEpisode[$0] } == [0, 20])
        #expect(s.foodTaken[3] == 16 && s.foodTaken[19] == 16)
        #expect(s.foodTaken[20] == 3 && s.eaten[20] == 3)
    }

    @Test func anotherRateAndNegativeAnnouncements() {
        var eating = Eating(rate: 2)
        #expect(eating.advance(announced: -7) == (0, false))
        #expect(!eating.isEating)
        #expect(eating.advance(announced: 5) == (2, true))
        #expect(eating.planned == 3 && eating.isEating)
        #expect(eating.advance(announced: 0) == (2, false))
        #expect(eating.advance(announced: 0) == (1, false))
        #expect(eating.advance(announced: 0) == (0, false))
        #expect(!eating.isEating && eating.foodTaken == 5)
    }

    /// The simulator eats through ``Eating``: its carbohydrate intake per minute is the schedule of the plan's
    /// announcements (what a twin given the trace's `CHO` column reconstructs).
    @Test func theSimulatorEatsTheSchedule() throws {
        let run = try GlucoseSimulator.run(GlucoseScenario(patient: try VirtualPatient.named("child#003"),
                                                           meals: try MealPlan(parsing: "7:45,7.1:30,12:70"), hours: 14))
        let s = Eating.schedule(announced: run.carbohydrate)
        #expect(abs(s.eaten.reduce(0, +) - 145) < 1e-9)
        #expect(s.eaten.allSatisfy { $0 <= Eating.simglucoseRate })
    }
}
