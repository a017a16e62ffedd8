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

    /// The Python that has the anchors' packages: `TWINBANK_ANCHOR_PYTHON` when set and not empty (as `.ci/run`
    /// exports it), else `~/.cache/twinbank-anchors/bin/python`; `nil` when the chosen one is not an executable
    /// file. A set `TWINBANK_ANCHOR_PYTHON` is the only candidate, so pointing it at nothing (`/nonexistent`)
    /// shows what a run without the anchors reports.
    public static var anchorPython: String? {
        let candidate: String
        if let env = ProcessInfo.processInfo.environment["TWINBANK_ANCHOR_PYTHON"], !env.isEmpty {
            candidate = env
        } else {
            candidate = FileManager.default.homeDirectoryForCurrentUser.path + "/.cache/twinbank-anchors/bin/python"
        }
        return FileManager.default.isExecutableFile(atPath: candidate) ? candidate : nil
    }

    /// True under CI (`CI=true`), where a missing anchor is a failure rather than a skipped comparison.
    public static var isCI: Bool { ProcessInfo.processInfo.environment["CI"] == "true" }

    /// True when `relative` exists under the shared folder, for example `has("data/simglucose")` or
    /// `has("anchors/da_bench.py")`. For `.enabled(if:)` traits, so a test whose reference is missing reports a
    /// skip with the reason rather than failing on a missing file or passing without comparing anything.
    public static func has(_ relative: String) -> Bool {
        FileManager.default.fileExists(atPath: root.appendingPathComponent(relative).path)
    }

    /// True when every path in `relatives` exists under the shared folder (see ``has(_:)``).
    public static func has(_ relatives: [String]) -> Bool { relatives.allSatisfy { has($0) } }

    /// True when the anchor Python is present (``anchorPython`` is not `nil`).
    public static var hasAnchorPython: Bool { anchorPython != nil }

    /// Whether a comparison against the anchors (run by the anchor Python, with `scripts` from `shared/anchors`)
    /// runs here: when the Python and the scripts are present, and always under CI, which installs the anchors
    /// (`.ci/run`), so their absence there is a failure the test records rather than a skip.
    public static func runsAnchors(_ scripts: String...) -> Bool {
        isCI || (hasAnchorPython && scripts.allSatisfy { has("anchors/" + $0) })
    }
}
