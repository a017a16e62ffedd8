// Written by Scripts/generate-openapi: what the code beside it was generated from. Do not edit.
// OpenAPIContractTests recomputes these hashes, so a change to openapi.yaml, the config or the generated files
// without running the script fails the tests.

/// The inputs and outputs of the last generation of this module's code.
public enum GeneratedFrom {
    /// The swift-openapi-generator version used.
    public static let generatorVersion = "1.14.3"
    /// SHA-256 of openapi.yaml.
    public static let contractSHA256 = "48bc06b5824498235bcddb6a7e8e61bfeb9f4bac252df2efd1a245e8e7b82df9"
    /// SHA-256 of openapi-generator-config.yaml.
    public static let configSHA256 = "68f3213789e39a295fc8627ee129bdb51b991ddbb33fc8436f45798ef40a2c1e"
    /// The generated files and their SHA-256.
    public static let generatedSHA256: [String: String] = [
        "Server.swift": "e95b4dbe44c2121ff672b89f9b67c621f07cb35d8c8d39e2d58c10fdc7c464dd",
        "Types+Components+Headers.swift": "92407a060e2e5cdf06424c07c905bfa22a0f670c4a7252b6bc57e7a43337db93",
        "Types+Components+Parameters.swift": "fdcef667371fdc5275e00b816685142ea51d11e0f8d8351a05dfd871cd28810c",
        "Types+Components+RequestBodies.swift": "7b1a80cb0ebd656c39e98f2fb9460cac6c325b666e615d8f751fae63f00eee7b",
        "Types+Components+Responses.swift": "aec229c7f9928e4f93d864b914c4ca29863600dfca8d10cbb612a5cec8be8002",
        "Types+Components+Schemas.swift": "f191436d749f1d64626f67c1583401e9ae07f6f6b758f8eba18d8acabeb5507d",
        "Types+Components.swift": "9cc0c7613b781c66b26445f03c2dbefec92f59dbf6b50c262ac4dfc0d4a57766",
        "Types+Operations.swift": "1a973ee3f3c27a40f241ad73882123afe067daf9418bd1e8a29aae391b03c343",
        "Types.swift": "f31969b66f70705a1af4ca58e520ea75cdee6b7520f88f81f57fdbfea88e853f",
    ]
}
