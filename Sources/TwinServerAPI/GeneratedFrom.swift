// Written by Scripts/generate-openapi: what the code beside it was generated from. Do not edit.
// OpenAPIContractTests recomputes these hashes, so a change to openapi.yaml, the config or the generated files
// without running the script fails the tests.

/// The inputs and outputs of the last generation of this module's code.
public enum GeneratedFrom {
    /// The swift-openapi-generator version used.
    public static let generatorVersion = "1.14.3"
    /// SHA-256 of openapi.yaml.
    public static let contractSHA256 = "709508abfde8ac634793d1bb758321a940612e553fc2207768d033ae93bcbcff"
    /// SHA-256 of openapi-generator-config.yaml.
    public static let configSHA256 = "68f3213789e39a295fc8627ee129bdb51b991ddbb33fc8436f45798ef40a2c1e"
    /// The generated files and their SHA-256.
    public static let generatedSHA256: [String: String] = [
        "Server.swift": "55bd4b021dea0f4c51a923045dddeb1f0f0cc9750070c8c44c7a7c2cb659e4f1",
        "Types+Components+Headers.swift": "92407a060e2e5cdf06424c07c905bfa22a0f670c4a7252b6bc57e7a43337db93",
        "Types+Components+Parameters.swift": "fdcef667371fdc5275e00b816685142ea51d11e0f8d8351a05dfd871cd28810c",
        "Types+Components+RequestBodies.swift": "7b1a80cb0ebd656c39e98f2fb9460cac6c325b666e615d8f751fae63f00eee7b",
        "Types+Components+Responses.swift": "aec229c7f9928e4f93d864b914c4ca29863600dfca8d10cbb612a5cec8be8002",
        "Types+Components+Schemas.swift": "5fef74af7046724a4b6406df7ab80e237420390910fcbfb282b82ba95b961aad",
        "Types+Components.swift": "9cc0c7613b781c66b26445f03c2dbefec92f59dbf6b50c262ac4dfc0d4a57766",
        "Types+Operations.swift": "8e8a75356c35eb8c0eb2231f6482534cecd91dda0fc41ec52cbaf70640d33f21",
        "Types.swift": "f6d58132b50dfe1519cd7fb353863e06adcd8e357847315f73946ca3ff37d404",
    ]
}
