/// A value of the small YAML subset PEtab problem files use: block mappings, block sequences (`- item`),
/// flow sequences (`[a, b]`), plain and quoted scalars, comments. Anchors, tags and multi-line scalars are
/// not supported and are reported as errors naming the line.
public indirect enum YAMLValue: Sendable, Hashable {
    case scalar(String)
    case list([YAMLValue])
    case map([String: YAMLValue])

    public subscript(key: String) -> YAMLValue? {
        if case .map(let m) = self { return m[key] }
        return nil
    }
    public var string: String? { if case .scalar(let s) = self { return s } else { return nil } }
    /// A scalar as a one-element list, or the list itself.
    public var strings: [String]? {
        switch self {
        case .scalar(let s): [s]
        case .list(let l): l.compactMap(\.string)
        case .map: nil
        }
    }
}

/// Parses PEtab's YAML subset.
public enum YAMLDocument {
    struct Line { let number: Int; let indent: Int; let text: String }

    public static func parse(_ text: String) throws -> YAMLValue {
        var lines: [Line] = []
        for (i, raw) in text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" }).enumerated() {
            var s = String(raw)
            if s.hasSuffix("\r") { s.removeLast() }
            if s.trimmingCharacters(in: .whitespaces) == "---" { continue }
            s = stripComment(s)
            if s.trimmingCharacters(in: .whitespaces).isEmpty { continue }
            if s.contains("\t") && s.prefix(while: { $0 == " " || $0 == "\t" }).contains("\t") {
                throw CalibrationError(.invalidPEtab, "YAML line \(i + 1) is indented with a tab.", value: s)
            }
            let indent = s.prefix(while: { $0 == " " }).count
            lines.append(Line(number: i + 1, indent: indent, text: String(s.dropFirst(indent))))
        }
        var index = 0
        if lines.isEmpty { return .map([:]) }
        let value = try parseBlock(lines, &index, indent: lines[0].indent)
        if index < lines.count {
            throw CalibrationError(.invalidPEtab, "unexpected indentation at YAML line \(lines[index].number).", value: lines[index].text)
        }
        return value
    }

    static func stripComment(_ s: String) -> String {
        var inSingle = false, inDouble = false
        var prev: Character = " "
        for (offset, c) in s.enumerated() {
            if c == "'" && !inDouble { inSingle.toggle() }
            if c == "\"" && !inSingle { inDouble.toggle() }
            if c == "#" && !inSingle && !inDouble && (prev == " " || offset == 0) {
                return String(s.prefix(offset))
            }
            prev = c
        }
        return s
    }

    static func parseBlock(_ lines: [Line], _ i: inout Int, indent: Int) throws -> YAMLValue {
        if lines[i].text.hasPrefix("- ") || lines[i].text == "-" {
            var items: [YAMLValue] = []
            while i < lines.count, lines[i].indent == indent, lines[i].text.hasPrefix("- ") || lines[i].text == "-" {
                let line = lines[i]
                let rest = line.text == "-" ? "" : String(line.text.dropFirst(2))
                let restTrimmed = rest.trimmingCharacters(in: .whitespaces)
                if restTrimmed.isEmpty {
                    i += 1
                    guard i < lines.count, lines[i].indent > indent else { items.append(.scalar("")); continue }
                    items.append(try parseBlock(lines, &i, indent: lines[i].indent))
                } else if isMappingEntry(restTrimmed) {
                    // "- key: value" starts a mapping whose further keys are indented to the key's column
                    let childIndent = indent + 2 + (rest.count - rest.drop(while: { $0 == " " }).count)
                    var replaced = lines
                    replaced[i] = Line(number: line.number, indent: childIndent, text: restTrimmed)
                    items.append(try parseBlock(replaced, &i, indent: childIndent))
                } else {
                    items.append(try parseInline(restTrimmed, line: line.number))
                    i += 1
                }
            }
            return .list(items)
        }
        var map: [String: YAMLValue] = [:]
        while i < lines.count, lines[i].indent == indent {
            let line = lines[i]
            guard let colon = mappingColon(line.text) else {
                throw CalibrationError(.invalidPEtab, "YAML line \(line.number) is neither 'key: value' nor a list item.", value: line.text)
            }
            let key = unquote(String(line.text[..<colon]).trimmingCharacters(in: .whitespaces))
            let rest = String(line.text[line.text.index(after: colon)...]).trimmingCharacters(in: .whitespaces)
            if map[key] != nil { throw CalibrationError(.invalidPEtab, "YAML key '\(key)' appears twice (line \(line.number)).", value: key) }
            i += 1
            if rest.isEmpty {
                if i < lines.count, lines[i].indent > indent {
                    map[key] = try parseBlock(lines, &i, indent: lines[i].indent)
                } else if i < lines.count, lines[i].indent == indent, lines[i].text.hasPrefix("- ") {
                    map[key] = try parseBlock(lines, &i, indent: indent)   // sequence at the key's own indentation
                } else {
                    map[key] = .scalar("")
                }
            } else {
                if rest.hasPrefix("&") || rest.hasPrefix("*") || rest.hasPrefix("!") || rest == "|" || rest == ">" {
                    throw CalibrationError(.unsupported, "YAML line \(line.number) uses an anchor, alias, tag or block scalar, which this reader does not support.", value: rest)
                }
                map[key] = try parseInline(rest, line: line.number)
            }
        }
        return .map(map)
    }

    static func mappingColon(_ s: String) -> String.Index? {
        var inSingle = false, inDouble = false
        var idx = s.startIndex
        while idx < s.endIndex {
            let c = s[idx]
            if c == "'" && !inDouble { inSingle.toggle() }
            if c == "\"" && !inSingle { inDouble.toggle() }
            if c == ":" && !inSingle && !inDouble {
                let next = s.index(after: idx)
                if next == s.endIndex || s[next] == " " { return idx }
            }
            idx = s.index(after: idx)
        }
        return nil
    }

    static func isMappingEntry(_ s: String) -> Bool {
        !(s.hasPrefix("[") || s.hasPrefix("{") || s.hasPrefix("\"") || s.hasPrefix("'")) && mappingColon(s) != nil
    }

    static func parseInline(_ s: String, line: Int) throws -> YAMLValue {
        if s.hasPrefix("[") {
            guard s.hasSuffix("]") else { throw CalibrationError(.invalidPEtab, "unterminated flow sequence at YAML line \(line).", value: s) }
            let inner = s.dropFirst().dropLast().trimmingCharacters(in: .whitespaces)
            if inner.isEmpty { return .list([]) }
            return .list(inner.split(separator: ",").map { .scalar(unquote($0.trimmingCharacters(in: .whitespaces))) })
        }
        if s.hasPrefix("{") { throw CalibrationError(.unsupported, "flow mappings are not supported (YAML line \(line)).", value: s) }
        return .scalar(unquote(s))
    }

    static func unquote(_ s: String) -> String {
        if s.count >= 2, (s.hasPrefix("\"") && s.hasSuffix("\"")) || (s.hasPrefix("'") && s.hasSuffix("'")) {
            return String(s.dropFirst().dropLast())
        }
        return s
    }
}

import Foundation
import TwinSimulation
