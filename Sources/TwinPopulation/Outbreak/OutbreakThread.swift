import Foundation
import TwinBank
import TwinCore
import TwinSimulation

/// Writes an outbreak ensemble to a population twin's thread as predictions.
public enum OutbreakThread {
    /// The code of each series written: `urn:twinbank:outbreak|<series name>` (e.g. `new_infections`).
    public static func code(_ series: OutbreakSeries) -> Concept {
        Concept(system: "urn:twinbank:outbreak", code: series.name, display: "outbreak: \(series.name.replacingOccurrences(of: "_", with: " "))")
    }

    /// Appends, as one all-or-nothing batch, one `prediction` event per day and series: the median over the
    /// runs of every ``OutbreakSeries`` (people, unit `1`), day `d` at `start + d` days. Every event carries the
    /// provenance of the run: model `twinbank-outbreak`, the seed, and notes holding the scenario (its file
    /// name or `default`), the number of agents and days, the run indices, the random generator's stream version
    /// (`Xoshiro256StarStar.streamLabel`, which the seed replays only with) and, verbatim, the scenario JSON.
    ///
    /// - Throws: `PopulationError.invalidArgument` when `twin` is not a population twin; the bank's errors
    ///   (unknown twin ...); nothing is written then.
    @discardableResult
    public static func write(_ ensemble: OutbreakEnsemble, agents: Int, seed: UInt64, scenarioName: String, scenarioJSON: String?,
                             to twin: TwinID, start: Instant, in bank: Bank) throws -> AppendResult {
        let record = try bank.twin(twin)
        guard record.twin.kind == .population else {
            throw PopulationError(.invalidArgument, "twin '\(twin)' is a \(record.twin.kind) twin: outbreak runs are written to a population twin (twinbank twin create --id \(twin)-population --kind population)",
                                  value: twin.rawValue)
        }
        guard let days = ensemble.runs.first?.days else { return try bank.append([]) }
        var notes = "scenario \(scenarioName); agents \(agents); days \(days); runs \(ensemble.runs.map(\.runIndex).map(String.init).joined(separator: ",")); generator \(Xoshiro256StarStar.streamLabel)"
        if let scenarioJSON { notes += "; scenario JSON: " + scenarioJSON }
        let provenance = Provenance(model: "twinbank-outbreak", modelVersion: TwinbankPopulationVersion.model, seed: seed, notes: notes)
        let source = Source(.model, "twinbank-outbreak@\(TwinbankPopulationVersion.model)")
        var drafts: [EventDraft] = []
        for series in OutbreakSeries.allCases {
            let median = ensemble.band(series).median
            let concept = code(series)
            for d in 0...days {
                drafts.append(EventDraft(twin: twin, effective: EffectiveTime(start.advanced(bySeconds: Double(d) * 86_400)), category: .prediction,
                                         code: concept, value: .quantity(Quantity(median[d], "1")), source: source, provenance: provenance))
            }
        }
        return try bank.append(drafts)
    }
}

/// The version of the outbreak model recorded in provenance (bumped when results change for the same inputs).
enum TwinbankPopulationVersion {
    static let model = "1"
}
