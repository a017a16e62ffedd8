import Foundation
import Testing
import TwinTesting

/// A public declaration of a library that takes a `Bank`, extends it, or belongs to a type holding one.
struct BankDeclaration: Hashable, CustomStringConvertible {
    /// `Type.name(label:label:)` for functions and initialisers, `Type.name` for properties.
    var key: String
    var file: String
    var line: Int
    var description: String { "\(key) (\(file):\(line))" }
}

/// Reads the libraries' sources (not the commands, the benchmarks or the test fixtures) and lists their bank
/// surface: every public func, init, subscript, var and let that takes (a `Bank`, or a `ThreadReading`, which a bank
/// is) or extends `Bank`, or belongs to a type
/// with a stored `Bank` property. A line-based reader of the project's formatting (four-space indentation, one
/// declaration per line): the enclosing type is the nearest type declaration indented less.
enum BankSurface {
    static let excludedTargets: Set<String> = ["twinbank", "twinbank-bench", "TwinTesting"]

    static var sources: URL {
        // Tests/TwinGovernanceTests/<this file> -> the package root
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Sources")
    }

    /// The library source files, as (path relative to the package root, lines).
    static func files() throws -> [(String, [Substring])] {
        let fm = FileManager.default
        var out: [(String, [Substring])] = []
        for target in try fm.contentsOfDirectory(atPath: sources.path).sorted() where !excludedTargets.contains(target) {
            let dir = sources.appendingPathComponent(target)
            guard let walker = fm.enumerator(atPath: dir.path) else { continue }
            for case let relative as String in walker where relative.hasSuffix(".swift") {
                let text = try String(contentsOf: dir.appendingPathComponent(relative), encoding: .utf8)
                out.append(("Sources/\(target)/\(relative)", text.split(separator: "\n", omittingEmptySubsequences: false)))
            }
        }
        return out.sorted { $0.0 < $1.0 }
    }

    nonisolated(unsafe) static let typeDeclaration = try! Regex(#"^(\s*)(?:@\w+\s+)*(?:(?:public|private|fileprivate|internal|package|final|open|indirect)\s+)*(?:struct|class|enum|extension|actor|protocol)\s+([A-Za-z_][\w.]*)"#)
    nonisolated(unsafe) static let publicDeclaration = try! Regex(#"^(\s*)(?:@\w+(?:\([^)]*\))?\s+)*public\s+(?:(?:static|class|final|nonisolated|mutating|override|convenience|required|lazy)\s+)*(func|init|subscript|var|let)\b"#)
    nonisolated(unsafe) static let storedBank = try! Regex(#"^\s*(?:(?:public|private|fileprivate|internal|package)\s+)?(?:let|var)\s+\w+\s*:\s*Bank\??\s*$"#)

    static func indent(_ line: Substring) -> Int { line.prefix { $0 == " " }.count }

    /// The names of the types enclosing line `i` at indentation `depth`, outermost first; nil when the line is
    /// inside a function or closure rather than a type's body.
    static func enclosing(_ lines: [Substring], _ i: Int, depth: Int) -> [String]? {
        var chain: [String] = []
        var threshold = depth
        var j = i - 1
        while j >= 0, threshold > 0 {
            let line = lines[j]
            let trimmed = line.drop { $0 == " " }
            if !trimmed.isEmpty, !trimmed.hasPrefix("//"), !trimmed.hasPrefix("*"), indent(line) < threshold {
                guard let m = line.firstMatch(of: typeDeclaration), let name = m.output[2].substring else {
                    // a closing brace of a sibling, or an attribute of the type below it: keep looking
                    if trimmed.hasPrefix("}") || trimmed.hasPrefix("@") || trimmed.hasPrefix("#") { j -= 1; continue }
                    return nil
                }
                chain.insert(String(name), at: 0)
                threshold = indent(line)
            }
            j -= 1
        }
        return chain
    }

    /// The parameter list's top-level pieces (between the first `(` after `from` and its match).
    static func parameters(_ text: String, from start: String.Index) -> [String]? {
        guard let open = text[start...].firstIndex(of: "(") else { return nil }
        var depth = 0, piece = "", out: [String] = []
        var previous: Character = " "
        for c in text[open...] {
            switch c {
            case "(", "[", "<": depth += 1; if depth > 1 { piece.append(c) }
            case ")", "]": depth -= 1; if depth >= 1 { piece.append(c) }
            case ">" where previous != "-": depth -= 1; piece.append(c)
            case "," where depth == 1: out.append(piece); piece = ""
            default: piece.append(c)
            }
            previous = c
            if depth == 0 { break }
        }
        let last = piece.trimmingCharacters(in: .whitespaces)
        if !last.isEmpty { out.append(last) }
        return out.map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    /// Scans the sources. Each declaration once (a key may repeat across overloads with the same labels).
    static func scan() throws -> [BankDeclaration] {
        var found: [BankDeclaration] = []
        for (path, lines) in try files() {
            // types holding a Bank in a stored property
            var holders = Set<String>()
            for (i, line) in lines.enumerated() where line.firstMatch(of: storedBank) != nil {
                if let chain = enclosing(lines, i, depth: indent(line)), !chain.isEmpty { holders.insert(chain.joined(separator: ".")) }
            }
            for (i, line) in lines.enumerated() {
                guard let m = line.firstMatch(of: publicDeclaration), let kindText = m.output[2].substring else { continue }
                let kind = String(kindText)
                guard let chain = enclosing(lines, i, depth: indent(line)) else { continue }
                let owner = chain.joined(separator: ".")
                // the declaration's text up to the end of its parameter list
                var text = String(line), k = i
                while text.filter({ $0 == "(" }).count > text.filter({ $0 == ")" }).count, k + 1 < lines.count, k < i + 12 {
                    k += 1; text += " " + lines[k].trimmingCharacters(in: .whitespaces)
                }
                // the match ends right after the keyword; `text` starts with the same characters as `line`
                let afterKind = text.index(text.startIndex, offsetBy: line.distance(from: line.startIndex, to: m.range.upperBound))
                let rest = text[afterKind...].drop { $0 == " " || $0 == "?" || $0 == "!" }
                let name: String
                var key: String
                var takesBank = false
                switch kind {
                case "var", "let":
                    name = String(rest.prefix { $0.isLetter || $0.isNumber || $0 == "_" })
                    key = "\(owner).\(name)"
                    let type = rest.dropFirst(name.count).drop { $0 == " " || $0 == ":" }
                    takesBank = type.hasPrefix("Bank") && !(type.dropFirst(4).first?.isLetter ?? false)
                default:
                    name = kind == "func" ? String(rest.prefix { $0.isLetter || $0.isNumber || $0 == "_" || $0 == "`" }) : kind
                    let labels = (parameters(text, from: rest.startIndex) ?? []).map { p -> String in
                        let label = p.prefix { $0 != ":" }.split(separator: " ").first.map(String.init) ?? "_"
                        var type = p.drop { $0 != ":" }.dropFirst().trimmingCharacters(in: .whitespaces)
                        if let eq = type.range(of: " = ") { type = String(type[..<eq.lowerBound]) }
                        if type.hasPrefix("inout ") { type = String(type.dropFirst(6)) }
                        // a reader of threads may be the bank itself (Bank is a ThreadReading)
                        if ["Bank", "Bank?", "some ThreadReading", "any ThreadReading"].contains(type) { takesBank = true }
                        return label + ":"
                    }
                    key = "\(owner.isEmpty ? "" : owner + ".")\(name)(\(labels.joined()))"
                }
                let extendsBank = chain.last == "Bank"
                if takesBank || extendsBank || holders.contains(owner) {
                    found.append(BankDeclaration(key: key, file: path, line: i + 1))
                }
            }
        }
        return found
    }
}

/// Declarations of the bank surface that are not entry points to a person's data, each with the reason.
let exemptFromTheGateTable: [String: String] = [
    "BackupChecks.populate(_:audit:signer:)": "a fixture of the testing library TwinStorageTesting: fills a bank through the bank's own gated entry points",
    "BackupChecks.expectSameAnswers(_:_:sourceLocation:)": "a check of the testing library TwinStorageTesting: reads two banks through their own gated entry points",
    // the bank object itself and its seam
    "Bank.init(storage:gate:clock:actor:purpose:observationSkew:claimedRole:)": "makes the bank object; reads and writes nothing",
    "Bank.acting(as:purpose:)": "the same bank for another actor or purpose; reads nothing (each call then asks the gate)",
    "Bank.acting(as:purpose:claimedRole:)": "the same bank for another actor, purpose and claimed role; reads nothing (each call then asks the gate, which checks the claim)",
    "Bank.claimedRole": "the role the actor's credential claims; no data",
    "Bank.restriction": "what the actor's credential lets leave the bank (a filter it applies with the gate's); no data",
    "Bank.acting(as:purpose:claimedRole:restriction:)": "the same bank for another actor, purpose, claimed role and credential restriction; reads nothing (each call then asks the gate, and the restriction only narrows what it permits: BankRestrictionTests)",
    "FHIRExporter.resourceType(of:)": "static and pure: the resource type of an event its caller already holds; it reads no bank",
    "FHIRExporter.resourceType(category:source:)": "static and pure: the resource type of an event still to be written, from its category and source; it reads no bank",
    "ThreadReader.twin": "the twin the reader was granted (by Bank.reading(_:_:), in the table); no data",
    "FHIRExporter.recordKey(of:)": "static and pure: the key that groups events its caller has already read into one resource; it reads no bank",
    "Bank.authorize(_:_:)": "the gate itself: asks it, and is audited by it",
    "Bank.decide(_:_:)": "the gate itself: asks it, and is audited by it",
    "Bank.answering(_:_:_:)": "the gate itself: asks it, and is audited by it",
    "Bank.latestValues(code:in:)": "reads within a Cohort, which only Bank.cohort(of:where:for:) makes, after asking the gate bank-wide and per member; it leaves out whom the gate refused (aCohortsReadsGiveNothingOfAPersonLeftOut) and answers only the actor and purpose it was decided for",
    "Bank.events(of:in:)": "reads within a Cohort (see Bank.latestValues(code:in:)); a twin the cohort left out is refused",
    "Bank.events(_:in:)": "reads within a Cohort (see Bank.latestValues(code:in:)); a twin the cohort left out is refused",
    "Bank.holders(of:in:)": "reads within a Cohort (see Bank.latestValues(code:in:))",
    "Bank.memberCounts(ofCodesIn:)": "reads within a Cohort (see Bank.latestValues(code:in:)): how many of the members it holds have each code, through each member's filter",
    "Bank.storage": "the storage under the bank: library code must not read persons' data through it (the storage-use test below lists every use outside TwinBank)",
    "Bank.changeFeed": "the storage's change feed: the bank's last sequence numbers, no person's data (a watch then reads what changed through the gated calls)",
    "Bank.run(_:)": "runs the body with this same bank on the storage's threads: every call inside asks the gate",
    "Bank.idempotencyKeyLimit": "a constant (the longest idempotency key); no data",
    "Bank.gate": "the gate object; no data",
    "Bank.clock": "the clock; no data",
    "Bank.actor": "who acts; no data",
    "Bank.purpose": "why; no data",
    "Bank.observationSkew": "a setting; no data",
    "Bank.defaultObservationSkew": "a constant; no data",
    // configuration and the bank held by library objects
    "FHIRImporter.init(bank:)": "keeps the bank; every import asks the gate for what it writes",
    "FHIRImporter.bank": "the bank it was made with (its calls are gated)",
    "FHIRImporter.planner": "configuration; no data",
    "FHIRImporter.streamingThreshold": "configuration; no data",
    "FHIRImporter.entriesPerWrite": "configuration; no data",
    "FHIRImporter.beforeBirth": "configuration; no data",
    "FHIRImporter.strict": "configuration; no data",
    "FHIRImporter.stopAtFirstRefusedFile": "configuration; no data",
    "FHIRExporter.init(bank:)": "keeps the bank; every export asks the gate",
    "FHIRExporter.bank": "the bank it was made with (its calls are gated)",
    "FHIRExporter.resources(twin:events:)": "static and pure: maps a twin and the events its caller has already read through the gate (the server's FHIR facade, as the token's subject); it reads no bank",
    "WatchService.bank": "the bank it was made with (its calls are gated)",
    "WatchService.twins": "the ids it was given; no data",
    "WatchService.watchers": "configuration; no data",
    "WatchService.channel": "the notice channel; no data",
    "WatchService.interval": "configuration; no data",
    "WebhookService.init(urls:watch:cursors:signer:attempts:backoff:timeout:logger:)": "keeps the watch's bank and subscribes to its notices; reads nothing",
    "WebhookService.bank": "the watch's bank (its calls are gated)",
    "WebhookService.urls": "configuration; no data",
    "WebhookService.attempts": "configuration; no data",
    "WebhookService.backoff": "configuration; no data",
    "WebhookService.signer": "the signing key's holder; no data",
    "WebhookService.twins": "the watched ids; no data",
    "WebhookService.watchers": "the watchers' names; no data",
    "WebhookService.cursors": "per URL the sequence of its last alert delivered; no person's data",
    "WebhookService.run()": "replays alerts through the watch's bank's gated events(_:) as the watch's actor (each read decided and audited, WebhookRestartTests), then posts the watch's notices; a refusal ends it with the bank's error",
    "LiveFeed.init(bank:notices:bufferSize:interval:)": "keeps the bank and subscribes to the notices; reads nothing",
    "LiveFeed.bank": "the bank it was made with (its calls are gated)",
    "LiveFeed.started()": "waits for the feed's own beginning; reads nothing",
    "LiveFeed.bufferSize": "configuration; no data",
    "LiveFeed.interval": "configuration; no data",
    "LiveFeed.notices": "the watch's notice channel; no data",
    "LiveFeed.subscribe(_:)": "a subscription to what run() reads through the gate; reads nothing itself (the server decides the subscriber's own access first)",
    "LiveFeed.publishedThrough": "a sequence number; no data",
    "LiveFeed.subscriberCount(_:)": "a count of subscriptions; no data",
    "LiveFeed.finish()": "ends the subscriptions; reads nothing",
    "PrognosticStore.init(bank:)": "keeps the bank; its reads ask the gate",
    "PrognosticStore.bank": "the bank it was made with (its calls are gated)",
    "Bank.defaultScanLimit": "a constant; no data",
    "PrognosticStore.objectKind": "a constant; no data",
    "PrognosticStore.refPrefix": "a constant; no data",
    "PrivateQueries.init(bank:ledger:)": "keeps the bank and the ledger; every query asks the gate",
    "PrivateQueries.bank": "the bank it was made with (its calls are gated)",
    "PrivateQueries.ledger": "the privacy ledger (spends per requester, no person's data)",
    "Governance.init(bank:actor:owner:store:clock:)": "keeps the bank and the store; reads nothing",
    "Governance.bank": "the bank it was made with (its calls are gated)",
    "Governance.store": "the governance store (policy and consents; consents are read through consent(of:), which is gated)",
    "Governance.actor": "who acts; no data",
    "Governance.owner": "the default owner; no data",
    "Governance.clock": "the clock; no data",
    "Governance.authorize(_:twin:)": "the gate itself: asks the bank's gate, and is audited by it",
    "Governance.policy()": "the bank's policy: roles and grants, no person's data (`policy show` reads it without asking, README)",
    "Governance.effectiveOwner()": "who owns the bank; no person's data",
    "Governance.hasStoredPolicy()": "whether a policy is stored; no person's data",
    "Governance.decide(_:twin:purpose:)": "the decision point's answer for this actor, without access: reads the policy and the consent's rules, no health data",
    // helpers that never throw a refusal
    "AuditEventExport.bundle(_:bank:)": "audit entries (no health data) as FHIR; the optional bank only maps twin ids to Patient ids through the gated Bank.twin, falling back to the twin id when refused (EntryPointGateTests.theAuditExportReadsTwinsOnlyThroughTheGate)",
]

@Suite struct EntryPointCompletenessTests {
    @Test func theScanFindsTheKnownSurface() throws {
        let keys = Set(try BankSurface.scan().map(\.key))
        // a few declarations of each shape, so a scanner that finds nothing cannot pass the test below
        for key in ["Bank.events(_:)", "BankWriter.append(_:)", "FHIRImporter.importFile(_:)", "DoseComparison.Model.init(twin:in:settings:)",
                    "PrivateQueries.count(aggregate:where:requester:epsilon:using:)", "Bank.storage", "WatchService.runOnce()"] {
            #expect(keys.contains(key), "the scan missed \(key)")
        }
        #expect(keys.count > 150)
    }

    /// Every public entry point that takes, extends or holds a Bank is in the gate table or exempt with a reason.
    @Test func everyBankEntryPointIsInTheTableOrExempt() throws {
        let found = try BankSurface.scan()
        let table = Set(entryPoints.map(\.key))
        #expect(Set(entryPoints.map(\.name)).count == entryPoints.count, "a row's name appears twice in the table")
        #expect(table.isDisjoint(with: exemptFromTheGateTable.keys), "in the table and exempt: \(table.intersection(exemptFromTheGateTable.keys).sorted())")
        let missing = found.filter { !table.contains($0.key) && exemptFromTheGateTable[$0.key] == nil }
        #expect(missing.isEmpty, "neither in the gate table nor exempt:\n\(missing.map(\.description).joined(separator: "\n"))")
        let keys = Set(found.map(\.key))
        let stale = table.union(exemptFromTheGateTable.keys).subtracting(keys)
        #expect(stale.isEmpty, "listed but not in the sources: \(stale.sorted())")
        #expect(exemptFromTheGateTable.values.allSatisfy { !$0.isEmpty })
    }

    /// Library code outside the bank reads persons' data only through the bank's gated calls: every use of a
    /// bank's storage is listed here with the reason it touches no person's data.
    @Test func noLibraryReadsPersonsDataPastTheGate() throws {
        let allowed: [String: String] = [
            "Sources/TwinGovernance/Store/Governance.swift": "the governance store over the bank's storage (policy and consents, which Governance reads after asking the gate)",
            "Sources/TwinDemo/Demo+Governance.swift": "builds the governed gate's store and a researcher's Bank over the same storage; reads nothing itself",
            "Sources/TwinServer/TwinAPI+Releases.swift": "the privacy ledger of a DP query (epsilon spent per requester and aggregate, no person's data) kept in the bank's storage, as `twinbank dp` keeps it; the members are read through the gated PrivateQueries",
            "Sources/TwinPrognostic/Prognostic/PrognosticStore.swift": "prognostic-model objects (parameters and the training cohort's ids, no thread data): load and hashes ask the gate for a bank-wide read first; save is internal, called by fit after the gate decided on every member of the cohort",
        ]
        var uses: [String: [Int]] = [:]
        for (path, lines) in try BankSurface.files() where !path.hasPrefix("Sources/TwinBank/") && !path.hasPrefix("Sources/TwinBankSQLite/") {
            for (i, line) in lines.enumerated() where line.contains("bank.storage") || line.contains("Bank.storage") {
                uses[path, default: []].append(i + 1)
            }
        }
        let bypasses = uses.filter { allowed[$0.key] == nil }
        #expect(bypasses.isEmpty, "reads past the gate: \(bypasses.map { "\($0.key):\($0.value)" }.sorted())")
    }
}
