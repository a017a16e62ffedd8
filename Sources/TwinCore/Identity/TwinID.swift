/// Rules shared by every validated identifier: 1-128 characters from `[A-Za-z0-9._:#-]`, starting with a
/// letter or digit.
enum IdentifierRules {
    static let maxLength = 128
    static func check(_ text: String, what: String) throws {
        let bytes = Array(text.utf8)
        guard !bytes.isEmpty else {
            throw TwinError(.invalidIdentifier, "\(what) must not be empty", value: text)
        }
        guard bytes.count <= maxLength else {
            throw TwinError(.invalidIdentifier, "\(what) '\(text.prefix(40))...' is \(bytes.count) characters long; at most \(maxLength) are allowed", value: text)
        }
        for (i, c) in bytes.enumerated() {
            let alnum = (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122)
            let ok = alnum || (i > 0 && (c == 46 || c == 95 || c == 58 || c == 35 || c == 45))
            if !ok {
                let where_ = i == 0 ? "must start with a letter or digit" : "may contain only letters, digits and . _ : # -"
                throw TwinError(.invalidIdentifier, "invalid \(what) '\(text)': an identifier \(where_)", value: text)
            }
        }
    }
}

/// A validated twin identifier (also used for forks and templates, which are twins).
///
/// Guarantees: 1-128 characters, only `[A-Za-z0-9._:#-]`, first character a letter or digit.
public struct TwinID: Sendable, Hashable, Comparable, Codable, CustomStringConvertible, ExpressibleByStringLiteral {
    public let rawValue: String

    /// - Throws: ``TwinError`` `invalidIdentifier` naming the text.
    public init(_ text: String) throws {
        try IdentifierRules.check(text, what: "twin id")
        self.rawValue = text
    }
    /// For literals in code and tests; traps on an invalid literal (never use with user input).
    public init(stringLiteral value: String) {
        do { try self.init(value) } catch { preconditionFailure("\(error)") }
    }
    public static func < (a: TwinID, b: TwinID) -> Bool { a.rawValue < b.rawValue }
    public var description: String { rawValue }
    public init(from decoder: any Decoder) throws { try self.init(decoder.singleValueContainer().decode(String.self)) }
    public func encode(to encoder: any Encoder) throws { var c = encoder.singleValueContainer(); try c.encode(rawValue) }
}

/// A validated aggregate identifier, with the same rules as ``TwinID``.
public struct AggregateID: Sendable, Hashable, Comparable, Codable, CustomStringConvertible, ExpressibleByStringLiteral {
    public let rawValue: String
    /// - Throws: ``TwinError`` `invalidIdentifier` naming the text.
    public init(_ text: String) throws {
        try IdentifierRules.check(text, what: "aggregate id")
        self.rawValue = text
    }
    public init(stringLiteral value: String) {
        do { try self.init(value) } catch { preconditionFailure("\(error)") }
    }
    public static func < (a: AggregateID, b: AggregateID) -> Bool { a.rawValue < b.rawValue }
    public var description: String { rawValue }
    public init(from decoder: any Decoder) throws { try self.init(decoder.singleValueContainer().decode(String.self)) }
    public func encode(to encoder: any Encoder) throws { var c = encoder.singleValueContainer(); try c.encode(rawValue) }
}
