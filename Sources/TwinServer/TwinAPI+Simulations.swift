import Foundation
import TwinBank
import TwinCore
import TwinModels
import TwinRun
import TwinServerAPI

/// A twin's model run as a job (`POST /api/v1/twins/{id}/simulations`): the UVA/Padova model bound by the twin's
/// `virtualPatient`, with the meals its thread holds in the span, run with the settings `twinbank simulate glucose`
/// takes (``TwinRun/GlucoseTwin/simulate(_:in:start:hours:controller:extraMeals:pump:integration:recordStates:)``).
/// The body is checked, the points capped and the gate asked (`simulate`) before the job is queued; the job's
/// `simulation` is the trajectories, thinned to a point every `every` minutes. With `record`, the predicted glucose is
/// written to the thread as ``TwinRun/GlucoseTwin/record(_:to:in:every:)`` writes it (the demo's record of a run).
extension TwinAPI {
    /// The most a simulation may ask for: its span (hours, as a comparison's) and its points per series.
    static let simulationCaps = (hours: 336.0, points: 10_000)

    /// A simulation's settings, parsed before the job is queued (and kept in the job's record).
    struct SimulationSettings: Sendable, Codable, Hashable {
        var start: Instant?
        var hours: Double = 24
        var every = 5
        var meals: String = ""
        var controller: String = GlucoseTherapy.basalBolus.rawValue
        var pump: String = InsulinPump.insulet.name
        var basalScale: Double = 1
        var bolusScale: Double = 1
        var integration: String = GlucoseIntegration.simglucose.rawValue
        var states = false
        var record = false
    }

    static func simulationSettings(_ body: S.SimulationRequest?, now: Instant) throws -> SimulationSettings {
        var s = SimulationSettings()
        guard let body else { return s }
        s.start = try instant(body.start, "start", now, .instant)
        if let h = body.hours {
            guard h.isFinite, h > 0, h <= simulationCaps.hours else {
                throw ServerError(.badRequest, String(format: "hours is the length of the run, above 0 and at most %g on this server", simulationCaps.hours),
                                  field: "hours", value: "\(h)")
            }
            s.hours = h
        }
        if let e = body.every {
            guard e >= 1, e <= 1440 else {
                throw ServerError(.badRequest, "every is the minutes between the points served, 1 to 1440, not \(e)", field: "every", value: String(e))
            }
            s.every = e
        }
        let points = simulationPoints(hours: s.hours, every: s.every)
        guard points <= simulationCaps.points else {
            throw ServerError(.badRequest, "a run of \(s.hours) hours with a point every \(s.every) minutes has \(points) points, over this server's \(simulationCaps.points): raise every or shorten hours",
                              field: "every", value: String(s.every))
        }
        if let meals = body.meals {
            do {
                let plan = try MealPlan(parsing: meals)
                try plan.check(withinHours: s.hours)
            } catch {
                throw ServerError(.badRequest, "meals: \(error.message)", field: "meals", value: error.value ?? String(meals.prefix(200)))
            }
            s.meals = meals
        }
        if let c = body.controller { s.controller = c.rawValue }
        if let p = body.pump { s.pump = p.rawValue }
        for (value, field) in [(body.basalScale, "basalScale"), (body.bolusScale, "bolusScale")] {
            guard let value else { continue }
            guard value.isFinite, value >= 0 else {
                throw ServerError(.badRequest, "\(field) is a multiplier of the controller's \(field == "basalScale" ? "basal rate" : "boluses"), at least 0", field: field, value: "\(value)")
            }
            if field == "basalScale" { s.basalScale = value } else { s.bolusScale = value }
        }
        if let i = body.integration { s.integration = i.rawValue }
        s.states = body.states ?? false
        s.record = body.record ?? false
        return s
    }

    /// The points a run of `hours` served every `every` minutes has: minutes 0, every, ... up to its last minute.
    static func simulationPoints(hours: Double, every: Int) -> Int {
        Int((hours * 60).rounded(.up)) / max(1, every) + 1
    }

    func startSimulation(_ input: Operations.StartSimulation.Input) async throws -> Operations.StartSimulation.Output {
        let body: S.SimulationRequest? = if case .json(let b)? = input.body { b } else { nil }
        // recording writes to the thread: a write scope; a run alone reads
        let call = try caller(purpose: input.headers.xPurposeOfUse, write: body?.record == true)
        let id = try Self.twinID(input.path.id)
        let settings = try Self.simulationSettings(body, now: served.base.clock.now())
        // the gate (and the token's role) decide now, so a refusal is a 403 rather than a failed job
        _ = try await served.run(call) { bank in
            try bank.authorize(.simulate, id)
            if settings.record { try bank.authorize(.write, id) }
            return try bank.twin(id)
        }
        let bank = served.acting(call)
        let spec = JobQueue.Spec(purpose: call.purpose, simulation: settings)
        let job = try await served.jobs.submit(kind: .simulation, target: id.rawValue, owner: call.identity.subject, spec: spec,
                                               work: Self.simulationWork(id, bank: bank, settings: settings))
        return .accepted(.init(headers: .init(location: "/api/v1/jobs/\(job.id)"), body: .json(Self.job(job))))
    }

    /// A simulation as a job's work: the twin's model run (and recorded, with `record`), then its trajectories
    /// reported to the queue.
    static func simulationWork(_ id: TwinID, bank: Bank, settings s: SimulationSettings) -> JobQueue.Work {
        { context in
            try Task.checkCancellation()  // cancelled while queued behind others
            let from: Instant
            if let start = s.start { from = start } else {
                guard let last = try await bank.run({ try $0.events(ThreadQuery(twin: id)) }).last else {
                    throw ServerError(.badRequest, "twin '\(id)' has no events: give start", field: "start")
                }
                from = Instant(microseconds: last.effective.start.microseconds / 3_600_000_000 * 3_600_000_000)
            }
            let therapy = GlucoseTherapy(rawValue: s.controller) ?? .basalBolus
            let controller = try therapy.controller(basalScale: s.basalScale, bolusScale: s.bolusScale)
            let meals = try MealPlan(parsing: s.meals).meals
            let pump = try InsulinPump.named(s.pump)
            let integration = GlucoseIntegration(rawValue: s.integration) ?? .simglucose
            let (run, recorded) = try await bank.run { bank in
                let run = try GlucoseTwin.simulate(id, in: bank, start: from, hours: s.hours, controller: controller, extraMeals: meals,
                                                   pump: pump, integration: integration, recordStates: s.states)
                let recorded = s.record ? try GlucoseTwin.record(run, to: id, in: bank, every: s.every).count : nil
                return (run, recorded)
            }
            await context.simulated(simulation(run, twin: id, every: s.every, recorded: recorded))
            await context(1)
            return []
        }
    }

    /// A run as the API serves it: a point every `every` minutes (BG and the states at minutes 0...n; the inputs,
    /// which follow each minute, at minutes before n).
    static func simulation(_ run: GlucoseTwin.Run, twin id: TwinID, every: Int, recorded: Int?) -> S.SimulationResult {
        let t = run.trace
        let minutes = Array(stride(from: 0, to: t.bg.count, by: max(1, every)))
        let inputs = minutes.filter { $0 < t.minutes }
        var series: [S.SimulationSeries] = [
            .init(name: "BG", code: GlucoseTwin.glucose.key.description, unit: "mg/dL", values: minutes.map { t.bg[$0] }),
            .init(name: "CHO", code: GlucoseTwin.carbohydrateIntake.key.description, unit: "g/min", values: inputs.map { t.carbohydrate[$0] }),
            .init(name: "insulin", unit: "U/min", values: inputs.map { t.insulin[$0] }),
        ]
        if t.states.count == 13 * t.bg.count {
            for i in 0..<13 {
                series.append(.init(name: "x\(i + 1)", unit: "model", values: minutes.map { t.states[13 * $0 + i] }))
            }
        }
        return S.SimulationResult(twin: id.rawValue, model: GlucoseTwin.modelID, modelVersion: GlucoseTwin.modelVersion, patient: t.patient,
                                  start: run.start.iso8601, hours: run.scenario.hours, every: every,
                                  mealsFromThread: run.provenance.derivedFrom.count,
                                  times: minutes.map { run.start.advanced(bySeconds: Double($0) * 60).iso8601 }, series: series,
                                  summary: .init(meanBG: t.meanBG, timeInRange: t.timeInRange, timeBelowRange: t.timeBelowRange, totalInsulin: t.totalInsulin),
                                  recorded: recorded)
    }
}
