import Foundation
import TwinCore

/// A fast, allocation-light JSON writer for bundle event lines. Produces the same structure as `Event`'s
/// `Codable` form (so `JSONDecoder` reads it back), without going through `JSONEncoder`.
struct EventJSONWriter {
    var out: [UInt8] = []

    init() { out.reserveCapacity(512) }

    mutating func eventLine(_ e: Event) -> [UInt8] {
        out.removeAll(keepingCapacity: true)
        raw("{\"t\":\"event\",\"event\":{\"id\":\""); raw(e.id.hex); raw("\",\"twin\":"); string(e.twin.rawValue)
        raw(",\"effective\":{\"start\":\""); raw(e.effective.start.iso8601); raw("\"")
        if let end = e.effective.end { raw(",\"end\":\""); raw(end.iso8601); raw("\"") }
        raw("},\"recorded\":\""); raw(e.recorded.iso8601); raw("\",\"sequence\":"); raw(String(e.sequence))
        raw(",\"category\":\""); raw(e.category.rawValue); raw("\",\"code\":{\"system\":"); string(e.code.system)
        raw(",\"code\":"); string(e.code.code)
        if let d = e.code.display { raw(",\"display\":"); string(d) }
        raw("}")
        if let v = e.value { raw(",\"value\":"); value(v) }
        raw(",\"source\":"); string(e.source.description)
        raw(",\"provenance\":{\"derivedFrom\":[")
        for (i, h) in e.provenance.derivedFrom.enumerated() { if i > 0 { raw(",") }; raw("\""); raw(h.hex); raw("\"") }
        raw("]")
        if let m = e.provenance.model { raw(",\"model\":"); string(m) }
        if let m = e.provenance.modelVersion { raw(",\"modelVersion\":"); string(m) }
        if let p = e.provenance.parametersHash { raw(",\"parametersHash\":"); string(p) }
        if let s = e.provenance.seed { raw(",\"seed\":"); raw(String(s)) }
        if let n = e.provenance.notes { raw(",\"notes\":"); string(n) }
        if let t = e.provenance.sourceRecorded { raw(",\"sourceRecorded\":\""); raw(t.iso8601); raw("\"") }
        raw("}")
        if let r = e.retractedAtSequence { raw(",\"retractedAtSequence\":"); raw(String(r)) }
        if let er = e.erasure { raw(",\"erasure\":"); string(er) }
        raw("}}")
        return out
    }

    private mutating func value(_ v: Value) {
        switch v {
        case .quantity(let q): raw("{\"type\":\"quantity\",\"value\":"); number(q.value); raw(",\"unit\":"); string(q.unit); raw("}")
        case .concept(let c):
            raw("{\"type\":\"concept\",\"system\":"); string(c.system); raw(",\"code\":"); string(c.code)
            if let d = c.display { raw(",\"display\":"); string(d) }
            raw("}")
        case .text(let s): raw("{\"type\":\"text\",\"value\":"); string(s); raw("}")
        case .date(let d): raw("{\"type\":\"date\",\"value\":\""); raw(d.iso8601); raw("\"}")
        case .vector(let vec):
            raw("{\"type\":\"vector\",\"values\":[")
            for (i, x) in vec.values.enumerated() { if i > 0 { raw(",") }; number(x) }
            raw("],\"unit\":"); string(vec.unit); raw("}")
        case .boolean(let b): raw(b ? "{\"type\":\"boolean\",\"value\":true}" : "{\"type\":\"boolean\",\"value\":false}")
        }
    }

    private mutating func number(_ x: Double) {
        // values are validated finite at append; JSON has no NaN or infinity
        raw(x.isFinite ? "\(x)" : "0")
    }

    private mutating func raw(_ s: String) {
        var s = s
        s.withUTF8 { out.append(contentsOf: $0) }
    }

    private mutating func string(_ s: String) {
        out.append(34)
        var s = s
        s.withUTF8 { u in
            for c in u {
                switch c {
                case 34: out.append(92); out.append(34)
                case 92: out.append(92); out.append(92)
                case 0..<32:
                    let hex = Array("0123456789abcdef".utf8)
                    out.append(contentsOf: [92, 117, 48, 48, hex[Int(c >> 4)], hex[Int(c & 15)]])
                default: out.append(c)
                }
            }
        }
        out.append(34)
    }
}
