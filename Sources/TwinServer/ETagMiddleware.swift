import Foundation
import Hummingbird

/// Writes the `ETag` response header as RFC 9110 spells it (a quoted string): swift-openapi-runtime percent-encodes
/// header values it serialises, so the generated code's `"abc"` would leave as `%22abc%22`. (An `If-None-Match` a
/// client sends is read back through the runtime's percent-decoding, so either spelling matches.)
struct ETagMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var response = try await next(request, context)
        if let etag = response.headers[.eTag], etag.contains("%"), let plain = etag.removingPercentEncoding {
            response.headers[.eTag] = plain
        }
        return response
    }
}
