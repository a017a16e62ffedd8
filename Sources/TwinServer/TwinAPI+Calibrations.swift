import Foundation
import Synchronization
import TwinBank
import TwinCalibration
import TwinCore
import TwinServerAPI

/// Calibration of a PEtab problem as a job (`POST /api/v1/calibrations`, `twinbank calibrate --petab PROBLEM.yaml
/// --json`): the problem's files come in the body by name and are loaded from memory
/// (``TwinCalibration/PEtabCalibration/load(yaml:files:maxSteps:)``: nothing is written to or read from the server's
/// disk). The names, the sizes and the settings are checked, the problem loaded and its model compiled, and the gate
/// asked (`aggregate` bank-wide, as an outbreak: it touches no twin) before the job is queued; the job fits the
/// problem (its progress the starts done; cancelled, it stops after the start it is in) and keeps what the command's
/// `--json` prints. The job's record holds the files (bounded by ``calibrationCaps``), so a queued calibration runs
/// after a restart.
extension TwinAPI {
    /// The most a calibration may ask for: its files (how many, and their text in all, in UTF-8 bytes), its starts and
    /// the integrator steps per simulation.
    static let calibrationCaps = (files: 64, bytes: 2 << 20, starts: 100, maxSteps: 1_000_000)

    /// A calibration's settings, checked before the job is queued (and kept in the job's record, files included).
    struct CalibrationSettings: Sendable, Codable, Hashable {
        var problem: String
        var files: [String: String]
        var starts = 10
        var seed: UInt64 = 1
        /// A start as parameter id to value on the linear scale (`--start`), nil for none.
        var start: [String: Double]?
        var maxSteps = 5_000
    }

    static func calibrationSettings(_ body: S.CalibrationRequest) throws -> CalibrationSettings {
        let files = body.files.additionalProperties
        guard !files.isEmpty else {
            throw ServerError(.badRequest, "files is empty: give the problem's YAML, its tables and its SBML model by name", field: "files")
        }
        guard files.count <= calibrationCaps.files else {
            throw ServerError(.payloadTooLarge, "files holds \(files.count) files, over this server's \(calibrationCaps.files) for a calibration", field: "files", value: String(files.count))
        }
        for name in files.keys.sorted() {
            guard Self.isPlainFileName(name) else {
                throw ServerError(.badRequest, "files: '\(name.prefix(100))' is not a plain file name (no '/', '\\', '..', control characters or leading dot; 1 to 255 bytes): the files of a problem are named as the YAML names them, side by side",
                                  field: "files", value: String(name.prefix(100)))
            }
        }
        let bytes = files.values.reduce(0) { $0 + $1.utf8.count }
        guard bytes <= calibrationCaps.bytes else {
            throw ServerError(.payloadTooLarge, "the files hold \(bytes) bytes of text, over this server's \(calibrationCaps.bytes) for a calibration", field: "files", value: String(bytes))
        }
        guard files[body.problem] != nil else {
            throw ServerError(.badRequest, "problem names '\(body.problem.prefix(100))', which is not among the files (\(files.keys.sorted().joined(separator: ", ").prefix(300)))",
                              field: "problem", value: String(body.problem.prefix(100)))
        }
        var s = CalibrationSettings(problem: body.problem, files: files)
        if let starts = body.starts {
            guard starts >= 0, starts <= calibrationCaps.starts else {
                throw ServerError(.badRequest, "starts is the number of Latin-hypercube starts, 0 to \(calibrationCaps.starts) on this server, not \(starts)", field: "starts", value: String(starts))
            }
            s.starts = starts
        }
        if let seed = body.seed {
            guard seed >= 0 else { throw ServerError(.badRequest, "seed must not be negative", field: "seed", value: String(seed)) }
            s.seed = UInt64(seed)
        }
        if let maxSteps = body.maxSteps {
            guard maxSteps >= 1, maxSteps <= calibrationCaps.maxSteps else {
                throw ServerError(.badRequest, "maxSteps is the most integrator steps per simulation, 1 to \(calibrationCaps.maxSteps) on this server, not \(maxSteps)",
                                  field: "maxSteps", value: String(maxSteps))
            }
            s.maxSteps = maxSteps
        }
        if let start = body.start?.additionalProperties, !start.isEmpty {
            for (id, value) in start.sorted(by: { $0.key < $1.key }) where !value.isFinite {
                throw ServerError(.badRequest, "start: the value of '\(id)' must be a finite number", field: "start", value: id)
            }
            s.start = start
        }
        return s
    }

    /// Whether `name` is a plain file name: not empty, at most 255 bytes, no path separator, no control character, not
    /// starting with a dot (so neither `.` nor `..`).
    static func isPlainFileName(_ name: String) -> Bool {
        !name.isEmpty && name.utf8.count <= 255 && !name.hasPrefix(".")
            && !name.unicodeScalars.contains { $0 == "/" || $0 == "\\" || $0.properties.generalCategory == .control }
    }

    /// The calibration of `s`'s problem, loaded from its files, with the command's options (`--starts`, `--seed`,
    /// `--start`); a problem the library refuses is a 422 naming `files` (the message names the file and the problem),
    /// a start it refuses a 400 naming `start`.
    static func calibration(_ s: CalibrationSettings) throws -> (PEtabCalibration, PEtabCalibration.Options) {
        let calibration: PEtabCalibration
        do { calibration = try PEtabCalibration.load(yaml: s.problem, files: s.files, maxSteps: s.maxSteps) } catch let e as CalibrationError {
            throw ServerError(.unprocessable, "the PEtab problem: \(e.message)", field: "files", value: e.value.map { String($0.prefix(300)) })
        }
        var options = PEtabCalibration.Options()
        options.starts = s.starts
        options.seed = s.seed
        if let start = s.start {
            do { options.additionalStarts = [try calibration.start(from: start)] } catch let e as CalibrationError {
                throw ServerError(.badRequest, "start: \(e.message)", field: "start", value: e.value)
            }
        }
        return (calibration, options)
    }

    func startCalibration(_ input: Operations.StartCalibration.Input) async throws -> Operations.StartCalibration.Output {
        let call = try caller(purpose: input.headers.xPurposeOfUse, write: false)
        guard case .json(let body) = input.body else { throw ServerError(.badRequest, "the body must be a JSON calibration request", field: "body") }
        let settings = try Self.calibrationSettings(body)
        // the gate (and the token's role) decide first, so a refusal is a 403 whatever the files hold; then the problem
        // is loaded and its model compiled off the event loop, so a malformed one is a 422 rather than a failed job
        try await served.run(call) { bank in
            try bank.authorize(.aggregate, nil)
            _ = try Self.calibration(settings)
        }
        let bank = served.acting(call)
        let spec = JobQueue.Spec(purpose: call.purpose, calibration: settings)
        let job = try await served.jobs.submit(kind: .calibration, target: settings.problem, owner: call.identity.subject, spec: spec,
                                               work: Self.calibrationWork(bank: bank, settings: settings))
        return .accepted(.init(headers: .init(location: "/api/v1/jobs/\(job.id)"), body: .json(Self.job(job))))
    }

    /// A calibration as a job's work: the problem loaded from the settings' files, fitted through `Bank.run` (off the
    /// cooperative pool), its progress the starts done; cancelled, the fit stops after the start it is in. A fit the
    /// library refuses (every start failed) ends the job `failed` with the library's code.
    static func calibrationWork(bank: Bank, settings s: CalibrationSettings) -> JobQueue.Work {
        { context in
            try Task.checkCancellation()  // cancelled while queued behind others
            let stop = StopFlag()
            let (calibration, base) = try Self.calibration(s)
            var withProgress = base
            withProgress.progress = { done, total in
                let fraction = Double(done) / Double(max(1, total))
                Task { await context(fraction) }
                return !stop.raised.load(ordering: .relaxed)
            }
            let options = withProgress
            let result: PEtabCalibration.Result
            do {
                result = try await withTaskCancellationHandler {
                    try await bank.run { _ in try calibration.fit(options: options) }
                } onCancel: {
                    stop.raised.store(true, ordering: .relaxed)
                }
            } catch let e as CalibrationError {
                throw ServerError(ServerError.Code(e.code.description, .unprocessableContent), e.message, value: e.value.map { String($0.prefix(300)) })
            }
            let json = result.json(problemFile: s.problem, seed: s.seed)
            await context.calibrated(try JSONDecoder().decode(S.CalibrationResult.self, from: Data(json.utf8)))
            return []
        }
    }
}

/// A flag a task's cancellation raises for work running on another thread (a calibration's fit, which checks it
/// between starts).
private final class StopFlag: Sendable {
    let raised = Atomic<Bool>(false)
}
