import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import TwinFHIR

/// Errors on `/fhir` paths as FHIR R4 `OperationOutcome`s (`application/fhir+json`) with the status of the
/// ``ServerError``: one `error` issue whose `code` is the FHIR issue type for the status, whose `details` carry the
/// server's stable code (system `urn:twinbank:error-code`) and the message, and whose `expression` is the FHIR path
/// of the offending element when the error names one (an importer error inside a Bundle).
enum FHIROutcome {
    static let codeSystem = "urn:twinbank:error-code"

    /// Whether a request path is the FHIR facade's.
    static func isFHIR(_ path: String) -> Bool { path == "/fhir" || path.hasPrefix("/fhir/") }

    /// The FHIR issue type (value set `issue-type`) for an HTTP status.
    static func issueType(_ status: HTTPResponse.Status) -> String {
        switch status.code {
        case 400: "invalid"
        case 401: "login"
        case 403: "forbidden"
        case 404: "not-found"
        case 405, 406, 415: "not-supported"
        case 409, 412: "conflict"
        case 410: "deleted"
        case 413: "too-long"
        case 422: "processing"
        case 503: "transient"
        default: "exception"
        }
    }

    static func outcome(severity: String, code: String, text: String, expression: String?, errorCode: String) -> JSONValue {
        var issue: JSONObject = [
            "severity": .string(severity), "code": .string(code),
            "details": ["coding": [["system": .string(codeSystem), "code": .string(errorCode)]], "text": .string(text)],
        ]
        if let expression { issue["expression"] = [.string(expression)] }
        return ["resourceType": "OperationOutcome", "issue": [.object(issue)]]
    }

    /// The OperationOutcome of `e`; a field that is not a FHIR path (a header, a search parameter) is named in the text.
    static func resource(_ e: ServerError) -> JSONValue {
        let isPath = e.field.map { $0.first?.isUppercase == true && $0.contains(".") } ?? false
        // a path no route answers: the facade's contract is the CapabilityStatement, not openapi.yaml
        var text = e.code == .notFound ? "no such FHIR interaction: GET /fhir/metadata lists what this server answers" : e.message
        if let field = e.field, !isPath, !text.contains(field) { text += " (\(field))" }
        return outcome(severity: "error", code: issueType(e.code.status), text: text, expression: isPath ? e.field : nil, errorCode: e.code.rawValue)
    }

    static func response(_ e: ServerError) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = FHIRFacade.mediaType
        if e.code == .unauthorized { headers[.wwwAuthenticate] = "Bearer realm=\"twinbank\"" }
        return Response(status: e.code.status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: JSONWriter().write(resource(e)))))
    }
}
