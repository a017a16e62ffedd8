import Foundation
import Testing
import TwinTesting
@testable import TwinGovernance

@Suite struct KeyFileTests {
    func mode(_ path: String) throws -> Int {
        try #require((try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? NSNumber)?.intValue)
    }

    @Test func aKeyIsCreatedOwnerOnlyOnFirstUseAndReadBackAfter() throws {
        let old = umask(0o022)
        defer { umask(old) }
        let dir = try TemporaryFiles.directory("keys")
        let bank = dir.appendingPathComponent("bank.sqlite").path
        let file = AuditSigner.defaultKeyFile(bank: bank)
        #expect(file.path == bank + ".keys/audit-signing.key")
        #expect(!file.exists)
        let signer = try AuditSigner(keyFile: file)
        #expect(try mode(file.path) == 0o600)
        #expect(try mode(bank + ".keys") == 0o700)
        // the public key beside it, enough to check heads offline
        let pub = try AuditSigner.PublicKey(file: AuditSigner.publicKeyPath(for: file))
        #expect(pub == signer.publicKey)
        let again = try AuditSigner(keyFile: file)
        #expect(again.publicKey == signer.publicKey)
        let head = try again.sign(size: 3, root: Merkle.emptyRoot, time: .epoch)
        #expect(head.isSigned(by: pub))
        // the private key appears in no description
        let secret = Hex.encode(try file.load())
        for text in ["\(signer)", String(describing: signer), String(reflecting: signer), "\(Mirror(reflecting: signer).children.map { "\($0.value)" })"] {
            #expect(!text.contains(secret))
        }
    }

    @Test(arguments: [0o640, 0o604, 0o644, 0o660, 0o666])
    func aKeyOthersMayReadIsRefused(_ permissions: Int) throws {
        let dir = try TemporaryFiles.directory("keys")
        let file = KeyFile(path: dir.appendingPathComponent("k.key").path, byteCount: 32)
        let (key, created) = try file.loadOrCreate { [UInt8](repeating: 0xAB, count: 32) }
        #expect(created && key.count == 32)
        chmod(file.path, mode_t(permissions))
        let error = try #require(throws: GovernanceError.self) { try file.load() }
        #expect(error.code == .invalidKey && error.value == file.path)
        #expect(error.message.contains(String(permissions, radix: 8)))
        #expect(!error.message.lowercased().contains("abab"))
        #expect(throws: GovernanceError.self) { try AuditSigner(keyFile: file) }
        chmod(file.path, 0o600)
        #expect(try file.load() == key)
    }

    @Test func aKeyOfTheWrongSizeOrALinkIsRefused() throws {
        let dir = try TemporaryFiles.directory("keys")
        let path = dir.appendingPathComponent("short.key").path
        _ = FileManager.default.createFile(atPath: path, contents: Data([1, 2, 3]), attributes: [.posixPermissions: 0o600])
        let error = try #require(throws: GovernanceError.self) { try KeyFile(path: path, byteCount: 32).load() }
        #expect(error.code == .invalidKey && error.message.contains("3 bytes"))
        let link = dir.appendingPathComponent("link.key").path
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: path)
        #expect(throws: GovernanceError.self) { try KeyFile(path: link, byteCount: 3).load() }
        #expect(try KeyFile(path: path, byteCount: 3).load() == [1, 2, 3])
    }
}
