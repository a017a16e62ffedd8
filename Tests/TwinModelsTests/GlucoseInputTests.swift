import Testing
@testable import TwinModels

@Suite struct GlucoseInputTests {
    @Test func thirtyPatientsWithTherapyConstants() throws {
        #expect(VirtualPatient.all.count == 30)
        for group in ["adolescent", "adult", "child"] {
            for i in 1...10 {
                let name = "\(group)#\(i < 10 ? "00" : "0")\(i)"
                let p = try VirtualPatient.named(name)
                #expect(p.initialState.count == 13)
                #expect(p.carbRatio > 0 && p.correctionFactor > 0)
                try p.parameters.validate()
            }
        }
    }

    @Test func unknownPatientNamesTheValue() {
        #expect(throws: ModelError.self) { try VirtualPatient.named("adult#011") }
        do { _ = try VirtualPatient.named("adult#011") } catch {
            #expect(error.code == .unknownPatient)
            #expect(error.value == "adult#011")
            #expect(error.message.contains("adult#011"))
        }
    }

    @Test(arguments: ["7:45,12", "7-45", "x:45", "7:45,,12:70", "-1:45", "7:-3", "7:45:1", "nan:4"])
    func badMealSpecNamesTheItem(spec: String) {
        do {
            _ = try MealPlan(parsing: spec)
            Issue.record("accepted bad meal plan '\(spec)'")
        } catch {
            #expect(error.code == .invalidMealPlan)
            let v = error.value ?? "\u{0}"
            #expect(v.isEmpty || spec.contains(v))
            #expect(error.message.contains(spec) || error.message.contains(v))
        }
    }

    @Test func mealPlanParsingAndSimglucoseRounding() throws {
        let plan = try MealPlan(parsing: " 7:45, 12.5:70 ,18.0083333333:80")
        #expect(plan.meals.map(\.minute) == [420, 750, 1080])
        #expect(plan.announced(atMinute: 750) == 70)
        #expect(plan.announced(atMinute: 751) == 0)
        // Python's round is half to even: 0.5 minute -> 0, 1.5 -> 2.
        #expect(try MealPlan(parsing: "0.00833333333333333:10").meals[0].minute == 0)
        #expect(try MealPlan(parsing: "").meals.isEmpty)
    }

    @Test func pumpRoundsToIncrementsAndClamps() {
        let pump = InsulinPump.insulet
        // 0.021125 U/min = 126.75 pmol/min, a multiple of the 0.05 pmol/min increment.
        #expect(abs(pump.basal(0.021125) - 0.021125) < 1e-15)
        #expect(abs(pump.bolus(1.00001) - 1.0) < 1e-5)
        #expect(pump.bolus(100) == 30)
        #expect(pump.basal(-1) == 0)
    }

    @Test func controllerBolusesOnAnnouncedMealWithCorrection() throws {
        let p = try VirtualPatient.named("adult#001")
        let c = BasalBolusController()
        let noMeal = c.action(for: p, meal: 0, glucose: 200)
        #expect(noMeal.bolus == 0)
        #expect(abs(noMeal.basal - p.parameters.u2ss * p.parameters.BW / 6000) < 1e-15)
        let meal = c.action(for: p, meal: 45, glucose: 120)
        #expect(abs(meal.bolus - 45 / p.carbRatio) < 1e-12)
        let corrected = c.action(for: p, meal: 45, glucose: 200)
        #expect(abs(corrected.bolus - (45 / p.carbRatio + 60 / p.correctionFactor)) < 1e-12)
    }

    @Test func steadyStateWithoutMealsStaysNearBasal() throws {
        let p = try VirtualPatient.named("adult#001")
        let trace = try GlucoseSimulator.run(GlucoseScenario(patient: p, meals: try MealPlan([]), hours: 6))
        #expect(trace.bg.count == 361)
        let drift = trace.bg.map { abs($0 - trace.bg[0]) }.max() ?? .nan
        #expect(drift < 1.0)
    }

    @Test func moreBasalInsulinLowersGlucose() throws {
        let p = try VirtualPatient.named("adult#001")
        let meals = try MealPlan(parsing: "7:45,12:70,18:80")
        let low = try GlucoseSimulator.run(GlucoseScenario(patient: p, meals: meals, controller: BasalBolusController(basalScale: 0.5)))
        let high = try GlucoseSimulator.run(GlucoseScenario(patient: p, meals: meals, controller: BasalBolusController(basalScale: 1.5)))
        #expect(high.meanBG < low.meanBG - 5)
        #expect(high.totalInsulin > low.totalInsulin)
    }

    @Test func badDurationAndParametersAreErrors() throws {
        var p = try VirtualPatient.named("child#001")
        #expect(throws: ModelError.self) { try GlucoseSimulator.run(GlucoseScenario(patient: p, meals: try MealPlan([]), hours: -1)) }
        p.parameters.Vg = -1
        do {
            _ = try GlucoseSimulator.run(GlucoseScenario(patient: p, meals: try MealPlan([]), hours: 1))
            Issue.record("negative Vg accepted")
        } catch {
            #expect(error.code == .invalidParameter)
            #expect(error.message.contains("Vg"))
        }
    }

    @Test func manyForksMatchSingleRuns() async throws {
        let p = try VirtualPatient.named("adolescent#002")
        let meals = try MealPlan(parsing: "7:45,12:70,18:80")
        let scenarios = (0..<6).map { GlucoseScenario(patient: p, meals: meals, hours: 6,
                                                       controller: BasalBolusController(basalScale: 0.5 + 0.2 * Double($0))) }
        let many = try await GlucoseSimulator.runMany(scenarios, workers: 2)
        #expect(many.count == 6)
        for (s, t) in zip(scenarios, many) { #expect(try GlucoseSimulator.run(s) == t) }
    }

    @Test func civilDateTimeArithmetic() throws {
        let t = try CivilDateTime(parsing: "2024-02-28 23:59")
        #expect(t.adding(seconds: 60).description == "2024-02-29 00:00:00")
        #expect(t.adding(seconds: 86400 + 60).description == "2024-03-01 00:00:00")
        #expect(CivilDateTime(year: 2024, month: 1, day: 1).adding(seconds: 1440 * 60).description == "2024-01-02 00:00:00")
        #expect(throws: ModelError.self) { try CivilDateTime(parsing: "2024-13-01") }
    }

    @Test func minuteRHSIsBitIdenticalToTheModel() throws {
        var rng = SystemRandomNumberGenerator()
        for patient in VirtualPatient.all.prefix(30) {
            for trial in 0..<20 {
                let cho = trial % 3 == 0 ? 0.0 : 5.0, ins = Double.random(in: 0...2, using: &rng)
                let lastQ = trial % 4 == 0 ? 0.0 : Double.random(in: 0...50_000, using: &rng)
                let food = trial % 4 == 0 ? 0.0 : Double.random(in: 0...80, using: &rng)
                let model = UVAPadovaModel(parameters: patient.parameters, carbohydrate: cho, insulin: ins,
                                           lastStomachContent: lastQ, lastFoodTaken: food)
                var fast = UVAPadovaMinuteRHS(parameters: patient.parameters)
                fast.setInputs(carbohydrate: cho, insulin: ins, lastStomachContent: lastQ, lastFoodTaken: food)
                for _ in 0..<3 {
                    let x = patient.initialState.map { $0 * Double.random(in: -0.1...2, using: &rng) + Double.random(in: 0...100, using: &rng) }
                    var a = [Double](repeating: 0, count: 13), b = a
                    x.withUnsafeBufferPointer { xb in a.withUnsafeMutableBufferPointer { model.derivatives(t: 0, y: xb, dy: $0) } }
                    x.withUnsafeBufferPointer { xb in b.withUnsafeMutableBufferPointer { fast.rhs(xb.baseAddress!, $0.baseAddress!) } }
                    #expect(a.map(\.bitPattern) == b.map(\.bitPattern), "\(patient.name)")
                }
            }
        }
    }
}
