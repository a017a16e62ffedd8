import Foundation
import TwinCore

extension CSVThread {
    /// The header of an exported thread: every column of the format, in this order.
    public static let exportHeader = Column.allCases.map(\.rawValue).joined(separator: ",")

    /// What ``export(_:)`` wrote: the CSV text and how many events it left out.
    public struct Export: Sendable, Hashable {
        /// The header, then one row per event written (lines end with CRLF, as RFC 4180 writes them).
        public var text: String
        /// Rows written.
        public var rows: Int
        /// Events the format cannot hold, left out: retraction events (the bank writes them; an import refuses them)
        /// and erased events (no value left).
        public var leftOut: Int
    }

    /// Writes events as a CSV thread, the format ``CSVThread`` reads (`thread import --csv`, `POST .../events/csv`):
    /// `time` (an instant, or `START/END`), `code` (``TwinCore/Concept``'s text: `loinc:2339-0`, with its display as
    /// `http://loinc.org|2339-0|Glucose`), `value` (a number, `true`/`false`, a date, a code, `[v1,v2,...]`, or text:
    /// prefixed `text:` when it would read as something else), `unit` (of a quantity or vector), `source`, `category`.
    ///
    /// Promise: importing the file into the same twin appends nothing: each row reads back as the draft its event was
    /// made from (the same content hash), for events whose provenance is empty or only the implausible flag (which
    /// the bank sets again) and whose text has no leading or trailing spaces (the reader trims them). An event with
    /// more provenance (a model's prediction, a FHIR record's notes) is written with its data, but the CSV has no
    /// column for its provenance, so it would import as a new event.
    public static func export(_ events: [Event]) -> Export {
        var text = exportHeader + "\r\n"
        var rows = 0, leftOut = 0
        for e in events {
            guard e.category != .retraction, let value = e.value, !e.isErased else { leftOut += 1; continue }
            let (valueText, unit) = Self.text(of: value)
            let fields = [e.effective.description, e.code.description, valueText, unit, e.source.description, e.category.rawValue]
            text += fields.map(Self.quoted).joined(separator: ",") + "\r\n"
            rows += 1
        }
        return Export(text: text, rows: rows, leftOut: leftOut)
    }

    /// A value as the `value` and `unit` columns write it (read back by ``TwinCore/Value/parse(_:unit:)``).
    static func text(of value: Value) -> (value: String, unit: String) {
        switch value {
        case .quantity(let q): return (number(q.value), q.unit)
        case .vector(let v): return ("[" + v.values.map(number).joined(separator: ",") + "]", v.unit)
        case .boolean(let b): return (b ? "true" : "false", "")
        case .date(let d): return (d.iso8601, "")
        case .concept(let c): return (c.description, "")
        case .text(let s):
            // text that would read as a number, a date, a code or a boolean keeps its `text:` prefix
            let plain = (try? Value.parse(s, unit: nil)) == .text(s)
            return (plain ? s : "text:" + s, "")
        }
    }

    /// The shortest decimal text that reads back as the same Double.
    static func number(_ v: Double) -> String {
        if v == v.rounded(), abs(v) < 1e15 { return String(Int64(v)) }
        return "\(v)"
    }

    /// A field as RFC 4180 writes it: in double quotes (doubled inside) when it holds a comma, a quote or a line break.
    static func quoted(_ field: String) -> String {
        guard field.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return field }
        return "\"" + field.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}
