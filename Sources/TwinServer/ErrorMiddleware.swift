import Foundation
import Hummingbird
import Logging
import OpenAPIRuntime
import TwinBank
import TwinCore
import TwinGovernance
import TwinRun
import TwinSync

/// The JSON body of every error (the contract's `Error` schema).
struct ErrorBody: Codable, Sendable, Equatable {
    var code: String
    var message: String
    var field: String?
}

/// Turns every error into the one JSON error body with its status: the server's own ``ServerError``, the bank's
/// errors, the contract's decoding failures (400, naming the field), Hummingbird's (no route 404, body too large
/// 413); anything else is a 500 whose details go to the log, not to the client. On `/fhir` paths the same error is
/// an `OperationOutcome` (``FHIROutcome``).
struct ErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch {
            let e = ErrorMapping.serverError(error)
            if e.code == .internalError {
                context.logger.error("request failed", metadata: ["error": "\(String(reflecting: error))", "path": "\(request.uri.path)"])
            }
            return FHIROutcome.isFHIR(request.uri.path) ? FHIROutcome.response(e) : ErrorMapping.response(e)
        }
    }
}

enum ErrorMapping {
    static let encoder: JSONEncoder = {
        let e = JSONEncoder(); e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]; return e
    }()

    static func response(_ e: ServerError) -> Response {
        let body = (try? encoder.encode(ErrorBody(code: e.code.rawValue, message: e.message, field: e.field))) ?? Data("{\"code\":\"internalError\",\"message\":\"\"}".utf8)
        var headers = HTTPFields()
        headers[.contentType] = "application/json; charset=utf-8"
        if e.code == .unauthorized { headers[.wwwAuthenticate] = "Bearer realm=\"twinbank\"" }
        return Response(status: e.code.status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: body)))
    }

    /// The server error for any error a request may end with.
    static func serverError(_ error: any Error) -> ServerError {
        switch error {
        case let e as ServerError: return e
        case let e as OpenAPIRuntime.ServerError:
            if let inner = e.underlyingError as? ServerError { return inner }
            if e.underlyingError is BankError || e.underlyingError is TwinError || e.underlyingError is GovernanceError || e.underlyingError is SyncError {
                return serverError(e.underlyingError)
            }
            // the generated code could not read the request as the contract says
            return contractViolation(e)
        case let e as BankError: return bank(e, field: nil)
        case let e as TwinError:
            return ServerError(.badRequest, e.message, value: e.value)
        case let e as GovernanceError:
            switch e.code {
            case .accessDenied: return ServerError(.accessDenied, e.message, value: e.value)
            case .auditTampered: return ServerError(ServerError.Code(e.code.description, .conflict), e.message, value: e.value)
            case .storageFailure: return ServerError(.unavailable, e.message, value: e.value)
            default: return ServerError(ServerError.Code(e.code.description, .badRequest), e.message, value: e.value)
            }
        case let e as RunError:
            // a comparison or simulation the twin does not allow (no virtual patient, a bad binding, a model failing)
            return ServerError(ServerError.Code(e.code.description, .unprocessableContent), e.message, value: e.value)
        case let e as SyncError:
            // a twin that cannot be synchronised as asked (no readings in the window, a bad binding ...)
            return ServerError(ServerError.Code(e.code.description, .unprocessableContent), e.message, value: e.value)
        case let e as HTTPError:
            switch e.status {
            case .notFound: return ServerError(.notFound, "no such route: see openapi.yaml for the routes this server answers")
            case .contentTooLarge: return ServerError(.payloadTooLarge, "the request body is over the server's limit: nothing was read or written")
            case .methodNotAllowed: return ServerError(ServerError.Code("methodNotAllowed", .methodNotAllowed), "this route does not answer this method")
            case .badRequest: return ServerError(.badRequest, e.body ?? "the request is malformed")
            default: return ServerError(ServerError.Code("http\(e.status.code)", e.status), e.body ?? e.status.reasonPhrase)
            }
        default:
            return ServerError(.internalError, "the server failed on this request; it is in the server's log")
        }
    }

    /// A bank error as an HTTP answer; `field` names the request part it concerns.
    static func bank(_ e: BankError, field: String?) -> ServerError {
        let code: ServerError.Code
        switch e.code {
        case .accessDenied: code = .accessDenied
        case .unknownTwin, .erasedTwin: code = .unknownTwin
        case .unknownAggregate, .unknownCommit, .unknownEvent: code = ServerError.Code(e.code.description, .notFound)
        case .duplicateTwin, .duplicateAggregate: code = ServerError.Code(e.code.description, .conflict)
        case .idempotencyConflict: code = .idempotencyConflict
        case .storageFailure: code = .unavailable
        case .blockingOnTask, .notABank, .newerSchema: code = .internalError
        default: code = ServerError.Code(e.code.description, .badRequest)
        }
        // a token claiming a role the bank's policy does not give its subject: the token's role is at fault
        if e.code == .accessDenied, e.message.contains(DecisionPoint.roleClaimPrefix) {
            return ServerError(code, e.message, field: "role", value: e.value)
        }
        return ServerError(code, e.message, field: field, value: e.value)
    }

    /// The query parameter the contract types (`limit` an integer, `category` one of the categories) that does not
    /// parse as its type: the generated decoding does not name it.
    static func typedQueryParameterAtFault(_ path: String?) -> String? {
        guard let path, let query = URLComponents(string: path)?.queryItems else { return nil }
        for item in query {
            switch item.name {
            case "limit": if Int32(item.value ?? "") == nil { return "limit" }
            case "category": if Event.Category(rawValue: item.value ?? "") == nil { return "category" }
            case "includePossible", "replace": if Bool(item.value ?? "") == nil { return item.name }
            default: continue
            }
        }
        return nil
    }

    /// A request the contract's generated decoding refused: 400 naming the field when it is known.
    static func contractViolation(_ e: OpenAPIRuntime.ServerError) -> ServerError {
        var field: String?
        var detail = e.causeDescription
        if let d = e.underlyingError as? DecodingError {
            let path: [any CodingKey]
            switch d {
            case .typeMismatch(_, let c), .valueNotFound(_, let c), .dataCorrupted(let c): path = c.codingPath; detail = c.debugDescription
            case .keyNotFound(let k, let c): path = c.codingPath + [k]; detail = "the field is missing"
            @unknown default: path = []
            }
            let names = path.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }
            field = names.isEmpty
                ? (typedQueryParameterAtFault(e.request.path) ?? "body")
                : names.reduce("") { $0.isEmpty || $1.hasPrefix("[") ? $0 + $1 : $0 + "." + $1 }
        } else {
            let underlying = String(describing: e.underlyingError)
            detail = e.causeDescription.contains(underlying) ? e.causeDescription : "\(e.causeDescription): \(underlying)"
            // a required parameter left out: the runtime names it only in its message
            if let range = detail.range(of: "Missing required query parameter named: ") {
                field = String(detail[range.upperBound...].prefix { !$0.isWhitespace && $0 != "," && $0 != "." })
            }
        }
        let code: ServerError.Code = switch e.httpStatus {
        case .unsupportedMediaType: ServerError.Code("unsupportedMediaType", .unsupportedMediaType)
        case .notAcceptable: ServerError.Code("notAcceptable", .notAcceptable)
        default: .badRequest
        }
        return ServerError(code, "the request does not match the API contract (openapi.yaml): \(detail)", field: field)
    }
}
