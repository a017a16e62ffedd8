// Written by Scripts/generate-openapi: what the code beside it was generated from. Do not edit.
// OpenAPIContractTests recomputes these hashes, so a change to openapi.yaml, the config or the generated files
// without running the script fails the tests.

/// The inputs and outputs of the last generation of this module's code.
public enum GeneratedFrom {
    /// The swift-openapi-generator version used.
    public static let generatorVersion = "1.14.3"
    /// SHA-256 of openapi.yaml.
    public static let contractSHA256 = "f17aa5d8c7d1dc060084d546bc006c3ae4c1c7748361ad21e8c4da4415adbf24"
    /// SHA-256 of openapi-generator-config.yaml.
    public static let configSHA256 = "68f3213789e39a295fc8627ee129bdb51b991ddbb33fc8436f45798ef40a2c1e"
    /// The generated files and their SHA-256.
    public static let generatedSHA256: [String: String] = [
        "Server.swift": "49c5c388ecf169ff8abe32264c2f127d846ba83cf68b01c2241e472fd0ed69c5",
        "Types+Components+Headers.swift": "92407a060e2e5cdf06424c07c905bfa22a0f670c4a7252b6bc57e7a43337db93",
        "Types+Components+Parameters.swift": "87a5a7d5935154d95c009527cec31d5432caa3b63695e374de733cd5f8098539",
        "Types+Components+RequestBodies.swift": "7b1a80cb0ebd656c39e98f2fb9460cac6c325b666e615d8f751fae63f00eee7b",
        "Types+Components+Responses.swift": "7d034870b5a169a012df0f232b83678ad345de8f7f7c8a9f90505233e040f9bc",
        "Types+Components+Schemas.swift": "b7549fe31c8145be689c6c61994729afd6d4426d2012bef0e8ed2e0d148a04e3",
        "Types+Components.swift": "9cc0c7613b781c66b26445f03c2dbefec92f59dbf6b50c262ac4dfc0d4a57766",
        "Types+Operations.swift": "ba73a8b0d303ea3c55b990a88dbd303687bdcd1b7fcfb2a67346ebb391b55e76",
        "Types.swift": "6932b5fcabd40389a1a5e8a81c1806a4d78ea34c95376f3fc6849894d775f979",
    ]
}
