/// Locates where `changed` switches from false to true in `(lo, hi]` (`changed(lo)` false, `changed(hi)` true) by
/// bisection, to about 1e-14 relative (at most 200 halvings, stopping when the midpoint no longer separates the
/// ends): returns the last time found without the change and the first with it. Used for time-only switches of
/// the right-hand side and for event triggers.
func bisectChange(from lo: Double, to hi: Double, _ changed: (Double) -> Bool) -> (lo: Double, hi: Double) {
    var lo = lo, hi = hi
    var iterations = 0
    while hi - lo > 1e-14 * max(1, abs(hi)) && iterations < 200 {
        let mid = 0.5 * (lo + hi)
        if mid <= lo || mid >= hi { break }
        if changed(mid) { hi = mid } else { lo = mid }
        iterations += 1
    }
    return (lo, hi)
}
