import Testing
@testable import TwinModels

/// The arterial baroreflex (Ursino 1998) on the circulation: rest is kept, acute challenges are compensated in the
/// directions physiology shows, and the size of the compensation is compared with a published human response.
@Suite struct BaroreflexTests {
    /// Mean of `value` over the beats starting in [from, to).
    static func mean(_ beats: [BeatSummary], from: Double, to: Double, _ value: (BeatSummary) -> Double) -> Double {
        let inside = beats.filter { $0.start >= from && $0.start < to }
        return inside.map(value).reduce(0, +) / Double(max(inside.count, 1))
    }

    static func pulsePressure(_ b: BeatSummary) -> Double { b.systolicPressure - b.diastolicPressure }

    @Test func restIsKeptWithTheReflex() throws {
        let open = try CirculationSimulator.run(CirculationScenario(seconds: 60, sampleInterval: 0.005))
        let closed = try CirculationSimulator.run(CirculationScenario(seconds: 60, baroreflex: Baroreflex(), sampleInterval: 0.005))
        let mapOpen = Self.mean(open, from: 40, to: 60, \.meanArterialPressure), mapClosed = Self.mean(closed, from: 40, to: 60, \.meanArterialPressure)
        #expect(abs(mapOpen - mapClosed) < 1.5, "MAP \(mapOpen) open, \(mapClosed) with the reflex")
        #expect(abs(Self.mean(closed, from: 40, to: 60, \.heartRate) - 75) < 1.5)
        // beat-to-beat steadiness: the reflex does not oscillate at rest
        let rates = closed.filter { $0.start >= 40 }.map(\.heartRate)
        #expect((rates.max() ?? 0) - (rates.min() ?? 0) < 2, "\(rates)")
    }

    @Test func denervatedReflexIsTheOpenLoopCirculation() throws {
        var none = Baroreflex()
        none.sensitivity = 0
        let bleed = [(start: 20.0, duration: 60.0, volume: 250.0)]
        let open = try CirculationSimulator.run(CirculationScenario(seconds: 120, haemorrhages: bleed, sampleInterval: 0.005))
        let held = try CirculationSimulator.run(CirculationScenario(seconds: 120, haemorrhages: bleed, baroreflex: none, sampleInterval: 0.005))
        let a = Self.mean(open, from: 100, to: 120, \.meanArterialPressure), b = Self.mean(held, from: 100, to: 120, \.meanArterialPressure)
        #expect(abs(a - b) < 1, "\(a) vs \(b)")
        #expect(abs(Self.mean(held, from: 100, to: 120, \.heartRate) - 75) < 0.5)
    }

    /// 375 mL withdrawn over 6.4 min, the protocol of P. Leonetti et al., "Stroke volume monitored by modeling flow
    /// from finger arterial pressure waves mirrors blood volume withdrawn by phlebotomy", Clin. Auton. Res. 14 (2004)
    /// 176-181 (12 patients): with the reflex, heart rate and resistance rise and the pressure falls much less than
    /// without it.
    @Test func haemorrhageIsCompensated() throws {
        let bleed = [(start: 60.0, duration: 384.0, volume: 375.0)]
        let open = try CirculationSimulator.run(CirculationScenario(seconds: 560, haemorrhages: bleed, sampleInterval: 0.005))
        let closed = try CirculationSimulator.run(CirculationScenario(seconds: 560, haemorrhages: bleed, baroreflex: Baroreflex(), sampleInterval: 0.005))
        func change(_ beats: [BeatSummary], _ value: (BeatSummary) -> Double) -> Double {
            Self.mean(beats, from: 500, to: 560, value) - Self.mean(beats, from: 20, to: 60, value)
        }
        let mapOpen = change(open, \.meanArterialPressure), mapClosed = change(closed, \.meanArterialPressure)
        print("375 mL: MAP \(mapOpen) open loop, \(mapClosed) with the reflex; HR +\(change(closed, \.heartRate))")
        #expect(mapOpen < -20, "the open loop falls steeply: \(mapOpen)")
        #expect(mapClosed < 0 && mapClosed > 0.65 * mapOpen, "the reflex holds at least a third of the fall: \(mapClosed) vs \(mapOpen)")
        #expect(change(closed, \.heartRate) > 4, "heart rate rises")
        #expect(change(open, \.heartRate) == 0)
    }

    /// A vasodilator (peripheral resistance x0.6, as nitroprusside) with the reflex: the heart rate rises and the
    /// pressure falls less than in the open loop.
    @Test func vasodilatorIsPartlyOffset() throws {
        let drug = [(time: 30.0, factor: 0.6)]
        let open = try CirculationSimulator.run(CirculationScenario(seconds: 150, resistanceChanges: drug, sampleInterval: 0.005))
        let closed = try CirculationSimulator.run(CirculationScenario(seconds: 150, resistanceChanges: drug, baroreflex: Baroreflex(), sampleInterval: 0.005))
        let before = Self.mean(closed, from: 10, to: 30, \.meanArterialPressure)
        let fallOpen = Self.mean(open, from: 120, to: 150, \.meanArterialPressure) - before
        let fallClosed = Self.mean(closed, from: 120, to: 150, \.meanArterialPressure) - before
        #expect(fallClosed < 0 && fallClosed > 0.8 * fallOpen, "\(fallClosed) vs \(fallOpen)")
        #expect(Self.mean(closed, from: 120, to: 150, \.heartRate) > 80)
    }

    /// Relative changes of stroke volume and pulse pressure and the change of heart rate (beats/min) over the
    /// Leonetti protocol: the mean over 500-560 s against the mean over 20-60 s (375 mL withdrawn from 60 to 444 s).
    static func leonetti(_ parameters: CirculationModel.Parameters) throws -> (stroke: Double, pulse: Double, heartRate: Double, map: Double) {
        let bleed = [(start: 60.0, duration: 384.0, volume: 375.0)]
        let beats = try CirculationSimulator.run(CirculationScenario(parameters: parameters, seconds: 560, haemorrhages: bleed,
                                                                     baroreflex: Baroreflex(), sampleInterval: 0.005))
        func relative(_ value: (BeatSummary) -> Double) -> Double {
            Self.mean(beats, from: 500, to: 560, value) / Self.mean(beats, from: 20, to: 60, value) - 1
        }
        func change(_ value: (BeatSummary) -> Double) -> Double {
            Self.mean(beats, from: 500, to: 560, value) - Self.mean(beats, from: 20, to: 60, value)
        }
        return (relative(\.strokeVolume), relative(Self.pulsePressure), change(\.heartRate), change(\.meanArterialPressure))
    }

    /// The published human response to the same 375 mL withdrawal (Leonetti et al. 2004, above: stroke volume
    /// 94.0 ± 5.2 → 80.7 ± 5.3 mL, -14.1 %; pulse pressure 53.0 ± 3.5 → 47.1 ± 3.2 mmHg, -11.1 %; heart rate
    /// 75.2 ± 3.7 → 78.3 ± 4.5 beats/min, +3.1, mean ± SE of 12 patients; the paper gives no SE of the changes).
    ///
    /// The two-circuit circulation (``CirculationModel/Parameters/withPulmonaryCirculation``: right heart, pulmonary
    /// circulation and transcapillary refill, calibrated on resting values only) is held to: stroke volume and
    /// pulse pressure within ±50 % of the published mean fall (SV -7.1 to -21.2 %, PP -5.6 to -16.7 %); heart rate
    /// within two combined SEs of the published +3.1 (±11.6 beats/min).
    @Test func twoCircuitCirculationMatchesThePublishedPhlebotomyResponse() throws {
        let r = try Self.leonetti(.withPulmonaryCirculation)
        print(String(format: "Leonetti 2004 phlebotomy (375 mL / 6.4 min), two-circuit: SV %+.1f %% (published -14.1 %%), PP %+.1f %% (-11.1 %%), HR %+.1f /min (+3.1), MAP %+.1f mmHg",
                     r.stroke * 100, r.pulse * 100, r.heartRate, r.map))
        #expect(abs(r.stroke - -0.141) <= 0.5 * 0.141, "stroke volume \(r.stroke)")
        #expect(abs(r.pulse - -0.111) <= 0.5 * 0.111, "pulse pressure \(r.pulse)")
        #expect(abs(r.heartRate - 3.1) < 11.6, "heart rate \(r.heartRate)")
        #expect(r.map < 0)
    }

    /// What each part contributes to the two-circuit figures: without transcapillary refill the stroke volume and
    /// pulse pressure fall further (the tissues give back about 80 mL over the protocol).
    @Test func refillsShareOfThePhlebotomyResponse() throws {
        var dry = CirculationModel.Parameters.withPulmonaryCirculation
        dry.refill = nil
        let without = try Self.leonetti(dry), with = try Self.leonetti(.withPulmonaryCirculation)
        print(String(format: "Leonetti protocol, two-circuit without refill: SV %+.1f %%, PP %+.1f %%, HR %+.1f /min, MAP %+.1f mmHg",
                     without.stroke * 100, without.pulse * 100, without.heartRate, without.map))
        #expect(without.stroke < with.stroke - 0.02)
        #expect(without.pulse < with.pulse - 0.02)
        #expect(without.map < with.map)
    }

    /// The match depends on the stressed volume, known in people only to within about 1.3-2 L: with 200 mL less or
    /// more blood (stressed volume 1.55 or 1.95 L against Ursino's 1.75) the same loss is a larger or smaller share
    /// of it, and the falls are larger or smaller.
    @Test func phlebotomyResponseAgainstStressedVolume() throws {
        var falls: [Double] = []
        for blood in [5100.0, 5300, 5500] {
            var p = CirculationModel.Parameters.withPulmonaryCirculation
            p.bloodVolume = blood
            let r = try Self.leonetti(p)
            falls.append(r.stroke)
            print(String(format: "Leonetti protocol, two-circuit, stressed volume %.0f mL: SV %+.1f %%, PP %+.1f %%, HR %+.1f /min",
                         blood - p.unstressedVolume, r.stroke * 100, r.pulse * 100, r.heartRate))
        }
        #expect(falls[0] < falls[1] && falls[1] < falls[2], "\(falls)")
    }

    /// The one-reservoir circulation (the default parameters) against the same response: the heart-rate rise is
    /// within the published spread, but stroke volume and pulse pressure fall about twice as much as measured (its
    /// one venous reservoir stands for all the capacitance, with a stressed volume of about 1 L, no pulmonary blood
    /// volume buffering the left ventricle's filling and no refill from the tissues). Kept as a known issue of that
    /// layout; the two-circuit layout above passes.
    @Test func oneReservoirCirculationAgainstThePublishedPhlebotomyResponse() throws {
        let r = try Self.leonetti(CirculationModel.Parameters())
        print(String(format: "Leonetti 2004 phlebotomy (375 mL / 6.4 min), one reservoir: SV %+.0f %% (published -14 %%), PP %+.0f %% (-11 %%), HR %+.1f /min (+3.1)",
                     r.stroke * 100, r.pulse * 100, r.heartRate))
        #expect(abs(r.heartRate - 3.1) < 11.6)
        withKnownIssue("the one-reservoir circulation loses about twice the published stroke volume and pulse pressure; use withPulmonaryCirculation (issue 30)") {
            #expect(abs(r.stroke - -0.141) <= 0.5 * 0.141, "stroke volume \(r.stroke)")
            #expect(abs(r.pulse - -0.111) <= 0.5 * 0.111, "pulse pressure \(r.pulse)")
        }
    }

    @Test func badReflexParametersAreNamed() throws {
        var b = Baroreflex()
        b.tauP = 0
        #expect(throws: ModelError.self) { try CirculationSimulator.run(CirculationScenario(baroreflex: b)) }
        b = Baroreflex()
        b.sensitivity = -.infinity
        do { _ = try CirculationSimulator.run(CirculationScenario(baroreflex: b)); Issue.record("accepted") } catch {
            #expect(error.message.contains("sensitivity"))
        }
        #expect(throws: ModelError.self) { try CirculationSimulator.run(CirculationScenario(sampleInterval: 0)) }
    }
}
