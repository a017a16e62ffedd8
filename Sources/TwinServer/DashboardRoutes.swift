import HTTPTypes
import Hummingbird
import TwinDashboard

extension TwinServer {
    /// The dashboard's paths: `/` (the page) and every file of ``TwinDashboard/Dashboard``. They answer without a
    /// token: they hold no one's data, and the page calls the API with the token it is given.
    public static var dashboardPaths: Set<String> { Set(["/"] + Dashboard.paths.map { "/" + $0 }) }

    /// Serves the dashboard's files at ``dashboardPaths`` (GET), each with its media type, no sniffing, a content
    /// security policy that lets the page load only this server's scripts and talk only to this server, and caching
    /// (the page and its script revalidate; the vendored library, whose name carries its version, for a day).
    func addDashboard(to router: Router<BasicRequestContext>) {
        for path in Self.dashboardPaths {
            guard let asset = Dashboard.asset(at: path) else { continue }
            let response = Self.response(for: asset)
            router.get(RouterPath(path)) { _, _ in response }
        }
    }

    static func response(for asset: Dashboard.Asset) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = asset.contentType
        headers[.cacheControl] = asset.path.hasPrefix("vendor/") ? "public, max-age=86400" : "no-cache"
        headers[.xContentTypeOptions] = "nosniff"
        headers[.contentSecurityPolicy] = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
        headers[HTTPField.Name("Referrer-Policy")!] = "no-referrer"
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: asset.bytes)))
    }
}
