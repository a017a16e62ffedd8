// Written by Scripts/generate-openapi: what the code beside it was generated from. Do not edit.
// OpenAPIContractTests recomputes these hashes, so a change to openapi.yaml, the config or the generated files
// without running the script fails the tests.

/// The inputs and outputs of the last generation of this module's code.
public enum GeneratedFrom {
    /// The swift-openapi-generator version used.
    public static let generatorVersion = "1.14.3"
    /// SHA-256 of openapi.yaml.
    public static let contractSHA256 = "392ef4ce16414cc56c67e0d5635d72114d444f6506394abd0f2d65615e9df730"
    /// SHA-256 of openapi-generator-config.yaml.
    public static let configSHA256 = "68f3213789e39a295fc8627ee129bdb51b991ddbb33fc8436f45798ef40a2c1e"
    /// The generated files and their SHA-256.
    public static let generatedSHA256: [String: String] = [
        "Server.swift": "e4eeb33dfb08f2e94ec31aa445eb206fb646321f6441132142f09b2d76bef4bd",
        "Types+Components+Headers.swift": "92407a060e2e5cdf06424c07c905bfa22a0f670c4a7252b6bc57e7a43337db93",
        "Types+Components+Parameters.swift": "87a5a7d5935154d95c009527cec31d5432caa3b63695e374de733cd5f8098539",
        "Types+Components+RequestBodies.swift": "7b1a80cb0ebd656c39e98f2fb9460cac6c325b666e615d8f751fae63f00eee7b",
        "Types+Components+Responses.swift": "7d034870b5a169a012df0f232b83678ad345de8f7f7c8a9f90505233e040f9bc",
        "Types+Components+Schemas.swift": "306e31b450e667fe558a56dcf0c52fb80619f4e2a036f63b12e793de8fb39cc6",
        "Types+Components.swift": "9cc0c7613b781c66b26445f03c2dbefec92f59dbf6b50c262ac4dfc0d4a57766",
        "Types+Operations.swift": "a333226a4f852e8b13782f36af17ba67caeb7e1f855631e5c8873aa7d64dc87a",
        "Types.swift": "4d6d26c284976575457e291c211eecfcea1b4de480fe3e66559d6012e053e0c6",
    ]
}
