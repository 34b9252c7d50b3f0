extension Connection {
    /// Reads the file's schema version (`PRAGMA user_version`) and refuses a file we must not touch: one that belongs
    /// to another application (`PRAGMA application_id`, 0 for a file no one has claimed yet) or that a newer program
    /// wrote. `writer` names the program in the message ("agent", "master"). Both stores open through this.
    package func schemaVersion(
        applicationID: Int64,
        knownUpTo currentVersion: Int64,
        writer: String
    )
        throws(StoreError) -> Int64
    {
        let version = try scalarInt("PRAGMA user_version", operation: "read schema version")
        let application = try scalarInt("PRAGMA application_id", operation: "read schema version")
        if application != 0 && application != applicationID {
            throw StoreError(
                code: .unknownSchema,
                operation: "open \(path)",
                message: "the file belongs to another application (application_id \(application))"
            )
        }
        if version > currentVersion {
            throw StoreError(
                code: .schemaTooNew,
                operation: "open \(path)",
                message: "schema version \(version) was written by a newer \(writer); this \(writer) knows up to "
                    + "\(currentVersion) and will not downgrade it"
            )
        }
        if version < 0 {
            throw StoreError(code: .unknownSchema, operation: "open \(path)", message: "schema version \(version)")
        }
        return version
    }
}
