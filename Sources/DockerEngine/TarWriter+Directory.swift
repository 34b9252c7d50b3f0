#if canImport(FoundationEssentials)
import FoundationEssentials
import SystemFiles
#else
import Foundation
#endif

extension TarWriter {
    /// Archives everything under `directory` (not the directory itself), in code-point order of names so the same
    /// tree always gives the same archive. Keeps permission bits and modification times; symbolic links are stored as
    /// links. Sockets, devices and unreadable files are refused with `invalidContext`. `.dockerignore` is not read.
    public static func archive(directory: String) throws(DockerError) -> [UInt8] {
        var writer = TarWriter()
        var isDirectory = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory else {
            throw error("the build context \(directory) is not a directory")
        }
        try writer.addTree(root: directory, relative: "")
        return writer.finished()
    }

    private mutating func addTree(root: String, relative: String) throws(DockerError) {
        let absolute = relative.isEmpty ? root : root + "/" + relative
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: absolute)
        } catch {
            throw Self.error("cannot list \(absolute): \(FileErrorText.reason(error))")
        }
        for name in names.sorted(by: { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }) {
            let path = relative.isEmpty ? name : relative + "/" + name
            let full = root + "/" + path
            let attributes: [FileAttributeKey: Any]
            do {
                attributes = try FileManager.default.attributesOfItem(atPath: full)
            } catch {
                throw Self.error("cannot read the attributes of \(full): \(FileErrorText.reason(error))")
            }
            let mode = attributes[.posixPermissions] as? Int ?? 0o644
            let modified = (attributes[.modificationDate] as? Date).map { Int($0.timeIntervalSince1970) } ?? 0
            switch attributes[.type] as? FileAttributeType {
            case .typeDirectory?:
                try addDirectory(path, mode: mode, modificationTime: modified)
                try addTree(root: root, relative: path)
            case .typeRegular?:
                guard let data = FileManager.default.contents(atPath: full) else {
                    throw Self.error("cannot read \(full)")
                }
                try addFile(path, contents: [UInt8](data), mode: mode, modificationTime: modified)
            case .typeSymbolicLink?:
                let target: String
                do {
                    target = try FileManager.default.destinationOfSymbolicLink(atPath: full)
                } catch {
                    throw Self.error("cannot read the link \(full): \(FileErrorText.reason(error))")
                }
                try addSymbolicLink(path, target: target, modificationTime: modified)
            default:
                throw Self.error("\(full) is neither a regular file, a directory nor a symbolic link")
            }
        }
    }
}
