/// The `NAME=SPEC` syntax every comparison's options share: a name, then comma-separated `key=value` items.
enum OptionSyntax {
    /// Splits `NAME=SPEC` into the name (letters, digits, `-`, `_`) and SPEC's comma-separated `key=value`
    /// items, in order.
    /// - Throws: ``RunError`` `invalidBinding` naming the malformed text, name or item.
    static func split(_ text: String, example: String) throws -> (name: String, items: [(key: String, value: String)]) {
        guard let eq = text.firstIndex(of: "="), eq != text.startIndex else {
            throw RunError(.invalidBinding, "malformed option '\(text)': expected NAME=SPEC such as \(example)", value: text)
        }
        let name = String(text[..<eq])
        guard name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" }) else {
            throw RunError(.invalidBinding, "option name '\(name)' may hold letters, digits, - and _ only", value: name)
        }
        return (name, try text[text.index(after: eq)...].split(separator: ",").filter { !$0.isEmpty }.map { item in
            let kv = item.split(separator: "=", maxSplits: 1).map(String.init)
            guard kv.count == 2 else { throw RunError(.invalidBinding, "malformed option item '\(item)' in '\(text)'", value: String(item)) }
            return (kv[0], kv[1])
        })
    }

    /// A number in `range` for setting `key` of option `name`, or an error naming it.
    static func number(_ s: String, _ range: ClosedRange<Double>, _ key: String, in name: String) throws -> Double {
        guard let v = Double(s), v.isFinite, range.contains(v) else {
            throw RunError(.invalidBinding, "option '\(name)': \(key) must be a number in \(range.lowerBound)...\(range.upperBound), not '\(s)'", value: s)
        }
        return v
    }
}
