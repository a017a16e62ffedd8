import Foundation
import TwinTesting

/// The shared reference data (`shared/data`, located by `SharedFolder`).
enum SharedData {
    static var root: URL { SharedFolder.data }

    static func files(_ folder: String, ext: String = "json") -> [URL] {
        let dir = root.appendingPathComponent(folder)
        let names = (try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []
        return names.filter { $0.hasSuffix("." + ext) }.sorted().map { dir.appendingPathComponent($0) }
    }
}
