import Foundation

/// The external reference material beside the package: `../shared` (the SBML Test Suite, Synthea bundles, FHIR
/// examples, PEtab problems, simglucose traces, and the anchor scripts), or the folder `TWINBANK_SHARED` names.
///
/// Every test target locates it through this one type, so a test run and CI agree on where the data is and on
/// which Python runs the anchors.
public enum SharedFolder {
    /// The package root: the nearest folder above this source file that holds `Package.swift`.
    public static var packageRoot: URL {
        var url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        while url.path != "/" {
            if FileManager.default.fileExists(atPath: url.appendingPathComponent("Package.swift").path) { return url }
            url.deleteLastPathComponent()
        }
        return url
    }

    /// `TWINBANK_SHARED` when set and not empty, else `<package root>/../shared`.
    public static var root: URL {
        if let env = ProcessInfo.processInfo.environment["TWINBANK_SHARED"], !env.isEmpty {
            return URL(fileURLWithPath: env)
        }
        return packageRoot.appendingPathComponent("../shared").standardizedFileURL
    }

    /// `shared/data`: material nobody here wrote, each folder with its README and licence.
    public static var data: URL { root.appendingPathComponent("data") }

    /// `shared/anchors`: the scripts that run the tools people use today.
    public static var anchors: URL { root.appendingPathComponent("anchors") }

    /// A file or folder under `shared/data`, for example `simglucose/simglucose-adult001-24h.csv`.
    public static func data(_ relative: String) -> URL { data.appendingPathComponent(relative) }

    /// The Python that has the anchors' packages: `TWINBANK_ANCHOR_PYTHON` (as `.ci/run` exports it), else
    /// `~/.cache/twinbank-anchors/bin/python`; `nil` when neither is an executable file.
    public static var anchorPython: String? {
        let env = ProcessInfo.processInfo.environment
        let candidates = [env["TWINBANK_ANCHOR_PYTHON"],
                          FileManager.default.homeDirectoryForCurrentUser.path + "/.cache/twinbank-anchors/bin/python"]
        return candidates.compactMap { $0 }.first { !$0.isEmpty && FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// True under CI (`CI=true`), where a missing anchor is a failure rather than a skipped comparison.
    public static var isCI: Bool { ProcessInfo.processInfo.environment["CI"] == "true" }
}
