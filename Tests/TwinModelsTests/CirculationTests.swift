import Testing
@testable import TwinModels

@Suite struct CirculationTests {
    static func last(_ beats: [BeatSummary]) -> BeatSummary { beats[beats.count - 1] }

    @Test func healthyAdultAtRest() throws {
        let beats = try CirculationSimulator.run(CirculationScenario(seconds: 40))
        let b = Self.last(beats)
        print("rest: \(b.systolicPressure)/\(b.diastolicPressure) MAP \(b.meanArterialPressure) SV \(b.strokeVolume) CO \(b.cardiacOutput) EDV \(b.endDiastolicVolume) EF \(b.ejectionFraction) Pv \(b.venousPressure)")
        #expect((110...130).contains(b.systolicPressure))
        #expect((70...90).contains(b.diastolicPressure))
        #expect((85...100).contains(b.meanArterialPressure))
        #expect((60...80).contains(b.strokeVolume))
        #expect((4.5...6).contains(b.cardiacOutput))
        #expect((0.5...0.75).contains(b.ejectionFraction))
        // Periodic steady state: the last two beats agree.
        let prev = beats[beats.count - 2]
        #expect(abs(prev.strokeVolume - b.strokeVolume) < 0.5)
    }

    @Test func haemorrhageLowersPressuresAndStrokeVolume() throws {
        let base = Self.last(try CirculationSimulator.run(CirculationScenario(seconds: 60)))
        // 10 % of blood volume (500 mL) lost over 2 minutes, observed 1 minute later; no reflexes in this model.
        let bled = try CirculationSimulator.run(CirculationScenario(seconds: 240, haemorrhages: [(start: 60, duration: 120, volume: 500)]))
        let after = Self.last(bled)
        print("haemorrhage 500 mL: SV \(base.strokeVolume) -> \(after.strokeVolume), MAP \(base.meanArterialPressure) -> \(after.meanArterialPressure), Pv \(base.venousPressure) -> \(after.venousPressure)")
        #expect(after.strokeVolume < base.strokeVolume - 10)
        #expect(after.meanArterialPressure < base.meanArterialPressure - 10)
        #expect(after.systolicPressure < base.systolicPressure)
        #expect(after.diastolicPressure < base.diastolicPressure)
        // Filling pressure falls by about volume / venous compliance (500 / 100 = 5 mmHg, less what the arteries give up).
        #expect((2.5...5.5).contains(base.venousPressure - after.venousPressure))
        // A smaller bleed has a smaller effect (graded response).
        let small = Self.last(try CirculationSimulator.run(CirculationScenario(seconds: 240, haemorrhages: [(start: 60, duration: 120, volume: 200)])))
        #expect(small.meanArterialPressure > after.meanArterialPressure)
        #expect(small.meanArterialPressure < base.meanArterialPressure)
    }

    @Test func vasoactiveDrugShiftsPressure() throws {
        let base = Self.last(try CirculationSimulator.run(CirculationScenario(seconds: 60)))
        let constrict = Self.last(try CirculationSimulator.run(CirculationScenario(seconds: 90, resistanceChanges: [(time: 30, factor: 1.5)])))
        let dilate = Self.last(try CirculationSimulator.run(CirculationScenario(seconds: 90, resistanceChanges: [(time: 30, factor: 0.6)])))
        print("vasoconstrictor x1.5: MAP \(constrict.meanArterialPressure), SV \(constrict.strokeVolume); vasodilator x0.6: MAP \(dilate.meanArterialPressure), SV \(dilate.strokeVolume)")
        #expect(constrict.meanArterialPressure > base.meanArterialPressure + 15)
        #expect(dilate.meanArterialPressure < base.meanArterialPressure - 15)
        // Higher afterload lowers stroke volume (elastance heart); lower afterload raises it.
        #expect(constrict.strokeVolume < base.strokeVolume)
        #expect(dilate.strokeVolume > base.strokeVolume)
        // MAP scales less than proportionally with resistance because flow falls (MAP ≈ CO·R + Pv).
        #expect(constrict.meanArterialPressure < 1.5 * base.meanArterialPressure)
    }

    @Test func heartRateChangesOutput() throws {
        var p = CirculationModel.Parameters()
        p.heartRate = 100
        let fast = Self.last(try CirculationSimulator.run(CirculationScenario(parameters: p, seconds: 40)))
        let base = Self.last(try CirculationSimulator.run(CirculationScenario(seconds: 40)))
        #expect(fast.strokeVolume < base.strokeVolume)        // shorter filling
        #expect(fast.cardiacOutput > base.cardiacOutput)      // but more beats
    }

    @Test func badParametersAreNamed() {
        var p = CirculationModel.Parameters()
        p.arterialCompliance = -1
        do { _ = try CirculationSimulator.run(CirculationScenario(parameters: p)); Issue.record("accepted") } catch {
            #expect(error.code == .invalidParameter); #expect(error.message.contains("Ca"))
        }
        #expect(throws: ModelError.self) {
            try CirculationSimulator.run(CirculationScenario(haemorrhages: [(start: 0, duration: 10, volume: 4000)]))
        }
        #expect(throws: ModelError.self) { try CirculationSimulator.run(CirculationScenario(resistanceChanges: [(time: 1, factor: 0)])) }
    }
}
