import Crypto
import Foundation
import TwinCore
import TwinSimulation

/// What makes a model run reproducible: the model and its version, a hash of its parameters (or of the model
/// file), the solver and its tolerances, the seed and the events it was derived from. Every prediction that
/// ``PredictionWriter`` writes to a thread carries it as ``Provenance``.
public struct RunProvenance: Sendable, Hashable, Codable {
    public var model: String
    public var modelVersion: String
    /// SHA-256 (hex) of the parameters in canonical text form, or of the model file.
    public var parametersHash: String
    public var solver: String
    public var relativeTolerance: Double
    public var absoluteTolerance: Double
    public var seed: UInt64?
    /// The thread events the run read (meals, doses, observations).
    public var derivedFrom: [ContentHash]

    public init(model: String, modelVersion: String, parametersHash: String, solver: String,
                relativeTolerance: Double, absoluteTolerance: Double, seed: UInt64? = nil, derivedFrom: [ContentHash] = []) {
        self.model = model; self.modelVersion = modelVersion; self.parametersHash = parametersHash
        self.solver = solver; self.relativeTolerance = relativeTolerance; self.absoluteTolerance = absoluteTolerance
        self.seed = seed; self.derivedFrom = derivedFrom
    }

    /// SHA-256 of `name=value` lines sorted by name (values in Swift's shortest round-trip form).
    public static func hash(parameters: [String: Double]) -> String {
        let text = parameters.keys.sorted().map { "\($0)=\(parameters[$0]!)" }.joined(separator: "\n")
        return SHA256.hash(data: Data(text.utf8)).map { String(format: "%02x", $0) }.joined()
    }

    /// SHA-256 of bytes (a model file).
    public static func hash(bytes: [UInt8]) -> String {
        SHA256.hash(data: bytes).map { String(format: "%02x", $0) }.joined()
    }

    /// The thread form: model, version, parameter hash, seed, and solver and tolerances in the notes (with a
    /// seed, also the random generator's stream version `generator=xoshiro256**/vN`, which the seed replays only with).
    public var provenance: Provenance {
        Provenance(derivedFrom: derivedFrom, model: model, modelVersion: modelVersion, parametersHash: parametersHash,
                   seed: seed, notes: "solver=\(solver) rtol=\(relativeTolerance) atol=\(absoluteTolerance)"
                       + (seed == nil ? "" : " generator=\(Xoshiro256StarStar.streamLabel)"))
    }

    /// The source that predictions of this run carry: `model:MODEL@VERSION`.
    public var source: Source { Source(.model, "\(model)@\(modelVersion)") }
}
