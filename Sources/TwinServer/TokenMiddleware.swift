import Hummingbird
import HummingbirdAuth
import TwinBank

/// Requires a verified bearer token on every route but the open ones (`/health`): no token or a bad one is a 401
/// before any handler (or the bank) runs; the verified identity is handed to the handlers
/// (``RequestIdentity/current``), which run under `BlockingWork.forbiddingOnTasks` (no storage call on a task's thread).
///
/// On the live routes (``TokenMiddleware/isLivePath(_:)``: a twin's WebSocket and its Server-Sent Events stream), which a
/// browser opens without being able to set headers, the token may also come as the `access_token` query parameter or,
/// on the WebSocket, as the subprotocol after `bearer` (`new WebSocket(url, ["bearer", token])`).
struct TokenMiddleware<Context: RequestContext>: RouterMiddleware {
    let tokens: TokenAuthority
    /// Paths that answer without a token.
    let openPaths: Set<String>

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if openPaths.contains(request.uri.path) { return try await next(request, context) }
        let identity = try await tokens.verify(try Self.token(of: request))
        var context = context
        context.logger[metadataKey: "subject"] = "\(identity.subject)"
        RequestIdentity.logSlot?.subject.withLock { $0 = identity.subject }
        // behind here, a storage call that forgot the hop onto the storage's threads fails in a debug build
        return try await BlockingWork.forbiddingOnTasks {
            try await RequestIdentity.$current.withValue(identity) { try await next(request, context) }
        }
    }

    /// The request's bearer token: the `Authorization` header; on a live path also `?access_token=` or the
    /// WebSocket subprotocol after `bearer`.
    static func token(of request: Request) throws -> String {
        if request.headers[.authorization] != nil {
            guard let bearer = request.headers.bearer else {
                throw ServerError(.unauthorized, "the Authorization header is not `Bearer TOKEN`", field: "Authorization")
            }
            return bearer.token
        }
        if isLivePath(request.uri.path) {
            if let t = request.uri.queryParameters["access_token"], !t.isEmpty { return String(t) }
            if let t = subprotocolToken(request) { return t }
        }
        throw ServerError(.unauthorized, "this route needs a bearer token: send `Authorization: Bearer TOKEN` (`twinbank token issue` makes one)", field: "Authorization")
    }

    /// `/api/v1/twins/{id}/live` and `/api/v1/twins/{id}/events/stream`.
    static func isLivePath(_ path: String) -> Bool {
        let parts = path.split(separator: "/", omittingEmptySubsequences: true)
        guard parts.count >= 5, parts[0] == "api", parts[1] == "v1", parts[2] == "twins" else { return false }
        return (parts.count == 5 && parts[4] == "live") || (parts.count == 6 && parts[4] == "events" && parts[5] == "stream")
    }

    /// The token a browser's WebSocket sends as its second subprotocol: `Sec-WebSocket-Protocol: bearer, TOKEN`.
    static func subprotocolToken(_ request: Request) -> String? {
        guard let value = request.headers[.secWebSocketProtocol] else { return nil }
        let items = value.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        guard let i = items.firstIndex(of: "bearer"), i + 1 < items.count, !items[i + 1].isEmpty else { return nil }
        return items[i + 1]
    }
}
