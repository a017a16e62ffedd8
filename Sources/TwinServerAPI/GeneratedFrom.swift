// Written by Scripts/generate-openapi: what the code beside it was generated from. Do not edit.
// OpenAPIContractTests recomputes these hashes, so a change to openapi.yaml, the config or the generated files
// without running the script fails the tests.

/// The inputs and outputs of the last generation of this module's code.
public enum GeneratedFrom {
    /// The swift-openapi-generator version used.
    public static let generatorVersion = "1.14.3"
    /// SHA-256 of openapi.yaml.
    public static let contractSHA256 = "92ee93f94c41c49c677755395ca0a34442a76d34737bb17973d2b7b081fd1508"
    /// SHA-256 of openapi-generator-config.yaml.
    public static let configSHA256 = "68f3213789e39a295fc8627ee129bdb51b991ddbb33fc8436f45798ef40a2c1e"
    /// The generated files and their SHA-256.
    public static let generatedSHA256: [String: String] = [
        "Server.swift": "9fefd894fb295d7852d92eb4d7fa5abf0014ffb9bd8d227a0a98e379277b895d",
        "Types+Components+Headers.swift": "92407a060e2e5cdf06424c07c905bfa22a0f670c4a7252b6bc57e7a43337db93",
        "Types+Components+Parameters.swift": "592a25012cdecb9a3a256313b92194c795bd5043498cf258660e0a9047501f69",
        "Types+Components+RequestBodies.swift": "7b1a80cb0ebd656c39e98f2fb9460cac6c325b666e615d8f751fae63f00eee7b",
        "Types+Components+Responses.swift": "4da3e3cc836561988c1c39b2afae8b84052cc14f3c01f4952a651af1f6bcc1f5",
        "Types+Components+Schemas.swift": "8b3e3a7f49ca28e2b6cdd3dc88649e91d5ee17a588fab98a400368232d52611b",
        "Types+Components.swift": "9cc0c7613b781c66b26445f03c2dbefec92f59dbf6b50c262ac4dfc0d4a57766",
        "Types+Operations.swift": "460bba933aa21e244f673db1e44a8ec7b2109159cb4640c72e624ed723f9a687",
        "Types.swift": "e246f1c72afdf4058aa189bc57d11c061283cd260dac0700137535aa72bd5764",
    ]
}
