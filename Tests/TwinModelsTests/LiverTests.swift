import Foundation
import Testing
import TwinTesting
import TwinSimulation
@testable import TwinModels

@Suite struct LiverTests {
    /// Reddyhoff 2015 against libRoadRunner (CVODE, rtol 1e-8) on 0-24 h, 1000 points.
    @Test(.enabled(if: SharedFolder.has("data/models/apap_reddyhoff2015_reconstructed_roadrunner.csv"),
                   "skipped: the libRoadRunner trace data/models/apap_reddyhoff2015_reconstructed_roadrunner.csv is missing (put ../shared beside the package or set TWINBANK_SHARED)"))
    func matchesRoadRunnerTrace() throws {
        let (header, rows) = try SharedData.readCSV(SharedData.data.appendingPathComponent("models/apap_reddyhoff2015_reconstructed_roadrunner.csv"))
        #expect(header == ["time", "APAP", "NAPQI", "GSH", "PAPS", "Adducts"])
        let ref = rows.map { $0.map { Double($0) ?? .nan } }
        let solution = try LiverSimulator.run(LiverScenario(hours: 24, points: ref.count))
        #expect(solution.count == ref.count)
        for (column, name) in header.enumerated().dropFirst() {
            let state = APAPLiverModel.stateNames.firstIndex(of: name)!
            let reference = ref.map { $0[column] }
            let scale = reference.map(abs).max()!
            var worst = 0.0
            for k in 0..<ref.count {
                #expect(abs(solution.times[k] - ref[k][0]) < 1e-8)
                worst = max(worst, abs(solution.value(state, at: k) - reference[k]) / scale)
            }
            print("liver \(name): max error / max |value| = \(worst)")
            // The reference is CVODE at rtol 1e-8 printed with 10 digits (checked against Radau to 1e-7).
            #expect(worst < 5e-7, "\(name)")
        }
        // Published behaviour of this reconstruction: GSH falls to 27.6 % of baseline.
        let gsh = solution.series(named: "GSH")!
        #expect(abs(gsh.min()! / gsh[0] - 0.276) < 0.001)
    }

    @Test func nacRestoresGlutathioneAndLowersAdducts() throws {
        // GSH is depleted within ~20 min of the dose and recovers by ~3 h (rows are minutes over 6 h).
        let without = try LiverSimulator.run(LiverScenario(hours: 6, points: 361))
        let with = try LiverSimulator.run(LiverScenario(nacDoses: [TimedDose(time: 0.25, amount: 1)], hours: 6, points: 361))
        let g0 = without.series(named: "GSH")!, g1 = with.series(named: "GSH")!
        // Identical before the NAC dose (row 15 is t = 0.25 h).
        for k in 0..<15 { #expect(abs(g0[k] - g1[k]) <= 1e-9 * g0[0]) }
        // While GSH is depleted NAC raises it; it never lowers it.
        let depleted = (20..<361).filter { g0[$0] < 0.95 * g0[0] }
        #expect(depleted.count > 30)
        for k in depleted { #expect(g1[k] > g0[k] + 0.002 * g0[0], "t = \(Double(k) / 60) h") }
        for k in 15..<361 { #expect(g1[k] >= g0[k] - 1e-9 * g0[0]) }
        // Restores towards, never above, the drug-free baseline (GSH feedback on its own synthesis).
        #expect(g1.allSatisfy { $0 <= g0[0] * (1 + 1e-9) })
        // Fewer protein adducts (the toxicity marker); an earlier dose protects more than a later one.
        let a0 = without.series(named: "Adducts")!.last!, a1 = with.series(named: "Adducts")!.last!
        #expect(a1 < a0)
        let late = try LiverSimulator.run(LiverScenario(nacDoses: [TimedDose(time: 1, amount: 1)], hours: 6, points: 361))
        let aLate = late.series(named: "Adducts")!.last!
        #expect(aLate > a1)
        #expect(aLate < a0)
        print("adducts at 6 h: no NAC \(a0), NAC at 15 min \(a1), NAC at 1 h \(aLate)")
    }

    @Test func negativeParameterAndDoseAreNamed() {
        var p = APAPLiverModel.Parameters()
        p.kGSH = -1
        do { _ = try LiverSimulator.run(LiverScenario(parameters: p)); Issue.record("accepted negative kGSH") } catch {
            #expect(error.code == .invalidParameter)
            #expect(error.message.contains("kGSH"))
        }
        do { _ = try LiverSimulator.run(LiverScenario(nacDoses: [TimedDose(time: -3, amount: 1)])); Issue.record("accepted dose") } catch {
            #expect(error.code == .invalidDose)
            #expect(error.message.contains("NAC"))
        }
    }

    @Test func analyticJacobianMatchesFiniteDifferences() {
        var p = APAPLiverModel.Parameters()
        p.nacSynthesisGain = 2.5
        let m = APAPLiverModel(parameters: p)
        let y = [8e-14, 3e-18, 4e-15, 9e-15, 1e-16, 0.7]   // GSH below its baseline 6.87e-15
        var j = [Double](repeating: 0, count: 36)
        let ok = y.withUnsafeBufferPointer { yb in j.withUnsafeMutableBufferPointer { m.jacobian(t: 0, y: yb, into: $0) } }
        #expect(ok)
        func f(_ x: [Double]) -> [Double] {
            var d = [Double](repeating: 0, count: 6)
            x.withUnsafeBufferPointer { xb in d.withUnsafeMutableBufferPointer { m.derivatives(t: 0, y: xb, dy: $0) } }
            return d
        }
        for col in 0..<6 {
            let h = abs(y[col]) * 1e-3
            var yp = y, ym = y
            yp[col] += h; ym[col] -= h
            let fp = f(yp), fm = f(ym)
            for row in 0..<6 {
                let fd = (fp[row] - fm[row]) / (2 * h)
                let scale = max(abs(fd), abs(j[row * 6 + col]), 1e-30)
                #expect(abs(fd - j[row * 6 + col]) / scale < 1e-5, "J[\(row)][\(col)]")
            }
        }
    }
}
