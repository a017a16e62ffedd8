import Foundation
import PostgresNIO
import Testing
import TwinTesting

/// The PostgreSQL server of the test run (`Scripts/with-postgres swift test ...`): reachable with PostgresNIO at the
/// URL the script exports. Without it the test reports a skip with the script's reason.
@Suite struct PostgresServerTests {
    @Test(.enabled(if: PostgresTestServer.isAvailable, Comment(rawValue: PostgresTestServer.skipMessage)))
    func connectsAndReportsItsVersion() async throws {
        let endpoint = try PostgresTestServer.endpoint()
        let logger = Logger(label: "twinbank.tests.postgres")
        let configuration = PostgresConnection.Configuration(
            host: endpoint.host, port: endpoint.port, username: endpoint.username, password: endpoint.password,
            database: endpoint.database, tls: .disable)
        let connection: PostgresConnection
        do {
            connection = try await PostgresConnection.connect(configuration: configuration, id: 1, logger: logger)
        } catch {
            // PSQLError hides its details from `description`; the reflection names the cause (refused, auth, ...).
            Issue.record("cannot connect to \(PostgresTestServer.url ?? ""): \(String(reflecting: error))")
            return
        }
        var answers: [(String, String)] = []
        do {
            let rows = try await connection.query("SELECT version(), current_database()", logger: logger)
            for try await (version, database) in rows.decode((String, String).self) { answers.append((version, database)) }
            try await connection.close()
        } catch {
            try? await connection.close()
            throw error
        }
        #expect(answers.count == 1)
        let (version, database) = try #require(answers.first)
        #expect(version.range(of: #"^PostgreSQL 1[0-9]"#, options: .regularExpression) != nil, "version(): \(version)")
        #expect(database == endpoint.database)
    }

    @Test func parsesTheScriptsURL() throws {
        let endpoint = try PostgresTestServer.endpoint(parsing: "postgres://postgres@127.0.0.1:54321/twinbank")
        #expect(endpoint == .init(host: "127.0.0.1", port: 54321, username: "postgres", password: nil, database: "twinbank"))
        let withPassword = try PostgresTestServer.endpoint(parsing: "postgresql://ann%40ward:s%3Acret@db.local/bank")
        #expect(withPassword == .init(host: "db.local", port: 5432, username: "ann@ward", password: "s:cret", database: "bank"))
    }

    @Test(arguments: [
        ("http://postgres@127.0.0.1:5432/twinbank", "does not start with postgres://"),
        ("postgres://127.0.0.1:5432/twinbank", "names no user"),
        ("postgres://postgres@127.0.0.1:5432", "names no database"),
        ("postgres://postgres@127.0.0.1:5432/", "names no database"),
        ("postgres://postgres@:5432/twinbank", "names no host"),
    ])
    func refusesAMalformedURLNamingIt(url: String, problem: String) {
        #expect {
            try PostgresTestServer.endpoint(parsing: url)
        } throws: { error in
            let message = String(describing: error)
            return message.contains(problem) && message.contains(url)
        }
    }
}
