import Foundation
import TwinBank
import TwinCore
import TwinRun
import TwinServerAPI

/// The cardiac twin's data derived into its thread (`twinbank cardiac derive --json`): heart rate and its variability
/// from ECG strips (``TwinRun/ECGDerivation/derive(_:in:code:from:to:)``) and blood pressure from arterial pressure
/// waveforms (``TwinRun/ArterialPressureDerivation/derive(_:in:code:from:to:perBeat:)``), in that order as the command
/// runs them; a strip derived before appends nothing.
extension TwinAPI {
    func postTwinCardiacDerivation(_ input: Operations.PostTwinCardiacDerivation.Input) async throws -> Operations.PostTwinCardiacDerivation.Output {
        let call = try caller(purpose: input.headers.xPurposeOfUse, write: true)
        let id = try Self.twinID(input.path.id)
        guard case .json(let body) = input.body else { throw ServerError(.badRequest, "the body must be JSON", field: "body") }
        let key = try body.code.map { try Self.codeKey($0, field: "code") }
        let now = served.base.clock.now()
        let from = try Self.instant(body.from, "from", now, .instant)
        let to = try Self.instant(body.to, "to", now, .instant)
        if let from, let to, to < from {
            throw ServerError(.badRequest, "`to` (\(to.iso8601)) is before `from` (\(from.iso8601))", field: "to", value: body.to)
        }
        let perBeat = body.perBeat ?? false
        let (ecg, pressure) = try await served.run(call) { bank in
            (try ECGDerivation.derive(id, in: bank, code: key, from: from, to: to),
             try ArterialPressureDerivation.derive(id, in: bank, code: key, from: from, to: to, perBeat: perBeat))
        }
        func skipped(_ s: ECGDerivation.Report.Skipped) -> S.CardiacSkipped { .init(strip: s.strip.hex, code: s.code, reason: s.reason) }
        return .ok(.init(body: .json(.init(
            ecg: .init(derived: ecg.derived.map { d in
                .init(strip: d.strip.hex, code: d.code, start: d.start.iso8601, seconds: d.seconds, samplingRate: d.samplingRate, beats: d.beats,
                      heartRate: d.variability.heartRate, sdnn: d.variability.sdnn, rmssd: d.variability.rmssd, appended: d.appended.map(\.hex))
            }, skipped: ecg.skipped.map(skipped)),
            arterialPressure: .init(derived: pressure.derived.map { d in
                .init(waveform: d.waveform.hex, code: d.code, start: d.start.iso8601, seconds: d.seconds, samplingRate: d.samplingRate, beats: d.beats,
                      plausibleBeats: d.plausibleBeats, systolic: d.systolic, diastolic: d.diastolic, mean: d.mean, heartRate: d.heartRate,
                      appended: d.appended.map(\.hex))
            }, skipped: pressure.skipped.map(skipped))))))
    }
}
