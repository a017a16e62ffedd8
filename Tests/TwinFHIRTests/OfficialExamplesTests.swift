import Foundation
import Testing
import TwinTesting
@testable import TwinFHIR

/// The 704 official R4 examples: each either parses, validates and round-trips, or is rejected naming the R4
/// rule it breaks, and the rejected ones are exactly those listed in `RejectedExamples.list`.
@Suite(.enabled(if: SharedFolder.has("data/fhir-r4-examples"), "skipped: the R4 examples data/fhir-r4-examples are missing (put ../shared beside the package or set TWINBANK_SHARED)"))
struct OfficialExamplesTests {
    static let files = SharedData.files("fhir-r4-examples")

    struct Outcome: Sendable {
        var file: String
        var firstIssue: FHIRError?
        var roundTrips: Bool
    }

    static func check(_ url: URL) throws -> Outcome {
        let bytes = try [UInt8](Data(contentsOf: url))
        let tree = try JSONReader().read(bytes)
        let issues = Validator().validate(tree)
        let written = JSONWriter().write(tree)
        let again = try JSONReader().read(written)
        let pretty = try JSONReader().read(JSONWriter(indent: 1).write(tree))
        // Through the typed layer: the resource wrapper and, for the types twins use, their views.
        let resource = try Resource(tree)
        var typed = try JSONReader().read(resource.bytes) == tree
        switch resource.resourceType {
        case "Patient": _ = try Patient(resource).names
        case "Observation": let o = try Observation(resource); typed = typed && (o.code != nil || o.codes.isEmpty)
        case let t where ClinicalRecord.types.contains(t): _ = try ClinicalRecord(resource).code
        default: break
        }
        return Outcome(file: url.lastPathComponent, firstIssue: issues.first, roundTrips: again == tree && pretty == tree && typed)
    }

    @Test func allExamplesPresent() {
        #expect(Self.files.count == 704)
    }

    @Test func everyExampleRoundTripsOrIsRejectedAsListed() throws {
        var rejected: [String: String] = [:]
        for url in Self.files {
            let o = try Self.check(url)
            #expect(o.roundTrips, "\(o.file) does not round-trip")
            if let e = o.firstIssue {
                rejected[o.file] = "\(e.location ?? ""): \(e.rule ?? "")"
                if ProcessInfo.processInfo.environment["FHIR_DUMP"] != nil { print("REJECT \(o.file)\t\(e)") }
            }
        }
        for (file, reason) in rejected.sorted(by: { $0.key < $1.key }) {
            #expect(RejectedExamples.list[file] == reason, "\(file) is rejected: \(reason)")
        }
        for (file, reason) in RejectedExamples.list where rejected[file] == nil {
            Issue.record("\(file) is listed as rejected (\(reason)) but was accepted")
        }
    }
}
