import Hummingbird
import Logging
import Metrics
import Prometheus

/// Counts and times every request into the server's Prometheus registry (swift-metrics with swift-prometheus,
/// without bootstrapping the process-wide metrics system, so each server, and each test, has its own) and logs
/// one structured line per request (method, path, status, duration, and the token's subject once verified).
struct MetricsMiddleware<Context: RequestContext>: RouterMiddleware {
    let factory: PrometheusMetricsFactory

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let start = ContinuousClock.now
        let slot = RequestIdentity.LogSlot()
        let response: Response
        do {
            response = try await RequestIdentity.$logSlot.withValue(slot) { try await next(request, context) }
        } catch {
            // the error middleware sits inside this one; only a failure past it lands here
            record(request, context, status: 500, start: start, subject: slot.subject.withLock { $0 })
            throw error
        }
        record(request, context, status: Int(response.status.code), start: start, subject: slot.subject.withLock { $0 })
        return response
    }

    func record(_ request: Request, _ context: Context, status: Int, start: ContinuousClock.Instant, subject: String?) {
        let elapsed = ContinuousClock.now - start
        // the route's template (`/api/v1/twins/{id}`), not the path, so twin ids do not become labels
        let route = context.endpointPath ?? "unmatched"
        let dimensions = [("method", request.method.rawValue), ("route", route), ("status", String(status))]
        Counter(label: "twinbank_http_requests_total", dimensions: dimensions, factory: factory).increment()
        Timer(label: "twinbank_http_request_duration_seconds", dimensions: [("method", request.method.rawValue), ("route", route)], factory: factory)
            .recordNanoseconds(elapsed.components.seconds * 1_000_000_000 + elapsed.components.attoseconds / 1_000_000_000)
        var metadata: Logger.Metadata = [
            "method": "\(request.method.rawValue)", "path": "\(request.uri.path)", "status": "\(status)",
            "duration_ms": "\(Double(elapsed.components.attoseconds / 1_000_000_000_000) / 1000 + Double(elapsed.components.seconds) * 1000)",
        ]
        if let subject { metadata["subject"] = "\(subject)" }
        context.logger.info("request", metadata: metadata)
    }
}
