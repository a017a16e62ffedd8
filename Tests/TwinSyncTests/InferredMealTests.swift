import Testing
import TwinCore
import TwinBank
import TwinModels
@testable import TwinSync

/// Issue 26 item 1: meals eaten but not announced, inferred from readings that keep coming in above the twin's
/// predictions (a one-sided CUSUM on the normalised innovations).
@Suite("Inferred meals")
struct InferredMealTests {
    /// Innovations every 5 minutes from minute 0 with residual `z × 10` and variance 100 (sd 10).
    static func innovations(_ zs: [Double]) -> [ModelHealth.Innovation] {
        zs.enumerated().map { ModelHealth.Innovation(time: Double($0.offset * 5), residual: $0.element * 10, variance: 100) }
    }

    @Test func readingsThatKeepRisingAboveThePredictionsAreAMeal() throws {
        // z = 2 from minute 50: the CUSUM grows by 1.5 a reading and passes 4 at the third (minute 60)
        let zs = [Double](repeating: 0.2, count: 10) + [2, 2, 2, 2] + [Double](repeating: -0.5, count: 10)
        let corrections = (0..<24).map { InferredMeal.Correction(minute: $0 * 5, milligrams: $0 >= 10 && $0 < 13 ? 4000 : 100) }
        let meals = InferredMeal.detect(innovations: Self.innovations(zs), corrections: corrections, carbohydrate: [Double](repeating: 0, count: 200))
        let meal = try #require(meals.first)
        #expect(meals.count == 1)
        // it goes on while the readings stay above (z = 2 at minute 65 too) until the sum returns to 0 (minute 90..)
        #expect(meal.kind == .unannounced && meal.firstMinute == 50 && meal.lastMinute == 60)
        #expect(meal.readings == 4 + 5, "\(meal)")  // S: 1.5 3 4.5 6, then -1 a reading: 5 4 3 2 1 (0 at the sixth)
        #expect(abs(meal.grams - 12.6) < 1e-9 && abs(meal.cusum - 4.5) < 1e-9, "\(meal)")
        #expect(meal.evidence.contains("no meal was announced") && meal.evidence.contains("13 g"))
    }

    @Test func aRiseAfterAnAnnouncedMealIsMoreThanAnnounced() throws {
        var carbohydrate = [Double](repeating: 0, count: 200)
        carbohydrate[10] = 45  // 45 g announced at minute 10, 40 minutes before the rise
        let zs = [Double](repeating: 0, count: 10) + [2, 2, 2, 2]
        let meal = try #require(InferredMeal.detect(innovations: Self.innovations(zs), carbohydrate: carbohydrate).first)
        #expect(meal.kind == .largerThanAnnounced && meal.announcedGrams == 45 && meal.grams == 0)
    }

    @Test("noise, falls and short blips are not meals", arguments: [
        [Double](repeating: 0.4, count: 100),                // readings a little above, within the drift
        [Double](repeating: -2, count: 20),                  // readings below the predictions
        [0, 0, 3, 0, 0, 3, -1, -1, 0, 0, 3, -2],             // isolated blips: the sum falls back between them
    ])
    func notMeals(zs: [Double]) {
        #expect(InferredMeal.detect(innovations: Self.innovations(zs), carbohydrate: []).isEmpty)
    }

    @Test func thresholdAndDriftAreSettings() {
        var settings = InferredMeal.Settings()
        settings.threshold = 10
        #expect(InferredMeal.detect(innovations: Self.innovations([2, 2, 2, 2]), carbohydrate: [], settings: settings).isEmpty)
        settings.threshold = 1
        #expect(InferredMeal.detect(innovations: Self.innovations([2, 2, 2, 2]), carbohydrate: [], settings: settings).count == 1)
        #expect(InferredMeal.detect(innovations: Self.innovations([2, 2, -9, 2, 2]), carbohydrate: [], settings: settings).count == 2)
    }
}

/// The live loop writes an inferred meal as an annotation of the thread with its evidence, once, however many
/// synchronisations see it.
@Suite("Inferred meals in the thread")
struct InferredMealThreadTests {
    @Test func anUnannouncedMealIsAnnotatedOnceWithItsEvidence() async throws {
        var s = GlucoseDepartures.Settings()
        s.mealBias = 1; s.mealError = 0; s.sensitivityAmplitude = 0; s.sensorSD = 0; s.whiteSD = 8
        s.snacks = 2; s.snackGrams = 40...50
        let person = try GlucoseDepartures.person(try VirtualPatient.named("adult#001"), meals: try MealPlan(parsing: "7:45,12:70,18:80"), hours: 24, settings: s, seed: 5)
        let snacks = person.eaten.indices.filter { person.eaten[$0] > 0 && person.announced[$0] == 0 }
        #expect(snacks.count == 2)
        let f = try GlucoseThreadFixture(bg: person.bg, carbohydrate: person.announced, insulin: person.insulin)
        for origin in stride(from: 240, to: person.bg.count - 30, by: 60) {
            var o = f.options(origin: origin)
            o.from = GlucoseThreadFixture.at(max(0, origin - 480))
            _ = try await GlucoseSynchroniser.synchronise(f.twin, in: f.bank, options: o)
        }
        let inferred = try f.bank.events(ThreadQuery(twin: f.twin, code: GlucoseSynchroniser.inferredMeal.key, category: .annotation))
        let minutes = inferred.map { Int(Double($0.effective.start.microseconds - GlucoseThreadFixture.day0.microseconds) / 60e6) }.sorted()
        print("snacks eaten at \(snacks), inferred at \(minutes): \(inferred.map { $0.provenance.notes ?? "" }.first ?? "")")
        // every snack seen within an hour of being eaten
        for snack in snacks { #expect(minutes.contains { (0...60).contains($0 - snack) }, "snack at minute \(snack); inferred at \(minutes)") }
        // written once each: no two within half an hour
        #expect(zip(minutes, minutes.dropFirst()).allSatisfy { $1 - $0 > 30 }, "\(minutes)")
        for e in inferred {
            #expect(e.source == EstimateEvents.source)
            #expect(e.provenance.notes?.contains("evidence=") == true && e.provenance.notes?.contains("inferred=") == true)
            if case .quantity(let q) = e.value { #expect(q.unit == "g" && q.value >= 0) } else { Issue.record("not a quantity: \(String(describing: e.value))") }
        }
    }
}
