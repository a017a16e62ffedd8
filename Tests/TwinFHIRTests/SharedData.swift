import Foundation

/// The shared reference data: `TWINBANK_SHARED/data` if set, else `<package root>/../shared/data`.
enum SharedData {
    static var root: URL {
        if let env = ProcessInfo.processInfo.environment["TWINBANK_SHARED"], !env.isEmpty {
            return URL(fileURLWithPath: env).appendingPathComponent("data")
        }
        var url = URL(fileURLWithPath: #filePath)
        while url.path != "/" {
            url.deleteLastPathComponent()
            if FileManager.default.fileExists(atPath: url.appendingPathComponent("Tests").path) { break }
        }
        return url.deletingLastPathComponent().appendingPathComponent("shared/data")
    }

    static func files(_ folder: String, ext: String = "json") -> [URL] {
        let dir = root.appendingPathComponent(folder)
        let names = (try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []
        return names.filter { $0.hasSuffix("." + ext) }.sorted().map { dir.appendingPathComponent($0) }
    }
}
