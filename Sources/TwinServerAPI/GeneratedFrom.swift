// Written by Scripts/generate-openapi: what the code beside it was generated from. Do not edit.
// OpenAPIContractTests recomputes these hashes, so a change to openapi.yaml, the config or the generated files
// without running the script fails the tests.

/// The inputs and outputs of the last generation of this module's code.
public enum GeneratedFrom {
    /// The swift-openapi-generator version used.
    public static let generatorVersion = "1.14.3"
    /// SHA-256 of openapi.yaml.
    public static let contractSHA256 = "4e80d17a7a23c386240a64a63e59b18ddc595d6b983fdb2ed9801fe4ab241f9e"
    /// SHA-256 of openapi-generator-config.yaml.
    public static let configSHA256 = "68f3213789e39a295fc8627ee129bdb51b991ddbb33fc8436f45798ef40a2c1e"
    /// The generated files and their SHA-256.
    public static let generatedSHA256: [String: String] = [
        "Server.swift": "fcd267560e239ee59452d9fcef0569a9b98b291889ef5140c2d77fd2754ac196",
        "Types+Components+Headers.swift": "92407a060e2e5cdf06424c07c905bfa22a0f670c4a7252b6bc57e7a43337db93",
        "Types+Components+Parameters.swift": "fdcef667371fdc5275e00b816685142ea51d11e0f8d8351a05dfd871cd28810c",
        "Types+Components+RequestBodies.swift": "7b1a80cb0ebd656c39e98f2fb9460cac6c325b666e615d8f751fae63f00eee7b",
        "Types+Components+Responses.swift": "aec229c7f9928e4f93d864b914c4ca29863600dfca8d10cbb612a5cec8be8002",
        "Types+Components+Schemas.swift": "a44bbf63a57722a655edd36e6a43c170aba268d9c1201de9a9852db11c03e549",
        "Types+Components.swift": "9cc0c7613b781c66b26445f03c2dbefec92f59dbf6b50c262ac4dfc0d4a57766",
        "Types+Operations.swift": "c66780bea5fcb49063e01bdb4e70ec0aeab9238d35f04f6d28d94e9c52c61f74",
        "Types.swift": "0fd10b1bae0eca1832a1919414586c8f22162d17e21943ff74ffcdc60c0641df",
    ]
}
