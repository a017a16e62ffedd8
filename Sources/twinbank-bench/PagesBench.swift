import ArgumentParser
import Foundation
import TwinBank
import TwinBankAccess
import TwinCore

/// `twinbank-bench pages`: a long thread read page by page, as `GET /api/v1/twins/{id}/events?cursor=` does, by the
/// bank's keyset pages (``TwinBank/ThreadQuery/after``, ``TwinBank/ThreadQuery/limit``) beside the whole-thread read cut
/// to the page that the route made before, on one SQLite bank in the same run.
struct PagesBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pages",
        abstract: "A long thread read in pages: keyset pages vs the whole thread read and cut for each page (SQLite).")

    @Option(help: "Events in the twin's thread.") var events = 100_000
    @Option(help: "Events per page.") var page = 100
    @Option(help: "Pages read by the whole-thread way (it is slow; its time per page is reported).") var wholePages = 20
    @Option(help: "A folder for the bank (default: the temporary folder); the bank is removed after.") var directory: String?

    func run() throws {
        let dir = (directory ?? NSTemporaryDirectory()) + "/twinbank-bench-pages-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let opened = try BankLocation(dir + "/bank.sqlite").createNew()
        let bank = Bank(storage: opened.storage, actor: "bench")
        let id = try TwinID("p1")
        try bank.createTwin(Twin(id: id, kind: .person, origin: Instant(microseconds: 0)))
        let glucose = Concept(system: "http://loinc.org", code: "2339-0", display: "Glucose")
        var written = 0
        while written < events {
            let n = min(10_000, events - written)
            try bank.append((0 ..< n).map { k in
                .observation(id, at: Instant(seconds: 1_700_000_000 + Double(written + k) * 300), code: glucose,
                             Quantity(90 + Double((written + k) % 50), "mg/dL"), source: Source(.device, "cgm"))
            })
            written += n
        }
        print("twinbank-bench pages  (\(events) events in one thread, pages of \(page), SQLite)\n")

        // keyset pages: every page of the thread
        var start = ContinuousClock.now
        var query = ThreadQuery(twin: id)
        query.limit = page + 1
        var pages = 0, seen = 0
        while true {
            let got = try bank.events(query)
            let kept = got.prefix(page)
            seen += kept.count; pages += 1
            guard got.count > page, let last = kept.last else { break }
            query.after = EventPosition(last)
        }
        let keyset = Measure.seconds(ContinuousClock.now - start)
        guard seen == events else { throw ValidationError("the pages held \(seen) events, not \(events)") }
        print(String(format: "  keyset pages:        %6d pages in %8.3f s = %8.3f ms per page", pages, keyset, keyset * 1000 / Double(pages)))

        // the whole thread read and cut for each page (the route before): the first `wholePages` pages
        start = ContinuousClock.now
        var cursor: EventPosition? = nil
        for _ in 0 ..< wholePages {
            let all = try bank.events(ThreadQuery(twin: id))
            let rest = cursor.map { c in all.filter { c < EventPosition($0) } } ?? all
            cursor = rest.prefix(page).last.map(EventPosition.init)
        }
        let whole = Measure.seconds(ContinuousClock.now - start) / Double(wholePages)
        print(String(format: "  whole thread, cut:   %6d pages in %8.3f s = %8.3f ms per page (all %d pages: %.0f s)",
                     wholePages, whole * Double(wholePages), whole * 1000, pages, whole * Double(pages)))
        print(String(format: "\nper page: %.1fx faster; the whole thread paged: %.3f s vs %.0f s", whole / (keyset / Double(pages)), keyset, whole * Double(pages)))
    }
}
