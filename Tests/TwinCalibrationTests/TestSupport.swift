import Foundation
import TwinTesting

/// The shared reference folder (`../shared`) this suite reads PEtab problems from.
func sharedFolder() -> URL { SharedFolder.root }
