import Foundation
import Testing
import TwinGovernance
import TwinTesting

@Suite struct PseudonymKeyTests {
    static func mode(_ path: String) throws -> Int {
        (try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? NSNumber)?.intValue ?? -1
    }

    @Test func isCreatedOwnerOnlyBesideTheBankAndGivesTheSamePseudonymAgain() throws {
        try TemporaryFiles.withDirectory("pkey") { dir in
            let bank = dir.appendingPathComponent("b.sqlite").path
            let path = PseudonymKey.defaultPath(forBank: bank)
            #expect(path == bank + ".keys/pseudonym.key")
            let k1 = try PseudonymKey.loadOrCreate(at: path)
            #expect(try Self.mode(path) == 0o600)
            #expect(try Self.mode(bank + ".keys") == 0o700)
            #expect(try Data(contentsOf: URL(fileURLWithPath: path)).count == 32)
            let k2 = try PseudonymKey.loadOrCreate(at: path)
            #expect(k1.pseudonym("alice") == k2.pseudonym("alice"))
            #expect(k1.pseudonym("alice") != k1.pseudonym("bob"))
            #expect(k1.pseudonym("alice", domain: "twin") != k1.pseudonym("alice", domain: "identifier"))
            #expect(k1.verify(k1.pseudonym("alice"), of: "alice"))
            #expect(!k1.verify(k1.pseudonym("bob"), of: "alice"))
            #expect("\(k1)".contains(path))
            // another bank's key gives other pseudonyms
            let other = try PseudonymKey.loadOrCreate(at: dir.appendingPathComponent("other.key").path)
            #expect(other.pseudonym("alice") != k1.pseudonym("alice"))
        }
    }

    @Test(arguments: [0o640, 0o604, 0o660, 0o644])
    func aKeyFileOthersCanReadIsRefusedWithoutShowingTheKey(mode: Int) throws {
        try TemporaryFiles.withDirectory("pkey") { dir in
            let path = dir.appendingPathComponent("k.key").path
            _ = try PseudonymKey.loadOrCreate(at: path)
            let secret = try Data(contentsOf: URL(fileURLWithPath: path)).map { String(format: "%02x", $0) }.joined()
            try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: path)
            let e = try #require(throws: GovernanceError.self) { try PseudonymKey.loadOrCreate(at: path) }
            #expect(e.code == .invalidKey)
            #expect(e.message.contains(path) && e.message.contains("chmod 600"))
            #expect(!e.message.contains(secret) && !e.message.contains(String(secret.prefix(8))))
        }
    }

    @Test func aKeyFileOfTheWrongSizeIsRefused() throws {
        try TemporaryFiles.withDirectory("pkey") { dir in
            let path = dir.appendingPathComponent("short.key").path
            _ = FileManager.default.createFile(atPath: path, contents: Data(repeating: 7, count: 16), attributes: [.posixPermissions: 0o600])
            let e = try #require(throws: GovernanceError.self) { try PseudonymKey.loadOrCreate(at: path) }
            #expect(e.code == .invalidKey && e.message.contains("16"))
            #expect(throws: GovernanceError.self) { try PseudonymKey(bytes: [1, 2, 3]) }
        }
    }

    @Test func constantTimeEqualityComparesEveryByte() {
        #expect(PseudonymKey.constantTimeEqual([1, 2, 3], [1, 2, 3]))
        #expect(!PseudonymKey.constantTimeEqual([1, 2, 3], [1, 2, 4]))
        #expect(!PseudonymKey.constantTimeEqual([9, 2, 3], [1, 2, 3]))
        #expect(!PseudonymKey.constantTimeEqual([1, 2], [1, 2, 3]))
    }
}
