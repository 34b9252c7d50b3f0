#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// File-system preparation done before SQLite touches the database, so the file and its `-wal`/`-shm` siblings are
/// private (mode 0600) without changing the process-wide umask.
///
/// SQLite creates `-wal`, `-shm` and `-journal` files with the permissions of the database file itself, so creating
/// the database as 0600 first is enough for the siblings made later; siblings left by an older process are
/// tightened here too.
package enum StoreFiles {
    static let siblingSuffixes = ["-wal", "-shm", "-journal"]

    /// `mkdir -p`: creates the missing components of `path`, each with mode 0700.
    package static func makeDirectory(_ path: String) throws(StoreError) {
        precondition(!path.isEmpty, "empty state directory path")
        var prefix = path.hasPrefix("/") ? "/" : ""
        for component in path.split(separator: "/") {
            prefix += prefix.isEmpty || prefix.hasSuffix("/") ? String(component) : "/" + component
            if mkdir(prefix, 0o700) == 0 { continue }
            let error = errno
            guard error == EEXIST else { throw StoreError.system(error, operation: "create directory \(prefix)") }
            guard isDirectory(prefix) else {
                throw StoreError.system(ENOTDIR, operation: "create directory \(prefix)")
            }
        }
    }

    /// Creates the database file with mode 0600 when it does not exist, and removes group and other permissions
    /// from an existing one (a DECNET `topology.db` is typically 0644) and from its siblings.
    package static func prepareDatabaseFile(_ path: String) throws(StoreError) {
        let operation = "prepare database file \(path)"
        var descriptor = open(path, O_RDONLY | O_CLOEXEC)
        if descriptor < 0 && errno == ENOENT {
            descriptor = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
            guard descriptor >= 0 else { throw StoreError.system(errno, operation: operation) }
            defer { close(descriptor) }
            // The umask may have removed bits from 0600, never added any; set the exact mode.
            guard fchmod(descriptor, 0o600) == 0 else { throw StoreError.system(errno, operation: operation) }
            return
        }
        guard descriptor >= 0 else { throw StoreError.system(errno, operation: operation) }
        defer { close(descriptor) }
        var status = stat()
        guard fstat(descriptor, &status) == 0 else { throw StoreError.system(errno, operation: operation) }
        guard (status.st_mode & S_IFMT) == S_IFREG else {
            throw StoreError(code: .io, operation: operation, message: "not a regular file")
        }
        if status.st_mode & 0o077 != 0 {
            guard fchmod(descriptor, status.st_mode & 0o700) == 0 else {
                throw StoreError.system(errno, operation: operation)
            }
        }
        for suffix in siblingSuffixes {
            try tighten(path + suffix, operation: operation)
        }
    }

    /// The permission bits of a file, or `nil` when it does not exist (for tests and diagnostics).
    package static func mode(of path: String) -> mode_t? {
        var status = stat()
        guard lstat(path, &status) == 0 else { return nil }
        return status.st_mode & 0o7777
    }

    private static func tighten(_ path: String, operation: String) throws(StoreError) {
        var status = stat()
        guard lstat(path, &status) == 0, (status.st_mode & S_IFMT) == S_IFREG else { return }
        if status.st_mode & 0o077 != 0 && chmod(path, status.st_mode & 0o700) != 0 {
            throw StoreError.system(errno, operation: operation)
        }
    }

    private static func isDirectory(_ path: String) -> Bool {
        var status = stat()
        return stat(path, &status) == 0 && (status.st_mode & S_IFMT) == S_IFDIR
    }
}
