import DecnetJSON
import SystemFiles

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The honeypot services a topology may use, as data (`catalog/services.json`, schema in docs/catalog.md).
///
/// The default catalog is compiled into the binary; an operator can replace it with `--catalog FILE`. Loading is
/// strict: an unknown member or a wrong type is a `CatalogError` naming its JSON path, so a typo never silently
/// changes what gets deployed.
public struct ServiceCatalog: Sendable, Hashable {
    /// The schema version this build reads and writes.
    public static let version = 1

    /// Every service in file order, fleet singletons included.
    public private(set) var services: [ServiceDefinition]
    private var index: [JSONString: Int]

    /// The 27 seed services and the `sniffer` singleton, from `DefaultCatalog.json`.
    public static let `default`: ServiceCatalog = {
        do {
            return try ServiceCatalog(json: JSONParser.parse(DefaultCatalog.json))
        } catch {
            // The compiled-in text is checked by the tests; failing here is a build defect.
            fatalError("compiled-in service catalog is invalid: \(error)")
        }
    }()

    /// Builds a catalog from definitions; a repeated name keeps the last definition in the first position.
    public init(services: [ServiceDefinition]) {
        self.services = []
        self.index = [:]
        for s in services {
            if let i = index[s.name] {
                self.services[i] = s
            } else {
                index[s.name] = self.services.count
                self.services.append(s)
            }
        }
    }

    /// Reads and strictly validates a catalog document (schema version 1).
    public init(json: JSONValue) throws(CatalogError) {
        self.init(services: try CatalogDecoder.decode(json))
    }

    /// Reads a catalog file; the error is a `CatalogError` (unreadable, invalid JSON or schema).
    public static func load(contentsOf path: String) throws -> ServiceCatalog {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw CatalogError(.unreadable, path: "", "cannot read \(path): \(FileErrorText.reason(error))")
        }
        let json: JSONValue
        do {
            json = try JSONParser.parse([UInt8](data))
        } catch {
            throw CatalogError(.invalidJSON, path: "", "\(path) is not valid JSON: \(error)")
        }
        return try ServiceCatalog(json: json)
    }

    /// The definition registered under `name`, singletons included.
    public func service(named name: JSONString) -> ServiceDefinition? {
        index[name].map { services[$0] }
    }

    public func service(named name: String) -> ServiceDefinition? {
        service(named: JSONString(name))
    }

    /// Names a topology decky may list: every service that is not a fleet singleton (what the validator accepts).
    public var topologyServiceNames: Set<JSONString> {
        Set(services.lazy.filter { !$0.fleetSingleton }.map(\.name))
    }

    public static func == (lhs: ServiceCatalog, rhs: ServiceCatalog) -> Bool {
        lhs.services == rhs.services
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(services)
    }
}
