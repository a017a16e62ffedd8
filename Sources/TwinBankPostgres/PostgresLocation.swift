import Foundation
import TwinBank

/// Where a PostgreSQL bank is: `postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE[?sslmode=disable|require]`
/// (`postgresql://` too). The port defaults to 5432; user and password are percent-decoded.
///
/// Its ``description`` never shows the password, so a location can be named in errors and logs.
public struct PostgresLocation: Sendable, Hashable, CustomStringConvertible {
    /// How the connection is encrypted (`sslmode` in the URL).
    public enum TLSMode: String, Sendable, Hashable {
        /// No TLS (the default; a local or otherwise protected network).
        case disable
        /// TLS required, the server's certificate verified against the system's trust roots.
        case require
    }

    public var host: String
    public var port: Int
    public var username: String
    public var password: String?
    public var database: String
    public var tls: TLSMode

    public init(host: String, port: Int = 5432, username: String, password: String? = nil, database: String, tls: TLSMode = .disable) {
        self.host = host; self.port = port; self.username = username; self.password = password; self.database = database; self.tls = tls
    }

    /// Whether `text` is meant as a PostgreSQL URL (it starts with `postgres://` or `postgresql://`), so a caller
    /// choosing between storages can tell it from a file path before parsing it.
    public static func isPostgresURL(_ text: String) -> Bool {
        let lower = text.lowercased()
        return lower.hasPrefix("postgres://") || lower.hasPrefix("postgresql://")
    }

    /// Parses a PostgreSQL URL.
    /// - Throws: ``BankError`` `notABank` naming the URL (without its password) and what is missing or wrong.
    public init(url: String) throws {
        func malformed(_ problem: String) -> BankError {
            BankError(.notABank, "'\(PostgresLocation.redact(url))' is not a PostgreSQL bank URL: it \(problem) (expected postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE)",
                      value: PostgresLocation.redact(url))
        }
        guard PostgresLocation.isPostgresURL(url) else { throw malformed("does not start with postgres://") }
        guard let c = URLComponents(string: url) else { throw malformed("cannot be parsed as a URL") }
        guard let host = c.host, !host.isEmpty else { throw malformed("names no host") }
        guard let user = c.user, !user.isEmpty else { throw malformed("names no user (postgres://USER@HOST)") }
        let port = c.port ?? 5432
        guard (1...65535).contains(port) else { throw malformed("has port \(port), outside 1-65535") }
        let database = String(c.path.drop(while: { $0 == "/" }))
        guard !database.isEmpty, !database.contains("/") else { throw malformed("names no database (…/DATABASE)") }
        var tls = TLSMode.disable
        for item in c.queryItems ?? [] {
            switch item.name {
            case "sslmode":
                guard let v = item.value, let mode = TLSMode(rawValue: v) else {
                    throw malformed("has sslmode '\(item.value ?? "")' (disable or require)")
                }
                tls = mode
            default:
                throw malformed("has the unknown parameter '\(item.name)' (only sslmode)")
            }
        }
        self.init(host: host, port: port, username: c.user ?? user, password: c.password, database: database, tls: tls)
    }

    /// `postgres://USER@HOST:PORT/DATABASE` (with `?sslmode=require` when set): the URL without its password.
    public var description: String {
        var c = URLComponents()
        c.scheme = "postgres"; c.user = username; c.host = host; c.port = port; c.path = "/" + database
        if tls != .disable { c.queryItems = [URLQueryItem(name: "sslmode", value: tls.rawValue)] }
        return c.string ?? "postgres://\(username)@\(host):\(port)/\(database)"
    }

    /// `url` with any password replaced by `***`, for messages about a URL that may not parse.
    public static func redact(_ url: String) -> String {
        guard let schemeEnd = url.range(of: "://") else { return url }
        let rest = url[schemeEnd.upperBound...]
        let authorityEnd = rest.firstIndex(where: { $0 == "/" || $0 == "?" }) ?? rest.endIndex
        let authority = rest[..<authorityEnd]
        guard let at = authority.lastIndex(of: "@"), let colon = authority[..<at].firstIndex(of: ":") else { return url }
        return String(url[..<colon]) + ":***" + String(url[at...])
    }
}
