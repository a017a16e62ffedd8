import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing
import TwinBank
import TwinCalibration
import TwinCore
import TwinTesting
@testable import TwinServer

/// Calibration as a job (`POST /api/v1/calibrations`, `twinbank calibrate --petab PROBLEM.yaml --json`): the PEtab
/// problem's files uploaded by name, loaded from memory; the job's fit is the library's for the same problem, starts
/// and seed; names, sizes, settings and a malformed problem refused before anything is queued; a queued calibration
/// runs after a restart.
@Suite struct CalibrationRouteTests {
    static let jsonBody: [HTTPField.Name: String] = [.contentType: "application/json"]
    static let folder = SharedFolder.root.appendingPathComponent("data/petab/Perelson_Science1996")
    static let yaml = "Perelson_Science1996.yaml"
    static let present = SharedFolder.has("data/petab/Perelson_Science1996/Perelson_Science1996.yaml")

    /// The problem's files (the YAML and what it names that the calibration reads), by name.
    static func files() throws -> [String: String] {
        var files: [String: String] = [:]
        for name in [yaml, "parameters_Perelson_Science1996.tsv", "experimentalCondition_Perelson_Science1996.tsv",
                     "measurementData_Perelson_Science1996.tsv", "observables_Perelson_Science1996.tsv", "model_Perelson_Science1996.xml"] {
            files[name] = try String(contentsOf: folder.appendingPathComponent(name), encoding: .utf8)
        }
        return files
    }

    static func request(_ files: [String: String], problem: String = yaml, _ more: [String: Any] = [:]) throws -> ByteBuffer {
        var object: [String: Any] = ["problem": problem, "files": files]
        for (k, v) in more { object[k] = v }
        return ByteBuffer(bytes: try JSONSerialization.data(withJSONObject: object))
    }

    @Test(.enabled(if: present, "skipped: data/petab/Perelson_Science1996 is missing (put ../shared beside the package or set TWINBANK_SHARED)"))
    func calibratesAnUploadedProblemAsTheLibraryDoes() async throws {
        let f = try await ServerFixture.make(); defer { f.remove() }
        let alice = try await f.token("alice", .admin)
        // the library on the problem's folder, as `twinbank calibrate --petab ... --starts 3 --seed 5` runs it
        var options = PEtabCalibration.Options()
        options.starts = 3
        options.seed = 5
        let expected = try PEtabCalibration.load(yaml: Self.folder.appendingPathComponent(Self.yaml)).fit(options: options)
        try await f.test { client in
            let location = try await client.execute(uri: "/api/v1/calibrations", method: .post, headers: .auth(alice, Self.jsonBody),
                                                    body: try Self.request(try Self.files(), ["starts": 3, "seed": 5])) { r throws in
                #expect(r.status == .accepted, "\(String(buffer: r.body))")
                let j = try json(r)
                #expect(j["kind"] as? String == "calibration")
                #expect(j["target"] as? String == Self.yaml)
                return try #require(r.headers[.location])
            }
            let job = try await JobRouteTests.finished(client, location, alice)
            #expect(job["state"] as? String == "succeeded", "\(job)")
            #expect(job["progress"] as? Double == 1)
            #expect(job["result"] == nil)
            let result = try #require(job["calibration"] as? [String: Any], "\(job)")
            // what the command prints for the library's fit (`--json`), as printed, and within 1e-12 of the fit's values
            var printed = try #require(try JSONSerialization.jsonObject(with: Data(expected.json(problemFile: Self.yaml, seed: 5).utf8)) as? [String: Any])
            var served = result
            printed["converged"] = nil; served["converged"] = nil  // a boolean reads back as a number from one of the two
            #expect((served as NSDictionary).isEqual(to: printed), "\(served)\n\(printed)")
            #expect(result["converged"] as? Bool == expected.converged)
            #expect(result["problem"] as? String == Self.yaml)
            #expect(result["seed"] as? Int == 5)
            func close(_ a: Any?, _ b: Double) -> Bool { (a as? Double).map { abs($0 - b) <= 1e-12 * abs(b) } ?? false }
            #expect(close(result["sumOfSquares"], expected.sumOfSquares))
            #expect(close(result["negativeLogLikelihood"], expected.negativeLogLikelihood))
            #expect(result["starts"] as? Int == expected.startsRun)
            #expect(result["startsConverged"] as? Int == expected.startsConverged)
            #expect(result["startsFailed"] as? Int == expected.startsFailed)
            #expect(result["evaluations"] as? Int == expected.evaluations)
            let parameters = try #require(result["parameters"] as? [String: [String: Any]])
            #expect(parameters.keys.sorted() == expected.parameters.map(\.id).sorted())
            for p in expected.parameters {
                #expect(close(parameters[p.id]?["value"], p.value), "\(p.id)")
                #expect(parameters[p.id]?["scale"] as? String == p.scale.rawValue)
            }
            // the published optimum (c = 1.8606, delta = 0.5473)
            let c = try #require(parameters["c"]?["value"] as? Double)
            #expect(abs(c / 1.8606 - 1) < 0.005, "c = \(c)")
        }
    }

    @Test(.enabled(if: present, "skipped: data/petab/Perelson_Science1996 is missing (put ../shared beside the package or set TWINBANK_SHARED)"))
    func refusesBadFilesSettingsAndCallersBeforeQueueing() async throws {
        let f = try await ServerFixture.make(bodyLimit: 4 << 20); defer { f.remove() }
        let alice = try await f.token("alice", .admin)
        let bob = try await f.token("bob", .clinician)
        let writer = try await f.token("alice", .admin, scopes: ["user/*.c"])
        let files = try Self.files()
        var badMeasurements = files
        badMeasurements["measurementData_Perelson_Science1996.tsv"] = files["measurementData_Perelson_Science1996.tsv"]!
            .replacingOccurrences(of: "\t\tcondition1\t", with: "\t\tcondition9\t")
        var noModel = files
        noModel["model_Perelson_Science1996.xml"] = nil
        var brokenModel = files
        brokenModel["model_Perelson_Science1996.xml"] = "<sbml><model"
        var huge = files
        huge["padding.txt"] = String(repeating: "x", count: 2 << 20)
        var many: [String: String] = [:]
        for i in 0..<65 { many["f\(i).tsv"] = "a" }
        many[Self.yaml] = files[Self.yaml]
        let cases: [(ByteBuffer, HTTPResponse.Status, String, String)] = [
            (try Self.request(["../x.tsv": "a", Self.yaml: files[Self.yaml]!]), HTTPResponse.Status.badRequest, "files", "plain file name"),
            (try Self.request(["sub/x.tsv": "a", Self.yaml: files[Self.yaml]!]), .badRequest, "files", "plain file name"),
            (try Self.request([".hidden": "a", Self.yaml: files[Self.yaml]!]), .badRequest, "files", "plain file name"),
            (try Self.request(["/etc/passwd": "a", Self.yaml: files[Self.yaml]!]), .badRequest, "files", "plain file name"),
            (try Self.request([:]), .badRequest, "files", "empty"),
            (try Self.request(files, problem: "other.yaml"), .badRequest, "problem", "other.yaml"),
            (try Self.request(files, ["starts": 101]), .badRequest, "starts", "101"),
            (try Self.request(files, ["starts": -1]), .badRequest, "starts", "-1"),
            (try Self.request(files, ["seed": -1]), .badRequest, "seed", "negative"),
            (try Self.request(files, ["maxSteps": 0]), .badRequest, "maxSteps", "0"),
            (try Self.request(files, ["start": ["nope": 1]]), .badRequest, "start", "nope"),
            (try Self.request(badMeasurements), .unprocessableContent, "files", "measurementData_Perelson_Science1996.tsv"),
            (try Self.request(noModel), .unprocessableContent, "files", "model_Perelson_Science1996.xml"),
            (try Self.request(brokenModel), .unprocessableContent, "files", "model_Perelson_Science1996.xml"),
            (try Self.request(huge), .contentTooLarge, "files", "bytes"),
            (try Self.request(many), .contentTooLarge, "files", "66 files"),
        ]
        try await f.test { client in
            for (body, status, field, says) in cases {
                try await client.execute(uri: "/api/v1/calibrations", method: .post, headers: .auth(alice, Self.jsonBody), body: body) { r throws in
                    #expect(r.status == status, "\(says): \(String(buffer: r.body))")
                    let j = try json(r)
                    #expect(j["field"] as? String == field, "\(says): \(j)")
                    #expect((j["message"] as? String)?.contains(says) == true, "\(says): \(j)")
                }
            }
            try await client.execute(uri: "/api/v1/calibrations", method: .post, headers: .auth(alice, Self.jsonBody), body: body(#"{"files":{}}"#)) { r throws in
                #expect(r.status == .badRequest, "\(String(buffer: r.body))")
            }
            // a clinician (the default policy gives `aggregate` to public health, research and the admin); a token that
            // may not read; no token
            try await client.execute(uri: "/api/v1/calibrations", method: .post, headers: .auth(bob, Self.jsonBody), body: try Self.request(files)) { r throws in
                #expect(r.status == .forbidden, "\(String(buffer: r.body))")
                #expect(try json(r)["code"] as? String == "accessDenied")
            }
            try await client.execute(uri: "/api/v1/calibrations", method: .post, headers: .auth(writer, Self.jsonBody), body: try Self.request(files)) { r throws in
                #expect(r.status == .forbidden)
                #expect(try json(r)["code"] as? String == "insufficientScope")
            }
            try await client.execute(uri: "/api/v1/calibrations", method: .post, headers: HTTPFields([HTTPField(name: .contentType, value: "application/json")]),
                                     body: try Self.request(files)) { r throws in
                #expect(r.status == .unauthorized)
            }
            #expect(try await JobRouteTests.ids(client, "/api/v1/jobs", alice).ids.isEmpty)
        }
    }

    @Test(.enabled(if: present, "skipped: data/petab/Perelson_Science1996 is missing (put ../shared beside the package or set TWINBANK_SHARED)"))
    func aQueuedCalibrationRunsAfterARestart() async throws {
        let f = try await ServerFixture.make(); defer { f.remove() }
        let queue = f.server.served.jobs
        // the two running slots taken by jobs that never end, so the calibration stays queued
        let (started, signal) = AsyncStream<Void>.makeStream()
        for _ in 0..<2 {
            _ = try await queue.submit(kind: .twinSync, target: "p1", owner: "alice") { _ in
                signal.yield()
                try await Task.sleep(for: .seconds(3600))
                return []
            }
        }
        var iterator = started.makeAsyncIterator()
        _ = await iterator.next(); _ = await iterator.next()
        let alice = try await f.token("alice", .admin)
        let location = try await f.test { client in
            try await client.execute(uri: "/api/v1/calibrations", method: .post, headers: .auth(alice, Self.jsonBody),
                                     body: try Self.request(try Self.files(), ["starts": 1, "seed": 2])) { r throws in
                #expect(r.status == .accepted, "\(String(buffer: r.body))")
                #expect(try json(r)["state"] as? String == "queued")
                return try #require(r.headers[.location])
            }
        }
        var options = PEtabCalibration.Options()
        options.starts = 1
        options.seed = 2
        let expected = try PEtabCalibration.load(yaml: Self.folder.appendingPathComponent(Self.yaml)).fit(options: options)
        let g = try await JobRestartTests.restarted(f)
        try await g.test { client in
            let job = try await JobRouteTests.finished(client, location, alice)
            #expect(job["state"] as? String == "succeeded", "\(job)")
            let result = try #require(job["calibration"] as? [String: Any], "\(job)")
            #expect(result["seed"] as? Int == 2)
            #expect(abs((result["sumOfSquares"] as? Double ?? 0) - expected.sumOfSquares) <= 1e-12 * expected.sumOfSquares)
        }
    }
}
