#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#endif

/// The text of an error thrown by `FileManager`, `Data(contentsOf:)`, `Data.write(to:)` or `String(contentsOfFile:)`,
/// worded as the full Foundation words it. The agent links only FoundationEssentials, which has no localized text and
/// prints its errors as Swift values; this keeps the agent's messages what they were with the full Foundation.
public enum FileErrorText {
    /// `error.localizedDescription` as swift-corelibs-foundation gives it for the file errors Essentials throws:
    /// `The operation could not be completed. The file doesn’t exist.`
    public static func describe(_ error: any Error) -> String {
        #if canImport(FoundationEssentials)
        if let cocoa = error as? CocoaError {
            let code = cocoa.code.rawValue
            return prefix + " " + (reasons[code] ?? "(NSCocoaErrorDomain error \(code).)")
        }
        if let posix = error as? POSIXError {
            return prefix + " " + String(cString: strerror(posix.code.rawValue))
        }
        return "\(prefix) (\(error))"
        #else
        return error.localizedDescription
        #endif
    }

    /// `"\(error)"` as swift-corelibs-foundation prints a file error (`NSError`'s description), user info keys in
    /// code-point order: `Error Domain=NSCocoaErrorDomain Code=4 "The file doesn’t exist."UserInfo={NSFilePath=...}`.
    /// Any other error prints as it always did.
    public static func details(_ error: any Error) -> String {
        #if canImport(FoundationEssentials)
        if let cocoa = error as? CocoaError {
            let code = cocoa.code.rawValue
            var text = "Error Domain=NSCocoaErrorDomain Code=\(code) \"\(reasons[code] ?? "(null)")\""
            if !cocoa.userInfo.isEmpty {
                let members = cocoa.userInfo.sorted { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }
                    .map { key, value in key + "=" + ((value as? any Error).map(details) ?? "\(value)") }
                text += "UserInfo={" + members.joined(separator: ", ") + "}"
            }
            return text
        }
        if let posix = error as? POSIXError {
            let code = posix.code.rawValue
            return "Error Domain=NSPOSIXErrorDomain Code=\(code) \"\(String(cString: strerror(code)))\""
        }
        #endif
        return "\(error)"
    }

    private static let prefix = "The operation could not be completed."

    /// Foundation's failure reasons for the file-related `CocoaError` codes; other codes have none and read
    /// `(NSCocoaErrorDomain error N.)`.
    static let reasons: [Int: String] = [
        4: "The file doesn’t exist.",  // fileNoSuchFile
        255: "The file couldn’t be locked.",  // fileLocking
        257: "You don’t have permission.",  // fileReadNoPermission
        258: "The file name is invalid.",  // fileReadInvalidFileName
        259: "The file isn’t in the correct format.",  // fileReadCorruptFile
        260: "The file doesn’t exist.",  // fileReadNoSuchFile
        261: "The specified text encoding isn’t applicable.",  // fileReadInapplicableStringEncoding
        262: "The specified URL type isn’t supported.",  // fileReadUnsupportedScheme
        263: "The item is too large.",  // fileReadTooLarge
        264: "The text encoding of the contents couldn’t be determined.",  // fileReadUnknownStringEncoding
        513: "You don’t have permission.",  // fileWriteNoPermission
        514: "The file name is invalid.",  // fileWriteInvalidFileName
        516: "A file with the same name already exists.",  // fileWriteFileExists
        517: "The specified text encoding isn’t applicable.",  // fileWriteInapplicableStringEncoding
        518: "The specified URL type isn’t supported.",  // fileWriteUnsupportedScheme
        640: "There isn’t enough space.",  // fileWriteOutOfSpace
        642: "The volume is read only.",  // fileWriteVolumeReadOnly
    ]
}
