import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing
import TwinGovernance
import TwinServer
import TwinTesting

/// Tokens signed elsewhere (issue 29 point 5: "EdDSA or RS256 where keys are shared"): keys made and tokens signed by
/// OpenSSL, an independent implementation, are verified by the server from the public key alone; a token signed by
/// another key under the same kid, an unknown kid, or an expired token is refused; verification is cached per token.
@Suite struct TokenKeyTests {
    static let openssl = ["/usr/bin/openssl", "/usr/local/bin/openssl"].first { FileManager.default.isExecutableFile(atPath: $0) }

    /// Runs openssl with `args` (stdin `input`); returns its standard output.
    @discardableResult
    static func openssl(_ args: [String], input: Data? = nil) throws -> Data {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: try #require(openssl))
        p.arguments = args
        let out = Pipe(), inp = Pipe()
        p.standardOutput = out
        p.standardInput = inp
        p.standardError = FileHandle.nullDevice
        try p.run()
        if let input { inp.fileHandleForWriting.write(input) }
        try inp.fileHandleForWriting.close()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        #expect(p.terminationStatus == 0, "openssl \(args.joined(separator: " ")) failed")
        return data
    }

    static func base64url(_ d: Data) -> String {
        d.base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }

    /// A JWT signed by OpenSSL with the private key at `key` (RS256: PKCS #1 v1.5 over SHA-256; EdDSA: Ed25519).
    static func opensslToken(alg: String, kid: String, key: String, subject: String, role: String, expires: Date, in dir: URL) throws -> String {
        let header = #"{"alg":"\#(alg)","typ":"JWT","kid":"\#(kid)"}"#
        let payload = #"{"sub":"\#(subject)","role":"\#(role)","scope":"user/*.rs","exp":\#(Int(expires.timeIntervalSince1970)),"iat":\#(Int(Date().timeIntervalSince1970))}"#
        let input = base64url(Data(header.utf8)) + "." + base64url(Data(payload.utf8))
        let file = dir.appendingPathComponent("signing-input-\(UUID().uuidString)")
        try Data(input.utf8).write(to: file)
        let signature = alg == "RS256"
            ? try openssl(["dgst", "-sha256", "-sign", key, file.path])
            : try openssl(["pkeyutl", "-sign", "-rawin", "-inkey", key, "-in", file.path])
        return input + "." + base64url(signature)
    }

    static func keyPair(_ algorithm: String, in dir: URL, name: String) throws -> (privateKey: String, publicKey: String) {
        let priv = dir.appendingPathComponent("\(name).key.pem").path, pub = dir.appendingPathComponent("\(name).pub.pem").path
        let genArgs = algorithm == "RSA" ? ["genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", priv]
                                         : ["genpkey", "-algorithm", "ed25519", "-out", priv]
        try openssl(genArgs)
        try openssl(["pkey", "-in", priv, "-pubout", "-out", pub])
        return (priv, pub)
    }

    static let hasOpenSSL = openssl != nil
    static let skip = Comment(rawValue: "skipped: openssl is not installed (the keys and tokens of this test come from it)")

    @Test(.enabled(if: hasOpenSSL, skip), arguments: [("RS256", "RSA"), ("EdDSA", "ED25519")])
    func verifiesTokensSignedByOpenSSLWithOnlyThePublicKey(alg: String, algorithm: String) async throws {
        let dir = try TemporaryFiles.directory("token-keys")
        defer { try? FileManager.default.removeItem(at: dir) }
        let (priv, pub) = try Self.keyPair(algorithm, in: dir, name: "idp")
        let (otherPriv, _) = try Self.keyPair(algorithm, in: dir, name: "other")
        let tokens = try await TokenAuthority.hs256(key: ServerFixture.key).adding(pemFile: "idp=\(pub)")
        #expect(tokens.signingKeys == [nil], "a public key only verifies")

        let good = try Self.opensslToken(alg: alg, kid: "idp", key: priv, subject: "bob", role: "clinician", expires: Date().addingTimeInterval(600), in: dir)
        let identity = try await tokens.verify(good)
        #expect(identity.subject == "bob" && identity.role == .clinician && identity.mayRead && !identity.mayWrite)
        #expect(tokens.cachedVerifications == 1)
        #expect(try await tokens.verify(good) == identity, "the second use answers from the cache")

        let forged = try Self.opensslToken(alg: alg, kid: "idp", key: otherPriv, subject: "bob", role: "admin", expires: Date().addingTimeInterval(600), in: dir)
        let forgedError = await #expect(throws: ServerError.self) { try await tokens.verify(forged) }
        #expect(forgedError?.code == .unauthorized && forgedError?.message.contains("signature") == true)

        let unknown = try Self.opensslToken(alg: alg, kid: "nobody", key: priv, subject: "bob", role: "clinician", expires: Date().addingTimeInterval(600), in: dir)
        let unknownError = await #expect(throws: ServerError.self) { try await tokens.verify(unknown) }
        #expect(unknownError?.message.contains("kid") == true)

        let expired = try Self.opensslToken(alg: alg, kid: "idp", key: priv, subject: "bob", role: "clinician", expires: Date().addingTimeInterval(-60), in: dir)
        await #expect(throws: ServerError.self) { try await tokens.verify(expired) }
        // a cached token stops working once it expires
        await #expect(throws: ServerError.self) { try await tokens.verify(good, now: Date().addingTimeInterval(601)) }

        // the private key signs too, under its kid, and the public-key authority verifies what it signed
        let signer = try await TokenAuthority.external().adding(pemFile: priv)
        let kid = try #require(signer.signingKeys.compactMap { $0 }.first)
        #expect(kid == "idp.key", "the kid defaults to the file name without its extension")
        let ours = try await signer.issue(subject: "carol", role: .researcher, scopes: [try SMARTScope(parsing: "user/*.rs")], lifetime: 60, kid: kid)
        let verifier = try await TokenAuthority.external().adding(pemFile: "idp.key=\(pub)")
        #expect(try await verifier.verify(ours).subject == "carol")
    }

    @Test func refusesWhatIsNoKey() async throws {
        let dir = try TemporaryFiles.directory("token-keys")
        defer { try? FileManager.default.removeItem(at: dir) }
        let junk = dir.appendingPathComponent("junk.pem")
        try Data("-----BEGIN PUBLIC KEY-----\nnot a key\n-----END PUBLIC KEY-----\n".utf8).write(to: junk)
        let error = await #expect(throws: ServerError.self) { try await TokenAuthority.external().adding(pemFile: junk.path) }
        #expect(error?.code == .badRequest && error?.value == "junk")
        let missing = await #expect(throws: ServerError.self) { try await TokenAuthority.external().adding(pemFile: dir.appendingPathComponent("none.pem").path) }
        #expect(missing?.message.contains("none.pem") == true)
        let badSet = dir.appendingPathComponent("set.json")
        try Data(#"{"keys":[{"kty":"RSA"}]}"#.utf8).write(to: badSet)
        let jwksError = await #expect(throws: ServerError.self) { try await TokenAuthority.external().adding(jwksFile: badSet.path) }
        #expect(jwksError?.field == "jwks" && jwksError?.message.contains("set.json") == true)
        // an authority without an HS256 key cannot sign without a kid
        await #expect(throws: ServerError.self) {
            try await TokenAuthority.external().issue(subject: "a", role: .admin, scopes: [try SMARTScope(parsing: "user/*.rs")], lifetime: 60)
        }
    }

    @Test(.enabled(if: hasOpenSSL, skip)) func acceptsAJSONWebKeySet() async throws {
        let dir = try TemporaryFiles.directory("token-keys")
        defer { try? FileManager.default.removeItem(at: dir) }
        let (priv, _) = try Self.keyPair("ED25519", in: dir, name: "idp")
        // the raw public key: the last 32 bytes of the DER SubjectPublicKeyInfo
        let der = try Self.openssl(["pkey", "-in", priv, "-pubout", "-outform", "DER"])
        let x = Self.base64url(der.suffix(32))
        let set = dir.appendingPathComponent("jwks.json")
        try Data(#"{"keys":[{"kty":"OKP","crv":"Ed25519","use":"sig","alg":"EdDSA","kid":"k1","x":"\#(x)"}]}"#.utf8).write(to: set)
        let tokens = try await TokenAuthority.external().adding(jwksFile: set.path)
        let token = try Self.opensslToken(alg: "EdDSA", kid: "k1", key: priv, subject: "dev-7", role: "device", expires: Date().addingTimeInterval(600), in: dir)
        #expect(try await tokens.verify(token).role == .device)
    }
}
