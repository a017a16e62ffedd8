import Foundation
import TwinBank
import TwinCore
import TwinServerAPI

/// The bank's values as the contract's types and back: the one place that knows both.
enum APIMapping {
    typealias S = Components.Schemas

    static func twin(_ r: TwinRecord) -> S.Twin {
        let t = r.twin
        return S.Twin(id: t.id.rawValue, kind: t.kind.rawValue, name: t.name,
                      attributes: .init(additionalProperties: t.attributes.mapValues(value)),
                      parts: t.parts.isEmpty ? nil : t.parts.map { .init(role: $0.role, twin: $0.twin.rawValue) },
                      created: r.created.iso8601, forkOf: r.fork?.parent.rawValue, forkedAt: r.fork?.forkPoint.iso8601)
    }

    static func category(_ c: S.Category) -> Event.Category {
        switch c {
        case .observation: .observation
        case .intervention: .intervention
        case .annotation: .annotation
        case .prediction: .prediction
        case .recommendation: .recommendation
        case .alert: .alert
        case .retraction: .retraction
        }
    }

    static func category(_ c: Event.Category) -> S.Category {
        switch c {
        case .observation: .observation
        case .intervention: .intervention
        case .annotation: .annotation
        case .prediction: .prediction
        case .recommendation: .recommendation
        case .alert: .alert
        case .retraction: .retraction
        }
    }

    static func concept(_ c: Concept) -> S.Concept { .init(system: c.system, code: c.code, display: c.display) }

    static func value(_ v: Value) -> S.Value {
        switch v {
        case .quantity(let q): .quantity(.init(_type: .quantity, value: q.value, unit: q.unit))
        case .concept(let c): .concept(.init(_type: .concept, system: c.system, code: c.code, display: c.display))
        case .text(let s): .text(.init(_type: .text, value: s))
        case .date(let d): .date(.init(_type: .date, value: d.iso8601))
        case .vector(let vec): .vector(.init(_type: .vector, values: vec.values, unit: vec.unit))
        case .boolean(let b): .boolean(.init(_type: .boolean, value: b))
        }
    }

    static func event(_ e: Event) -> S.Event {
        let p = e.provenance
        let provenance: S.Provenance? = p.isEmpty ? nil : .init(
            derivedFrom: p.derivedFrom.isEmpty ? nil : p.derivedFrom.map(\.hex), model: p.model, modelVersion: p.modelVersion,
            notes: p.notes, sourceRecorded: p.sourceRecorded?.iso8601)
        return S.Event(id: e.id.hex, twin: e.twin.rawValue, sequence: e.sequence, category: category(e.category), code: concept(e.code),
                       effective: .init(start: e.effective.start.iso8601, end: e.effective.end?.iso8601), recorded: e.recorded.iso8601,
                       value: e.value.map(value), source: e.source.description, provenance: provenance,
                       retractedAtSequence: e.retractedAtSequence, erased: e.erasure)
    }

    static func appendResult(_ r: AppendResult) -> S.AppendResult {
        .init(count: r.count, firstSequence: r.firstSequence, lastSequence: r.lastSequence, recorded: r.recorded.iso8601,
              ids: r.ids.map(\.hex), flagged: r.flagged.map { .init(row: $0.row, id: $0.id.hex, reason: $0.reason) })
    }

    /// A draft from the request's event, for `twin`; errors name the body field (`events[2].effective.start`).
    static func draft(_ d: S.EventDraft, twin: TwinID, field: String, now: Instant) throws -> EventDraft {
        func parse<T>(_ name: String, _ body: () throws -> T) throws -> T {
            do { return try body() } catch let e as TwinError {
                throw ServerError(.badRequest, "\(field).\(name): \(e.message)", field: "\(field).\(name)", value: e.value)
            }
        }
        let start = try parse("effective.start") { try Instant(parsing: d.effective.start, relativeTo: now, bound: .instant) }
        let end = try d.effective.end.map { text in try parse("effective.end") { try Instant(parsing: text, relativeTo: now, bound: .instant) } }
        if let end, end < start {
            throw ServerError(.badRequest, "\(field).effective.end is before its start", field: "\(field).effective.end", value: d.effective.end)
        }
        let source = try parse("source") { try Source(parsing: d.source) }
        let value = try d.value.map { v in try parse("value") { try Self.value(v, field: "\(field).value", now: now) } }
        var provenance = Provenance()
        if let p = d.provenance {
            provenance.model = p.model; provenance.modelVersion = p.modelVersion; provenance.notes = p.notes
            provenance.derivedFrom = try (p.derivedFrom ?? []).enumerated().map { i, h in
                guard let hash = ContentHash(hex: h) else {
                    throw ServerError(.badRequest, "\(field).provenance.derivedFrom[\(i)] is not an event id (64 hex digits)", field: "\(field).provenance.derivedFrom[\(i)]", value: h)
                }
                return hash
            }
            provenance.sourceRecorded = try p.sourceRecorded.map { t in try parse("provenance.sourceRecorded") { try Instant(parsing: t, relativeTo: now, bound: .instant) } }
        }
        return EventDraft(twin: twin, effective: EffectiveTime(start, end: end), category: d.category.map(category) ?? .observation,
                          code: Concept(system: d.code.system, code: d.code.code, display: d.code.display), value: value,
                          source: source, provenance: provenance)
    }

    static func value(_ v: S.Value, field: String, now: Instant) throws -> Value {
        switch v {
        case .quantity(let q): return .quantity(Quantity(q.value, q.unit))
        case .concept(let c): return .concept(Concept(system: c.system, code: c.code, display: c.display))
        case .text(let t): return .text(t.value)
        case .date(let d): return .date(try Instant(parsing: d.value, relativeTo: now, bound: .instant))
        case .vector(let vec): return .vector(Vector(vec.values, unit: vec.unit))
        case .boolean(let b): return .boolean(b.value)
        }
    }
}
