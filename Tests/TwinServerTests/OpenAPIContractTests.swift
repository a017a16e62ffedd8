import Crypto
import Foundation
import Testing
import TwinServerAPI

/// The committed generated code (Sources/TwinServerAPI) is current: the hashes Scripts/generate-openapi recorded
/// match openapi.yaml, the generator's config and the generated files as they are now.
@Suite struct OpenAPIContractTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static func sha256(_ relative: String) throws -> String {
        let data = try Data(contentsOf: root.appendingPathComponent(relative))
        return SHA256.hash(data: data).map { String(format: "%02x", $0) }.joined()
    }

    @Test func theGeneratedCodeIsCurrent() throws {
        #expect(try Self.sha256("openapi.yaml") == GeneratedFrom.contractSHA256,
                "openapi.yaml changed since Sources/TwinServerAPI was generated: run Scripts/generate-openapi")
        #expect(try Self.sha256("openapi-generator-config.yaml") == GeneratedFrom.configSHA256,
                "the generator's config changed since Sources/TwinServerAPI was generated: run Scripts/generate-openapi")
        for (file, recorded) in GeneratedFrom.generatedSHA256.sorted(by: { $0.key < $1.key }) {
            #expect(try Self.sha256("Sources/TwinServerAPI/\(file)") == recorded, "\(file) was edited by hand: run Scripts/generate-openapi")
        }
        #expect(GeneratedFrom.generatorVersion == "1.14.3")
    }

    @Test func theModuleHoldsOnlyGeneratedCode() throws {
        let files = try FileManager.default.contentsOfDirectory(atPath: Self.root.appendingPathComponent("Sources/TwinServerAPI").path).sorted()
        // every file is one the generator wrote (and hashed), or the record of it
        #expect(files == (["GeneratedFrom.swift"] + GeneratedFrom.generatedSHA256.keys).sorted())
        #expect(GeneratedFrom.generatedSHA256.keys.contains("Server.swift"))
    }
}
