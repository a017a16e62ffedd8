// Written by Scripts/generate-openapi: what the code beside it was generated from. Do not edit.
// OpenAPIContractTests recomputes these hashes, so a change to openapi.yaml, the config or the generated files
// without running the script fails the tests.

/// The inputs and outputs of the last generation of this module's code.
public enum GeneratedFrom {
    /// The swift-openapi-generator version used.
    public static let generatorVersion = "1.14.3"
    /// SHA-256 of openapi.yaml.
    public static let contractSHA256 = "e221451e7e9417b5e5852e1e36e6bf5f598bba067ebe6d05f4f283aa5327ca6b"
    /// SHA-256 of openapi-generator-config.yaml.
    public static let configSHA256 = "68f3213789e39a295fc8627ee129bdb51b991ddbb33fc8436f45798ef40a2c1e"
    /// The generated files and their SHA-256.
    public static let generatedSHA256: [String: String] = [
        "Server.swift": "c87f805701ed1e927ff503c0884bb23621c9f26b366a8a87df78f12befa6007b",
        "Types+Components+Headers.swift": "92407a060e2e5cdf06424c07c905bfa22a0f670c4a7252b6bc57e7a43337db93",
        "Types+Components+Parameters.swift": "592a25012cdecb9a3a256313b92194c795bd5043498cf258660e0a9047501f69",
        "Types+Components+RequestBodies.swift": "7b1a80cb0ebd656c39e98f2fb9460cac6c325b666e615d8f751fae63f00eee7b",
        "Types+Components+Responses.swift": "90080790341a937d2a4de20f4ef2a23350e8264691d0d0c7cccf0985fbbb34f5",
        "Types+Components+Schemas.swift": "8b3e3a7f49ca28e2b6cdd3dc88649e91d5ee17a588fab98a400368232d52611b",
        "Types+Components.swift": "9cc0c7613b781c66b26445f03c2dbefec92f59dbf6b50c262ac4dfc0d4a57766",
        "Types+Operations.swift": "7f7d09df0826e2cdbb987325ab050c2728a1a99a970f485ec00364517e78631d",
        "Types.swift": "e246f1c72afdf4058aa189bc57d11c061283cd260dac0700137535aa72bd5764",
    ]
}
