import ArgumentParser
import Foundation
import Logging
import TwinBankAccess
import TwinGovernance
import TwinServer

/// `twinbank serve`: the bank's HTTP API. Wiring only: parsing, then `TwinServer`.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve the bank's HTTP API (openapi.yaml): twins, threads, state, forks, commits, aggregates, sync jobs, audit and consent, with bearer tokens through the bank's access gate.",
        discussion: """
        Every route but /health needs `Authorization: Bearer TOKEN` (`twinbank token issue`); the token's subject is the actor
        and the X-Purpose-Of-Use header (default treatment) the purpose the bank's policy and consents decide on; every
        decision is in the bank's audit log. Prints `serving on http://HOST:PORT` once it listens (--port 0: any free port),
        then the dashboard's address (`--dashboard-link`: a link signed in as you, the bank's admin).
        SIGINT/SIGTERM stop it gracefully: the listener closes and requests in flight finish. Logs go to standard error,
        one line per request; Prometheus metrics at /metrics (a token with the admin role).
        """
    )

    @Option(name: .long, help: "The bank: a file or a postgres:// URL (default: $TWINBANK_BANK, else ./twinbank.sqlite).")
    var bank: String?
    @Option(help: "The address to listen on (default: loopback only).") var host = "127.0.0.1"
    @Option(help: "The port (0: any free port).") var port = 8080
    @Option(name: .customLong("token-key"), help: "The HS256 key file that signs and verifies tokens (default: token-signing.key in the bank's key folder; made 0600 on first use).")
    var tokenKey: String?
    @Option(name: .customLong("token-pem"), help: ArgumentHelp("Also take tokens signed by this Ed25519 (EdDSA) or RSA (RS256) key: a PEM file, public (verify only) or private; tokens name it in their kid header (default: the file name without its extension). Repeatable.", valueName: "[KID=]FILE"))
    var tokenPEM: [String] = []
    @Option(name: .customLong("token-jwks"), help: ArgumentHelp("Also take tokens signed by the keys of this JSON Web Key Set (an identity provider's jwks_uri document, saved). Repeatable.", valueName: "FILE"))
    var tokenJWKS: [String] = []
    @Option(name: .customLong("body-limit"), help: "The largest request body accepted, in bytes.") var bodyLimit = 1 << 20
    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error or critical.") var logLevel = "info"
    @Flag(name: .customLong("dashboard-link"), help: "Also print a link that opens the dashboard signed in as you (the operating-system user, as the bank's admin, for 12 hours). The link holds a token: do not share it.")
    var dashboardLink = false

    func validate() throws {
        guard (0...65535).contains(port) else { throw ValidationError("--port: \(port) is not a port (0 to 65535)") }
        guard bodyLimit > 0 else { throw ValidationError("--body-limit: \(bodyLimit) must be positive") }
        guard Logger.Level(rawValue: logLevel) != nil else { throw ValidationError("--log-level: '\(logLevel)' is none of trace, debug, info, notice, warning, error, critical") }
    }

    func run() async throws {
        let location = try BankLocation(bank ?? BankOptions.defaultPath)
        var logger = Logger(label: "twinbank.server") { StreamLogHandler.standardError(label: $0) }
        logger.logLevel = Logger.Level(rawValue: logLevel) ?? .info
        let keyFile = tokenKey.map(TokenAuthority.keyFile(path:)) ?? TokenAuthority.defaultKeyFile(for: location)
        let (pems, sets) = (tokenPEM, tokenJWKS)
        let server: TwinServer
        do {
            server = try await TwinServer.open(location: location, tokenKey: keyFile,
                                               configuration: .init(host: host, port: port, bodyLimit: bodyLimit), logger: logger) { tokens in
                var tokens = tokens
                for pem in pems { tokens = try await tokens.adding(pemFile: pem) }
                for set in sets { tokens = try await tokens.adding(jwksFile: set) }
                return tokens
            }
        } catch let e as ServerError where e.code == .badRequest {
            throw ValidationError("--token-\(e.field == "jwks" ? "jwks" : "pem"): \(e.message)")
        }
        let host = host
        let link = dashboardLink
        try await server.run { port in
            // written straight to the file descriptor: a pipe (a supervisor, a test) sees the line at once
            var lines = "serving on http://\(host):\(port)\ndashboard: http://\(host):\(port)/\n"
            if link {
                do {
                    let token = try await server.tokens.issue(subject: NSUserName(), role: Role.admin, scopes: [try SMARTScope(parsing: "user/*.cruds")], lifetime: 12 * 3600)
                    lines += "sign in: http://\(host):\(port)/#token=\(token)\n"
                } catch {
                    lines += "no sign-in link: \(error)\n"
                }
            }
            FileHandle.standardOutput.write(Data(lines.utf8))
        }
    }
}
