/// The version of Twinbank's libraries and command (`twinbank --version`). The one place it is written.
public enum TwinbankVersion {
    /// Semantic version of this source tree.
    public static let current = "0.1.0"
}
