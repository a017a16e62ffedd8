import Foundation
import TwinTesting

/// The SBML Test Suite's cases (in the shared folder `SharedFolder` locates) and this target's committed outcomes.
enum SuitePaths {
    static var cases: URL { SharedFolder.data("sbml-test-suite/cases") }

    /// The committed outcome table (case,status), next to this file.
    static var baseline: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Resources/suite-outcomes.csv")
    }
}
