import Foundation
import OpenAPIRuntime
import TwinBank
import TwinCore
import TwinServerAPI

/// A twin's thread as a CSV file (`GET /api/v1/twins/{id}/events.csv`): the events the JSON list answers for the same
/// filters, unpaged, written by ``TwinBank/CSVThread/export(_:)`` in the format the CSV import reads, so the file
/// posts back to `POST .../events/csv` appending nothing.
///
/// A path of its own rather than `Accept: text/csv` on the JSON list: the generator would answer both from one
/// operation, but the list is paged (`limit`, `cursor`, `nextCursor` in the body) and a file is not; a URL ending in
/// `.csv` is also a plain link a browser or `curl -O` downloads without setting a header.
extension TwinAPI {
    func exportThreadCSV(_ input: Operations.ExportThreadCSV.Input) async throws -> Operations.ExportThreadCSV.Output {
        let call = try caller(purpose: input.headers.xPurposeOfUse, .read, .thread)
        let id = try Self.twinID(input.path.id)
        let q = input.query
        let query = try threadQuery(id, code: q.code, category: q.category, from: q.from, to: q.to, asOf: q.asOf, knownAt: q.knownAt)
        let export = try await served.run(call) { bank in CSVThread.export(try bank.events(query)) }
        return .ok(.init(body: .csv(HTTPBody(export.text))))
    }
}
