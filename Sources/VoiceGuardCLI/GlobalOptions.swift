import ArgumentParser

/// Options every subcommand accepts.
struct GlobalOptions: ParsableArguments {
    @Flag(name: .long, help: "Print machine-readable JSON on stdout.")
    var json = false

    @Flag(name: [.short, .long], help: "Print nothing on stderr except errors.")
    var quiet = false

    @Flag(name: [.short, .long], help: "Print more detail on stderr (repeat for more).")
    var verbose: Int

    var console: Console { Console(verbosity: quiet ? -1 : verbose) }
}
