// swift-tools-version: 6.1
import PackageDescription

// Twinbank: a platform for human digital twins.
// Library first: every capability is a module below; `twinbank` only parses arguments and calls them.
// The module layout and the one-way data flow are described in DESIGN.md (shared) and README.md.

let package = Package(
    name: "Twinbank",
    platforms: [.macOS(.v14)],
    products: [
        .library(name: "TwinCore", targets: ["TwinCore"]),
        .library(name: "TwinBank", targets: ["TwinBank"]),
        .library(name: "TwinBankSQLite", targets: ["TwinBankSQLite"]),
        .library(name: "TwinBankPostgres", targets: ["TwinBankPostgres"]),
        .library(name: "TwinBankAccess", targets: ["TwinBankAccess"]),
        .library(name: "TwinSimulation", targets: ["TwinSimulation"]),
        .library(name: "TwinModels", targets: ["TwinModels"]),
        .library(name: "TwinSBML", targets: ["TwinSBML"]),
        .library(name: "TwinCalibration", targets: ["TwinCalibration"]),
        .library(name: "TwinSync", targets: ["TwinSync"]),
        .library(name: "TwinFHIR", targets: ["TwinFHIR"]),
        .library(name: "TwinGovernance", targets: ["TwinGovernance"]),
        .library(name: "TwinRun", targets: ["TwinRun"]),
        .library(name: "TwinPopulation", targets: ["TwinPopulation"]),
        .library(name: "TwinPrognostic", targets: ["TwinPrognostic"]),
        .library(name: "TwinDemo", targets: ["TwinDemo"]),
        .library(name: "TwinDashboard", targets: ["TwinDashboard"]),
        .library(name: "TwinServer", targets: ["TwinServer"]),
        .executable(name: "twinbank", targets: ["twinbank"]),
        .executable(name: "twinbank-bench", targets: ["twinbank-bench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-numerics", from: "1.1.1"),
        .package(url: "https://github.com/apple/swift-crypto", from: "4.5.2"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        // PostgreSQL storage (issue 28): the driver of TwinBankPostgres.
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.80.0"),
        // The HTTP server (issue 29): Hummingbird 2, its auth helpers, the OpenAPI runtime and transport, JWTs,
        // metrics exported for Prometheus and structured logs.
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-auth", from: "2.5.0"),
        .package(url: "https://github.com/apple/swift-openapi-runtime", from: "1.13.4"),
        .package(url: "https://github.com/swift-server/swift-openapi-hummingbird", from: "2.1.0"),
        .package(url: "https://github.com/vapor/jwt-kit", from: "5.8.0"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
        // The live link (issue 29): WebSocket routes on the Hummingbird router (its client for tests only).
        .package(url: "https://github.com/hummingbird-project/hummingbird-websocket", from: "2.8.1"),
        // Webhooks: POSTs each alert to the configured URLs (already in the graph through HummingbirdTesting).
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
    ],
    targets: [
        // Vocabulary values, no I/O (except OutputFile, the one safe writer of output files every library shares).
        .target(name: "TwinCore"),
        // The bank: content addressing, commits, refs, forks, aggregates, the thread, exchange.
        .target(name: "TwinBank", dependencies: [
            "TwinCore",
            .product(name: "Crypto", package: "swift-crypto"),
        ]),
        // Embedded default storage (SQLite through GRDB, WAL).
        .target(name: "TwinBankSQLite", dependencies: [
            "TwinBank", "TwinGovernance",
            .product(name: "GRDB", package: "GRDB.swift"),
            .product(name: "GRDBSQLite", package: "GRDB.swift"),
            .product(name: "NIOPosix", package: "swift-nio"),
        ]),
        // PostgreSQL storage (postgres-nio): the bank of many users and processes, its schema by versioned migrations.
        .target(name: "TwinBankPostgres", dependencies: [
            "TwinBank", "TwinGovernance",
            .product(name: "PostgresNIO", package: "postgres-nio"),
        ]),
        // Opening a bank by name (a file path or a postgres:// URL): the command's and the server's one way in.
        .target(name: "TwinBankAccess", dependencies: ["TwinBank", "TwinBankSQLite", "TwinBankPostgres", "TwinGovernance"]),
        // ODE solvers, the module engine, seeded randomness. No I/O.
        .target(name: "TwinSimulation", dependencies: [
            "TwinCore",
            .product(name: "RealModule", package: "swift-numerics"),
        ]),
        // The physiology model library.
        .target(name: "TwinModels", dependencies: ["TwinSimulation"]),
        // SBML import and compilation.
        .target(name: "TwinSBML", dependencies: ["TwinSimulation"]),
        // Calibration: least squares, multi-start, profiles, PK fits, and PEtab problems (their SBML models: the one
        // place besides TwinRun that imports TwinSBML). No bank, no I/O beyond reading a PEtab problem's files.
        .target(name: "TwinCalibration", dependencies: [
            "TwinSimulation", "TwinModels", "TwinSBML",
            .product(name: "Yams", package: "Yams"),
        ]),
        // The bidirectional loop: assimilation, forecasts, synchronisation, watchers.
        .target(name: "TwinSync", dependencies: [
            "TwinBank", "TwinSimulation", "TwinModels", "TwinCalibration",
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            .product(name: "UnixSignals", package: "swift-service-lifecycle"),
        ]),
        // Models run for a twin: bindings from its attributes and thread, predictions back with provenance; comparisons
        // start from what TwinSync calibrated.
        .target(name: "TwinRun", dependencies: [
            "TwinBank", "TwinModels", "TwinSBML", "TwinCalibration", "TwinSync",
            .product(name: "Crypto", package: "swift-crypto"),
        ]),
        // Governance: consent by purpose, the bank's access policy, the one decision point behind the AccessGate, the
        // Merkle audit log, erasure, de-identified and differentially private releases, representativeness.
        .target(name: "TwinGovernance", dependencies: [
            "TwinCore", "TwinBank",
            .product(name: "Crypto", package: "swift-crypto"),
        ]),
        // FHIR R4 codec, mapping, eligibility (and FHIR Consent/AuditEvent for governance).
        .target(name: "TwinFHIR", dependencies: ["TwinBank", "TwinGovernance"]),
        // Twins learned from cohorts: prognostic models fitted on an aggregate's threads (stored as content-addressed
        // objects), their predictions with provenance, and trial analyses adjusted for a prognostic score (PROCOVA).
        .target(name: "TwinPrognostic", dependencies: ["TwinCore", "TwinBank", "TwinSimulation"]),
        // Precision public health: populations, outbreaks, contact tracing, risk maps, hospital assignment, exposure.
        .target(name: "TwinPopulation", dependencies: ["TwinBank", "TwinSimulation", "TwinFHIR", "TwinSync"]),
        // The guided tour behind `twinbank demo`.
        .target(name: "TwinDemo", dependencies: ["TwinBank", "TwinFHIR", "TwinGovernance", "TwinModels", "TwinPopulation", "TwinRun", "TwinSimulation", "TwinSync", "TwinPrognostic"]),
        // The web dashboard's static files (the page, its script and style, vendored plotly.js), served by the server at `/`.
        .target(name: "TwinDashboard", resources: [.copy("Assets")]),
        // The HTTP API's types and handler protocol, generated from openapi.yaml by swift-openapi-generator
        // (Scripts/generate-openapi; generated code only, committed, checked current by a test).
        .target(name: "TwinServerAPI", dependencies: [
            .product(name: "OpenAPIRuntime", package: "swift-openapi-runtime"),
        ]),
        // `twinbank serve`: the Hummingbird application that maps the bank (through its gate) to HTTP, token auth.
        .target(name: "TwinServer", dependencies: [
            "TwinCore", "TwinBank", "TwinBankAccess", "TwinGovernance", "TwinServerAPI", "TwinDashboard", "TwinFHIR", "TwinSync",
            // the dashboard's comparison, distribution and risk-map routes; calibration as a job
            "TwinRun", "TwinPopulation", "TwinCalibration",
            // prognostic fits, predictions and trial analyses
            "TwinPrognostic",
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "HummingbirdAuth", package: "hummingbird-auth"),
            .product(name: "HTTPTypes", package: "swift-http-types"),
            .product(name: "OpenAPIRuntime", package: "swift-openapi-runtime"),
            .product(name: "OpenAPIHummingbird", package: "swift-openapi-hummingbird"),
            .product(name: "JWTKit", package: "jwt-kit"),
            .product(name: "Metrics", package: "swift-metrics"),
            .product(name: "Prometheus", package: "swift-prometheus"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "HummingbirdWebSocket", package: "hummingbird-websocket"),
            .product(name: "HummingbirdWSCompression", package: "hummingbird-websocket"),
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
        ]),
        // The command: wiring only.
        .executableTarget(name: "twinbank", dependencies: [
            "TwinCore", "TwinBank", "TwinBankSQLite", "TwinBankAccess", "TwinSimulation", "TwinModels", "TwinSBML", "TwinCalibration", "TwinSync", "TwinFHIR", "TwinRun", "TwinDemo", "TwinPopulation", "TwinGovernance", "TwinServer", "TwinPrognostic",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        // Release-build benchmarks, outside the test suite.
        .executableTarget(name: "twinbank-bench", dependencies: [
            "TwinCore", "TwinBank", "TwinBankSQLite", "TwinBankPostgres", "TwinBankAccess", "TwinSimulation", "TwinModels", "TwinSBML", "TwinCalibration", "TwinSync", "TwinFHIR", "TwinRun", "TwinPopulation", "TwinGovernance",
            "TwinServer",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "PostgresNIO", package: "postgres-nio"),
            // `bank --without-time-index`: an index dropped, to measure what it costs
            .product(name: "GRDB", package: "GRDB.swift"),
            // `server`: a bare Hummingbird route beside the twin reads
            .product(name: "Hummingbird", package: "hummingbird"),
            // `live`: the server's WebSocket from a client in the same process
            .product(name: "HummingbirdWSClient", package: "hummingbird-websocket"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        ]),
        // Test fixtures several test targets share: the shared reference folder and temporary files.
        .target(name: "TwinTesting"),
        // The BankStorage (and AuditStore) conformance suite, written once: every storage's tests run its cases
        // (imports Testing; no storage of its own, so it does not depend on TwinBankSQLite).
        .target(name: "TwinStorageTesting", dependencies: ["TwinBank", "TwinGovernance"]),
        .testTarget(name: "TwinCoreTests", dependencies: ["TwinCore"]),
        .testTarget(name: "TwinBankTests", dependencies: ["TwinTesting", "TwinStorageTesting", "TwinBank", "TwinBankSQLite", "TwinGovernance"]),
        .testTarget(name: "TwinSimulationTests", dependencies: ["TwinSimulation"]),
        .testTarget(name: "TwinModelsTests", dependencies: ["TwinTesting", "TwinModels"]),
        .testTarget(name: "TwinSBMLTests", dependencies: ["TwinTesting", "TwinSBML"], exclude: ["Resources"]),
        .testTarget(name: "TwinCalibrationTests", dependencies: ["TwinCalibration", "TwinModels", "TwinTesting"]),
        .testTarget(name: "TwinSyncTests", dependencies: [
            "TwinSync", "TwinTesting", .product(name: "ServiceLifecycleTestKit", package: "swift-service-lifecycle"),
        ]),
        .testTarget(name: "TwinDemoTests", dependencies: ["TwinTesting", "TwinDemo", "TwinPopulation", "TwinSBML"]),
        .testTarget(name: "TwinDashboardTests", dependencies: ["TwinDashboard"]),
        // also TwinPrognostic's tests (prognostic models and PROCOVA: a twin's predictions, like TwinRun's)
        .testTarget(name: "TwinRunTests", dependencies: ["TwinTesting", "TwinRun", "TwinBankSQLite", "TwinPrognostic"]),
        .testTarget(name: "TwinGovernanceTests", dependencies: [
            "TwinTesting", "TwinGovernance", "TwinBankSQLite", "TwinFHIR", "TwinSimulation", .product(name: "GRDB", package: "GRDB.swift"),
            // the gate table calls every library's bank entry points
            "TwinCalibration", "TwinDemo", "TwinModels", "TwinPopulation", "TwinPrognostic", "TwinRun", "TwinSync",
        ]),
        .testTarget(name: "TwinFHIRTests", dependencies: ["TwinTesting", "TwinFHIR", "TwinBankSQLite"]),
        .testTarget(name: "TwinPopulationTests", dependencies: ["TwinTesting", "TwinPopulation", "TwinBankSQLite"]),
        // Against a real PostgreSQL server that Scripts/with-postgres starts (skipped, saying why, without one).
        .testTarget(name: "TwinBankPostgresTests", dependencies: [
            "TwinTesting", "TwinStorageTesting", "TwinBankPostgres", "TwinBank", "TwinGovernance",
            // the watch service across processes (PostgresChangeFeedTests)
            "TwinSync",
            .product(name: "PostgresNIO", package: "postgres-nio"),
        ]),
        .testTarget(name: "TwinServerTests", dependencies: [
            "TwinTesting", "TwinServer", "TwinServerAPI", "TwinBankSQLite", "TwinGovernance", "TwinFHIR", "TwinSync", "TwinRun", "TwinCalibration", "TwinSimulation",
            .product(name: "HummingbirdTesting", package: "hummingbird"),
            .product(name: "HummingbirdWSClient", package: "hummingbird-websocket"),
            .product(name: "HummingbirdWSCompression", package: "hummingbird-websocket"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "HTTPTypes", package: "swift-http-types"),
            .product(name: "JWTKit", package: "jwt-kit"),
            .product(name: "Crypto", package: "swift-crypto"),
        ]),
        .testTarget(name: "TwinbankCLITests", dependencies: [
            "TwinTesting", "twinbank", "TwinSBML", "TwinGovernance", "TwinBankSQLite",
            // the live test: the real binary's WebSocket
            .product(name: "HummingbirdWSClient", package: "hummingbird-websocket"),
            .product(name: "HTTPTypes", package: "swift-http-types"),
            .product(name: "Logging", package: "swift-log"),
        ]),
    ],
    swiftLanguageModes: [.v6]
)
