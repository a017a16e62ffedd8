import Foundation
import Yams

/// A YAML value as PEtab problem files use it: scalars (kept as their text), sequences and mappings.
/// Produced by ``YAMLDocument/parse(_:name:)`` from any YAML 1.1 document (through Yams): block and flow
/// collections, quoted scalars (commas and `#` inside quotes included), anchors and aliases, block scalars.
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

/// Reads a PEtab problem's YAML file through Yams.
public enum YAMLDocument {
    /// Parses one YAML document. An empty document is an empty mapping; a null scalar (`~`, `null`, nothing)
    /// is the empty string.
    /// - Parameter name: where the text came from (a file name), for messages.
    /// - Throws: ``CalibrationError`` `invalidPEtab` naming `name`, the line and column and the problem
    ///   (a syntax error, a key given twice, a key that is not a scalar, several documents in one file).
    public static func parse(_ text: String, name: String = "YAML text") throws -> YAMLValue {
        let root: Node?
        do {
            root = try Yams.compose(yaml: text)
        } catch let error as YamlError {
            throw CalibrationError(.invalidPEtab, "\(name) is not valid YAML: \(describe(error))", value: name)
        } catch {
            throw CalibrationError(.invalidPEtab, "\(name) is not valid YAML: \(error)", value: name)
        }
        guard let root else { return .map([:]) }
        return try value(root, name: name)
    }

    static func value(_ node: Node, name: String) throws -> YAMLValue {
        switch node {
        case .scalar(let s):
            return .scalar(node.null != nil ? "" : s.string)
        case .sequence(let items):
            return .list(try items.map { try value($0, name: name) })
        case .mapping(let pairs):
            var map: [String: YAMLValue] = [:]
            for (k, v) in pairs {
                guard case .scalar(let key) = k else {
                    throw CalibrationError(.invalidPEtab, "\(name)\(at(k.mark)): a mapping key is not a plain value.", value: name)
                }
                map[key.string] = try value(v, name: name)
            }
            return .map(map)
        case .alias:
            // Yams resolves aliases while composing; an unresolved one is an error rather than a guess
            throw CalibrationError(.invalidPEtab, "\(name)\(at(node.mark)): an alias the reader could not resolve.", value: name)
        }
    }

    static func at(_ mark: Mark?) -> String { mark.map { " (line \($0.line), column \($0.column))" } ?? "" }

    /// Yams's message in one line: the position and the problem, without the source snippet.
    static func describe(_ error: YamlError) -> String {
        switch error {
        case let .scanner(context, problem, mark, _), let .parser(context, problem, mark, _), let .composer(context, problem, mark, _):
            return "line \(mark.line), column \(mark.column): \(context.map { "\($0.text) " } ?? "")\(problem)."
        case let .duplicatedKeysInMapping(duplicates, context):
            return "line \(context.mark.line): the key\(duplicates.count == 1 ? "" : "s") \(duplicates.sorted().map { "'\($0)'" }.joined(separator: ", ")) appear\(duplicates.count == 1 ? "s" : "") twice in one mapping."
        default:
            return String(describing: error).split(separator: "\n").first.map(String.init) ?? "\(error)"
        }
    }
}
