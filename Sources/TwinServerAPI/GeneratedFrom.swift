// Written by Scripts/generate-openapi: what the code beside it was generated from. Do not edit.
// OpenAPIContractTests recomputes these hashes, so a change to openapi.yaml, the config or the generated files
// without running the script fails the tests.

/// The inputs and outputs of the last generation of this module's code.
public enum GeneratedFrom {
    /// The swift-openapi-generator version used.
    public static let generatorVersion = "1.14.3"
    /// SHA-256 of openapi.yaml.
    public static let contractSHA256 = "83b3e8e2f2130aa41affa258aa98e31338eb1cbd1434599adef509fd176dd4e4"
    /// SHA-256 of openapi-generator-config.yaml.
    public static let configSHA256 = "68f3213789e39a295fc8627ee129bdb51b991ddbb33fc8436f45798ef40a2c1e"
    /// The generated files and their SHA-256.
    public static let generatedSHA256: [String: String] = [
        "Server.swift": "7097a268453333e5de5e7c1e40d109903462c065f1a2aaa3e2ea56a55523e45d",
        "Types+Components+Headers.swift": "92407a060e2e5cdf06424c07c905bfa22a0f670c4a7252b6bc57e7a43337db93",
        "Types+Components+Parameters.swift": "87a5a7d5935154d95c009527cec31d5432caa3b63695e374de733cd5f8098539",
        "Types+Components+RequestBodies.swift": "7b1a80cb0ebd656c39e98f2fb9460cac6c325b666e615d8f751fae63f00eee7b",
        "Types+Components+Responses.swift": "7d034870b5a169a012df0f232b83678ad345de8f7f7c8a9f90505233e040f9bc",
        "Types+Components+Schemas.swift": "8364dae54c361124473a7302ca62e2d30fcbefa36c5daf21f463379d89720418",
        "Types+Components.swift": "9cc0c7613b781c66b26445f03c2dbefec92f59dbf6b50c262ac4dfc0d4a57766",
        "Types+Operations.swift": "d4be548b88c16d899114efc538a5745d17981ff9291c1b6dc764aadbb677cb3c",
        "Types.swift": "4bdda86687a72989f5938274c40ffa5af1cd4b7ed3ec6789aa8aa3bade33f04e",
    ]
}
