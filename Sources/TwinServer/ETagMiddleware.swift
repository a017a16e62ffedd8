import Foundation
import HTTPTypes
import Hummingbird

/// Writes the `ETag` and `Location` response headers as RFC 9110 spells them (a quoted string; a path):
/// swift-openapi-runtime percent-encodes header values it serialises, so the generated code's `"abc"` would leave
/// as `%22abc%22` and `/api/v1/jobs/x` as `%2Fapi%2Fv1%2Fjobs%2Fx`. (An `If-None-Match` or `If-Match` a client sends
/// is read back through the runtime's percent-decoding, so either spelling matches.)
struct ETagMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var response = try await next(request, context)
        for name in [HTTPField.Name.eTag, .location] {
            if let value = response.headers[name], value.contains("%"), let plain = value.removingPercentEncoding {
                response.headers[name] = plain
            }
        }
        return response
    }
}
