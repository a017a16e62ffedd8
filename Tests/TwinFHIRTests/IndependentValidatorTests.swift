import Foundation
import Testing
import TwinBank
import TwinCore
@testable import TwinFHIR
import TwinTesting

/// Exported bundles checked by an independent validator: the fhir.resources R4B models of the anchors' venv
/// (`TWINBANK_ANCHOR_PYTHON`, or `~/.cache/twinbank-anchors/bin/python`). Runs when that Python is present, and
/// always under CI, which installs the anchors (there a missing Python is a failure); else it reports a skip.
@Suite(.enabled(if: SharedFolder.runsAnchors(),
                "skipped: the anchor Python (with fhir.resources) is missing (set TWINBANK_ANCHOR_PYTHON or run ../shared/anchors/setup.sh)"))
struct IndependentValidatorTests {
    static let python: String? = SharedFolder.anchorPython

    static func validateWithFHIRResources(_ bundle: JSONValue) throws -> String {
        let dir = try TemporaryFiles.directory("fhir-validator")
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("bundle.json")
        try Data(JSONWriter().write(bundle)).write(to: file)
        // CI installs the anchors: without the Python there, the comparison fails rather than passing.
        let python = try #require(Self.python, "CI installs the anchors, yet the anchor Python is missing: cannot validate with fhir.resources")
        let p = Process()
        p.executableURL = URL(fileURLWithPath: python)
        p.arguments = ["-c", "import sys\nfrom fhir.resources.R4B.bundle import Bundle\nb = Bundle.model_validate_json(open(sys.argv[1], 'rb').read())\nprint('valid', len(b.entry or []))", file.path]
        let pipe = Pipe()
        p.standardOutput = pipe
        p.standardError = pipe
        try p.run()
        let out = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        return out
    }

    @Test(.enabled(if: SharedFolder.has("data/synthea"),
                   "skipped: the Synthea bundles data/synthea are missing (put ../shared beside the package or set TWINBANK_SHARED)"))
    func exportedSyntheaBundleValidates() throws {
        let bank = Bank(storage: MemoryStorage())
        let file = SharedData.files("synthea").first { $0.lastPathComponent.hasPrefix("Fletcher_Hyatt") }!
        let importer = FHIRImporter(bank: bank)
        _ = try importer.importPaths([SharedData.files("synthea").first { $0.lastPathComponent.hasPrefix("hospital") }!.path, file.path])
        let twin = try bank.twinIDs().first { (try? bank.twin($0).twin.kind) == .person }!
        let bundle = try FHIRExporter(bank: bank).bundle(twin: twin)
        #expect(Validator().validate(bundle).isEmpty)
        let out = try Self.validateWithFHIRResources(bundle)
        #expect(out.hasPrefix("valid \(bundle["entry"]!.list.count)"), "\(out.suffix(2000))")
    }

    @Test func modelOutputExportsWithProvenance() throws {
        let bank = Bank(storage: MemoryStorage())
        _ = try bank.createTwin(Twin(id: "p1", kind: .person, attributes: ["gender": .text("female"), "birthDate": .date(Instant.parse("1970-01-01")!)]))
        let measured = try bank.append([EventDraft(twin: "p1", effective: EffectiveTime(Instant.parse("2024-01-01T08:00:00Z")!), code: .loinc("2339-0", "Glucose"),
                                                   value: .quantity(Quantity(140, "mg/dL")), source: Source(.device, "cgm-7"))])
        let derived = Provenance(derivedFrom: measured.ids, model: "uva-padova", modelVersion: "1", parametersHash: "abc123", seed: 42)
        _ = try bank.append([
            EventDraft(twin: "p1", effective: EffectiveTime(Instant.parse("2024-01-01T09:00:00Z")!), category: .prediction,
                       code: .loinc("2339-0", "Glucose"), value: .quantity(Quantity(171.5, "mg/dL")), source: Source(.model, "uva-padova@1"), provenance: derived),
            EventDraft(twin: "p1", effective: EffectiveTime(Instant.parse("2024-01-01T09:00:00Z")!), category: .alert,
                       code: Concept(system: "http://snomed.info/sct", code: "80394007", display: "Hyperglycemia"), value: .quantity(Quantity(0.8, "1")),
                       source: Source(.model, "uva-padova@1"), provenance: derived),
        ])
        let bundle = try FHIRExporter(bank: bank).bundle(twin: "p1")
        let types = bundle["entry"]!.list.compactMap { $0["resource"]?["resourceType"]?.stringValue }
        #expect(types == ["Patient", "Observation", "Observation", "Provenance", "RiskAssessment", "Provenance"])
        let risk = bundle["entry"]!.list[4]["resource"]!
        #expect(risk["prediction"]?[0]?["probabilityDecimal"] == .number("0.8"))
        #expect(risk["meta"]?["tag"]?[0]?["code"] == "model-output")
        let prov = bundle["entry"]!.list[5]["resource"]!
        #expect(prov["entity"]?[0]?["what"]?["identifier"]?["value"]?.stringValue == measured.ids[0].hex)
        #expect(Validator().validate(bundle).isEmpty, "\(Validator().validate(bundle))")
        let out = try Self.validateWithFHIRResources(bundle)
        #expect(out.hasPrefix("valid 6"), "\(out.suffix(2000))")
    }
}
