import Testing
import TwinSimulation
@testable import TwinModels

/// The two-circuit circulation (right heart and pulmonary circulation, Ursino 1998's compartments) with
/// transcapillary refill: a person at rest, blood conserved, and the directions of a haemorrhage's effects.
@Suite struct PulmonaryCirculationTests {
    static let person = CirculationModel.Parameters.withPulmonaryCirculation

    static func mean(_ beats: [BeatSummary], from: Double, to: Double, _ value: (BeatSummary) -> Double) -> Double {
        let inside = beats.filter { $0.start >= from && $0.start < to }
        return inside.map(value).reduce(0, +) / Double(max(inside.count, 1))
    }

    @Test func restingPersonWithUrsinosBloodSplit() throws {
        let beats = try CirculationSimulator.run(CirculationScenario(parameters: Self.person, seconds: 30, sampleInterval: 0.005))
        let b = beats[beats.count - 1]
        print(String(format: "two-circuit rest: %.0f/%.0f MAP %.1f SV %.1f CO %.2f EF %.2f Pv %.1f", b.systolicPressure,
                     b.diastolicPressure, b.meanArterialPressure, b.strokeVolume, b.cardiacOutput, b.ejectionFraction, b.venousPressure))
        #expect((112...128).contains(b.systolicPressure))
        #expect((72...88).contains(b.diastolicPressure))
        #expect((65...75).contains(b.strokeVolume))
        #expect((0.5...0.7).contains(b.ejectionFraction))
        #expect((2...10).contains(b.venousPressure))
        // the blood split and the pulmonary pressures at the end of the resting warm-up
        let (_, _, state) = try CirculationSimulator.warmUp(Self.person, nil)
        let model = CirculationModel(parameters: Self.person)
        let i = try #require(model.pulmonaryIndex)
        let total = Self.person.bloodVolume
        let arterial = state[1] / total, venous = state[2] / total, pulmonary = (state[i + 1] + state[i + 2]) / total
        print(String(format: "blood: arteries %.1f %%, systemic veins %.1f %%, pulmonary %.1f %%, ventricles %.1f %%; stressed %.0f mL",
                     arterial * 100, venous * 100, pulmonary * 100, (state[0] + state[i]) / total * 100, total - Self.person.unstressedVolume))
        #expect((0.14...0.20).contains(arterial))
        #expect((0.62...0.70).contains(venous))
        #expect((0.09...0.15).contains(pulmonary))
        #expect((1500...2000).contains(total - Self.person.unstressedVolume))
        let p = try #require(state.withUnsafeBufferPointer { model.pulmonaryPressures(t: 0, y: $0) })
        #expect((4...12).contains(p.ppv), "pulmonary venous pressure \(p.ppv)")
        #expect(abs(state.prefix(3).reduce(0, +) + state[i...].reduce(0, +) - total) < 1e-6)
    }

    /// At rest the person is at equilibrium with the reflex and the tissues: with both, the heart rate stays 75, the
    /// mean pressure is the open loop's and nothing drifts over a minute.
    @Test func restIsKeptWithTheReflexAndRefill() throws {
        var dry = Self.person
        dry.refill = nil
        let open = try CirculationSimulator.run(CirculationScenario(parameters: dry, seconds: 60, sampleInterval: 0.005))
        let closed = try CirculationSimulator.run(CirculationScenario(parameters: Self.person, seconds: 60, baroreflex: Baroreflex(), sampleInterval: 0.005))
        let mapOpen = Self.mean(open, from: 40, to: 60, \.meanArterialPressure), mapClosed = Self.mean(closed, from: 40, to: 60, \.meanArterialPressure)
        #expect(abs(mapOpen - mapClosed) < 1, "MAP \(mapOpen) open, \(mapClosed) with the reflex and refill")
        #expect(abs(Self.mean(closed, from: 40, to: 60, \.heartRate) - 75) < 1)
        #expect(abs(Self.mean(closed, from: 40, to: 60, \.meanArterialPressure) - Self.mean(closed, from: 5, to: 25, \.meanArterialPressure)) < 0.5)
        #expect(abs(Self.mean(closed, from: 40, to: 60, \.strokeVolume) - Self.mean(closed, from: 5, to: 25, \.strokeVolume)) < 0.5)
    }

    @Test func bloodIsConservedAndRefillIsTheOnlyGain() throws {
        for refill in [true, false] {
            var p = Self.person
            if !refill { p.refill = nil }
            // a resting capillary pressure above the state's (~25 mmHg here), so fluid enters throughout
            let model = CirculationModel(parameters: p, bleeding: [(start: 5, end: 15, rate: 20)], restingCapillaryPressure: 35)
            let options = SolverOptions(method: .dormandPrince, relativeTolerance: 1e-8, absoluteTolerance: .scalar(1e-8), maxStep: 0.02)
            let solution = try ODESolver(options: options).solve(model, initialState: model.initialState, from: 0, to: 25, output: .times([0, 25]))
            let i = try #require(model.pulmonaryIndex)
            let blood = [0, 1, 2, i, i + 1, i + 2].map { solution.value($0, at: 1) }.reduce(0, +)
            let gained = model.refillIndex.map { solution.value($0, at: 1) } ?? 0
            // the solver crosses the bleed's start and end without stopping, so its integral is exact to ~0.01 mL
            #expect(abs(blood - (p.bloodVolume - 200 + gained)) < 0.05, "\(blood), refill \(gained)")
            if refill { #expect(gained > 1, "capillary pressure below its resting value draws fluid in: \(gained)") }
        }
    }

    /// Losing 500 mL over 2 minutes with no reflex: pressures, stroke volume and the pulmonary pressures fall, and the
    /// tissues give back some fluid (transcapillary refill); with the reflex the heart rate rises and the pressure
    /// falls less.
    @Test func haemorrhageDirections() throws {
        let bleed = [(start: 30.0, duration: 120.0, volume: 500.0)]
        let open = try CirculationSimulator.runWithPressureWaveform(CirculationScenario(parameters: Self.person, seconds: 200, haemorrhages: bleed,
                                                                                       sampleInterval: 0.005)).beats
        let closed = try CirculationSimulator.run(CirculationScenario(parameters: Self.person, seconds: 200, haemorrhages: bleed,
                                                                      baroreflex: Baroreflex(), sampleInterval: 0.005))
        func change(_ beats: [BeatSummary], _ value: (BeatSummary) -> Double) -> Double {
            Self.mean(beats, from: 170, to: 200, value) - Self.mean(beats, from: 5, to: 30, value)
        }
        print("two-circuit 500 mL: MAP \(change(open, \.meanArterialPressure)) open, \(change(closed, \.meanArterialPressure)) with the reflex; SV \(change(open, \.strokeVolume)), \(change(closed, \.strokeVolume)); HR +\(change(closed, \.heartRate))")
        #expect(change(open, \.meanArterialPressure) < -5)
        #expect(change(open, \.strokeVolume) < -5)
        #expect(change(open, \.venousPressure) < 0)
        #expect(change(closed, \.meanArterialPressure) > change(open, \.meanArterialPressure))
        #expect(change(closed, \.heartRate) > 2)
        // the refill brings fluid in: without it the fall is deeper
        var dry = Self.person
        dry.refill = nil
        let noRefill = try CirculationSimulator.run(CirculationScenario(parameters: dry, seconds: 200, haemorrhages: bleed, sampleInterval: 0.005))
        #expect(change(noRefill, \.meanArterialPressure) < change(open, \.meanArterialPressure) - 0.5)
    }

    @Test func badPulmonaryParametersAreNamed() {
        var p = Self.person
        p.pulmonary?.venousCompliance = 0
        do { _ = try CirculationSimulator.run(CirculationScenario(parameters: p)); Issue.record("accepted") } catch {
            #expect(error.code == .invalidParameter); #expect(error.message.contains("Cpv"))
        }
        p = Self.person
        p.refill?.capillaryFraction = 2
        do { _ = try CirculationSimulator.run(CirculationScenario(parameters: p)); Issue.record("accepted") } catch {
            #expect(error.message.contains("fc"))
        }
        p = Self.person
        p.pulmonary?.venousUnstressedVolume = 3000
        #expect(throws: ModelError.self) { try CirculationSimulator.run(CirculationScenario(parameters: p)) }
        // a haemorrhage larger than the two-circuit person's stressed volume (1753 mL) is refused
        #expect(throws: ModelError.self) {
            try CirculationSimulator.run(CirculationScenario(parameters: Self.person, haemorrhages: [(start: 0, duration: 10, volume: 1800)]))
        }
    }
}
