import Testing
import TwinSimulation
@testable import TwinRun

/// A seeded run's provenance names the generator's stream version, since a seed replays its figures only with it.
@Suite struct RunProvenanceGeneratorTests {
    @Test func aSeedIsRecordedWithTheGeneratorStreamVersion() {
        let seeded = RunProvenance(model: "m", modelVersion: "1", parametersHash: "h", solver: "auto",
                                   relativeTolerance: 1e-6, absoluteTolerance: 1e-9, seed: 7).provenance
        #expect(seeded.seed == 7)
        #expect(seeded.notes?.contains("generator=\(Xoshiro256StarStar.streamLabel)") == true)
        #expect(seeded.notes?.contains("rtol=1e-06") == true)
        let unseeded = RunProvenance(model: "m", modelVersion: "1", parametersHash: "h", solver: "auto",
                                     relativeTolerance: 1e-6, absoluteTolerance: 1e-9).provenance
        #expect(unseeded.notes?.contains("generator=") == false)
    }
}
