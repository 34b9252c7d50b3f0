#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#endif

/// The reason a file operation failed, as the system words it (`strerror`), for messages of the form
/// `<operation> <path>: <reason>` ("cannot read /etc/decnet/x.json: No such file or directory").
///
/// `FileManager`, `Data(contentsOf:)` and friends throw a `CocoaError` whose underlying error carries the `errno`;
/// FoundationEssentials has no localized text for it, so the reason is taken from that `errno`, or from the error's
/// code when no underlying error came with it.
public enum FileErrorText {
    /// `strerror` of the error's `errno`, or the error printed as itself when it is not a file error.
    public static func reason(_ error: any Error) -> String {
        guard let code = errno(of: error) else { return "\(error)" }
        return String(cString: strerror(code))
    }

    /// The `errno` behind a file error, when it has one.
    public static func errno(of error: any Error) -> Int32? {
        if let posix = error as? POSIXError { return posix.code.rawValue }
        guard let cocoa = error as? CocoaError else { return nil }
        if let underlying = cocoa.userInfo["NSUnderlyingError"] as? any Error, let code = errno(of: underlying) {
            return code
        }
        return byCode[cocoa.code.rawValue]
    }

    /// What the file-related `CocoaError` codes stand for when no `errno` came with them.
    static let byCode: [Int: Int32] = [
        4: ENOENT,  // fileNoSuchFile
        255: EWOULDBLOCK,  // fileLocking
        257: EACCES,  // fileReadNoPermission
        258: EINVAL,  // fileReadInvalidFileName
        260: ENOENT,  // fileReadNoSuchFile
        263: EFBIG,  // fileReadTooLarge
        513: EACCES,  // fileWriteNoPermission
        514: EINVAL,  // fileWriteInvalidFileName
        516: EEXIST,  // fileWriteFileExists
        640: ENOSPC,  // fileWriteOutOfSpace
        642: EROFS,  // fileWriteVolumeReadOnly
    ]
}
