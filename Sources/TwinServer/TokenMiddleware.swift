import Hummingbird
import HummingbirdAuth
import TwinBank

/// Requires a verified bearer token on every route but the open ones (`/health`): no token or a bad one is a 401
/// before any handler (or the bank) runs; the verified identity is handed to the handlers
/// (``RequestIdentity/current``), which run under `BlockingWork.forbiddingOnTasks` (no storage call on a task's thread).
struct TokenMiddleware<Context: RequestContext>: RouterMiddleware {
    let tokens: TokenAuthority
    /// Paths that answer without a token.
    let openPaths: Set<String>

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if openPaths.contains(request.uri.path) { return try await next(request, context) }
        guard request.headers[.authorization] != nil else {
            throw ServerError(.unauthorized, "this route needs a bearer token: send `Authorization: Bearer TOKEN` (`twinbank token issue` makes one)", field: "Authorization")
        }
        guard let bearer = request.headers.bearer else {
            throw ServerError(.unauthorized, "the Authorization header is not `Bearer TOKEN`", field: "Authorization")
        }
        let identity = try await tokens.verify(bearer.token)
        var context = context
        context.logger[metadataKey: "subject"] = "\(identity.subject)"
        RequestIdentity.logSlot?.subject.withLock { $0 = identity.subject }
        // behind here, a storage call that forgot the hop onto the storage's threads fails in a debug build
        return try await BlockingWork.forbiddingOnTasks {
            try await RequestIdentity.$current.withValue(identity) { try await next(request, context) }
        }
    }
}
