// Written by Scripts/generate-openapi: what the code beside it was generated from. Do not edit.
// OpenAPIContractTests recomputes these hashes, so a change to openapi.yaml, the config or the generated files
// without running the script fails the tests.

/// The inputs and outputs of the last generation of this module's code.
public enum GeneratedFrom {
    /// The swift-openapi-generator version used.
    public static let generatorVersion = "1.14.3"
    /// SHA-256 of openapi.yaml.
    public static let contractSHA256 = "2aacf71b269c4d1f78f918b148270121be21dad601a9c284c4bf61852963e9fe"
    /// SHA-256 of openapi-generator-config.yaml.
    public static let configSHA256 = "68f3213789e39a295fc8627ee129bdb51b991ddbb33fc8436f45798ef40a2c1e"
    /// The generated files and their SHA-256.
    public static let generatedSHA256: [String: String] = [
        "Server.swift": "bf589aa4deaac87a6acd64e79e5de2a4b16ec4bf78d3572887c9b0252b316995",
        "Types+Components+Headers.swift": "92407a060e2e5cdf06424c07c905bfa22a0f670c4a7252b6bc57e7a43337db93",
        "Types+Components+Parameters.swift": "87a5a7d5935154d95c009527cec31d5432caa3b63695e374de733cd5f8098539",
        "Types+Components+RequestBodies.swift": "7b1a80cb0ebd656c39e98f2fb9460cac6c325b666e615d8f751fae63f00eee7b",
        "Types+Components+Responses.swift": "7d034870b5a169a012df0f232b83678ad345de8f7f7c8a9f90505233e040f9bc",
        "Types+Components+Schemas.swift": "dfdf7323a755fa13108c55d08466cdaf32db319ca142038356fb17bc9abe58b6",
        "Types+Components.swift": "9cc0c7613b781c66b26445f03c2dbefec92f59dbf6b50c262ac4dfc0d4a57766",
        "Types+Operations.swift": "ac0ccae17954c63cdb033c85fe0fa40a21d4bcc9d1a7c6cc6af4cfdba19856b8",
        "Types.swift": "b6cd75d15bd7b794fe688cd8a48a51b5b50cae9187d21fe306260bdbe341e99d",
    ]
}
