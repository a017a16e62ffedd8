import TwinCore

/// The CSV thread format of `twinbank thread import`: `time,code,value,unit,source`.
public enum CSVThread {
    /// Parses CSV text into drafts for one twin. See ``Bank/importCSV(twin:text:defaultSource:)``.
    /// - Throws: ``BankError`` `invalidCSV` naming the line number and the offending field.
    public static func parse(_ text: String, twin: TwinID, defaultSource: Source) throws -> [EventDraft] {
        var drafts: [EventDraft] = []
        var codeCache: [Substring: Concept] = [:]
        var sourceCache: [Substring: Source] = [:]
        var lineNumber = 0
        for rawLine in text.split(separator: "\n", omittingEmptySubsequences: false) {
            lineNumber += 1
            var line = rawLine
            if line.last == "\r" { line = line.dropLast() }
            if line.allSatisfy({ $0 == " " || $0 == "\t" }) { continue }
            let fields = try split(line, lineNumber)
            if lineNumber == 1 || drafts.isEmpty, fields.first?.lowercased() == "time" { continue }
            func fail(_ why: String, _ value: Substring) -> BankError {
                BankError(.invalidCSV, "line \(lineNumber): \(why)", value: String(value))
            }
            guard fields.count >= 3, fields.count <= 5 else {
                throw fail("expected 3 to 5 fields (time,code,value,unit,source), found \(fields.count)", line)
            }
            let time: Instant
            do { time = try Instant(parsing: String(fields[0])) } catch let e as TwinError { throw fail(e.message, fields[0]) }
            let code: Concept
            if let c = codeCache[fields[1]] { code = c } else {
                do { code = try Concept(parsing: String(fields[1])) } catch let e as TwinError { throw fail(e.message, fields[1]) }
                codeCache[fields[1]] = code
            }
            let unit = fields.count > 3 ? fields[3] : ""
            let value: Value
            if let v = Double(fields[2]) {
                guard v.isFinite else { throw fail("value '\(fields[2])' is not a finite number", fields[2]) }
                value = .quantity(Quantity(v, unit.isEmpty ? "1" : String(unit)))
            } else {
                guard !fields[2].isEmpty else { throw fail("empty value", line) }
                do {
                    value = try Value.parse(unit.isEmpty ? String(fields[2]) : "\(fields[2]) \(unit)")
                } catch let e as TwinError { throw fail(e.message, fields[2]) }
            }
            var source = defaultSource
            if fields.count > 4, !fields[4].isEmpty {
                if let s = sourceCache[fields[4]] { source = s } else {
                    do { source = try Source(parsing: String(fields[4])) } catch let e as TwinError { throw fail(e.message, fields[4]) }
                    sourceCache[fields[4]] = source
                }
            }
            drafts.append(EventDraft(twin: twin, effective: EffectiveTime(time), category: .observation, code: code, value: value, source: source))
        }
        return drafts
    }

    static func split(_ line: Substring, _ lineNumber: Int) throws -> [Substring] {
        guard line.contains("\"") else { return line.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingSpacesCSV } }
        var fields: [Substring] = []
        var current = ""
        var inQuotes = false
        var i = line.startIndex
        while i < line.endIndex {
            let c = line[i]
            if inQuotes {
                if c == "\"" {
                    let n = line.index(after: i)
                    if n < line.endIndex, line[n] == "\"" { current.append("\""); i = n } else { inQuotes = false }
                } else { current.append(c) }
            } else if c == "\"" { inQuotes = true }
            else if c == "," { fields.append(Substring(current).trimmingSpacesCSV); current = "" }
            else { current.append(c) }
            i = line.index(after: i)
        }
        guard !inQuotes else { throw BankError(.invalidCSV, "line \(lineNumber): unterminated quote", value: String(line)) }
        fields.append(Substring(current).trimmingSpacesCSV)
        return fields
    }
}

extension Substring {
    var trimmingSpacesCSV: Substring {
        var s = self
        while s.first == " " { s = s.dropFirst() }
        while s.last == " " { s = s.dropLast() }
        return s
    }
}
