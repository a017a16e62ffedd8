import Foundation
import OpenAPIRuntime
import TwinBank
import TwinCore
import TwinServerAPI

/// Exchange between banks and CSV threads over HTTP, as `twinbank export`, `twinbank import` and `twinbank thread
/// import` do it (``TwinBank/Bank/exportBundle(twin:)``, ``TwinBank/Bank/exportBundle(aggregate:)``,
/// ``TwinBank/Bank/importBundle(_:)``, ``TwinBank/Bank/importCSV(twin:text:defaultSource:separator:)``; the gate's
/// `export`, `import` and `write`). Bodies are bounded by the server's body limit (413 beyond it, nothing read).
extension TwinAPI {
    /// The most a body is collected to; the body-limit middleware refuses larger bodies before a handler runs.
    static let collectedBodyLimit = 1 << 31

    func exportTwinBundle(_ input: Operations.ExportTwinBundle.Input) async throws -> Operations.ExportTwinBundle.Output {
        let call = try caller(purpose: input.headers.xPurposeOfUse, write: false)
        let id = try Self.twinID(input.path.id)
        let (data, result) = try await served.run(call) { bank in try bank.exportBundle(twin: id) }
        return .ok(.init(headers: .init(xBundleRoot: result.root.hex), body: .binary(HTTPBody(data))))
    }

    func exportAggregateBundle(_ input: Operations.ExportAggregateBundle.Input) async throws -> Operations.ExportAggregateBundle.Output {
        let call = try caller(purpose: input.headers.xPurposeOfUse, write: false)
        let id = try Self.aggregateID(input.path.id)
        let (data, result) = try await served.run(call) { bank in try bank.exportBundle(aggregate: id) }
        return .ok(.init(headers: .init(xBundleRoot: result.root.hex), body: .binary(HTTPBody(data))))
    }

    func importBundle(_ input: Operations.ImportBundle.Input) async throws -> Operations.ImportBundle.Output {
        let call = try caller(purpose: input.headers.xPurposeOfUse, write: true)
        guard case .binary(let body) = input.body else {
            throw ServerError(.badRequest, "the body must be a bundle (application/octet-stream)", field: "body")
        }
        let data = try await Data(collecting: body, upTo: Self.collectedBodyLimit)
        let r: ImportResult
        do {
            r = try await served.run(call) { bank in try bank.importBundle(data) }
        } catch let e as BankError where e.code == .invalidBundle || e.code == .bundleHashMismatch {
            throw ErrorMapping.bank(e, field: "body")
        }
        return .created(.init(body: .json(.init(
            root: r.root.hex, subject: r.subject, twinsCreated: r.twinsCreated.map(\.rawValue), twinsUnchanged: r.twinsUnchanged.map(\.rawValue),
            eventsAdded: r.eventsAdded, eventsAlreadyPresent: r.eventsAlreadyPresent, aggregates: r.aggregates.map(\.rawValue),
            commitsReplayed: r.commitsReplayed, commitsAlreadyPresent: r.commitsAlreadyPresent, branch: r.branch))))
    }

    func importThreadCSV(_ input: Operations.ImportThreadCSV.Input) async throws -> Operations.ImportThreadCSV.Output {
        // its rows may be of any category and source, so of any resource type: a write scope on every type
        let call = try caller(purpose: input.headers.xPurposeOfUse, .write, .bank)
        let id = try Self.twinID(input.path.id)
        let source: Source
        do { source = try input.query.source.map { try Source(parsing: $0) } ?? Source(.import, "api") } catch let e as TwinError {
            throw ServerError(.badRequest, e.message, field: "source", value: input.query.source.map { String($0.prefix(300)) })
        }
        let separator: UInt8?
        do { separator = try input.query.separator.map { try CSVReader.separator(named: $0) } } catch let e as TwinError {
            throw ServerError(.badRequest, e.message, field: "separator", value: input.query.separator.map { String($0.prefix(300)) })
        }
        guard case .csv(let body) = input.body else { throw ServerError(.badRequest, "the body must be CSV (text/csv)", field: "body") }
        let data = try await Data(collecting: body, upTo: Self.collectedBodyLimit)
        guard let text = String(data: data, encoding: .utf8) else {
            throw ServerError(.badRequest, "the CSV is not UTF-8 text; nothing was imported", field: "body")
        }
        let r: CSVImportResult
        do {
            r = try await served.run(call) { bank in
                _ = try bank.twin(id)  // an unknown twin is a 404, not a CSV error
                return try bank.importCSV(twin: id, text: text, defaultSource: source, separator: separator)
            }
        } catch let e as BankError where e.code != .accessDenied && e.code != .unknownTwin && e.code != .erasedTwin && e.code != .storageFailure {
            throw ErrorMapping.bank(e, field: "body")  // a row the bank refuses: the message names its line
        } catch let e as TwinError {
            throw ServerError(.badRequest, e.message, field: "body", value: e.value)
        }
        return .created(.init(body: .json(.init(
            rows: r.rows, count: r.count, skipped: r.skipped, firstSequence: r.firstSequence, lastSequence: r.lastSequence,
            flagged: r.flagged.map { .init(line: $0.row, reason: $0.reason) }))))
    }
}
