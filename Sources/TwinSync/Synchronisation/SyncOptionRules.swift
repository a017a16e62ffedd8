import TwinCore

/// Which synchronisation options combine: the rules stated once, checked by `twinbank sync`, `watch` and
/// `experiment` (each passes what it was given; options a command does not have stay nil).
///
/// Rules:
/// - `recalibrate` (minutes between re-calibrations) is 5 to 10080;
/// - `ensemble` (EnKF members) is 2 to 10000 and runs one filter: not with the cohort prior's bank of filters nor
///   with `recalibrate`;
/// - `particles` (the particle posterior) is 10 to 100000, draws from the cohort prior (so needs it) and moves
///   its own parameters: not with `recalibrate` or `ensemble`; `moves` (at least 1) only with it;
/// - a twin synchronised through a non-glucose binding (``ThreadBinding``) takes none of the glucose twin's
///   options (prior, recalibrate, ensemble, particles, CGM noise): its binding states its estimator and noise.
public struct SyncOptionRules: Sendable, Hashable {
    /// The prior, when given.
    public var prior: GlucoseSynchroniser.Prior?
    public var recalibrate: Int?
    public var ensemble: Int?
    public var particles: Int?
    public var moves: Int?
    /// Whether the glucose twin's CGM noise sd was given.
    public var noiseStandardDeviation: Double?
    /// The binding synchronised, when the twin is not (only) a glucose twin.
    public var binding: ThreadBinding.ModelReference.Kind?
    /// How the command spells choosing the cohort prior (`--prior cohort`; the experiment's `--cohort-without PATIENT`).
    public var cohortOption = "--prior cohort"

    public init(prior: GlucoseSynchroniser.Prior? = nil, recalibrate: Int? = nil, ensemble: Int? = nil, particles: Int? = nil, moves: Int? = nil,
                noiseStandardDeviation: Double? = nil, binding: ThreadBinding.ModelReference.Kind? = nil) {
        self.prior = prior; self.recalibrate = recalibrate; self.ensemble = ensemble; self.particles = particles; self.moves = moves
        self.noiseStandardDeviation = noiseStandardDeviation; self.binding = binding
    }

    /// Checks the rules above.
    /// - Throws: ``SyncError`` `conflictingOptions` (options that do not combine) or `invalidArgument` (a value out
    ///   of range), each naming the option as the command spells it (`--particles`) and the value.
    public func check() throws {
        if let recalibrate, recalibrate < 5 || recalibrate > 10_080 {
            throw SyncError(.invalidArgument, "--recalibrate: must be 5 to 10080 minutes (got \(recalibrate)).", value: String(recalibrate))
        }
        if let ensemble {
            if prior == .cohort || recalibrate != nil {
                throw SyncError(.conflictingOptions, "--ensemble: a bank of priors (--prior cohort) and --recalibrate run UKFs; drop --ensemble.", value: String(ensemble))
            }
            guard (2...10_000).contains(ensemble) else { throw SyncError(.invalidArgument, "--ensemble: needs 2 to 10000 members (got \(ensemble)).", value: String(ensemble)) }
        }
        if let particles {
            guard prior == .cohort else {
                throw SyncError(.conflictingOptions, "--particles: draws from the cohort prior; add \(cohortOption) (got \(prior.map { "the \($0.rawValue) prior" } ?? "no cohort")).", value: String(particles))
            }
            guard recalibrate == nil, ensemble == nil else {
                throw SyncError(.conflictingOptions, "--particles: the particle posterior moves its own parameters; leave --recalibrate and --ensemble out.", value: String(particles))
            }
            guard (10...100_000).contains(particles) else { throw SyncError(.invalidArgument, "--particles: must be at least 10 and at most 100000 (got \(particles)).", value: String(particles)) }
        }
        if let moves {
            guard particles != nil else { throw SyncError(.conflictingOptions, "--moves: applies to the particle posterior; add --particles.", value: String(moves)) }
            guard moves >= 1 else { throw SyncError(.invalidArgument, "--moves: must be at least 1 (got \(moves)).", value: String(moves)) }
        }
        if let noiseStandardDeviation, !(noiseStandardDeviation > 0 && noiseStandardDeviation.isFinite) {
            throw SyncError(.invalidArgument, "--noise-sd: must be a positive number of mg/dL (got \(noiseStandardDeviation)).", value: String(noiseStandardDeviation))
        }
        if let binding, binding != .glucose {
            let given = [(prior != nil, "--prior"), (recalibrate != nil, "--recalibrate"), (ensemble != nil, "--ensemble"), (particles != nil, "--particles"),
                         (noiseStandardDeviation != nil, "--noise-sd")].filter(\.0).map(\.1)
            if !given.isEmpty {
                throw SyncError(.conflictingOptions, "\(given.joined(separator: ", ")): the glucose twin's options do not apply to a \(binding.rawValue) binding (its binding states its estimator and noise); leave them out.",
                                value: given.joined(separator: ","))
            }
        }
    }
}
