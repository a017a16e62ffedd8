// Written by Scripts/generate-openapi: what the code beside it was generated from. Do not edit.
// OpenAPIContractTests recomputes these hashes, so a change to openapi.yaml, the config or the generated files
// without running the script fails the tests.

/// The inputs and outputs of the last generation of this module's code.
public enum GeneratedFrom {
    /// The swift-openapi-generator version used.
    public static let generatorVersion = "1.14.3"
    /// SHA-256 of openapi.yaml.
    public static let contractSHA256 = "89c65682cf3ee86b534a461f7866b3006c71084516adc8780c19b88085958269"
    /// SHA-256 of openapi-generator-config.yaml.
    public static let configSHA256 = "68f3213789e39a295fc8627ee129bdb51b991ddbb33fc8436f45798ef40a2c1e"
    /// The generated files and their SHA-256.
    public static let generatedSHA256: [String: String] = [
        "Server.swift": "b5fc02cd2e3bed5999a57394e62141b45aea7ee101876a903f08f2e9f1642a34",
        "Types+Components+Headers.swift": "92407a060e2e5cdf06424c07c905bfa22a0f670c4a7252b6bc57e7a43337db93",
        "Types+Components+Parameters.swift": "87a5a7d5935154d95c009527cec31d5432caa3b63695e374de733cd5f8098539",
        "Types+Components+RequestBodies.swift": "7b1a80cb0ebd656c39e98f2fb9460cac6c325b666e615d8f751fae63f00eee7b",
        "Types+Components+Responses.swift": "7d034870b5a169a012df0f232b83678ad345de8f7f7c8a9f90505233e040f9bc",
        "Types+Components+Schemas.swift": "4caa4e16483ffd1d19c204cee1cabda59698748c45514bbfe88eb305b662f0cf",
        "Types+Components.swift": "9cc0c7613b781c66b26445f03c2dbefec92f59dbf6b50c262ac4dfc0d4a57766",
        "Types+Operations.swift": "b1681770cd119b2ff49a67a59de77d74fe8392cefcfbd0cb7e87b92b507a4bd5",
        "Types.swift": "d0dda808d89d07d76560c6638b73a0beb7363fa34b83609cc8b6812ed7638b15",
    ]
}
