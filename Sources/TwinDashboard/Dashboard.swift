import Foundation

/// The web dashboard's static files (`Assets/`: the page, its script and style, and the vendored plotly.js), for a
/// server to serve at `/`. The page talks to the HTTP API (`/api/v1`) with the token it is given; it holds no data
/// of its own, so serving these files needs no token.
///
/// Every file is read once, on first use, from the module's resource bundle; a path outside the bundle's files
/// (including any with `..`) is nil, so a request can never name another file on the disk.
public enum Dashboard {
    /// One static file.
    public struct Asset: Sendable {
        /// The path under the dashboard's root, without a leading slash (`index.html`, `vendor/plotly-4.1.1.min.js`).
        public let path: String
        public let bytes: [UInt8]
        /// Its media type, with `charset=utf-8` for text.
        public let contentType: String
    }

    /// The file a request path names: `/` and the empty path are `index.html`; a leading slash is ignored; nil for
    /// anything that is not one of the dashboard's files.
    public static func asset(at requestPath: String) -> Asset? {
        var path = requestPath
        while path.hasPrefix("/") { path.removeFirst() }
        if path.isEmpty { path = "index.html" }
        return assets[path]
    }

    /// Every file's path, sorted.
    public static var paths: [String] { assets.keys.sorted() }

    private static let assets: [String: Asset] = load()

    private static func load() -> [String: Asset] {
        guard let root = Bundle.module.url(forResource: "Assets", withExtension: nil) else { return [:] }
        var out: [String: Asset] = [:]
        let base = root.standardizedFileURL.path
        guard let walker = FileManager.default.enumerator(at: root, includingPropertiesForKeys: [.isRegularFileKey]) else { return [:] }
        for case let url as URL in walker {
            guard (try? url.resourceValues(forKeys: [.isRegularFileKey]))?.isRegularFile == true,
                  let data = FileManager.default.contents(atPath: url.path) else { continue }
            let full = url.standardizedFileURL.path
            guard full.hasPrefix(base + "/") else { continue }
            let path = String(full.dropFirst(base.count + 1))
            out[path] = Asset(path: path, bytes: Array(data), contentType: contentType(of: path))
        }
        return out
    }

    /// The media type of a file by its extension.
    static func contentType(of path: String) -> String {
        switch (path as NSString).pathExtension.lowercased() {
        case "html": "text/html; charset=utf-8"
        case "js": "text/javascript; charset=utf-8"
        case "css": "text/css; charset=utf-8"
        case "svg": "image/svg+xml"
        case "png": "image/png"
        case "json": "application/json"
        case "md", "txt": "text/plain; charset=utf-8"
        default: "application/octet-stream"
        }
    }
}
