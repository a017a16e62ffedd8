// Written by Scripts/generate-openapi: what the code beside it was generated from. Do not edit.
// OpenAPIContractTests recomputes these hashes, so a change to openapi.yaml, the config or the generated files
// without running the script fails the tests.

/// The inputs and outputs of the last generation of this module's code.
public enum GeneratedFrom {
    /// The swift-openapi-generator version used.
    public static let generatorVersion = "1.14.3"
    /// SHA-256 of openapi.yaml.
    public static let contractSHA256 = "b9e74f548251158f0241af1436c77f02ac451f911a80daf287357da72c6f6e1f"
    /// SHA-256 of openapi-generator-config.yaml.
    public static let configSHA256 = "68f3213789e39a295fc8627ee129bdb51b991ddbb33fc8436f45798ef40a2c1e"
    /// The generated files and their SHA-256.
    public static let generatedSHA256: [String: String] = [
        "Server.swift": "76ffcf305dd3f78a963729ee374ebd85129472127d3c449faef639a4c25fbfc8",
        "Types+Components+Headers.swift": "92407a060e2e5cdf06424c07c905bfa22a0f670c4a7252b6bc57e7a43337db93",
        "Types+Components+Parameters.swift": "fdcef667371fdc5275e00b816685142ea51d11e0f8d8351a05dfd871cd28810c",
        "Types+Components+RequestBodies.swift": "7b1a80cb0ebd656c39e98f2fb9460cac6c325b666e615d8f751fae63f00eee7b",
        "Types+Components+Responses.swift": "aec229c7f9928e4f93d864b914c4ca29863600dfca8d10cbb612a5cec8be8002",
        "Types+Components+Schemas.swift": "89b0c1b7e8ae7614176f8702d99194dbd00a01b60c82e29819a59057065507fd",
        "Types+Components.swift": "9cc0c7613b781c66b26445f03c2dbefec92f59dbf6b50c262ac4dfc0d4a57766",
        "Types+Operations.swift": "dd27b2595625704a34915fd009abf49ffdae81b36de83e1ba4ecf55fa8577daa",
        "Types.swift": "51708d3a980e4980e99a880b1a56f1924b0b99ac5ab2442c057116a36a5595dd",
    ]
}
