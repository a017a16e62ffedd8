import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing
import TwinBank
import TwinBankAccess
import TwinBankSQLite
import TwinCore
import TwinGovernance
import TwinServer
import TwinTesting

/// A bank file with three twins (p1 with two glucose readings, p2, p3), alice its admin (the server's owner), bob a
/// clinician, and mallory nobody the policy knows; the server over it with an in-memory HS256 key.
struct ServerFixture {
    static let key = [UInt8](repeating: 7, count: 32)
    static let glucose = Concept(system: "http://loinc.org", code: "2339-0", display: "Glucose")
    let directory: URL
    let path: String
    let server: TwinServer
    let tokens: TokenAuthority

    static func make(bodyLimit: Int = 1 << 20, live: LiveConfiguration = LiveConfiguration(), fhirSearchTwinLimit: Int = Bank.defaultScanLimit) async throws -> ServerFixture {
        let directory = try TemporaryFiles.directory("server")
        let path = directory.appendingPathComponent("bank.sqlite").path
        let opened = try BankLocation(path).createNew()
        let bank = Bank(storage: opened.storage, actor: "alice")
        for id in ["p1", "p2", "p3"] {
            try bank.createTwin(Twin(id: try TwinID(id), kind: .person, attributes: ["name": .text("Person \(id)")], origin: Instant(microseconds: 0)))
        }
        try bank.append([
            .observation("p1", at: try Instant(parsing: "2026-01-01T08:00:00Z"), code: glucose, Quantity(95, "mg/dL"), source: Source(.device, "cgm-1")),
            .observation("p1", at: try Instant(parsing: "2026-01-01T09:00:00Z"), code: glucose, Quantity(140, "mg/dL"), source: Source(.device, "cgm-1")),
        ])
        _ = try Governance(bank: bank, actor: "alice", owner: "alice").assign(Caller(id: "bob", role: .clinician))
        let tokens = await TokenAuthority.hs256(key: key)
        let server = try await TwinServer.open(location: try BankLocation(path), tokens: tokens,
                                               configuration: .init(bodyLimit: bodyLimit, owner: "alice", live: live, fhirSearchTwinLimit: fhirSearchTwinLimit))
        return ServerFixture(directory: directory, path: path, server: server, tokens: tokens)
    }

    func token(_ subject: String, _ role: Role, scopes: [String] = ["user/*.cruds"], lifetime: TimeInterval = 3600, now: Date = Date()) async throws -> String {
        try await tokens.issue(subject: subject, role: role, scopes: scopes.map { try SMARTScope(parsing: $0) }, lifetime: lifetime, now: now)
    }

    /// Runs `body` against the server's router in process.
    func test<T: Sendable>(_ body: @Sendable (any TestClientProtocol) async throws -> T) async throws -> T {
        let app = Application(router: try server.router())
        return try await app.test(.router) { client in try await body(client) }
    }

    func remove() { try? FileManager.default.removeItem(at: directory) }
}

extension HTTPFields {
    static func auth(_ token: String, _ more: [HTTPField.Name: String] = [:]) -> HTTPFields {
        var h = HTTPFields()
        h[.authorization] = "Bearer \(token)"
        for (k, v) in more { h[k] = v }
        return h
    }
}

/// The JSON of a response body.
func json(_ response: TestResponse) throws -> [String: Any] {
    let object = try JSONSerialization.jsonObject(with: Data(buffer: response.body))
    return try #require(object as? [String: Any], "not a JSON object: \(String(buffer: response.body))")
}

func body(_ text: String) -> ByteBuffer { ByteBuffer(string: text) }
