// Written by Scripts/generate-openapi: what the code beside it was generated from. Do not edit.
// OpenAPIContractTests recomputes these hashes, so a change to openapi.yaml, the config or the generated files
// without running the script fails the tests.

/// The inputs and outputs of the last generation of this module's code.
public enum GeneratedFrom {
    /// The swift-openapi-generator version used.
    public static let generatorVersion = "1.14.3"
    /// SHA-256 of openapi.yaml.
    public static let contractSHA256 = "74e4a42c8b689585e26942d9572d743cbe4dcb45df0d57952402e4395c4ca634"
    /// SHA-256 of openapi-generator-config.yaml.
    public static let configSHA256 = "68f3213789e39a295fc8627ee129bdb51b991ddbb33fc8436f45798ef40a2c1e"
    /// The generated files and their SHA-256.
    public static let generatedSHA256: [String: String] = [
        "Server.swift": "772fb1d42b129e7c1c38d2baf8d6c0088938edee162d962f31e119b915b3a74e",
        "Types+Components+Headers.swift": "92407a060e2e5cdf06424c07c905bfa22a0f670c4a7252b6bc57e7a43337db93",
        "Types+Components+Parameters.swift": "fdcef667371fdc5275e00b816685142ea51d11e0f8d8351a05dfd871cd28810c",
        "Types+Components+RequestBodies.swift": "7b1a80cb0ebd656c39e98f2fb9460cac6c325b666e615d8f751fae63f00eee7b",
        "Types+Components+Responses.swift": "aec229c7f9928e4f93d864b914c4ca29863600dfca8d10cbb612a5cec8be8002",
        "Types+Components+Schemas.swift": "f211af7f7a6dea48968fc2e5ee8c4e563f577e89e85ec7f3a89d59b521c5ac72",
        "Types+Components.swift": "9cc0c7613b781c66b26445f03c2dbefec92f59dbf6b50c262ac4dfc0d4a57766",
        "Types+Operations.swift": "21fb2cd7d8083c777e1b6853845fc64e77913fa8b6683811d0d08d41cd1fc3a2",
        "Types.swift": "cb9ae0753c8d9eda099ff8fb3ba9a70ee4f3031dc6b64b4fec0240473397c09e",
    ]
}
