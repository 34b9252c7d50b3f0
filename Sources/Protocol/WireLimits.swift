/// The ranges of the numbers the wire protocol carries (docs/wire-protocol.md#limits; the schemas say the same).
/// A number outside its range is either refused (the message is malformed) or clamped into it, as each says; any
/// arithmetic on such numbers saturates, so no peer can make a process trap on overflow.
public enum WireLimits {
    /// `seq` of a heartbeat: 1 to 2^53 - 1 (exact in every JSON implementation). Outside it the heartbeat is malformed.
    public static let sequence: ClosedRange<Int> = 1...(1 << 53 - 1)
    /// `interval_ms` of a heartbeat, clamped into 100 ms to 1 day.
    public static let heartbeatInterval: ClosedRange<Int> = 100...86_400_000
    /// `timeout_ms` of a control submit, clamped into 1 ms to 7 days.
    public static let timeoutMillis: ClosedRange<Int64> = 1...(7 * 86_400_000)

    public static func clampInterval(_ value: Int) -> Int {
        min(max(value, heartbeatInterval.lowerBound), heartbeatInterval.upperBound)
    }

    public static func clampTimeout(_ value: Int64) -> Int64 {
        min(max(value, timeoutMillis.lowerBound), timeoutMillis.upperBound)
    }
}

extension FixedWidthInteger {
    /// `self + other`, or the bound it would pass.
    public func addingSaturating(_ other: Self) -> Self {
        let (sum, overflow) = addingReportingOverflow(other)
        guard overflow else { return sum }
        return other > 0 ? .max : .min
    }

    /// `self - other`, or the bound it would pass.
    public func subtractingSaturating(_ other: Self) -> Self {
        let (difference, overflow) = subtractingReportingOverflow(other)
        guard overflow else { return difference }
        return other > 0 ? .min : .max
    }

    /// `self * other`, or the bound it would pass.
    public func multipliedSaturating(by other: Self) -> Self {
        let (product, overflow) = multipliedReportingOverflow(by: other)
        guard overflow else { return product }
        return (self < 0) != (other < 0) ? .min : .max
    }
}
