import ArgumentParser

/// `twinbank-bench`: release-build benchmarks, run outside the test suite, side by side with the anchors
/// in ../shared/anchors. Each benchmark is one subcommand type in this folder (`<Name>Bench.swift`).
@main
struct Bench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "twinbank-bench",
        abstract: "Benchmarks (build with -c release). Each prints its figures and, where an anchor exists, the ratio.",
        subcommands: Bench.allSubcommands
    )
}
