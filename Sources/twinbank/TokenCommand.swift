import ArgumentParser
import Foundation
import TwinBankAccess
import TwinGovernance
import TwinServer

/// `twinbank token`: bearer tokens for `twinbank serve`.
struct TokenCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "token",
        abstract: "Make bearer tokens for `twinbank serve`.",
        subcommands: [TokenIssueCommand.self]
    )
}

/// `twinbank token issue`: prints a signed token. Wiring only: parsing, then `TokenAuthority`.
struct TokenIssueCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "issue",
        abstract: "Print a bearer token (a JWT: HS256 with the bank's key, or EdDSA/RS256 with --signing-key) for the server of a bank.",
        discussion: """
        The token says who (--subject: the actor the bank's policy knows, e.g. by `policy set-role`), as what (--role), with
        which SMART-style scopes (user/*.rs reads, user/*.cruds reads and writes) and until when (--expires). The bank's
        policy and consents still decide every request: a token grants nothing the policy does not. The key is the one
        `twinbank serve` uses for the same bank (or --token-key), made on first use.
        """
    )

    @Option(name: .long, help: "The bank whose server will take the token (its key folder holds the default key; default: $TWINBANK_BANK, else ./twinbank.sqlite).")
    var bank: String?
    @Option(help: "The role: patient, clinician, researcher, public-health-officer, device or admin.") var role: String
    @Option(help: "The subject: the actor id the bank's policy knows.") var subject: String
    @Option(parsing: .upToNextOption, help: "Scopes, SMART v2 style (default: user/*.rs).") var scope: [String] = []
    @Option(help: "How long the token lives: a duration (1h, 30min, 7d; a bare number is hours; at most 366d).") var expires = DurationOption<BareHours>(1)
    @Option(name: .customLong("token-key"), help: "The HS256 key file (default: token-signing.key in the bank's key folder).")
    var tokenKey: String?
    @Option(name: .customLong("signing-key"), help: ArgumentHelp("Sign with this private Ed25519 (EdDSA) or RSA (RS256) key instead of the bank's HS256 key: a PEM file; the token's kid is KID (default: the file name without its extension), which the server knows from `serve --token-pem`.", valueName: "[KID=]FILE"))
    var signingKey: String?

    func run() async throws {
        guard let role = Role(rawValue: role) else {
            throw ValidationError("--role: '\(role)' is none of \(Role.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        let scopes = try (scope.isEmpty ? ["user/*.rs"] : scope.flatMap { $0.split(separator: " ").map(String.init) }).map { text in
            do { return try SMARTScope(parsing: text) } catch let e as ServerError { throw ValidationError("--scope: \(e.message)") }
        }
        let lifetime = Double(expires.span.microseconds) / 1e6
        if let signingKey {
            do {
                let tokens = try await TokenAuthority.external().adding(pemFile: signingKey)
                let kid = tokens.signingKeys.compactMap { $0 }.first
                guard kid != nil else { throw ValidationError("--signing-key: \(signingKey) holds a public key, which only verifies: give the private key") }
                print(try await tokens.issue(subject: subject, role: role, scopes: scopes, lifetime: lifetime, kid: kid))
            } catch let e as ServerError {
                throw ValidationError("--\(e.field == "key" || e.field == "kid" ? "signing-key" : e.field ?? "expires"): \(e.message)")
            }
            return
        }
        let keyFile: KeyFile
        if let tokenKey { keyFile = TokenAuthority.keyFile(path: tokenKey) } else {
            let location = try BankLocation(bank ?? BankOptions.defaultPath)
            // the default key lives beside the bank: no key folder for a bank that is not there
            if case .sqlite(let path) = location, !FileManager.default.fileExists(atPath: path) {
                throw ValidationError("--bank: no bank at '\(path)': create one with `twinbank init --bank \(path)`, or give --token-key")
            }
            keyFile = TokenAuthority.defaultKeyFile(for: location)
        }
        let tokens = try await TokenAuthority.hs256(keyFile: keyFile)
        do {
            print(try await tokens.issue(subject: subject, role: role, scopes: scopes, lifetime: lifetime))
        } catch let e as ServerError {
            throw ValidationError("--\(e.field ?? "expires"): \(e.message)")
        }
    }
}
