extension AgentLinkConfiguration {
    /// The advanced `DECNET_*` environment variables that override the link's timers, all in milliseconds. They
    /// exist so that tests can shorten the wire protocol's defaults (ZMTP heartbeats 10/30 s with no TTL, reconnect 0.2-1 s
    /// backing off to 60 s); a production agent leaves them unset.
    public enum TuningVariable: String, CaseIterable, Sendable {
        /// `ZMQ_HEARTBEAT_IVL`: milliseconds between ZMTP PINGs.
        case zmtpHeartbeatInterval = "DECNET_ZMTP_HEARTBEAT_IVL_MS"
        /// `ZMQ_HEARTBEAT_TIMEOUT`: milliseconds without traffic after a PING before the agent drops the connection.
        case zmtpHeartbeatTimeout = "DECNET_ZMTP_HEARTBEAT_TIMEOUT_MS"
        /// `ZMQ_HEARTBEAT_TTL`: milliseconds the master waits for traffic before dropping the agent (0: none; the
        /// master's TCP keepalive ends a dead agent's connection).
        case zmtpHeartbeatTTL = "DECNET_ZMTP_HEARTBEAT_TTL_MS"
        /// `ZMQ_RECONNECT_IVL`: the first reconnect delay (replaces the random 200 to 1000 ms).
        case reconnect = "DECNET_RECONNECT_IVL_MS"
        /// `ZMQ_RECONNECT_IVL_MAX`: the ceiling of the doubling reconnect delay.
        case reconnectMax = "DECNET_RECONNECT_IVL_MAX_MS"

        /// The range a value must fall in: heartbeats from 100 ms (libzmq keeps the TTL in tenths of a second), at
        /// most an hour.
        var range: ClosedRange<Int32> {
            switch self {
            case .zmtpHeartbeatInterval, .zmtpHeartbeatTimeout: 100...3_600_000
            case .zmtpHeartbeatTTL: 0...3_600_000
            case .reconnect, .reconnectMax: 10...3_600_000
            }
        }
    }

    /// A tuning variable whose value is not a whole number of milliseconds in its range, said in one line.
    public struct TuningProblem: Error, Sendable, Equatable, CustomStringConvertible {
        public var description: String
    }

    /// Applies the ``TuningVariable`` values found in `environment` (unset or empty ones keep the defaults).
    /// Throws ``TuningProblem`` naming the variable when a value is not a whole number of milliseconds in its range.
    public mutating func applyTuning(environment: [String: String]) throws(TuningProblem) {
        for variable in TuningVariable.allCases {
            guard let text = environment[variable.rawValue], !text.isEmpty else { continue }
            guard let value = Int32(text), variable.range.contains(value) else {
                throw TuningProblem(
                    description: "\(variable.rawValue) '\(text)' must be a whole number of milliseconds from "
                        + "\(variable.range.lowerBound) to \(variable.range.upperBound)"
                )
            }
            switch variable {
            case .zmtpHeartbeatInterval: zmtpHeartbeatIntervalMillis = value
            case .zmtpHeartbeatTimeout: zmtpHeartbeatTimeoutMillis = value
            case .zmtpHeartbeatTTL: zmtpHeartbeatTTLMillis = value
            case .reconnect: reconnectMillis = value
            case .reconnectMax: reconnectMaxMillis = value
            }
        }
        if reconnectMaxMillis < reconnectMillis { reconnectMaxMillis = reconnectMillis }
    }
}
