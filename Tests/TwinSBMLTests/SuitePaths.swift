import Foundation

/// Locates shared data: `TWINBANK_SHARED` if set, else `<package root>/../shared`.
enum SuitePaths {
    static var packageRoot: URL {
        var url = URL(fileURLWithPath: #filePath)
        while url.path != "/" {
            url.deleteLastPathComponent()
            if FileManager.default.fileExists(atPath: url.appendingPathComponent("Tests").path) { return url }
        }
        return url
    }

    static var shared: URL {
        if let env = ProcessInfo.processInfo.environment["TWINBANK_SHARED"], !env.isEmpty {
            return URL(fileURLWithPath: env)
        }
        return packageRoot.appendingPathComponent("../shared").standardized
    }

    static var cases: URL { shared.appendingPathComponent("data/sbml-test-suite/cases") }

    /// The committed outcome table (case,status), next to this file.
    static var baseline: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Resources/suite-outcomes.csv")
    }
}
