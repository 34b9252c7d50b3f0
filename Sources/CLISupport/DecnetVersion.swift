/// The version of `decnet-agent` and `decnet-master`, written in this one place: both print it for `--version`,
/// the agent reports it as `agent_version` in hellos and heartbeats, and `scripts/package.sh` names the Debian
/// packages after what the built binaries print.
public enum DecnetVersion {
    public static let current = "0.1.0"
}
