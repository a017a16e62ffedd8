import Testing
import TwinCore
import TwinModels
@testable import TwinSync

/// The one name-to-parameter table of the UVA/Padova model (TwinModels), as the glucose twin and its estimates use it.
@Suite struct ParameterNamesTests {
    @Test func everyEstimableNameReadsAndWritesItsOwnParameter() throws {
        var p = try VirtualPatient.named("adult#001").parameters
        for name in GlucoseTwinProcess.estimable {
            let path = try #require(UVAPadovaParameters.keyPath(named: name), "\(name) has no key path")
            let before = p[keyPath: path]
            GlucoseTwinProcess.set(name, before * 2 + 1, in: &p)
            #expect(GlucoseTwinProcess.value(name, in: p) == before * 2 + 1, "\(name)")
        }
        #expect(UVAPadovaParameters.keyPath(named: "notAParameter") == nil)
    }

    /// An estimate naming a parameter the model does not have changes nothing (it used to land on kp3).
    @Test func anUnknownEstimateNameChangesNothing() throws {
        let p = try VirtualPatient.named("adult#001").parameters
        let t = Instant(seconds: 0)
        let recorded = EstimateEvents.Recorded(binding: "glucose",
            parameters: [ParameterEstimate.Parameter(id: "notAParameter", value: 3, unit: "1", scale: .log, standardDeviation: nil, prior: nil),
                         ParameterEstimate.Parameter(id: "Vmx", value: 0.05, unit: "1", scale: .log, standardDeviation: nil, prior: nil)],
            from: t, to: t, estimator: "UKF", seed: nil, readings: 1, recorded: t, events: [])
        let applied = recorded.applied(to: p)
        #expect(applied.kp3 == p.kp3)
        #expect(applied.Vmx == 0.05)
    }
}
