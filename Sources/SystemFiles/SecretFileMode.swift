#if canImport(Glibc)
import Glibc
#endif

/// The rule both ends apply to a CURVE secret key file: only its owner may read it (pyzmq writes 0644). One place
/// for the check and its one-line hint, so the master and the agent refuse a loose file with the same words.
public enum SecretFileMode {
    /// Why the secret key file at `path` must not be used, or nil when group and others have no permission bits
    /// (or the file cannot be stat'ed: loading it then reports the real problem).
    public static func problem(path: String) -> String? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        return problem(mode: info.st_mode, path: path)
    }

    /// The same check for a mode already read: `the secret key file has mode 0644; run: chmod 600 PATH`.
    public static func problem(mode: mode_t, path: String) -> String? {
        guard mode & 0o077 != 0 else { return nil }
        let octal = String(mode & 0o7777, radix: 8)
        let padded = String(repeating: "0", count: max(0, 4 - octal.count)) + octal
        return "the secret key file has mode \(padded); run: chmod 600 \(path)"
    }
}
