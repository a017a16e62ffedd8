import ArgumentParser
import Foundation
import Logging
import TwinBank
import TwinBankAccess
import TwinCore
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
        The live link: a twin's WebSocket at /api/v1/twins/ID/live (observations in, each acknowledged once durable; the
        twin's new events, forecasts and alerts out) and its Server-Sent Events at /api/v1/twins/ID/events/stream (both also
        take the token as ?access_token=, as a browser cannot set headers on them). With --watch TWIN (repeatable) the
        server runs the watchers of `twinbank watch` (--watcher, same options) on those twins while it serves, so their
        alerts are written and sent live; --webhook URL (repeatable) POSTs each alert as JSON, retried with exponential
        backoff (--webhook-attempts, --webhook-backoff), signed with the deployment's secret (--webhook-secret-file): the
        X-Twinbank-Signature header, t=UNIX,v1=HEX with HEX the HMAC-SHA256 of "UNIX.BODY"; X-Twinbank-Delivery names
        the delivery, the same on each retry.
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
    @Option(help: "A twin to watch while serving (repeatable): its alerts are written to its thread and sent live.") var watch: [String] = []
    @Option(name: .customLong("watch-interval"), help: "The watch's longest wait between looks at the bank (writes through the server wake it at once): a duration (5s) or seconds.")
    var watchInterval = DurationOption<BareSeconds>(5)
    @OptionGroup var watching: WatcherOptions
    @Option(help: "A URL each alert is POSTed to as JSON (repeatable; needs --watch).") var webhook: [String] = []
    @Option(name: .customLong("webhook-attempts"), help: "Attempts per alert and webhook before it is given up (logged).") var webhookAttempts = 5
    @Option(name: .customLong("webhook-backoff"), help: "The wait before a webhook's second attempt, doubled after each failure: a duration (500ms, 2s) or seconds.")
    var webhookBackoff = DurationOption<BareSeconds>(0.5)
    @Option(name: .customLong("webhook-secret-file"), help: ArgumentHelp("The 32-byte secret that signs each webhook POST (X-Twinbank-Signature: t=UNIX,v1=HMAC-SHA256 hex of \"t.body\"); made 0600 on first use (default: webhook-secret.key in the bank's key folder).", valueName: "FILE"))
    var webhookSecretFile: String?

    func validate() throws {
        guard (0...65535).contains(port) else { throw ValidationError("--port: \(port) is not a port (0 to 65535)") }
        guard bodyLimit > 0 else { throw ValidationError("--body-limit: \(bodyLimit) must be positive") }
        guard Logger.Level(rawValue: logLevel) != nil else { throw ValidationError("--log-level: '\(logLevel)' is none of trace, debug, info, notice, warning, error, critical") }
        for t in watch { do { _ = try TwinID(t) } catch let e as TwinError { throw ValidationError("--watch: \(e.message)") } }
        try watching.validate(twins: watch)
        guard watchInterval.span.microseconds > 0 else { throw ValidationError("--watch-interval: must be a positive time (got \(watchInterval.span)).") }
        for w in webhook { _ = try Self.webhookURL(w) }
        guard webhookSecretFile == nil || !webhook.isEmpty else { throw ValidationError("--webhook-secret-file: the secret signs webhooks; give them with --webhook.") }
        guard webhook.isEmpty || !watch.isEmpty else { throw ValidationError("--webhook: webhooks POST the alerts of a watch; name the twins to watch with --watch.") }
        guard (1...100).contains(webhookAttempts) else { throw ValidationError("--webhook-attempts: must be 1 to 100 (got \(webhookAttempts)).") }
        guard webhookBackoff.span.microseconds > 0 else { throw ValidationError("--webhook-backoff: must be a positive time (got \(webhookBackoff.span)).") }
    }

    /// An http or https URL with a host.
    static func webhookURL(_ text: String) throws -> URL {
        guard let url = URL(string: text), let scheme = url.scheme?.lowercased(), scheme == "http" || scheme == "https", url.host?.isEmpty == false else {
            throw ValidationError("--webhook: '\(text)' is not an http:// or https:// URL with a host.")
        }
        return url
    }

    static func duration(_ o: DurationOption<BareSeconds>) -> Duration { .microseconds(o.span.microseconds) }

    func run() async throws {
        let location = try BankLocation(bank ?? BankOptions.defaultPath)
        var logger = Logger(label: "twinbank.server") { StreamLogHandler.standardError(label: $0) }
        logger.logLevel = Logger.Level(rawValue: logLevel) ?? .info
        let keyFile = tokenKey.map(TokenAuthority.keyFile(path:)) ?? TokenAuthority.defaultKeyFile(for: location)
        let command = self
        let live = LiveConfiguration(watchTwins: try watch.map { try TwinID($0) },
                                     makingWatchers: { bank in try command.watching.watchers(bank: bank, twins: command.watch) },
                                     watchInterval: Self.duration(watchInterval), webhooks: try webhook.map(Self.webhookURL),
                                     webhookAttempts: webhookAttempts, webhookBackoff: Self.duration(webhookBackoff))
        let (pems, sets) = (tokenPEM, tokenJWKS)
        let server: TwinServer
        do {
            server = try await TwinServer.open(location: location, tokenKey: keyFile, webhookSecret: webhookSecretFile.map(WebhookSigner.keyFile(path:)),
                                               configuration: .init(host: host, port: port, bodyLimit: bodyLimit, live: live), logger: logger) { tokens in
                var tokens = tokens
                for pem in pems { tokens = try await tokens.adding(pemFile: pem) }
                for set in sets { tokens = try await tokens.adding(jwksFile: set) }
                return tokens
            }
        } catch let e as ServerError where e.code == .badRequest && (e.field == "jwks" || e.field == "key" || e.field == "kid") {
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
