import Foundation

/// The throwaway PostgreSQL server a test run gets from `Scripts/with-postgres`.
///
/// `Scripts/with-postgres COMMAND` starts a cluster on a free loopback port, exports its address as
/// `TWINBANK_POSTGRES_URL` (`postgres://USER@127.0.0.1:PORT/DB`, trust authentication, no TLS) and removes the
/// cluster when the command ends. Where it finds no PostgreSQL binaries it runs the command without the URL and with
/// `TWINBANK_POSTGRES_SKIP` set to the reason. Tests that need the server are enabled by ``isAvailable`` and report
/// ``skipReason`` when they skip, so a run without a server says why rather than passing silently:
///
///     @Test(.enabled(if: PostgresTestServer.isAvailable, Comment(rawValue: PostgresTestServer.skipMessage)))
public enum PostgresTestServer {
    /// The variable that carries the server's URL.
    public static let urlVariable = "TWINBANK_POSTGRES_URL"
    /// The variable `Scripts/with-postgres` sets to its reason when it could not start a server.
    public static let skipVariable = "TWINBANK_POSTGRES_SKIP"

    /// `TWINBANK_POSTGRES_URL` when set and not empty, else `nil`.
    public static var url: String? { variable(urlVariable) }

    /// True when a server's URL is set. A URL that is set but malformed still counts: the test then fails on
    /// ``endpoint()``, naming the URL, rather than skipping.
    public static var isAvailable: Bool { url != nil }

    /// Why the PostgreSQL tests skip, or `nil` when ``isAvailable``: `TWINBANK_POSTGRES_SKIP` when set and not empty
    /// (the script's reason, e.g. no `initdb` found), else a note that the run did not go through the script.
    public static var skipReason: String? {
        if isAvailable { return nil }
        return variable(skipVariable) ?? "\(urlVariable) is not set: run the tests through Scripts/with-postgres"
    }

    /// `"skipped: <reason>"`, the comment of a PostgreSQL test's `.enabled(if:)` trait (empty when available).
    public static var skipMessage: String { skipReason.map { "skipped: " + $0 } ?? "" }

    /// Where a PostgreSQL server listens and whom to connect as.
    public struct Endpoint: Sendable, Equatable {
        public var host: String
        public var port: Int
        public var username: String
        public var password: String?
        public var database: String

        public init(host: String, port: Int, username: String, password: String?, database: String) {
            self.host = host
            self.port = port
            self.username = username
            self.password = password
            self.database = database
        }
    }

    /// A `TWINBANK_POSTGRES_URL` that is not a `postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE` URL.
    public struct MalformedURL: Error, CustomStringConvertible {
        public var url: String
        public var problem: String
        public var description: String { "\(PostgresTestServer.urlVariable) \(problem): '\(url)'" }
    }

    /// The server ``url`` names. Throws ``MalformedURL`` when it is not set or not a PostgreSQL URL.
    public static func endpoint() throws -> Endpoint {
        guard let url else { throw MalformedURL(url: "", problem: "is not set (\(skipReason ?? ""))") }
        return try endpoint(parsing: url)
    }

    /// Parses `postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE` (or `postgresql://`); the port defaults to 5432,
    /// user and password are percent-decoded. Throws ``MalformedURL`` naming the part that is missing or wrong.
    public static func endpoint(parsing url: String) throws -> Endpoint {
        func malformed(_ problem: String) -> MalformedURL { MalformedURL(url: url, problem: problem) }
        guard let components = URLComponents(string: url) else { throw malformed("is not a URL") }
        guard let scheme = components.scheme?.lowercased(), scheme == "postgres" || scheme == "postgresql" else {
            throw malformed("does not start with postgres://")
        }
        guard let host = components.host, !host.isEmpty else { throw malformed("names no host") }
        guard let user = components.user, !user.isEmpty else { throw malformed("names no user (postgres://USER@HOST)") }
        let port = components.port ?? 5432
        guard (1...65535).contains(port) else { throw malformed("has port \(port), outside 1-65535") }
        let database = String(components.path.drop(while: { $0 == "/" }))
        guard !database.isEmpty, !database.contains("/") else { throw malformed("names no database (…/DATABASE)") }
        return Endpoint(host: host, port: port, username: user, password: components.password, database: database)
    }

    private static func variable(_ name: String) -> String? {
        guard let value = ProcessInfo.processInfo.environment[name], !value.isEmpty else { return nil }
        return value
    }
}
