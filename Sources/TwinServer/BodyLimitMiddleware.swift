import Hummingbird

/// Refuses a request body over `limit` bytes with 413 before anything reads it: at once when `Content-Length`
/// says so, else while collecting it (a chunked body stops being read at the limit). The collected body is
/// handed on, so memory per request is bounded by the limit.
struct BodyLimitMiddleware<Context: RequestContext>: RouterMiddleware {
    let limit: Int

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard request.method == .post || request.method == .put || request.method == .patch else { return try await next(request, context) }
        if let length = request.headers[.contentLength].flatMap({ Int($0) }), length > limit {
            throw tooLarge(length)
        }
        var request = request
        let collected: ByteBuffer
        do {
            collected = try await request.collectBody(upTo: limit)
        } catch let e as HTTPError where e.status == .contentTooLarge {
            throw tooLarge(nil)
        }
        // a body that arrived whole (not streamed) is not measured by the collection
        guard collected.readableBytes <= limit else { throw tooLarge(collected.readableBytes) }
        return try await RequestBody.$collected.withValue(collected) { try await next(request, context) }
    }

    func tooLarge(_ length: Int?) -> ServerError {
        ServerError(.payloadTooLarge, "the request body \(length.map { "has \($0) bytes, " } ?? "is ")over the server's limit of \(limit) bytes: nothing was read or written; send smaller batches", value: length.map(String.init))
    }
}

/// The body of the request being handled as it was sent, collected by ``BodyLimitMiddleware`` (so at most the body
/// limit), for a handler that needs its bytes rather than what the generated code decoded (a GeoJSON file's order).
enum RequestBody {
    @TaskLocal static var collected: ByteBuffer?
}
