import Foundation

/// The number of processors available to this process (at least 1).
enum ProcessorCount {
    static var active: Int { max(1, ProcessInfo.processInfo.activeProcessorCount) }
}
