#if canImport(Glibc)
import Glibc
#endif

/// The names in a folder, read with `readdir`.
///
/// A `dirent` from `readdir` is only `d_reclen` bytes long, its name as short as the name: the last entry of
/// the buffer may end right at the end of the mapping. So a name is read in place, from the address of its field,
/// never by copying the whole `struct dirent` (which reads up to 255 bytes past a short entry, and crashed the
/// master when that ran off the end of a page).
public enum DirectoryListing {
    /// The entry names of `path` without `.` and `..`, in the order `readdir` gives them; or the `errno` of the
    /// failure, and no names.
    public static func names(at path: String) -> (names: [String], errno: Int32?) {
        guard let stream = opendir(path) else { return ([], errno) }
        defer { closedir(stream) }
        var names: [String] = []
        while true {
            errno = 0
            guard let entry = readdir(stream) else { return errno == 0 ? (names, nil) : ([], errno) }
            let name = String(
                cString: UnsafeRawPointer(entry).advanced(by: nameOffset).assumingMemoryBound(to: CChar.self)
            )
            if name != "." && name != ".." { names.append(name) }
        }
    }

    private static let nameOffset = MemoryLayout<dirent>.offset(of: \dirent.d_name)!
}
