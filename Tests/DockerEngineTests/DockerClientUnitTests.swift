import DecnetJSON
import Testing

@testable import DockerEngine

/// Pieces of the client that need no daemon: configuration, version negotiation, error mapping, request encoding and
/// the decoding of Docker's answers.
@Suite struct DockerClientUnitTests {
    @Test(
        arguments: [
            (nil, "/var/run/docker.sock"), ("", "/var/run/docker.sock"),
            ("unix:///var/run/docker.sock", "/var/run/docker.sock"), ("unix:///tmp/x/d.sock", "/tmp/x/d.sock"),
        ] as [(String?, String)]
    )
    func dockerHostNamesTheSocket(host: String?, path: String) throws {
        #expect(try DockerClient.Configuration.socketPath(dockerHost: host) == path)
        let env = host.map { ["DOCKER_HOST": $0] } ?? [:]
        #expect(try DockerClient.Configuration.fromEnvironment(env).socketPath == path)
    }

    @Test(arguments: [
        "tcp://127.0.0.1:2375", "ssh://user@host", "npipe:////./pipe/docker_engine", "fd://", "unix://rel",
    ])
    func otherTransportsAreUnsupported(host: String) {
        let error = #expect(throws: DockerError.self) { try DockerClient(environment: ["DOCKER_HOST": host]) }
        #expect(error?.code == .unsupported)
        #expect(error?.message.contains(host) == true)
    }

    @Test func versionNegotiationCapsAndRefuses() throws {
        #expect(DockerAPIVersion("1.41") == DockerAPIVersion(1, 41))
        #expect(DockerAPIVersion("1.9")! < DockerAPIVersion("1.41")!)
        #expect(DockerAPIVersion("v1.41") == nil && DockerAPIVersion("1") == nil && DockerAPIVersion("1.x") == nil)
        #expect(try DockerAPIVersion.negotiate(daemon: DockerAPIVersion(1, 47)) == DockerAPIVersion(1, 41))
        #expect(try DockerAPIVersion.negotiate(daemon: DockerAPIVersion(1, 40)) == DockerAPIVersion(1, 40))
        #expect(try DockerAPIVersion.negotiate(daemon: DockerAPIVersion(1, 41)) == DockerAPIVersion(1, 41))
        let error = #expect(throws: DockerError.self) {
            try DockerAPIVersion.negotiate(daemon: DockerAPIVersion(1, 39))
        }
        #expect(error?.code == .unsupported)
    }

    @Test(
        arguments: [
            (200, nil), (201, nil), (204, nil), (304, DockerError.Code.notModified), (400, .badRequest),
            (401, .badRequest), (403, .conflict), (404, .notFound), (409, .conflict), (500, .server), (503, .server),
            (101, .protocol),
        ] as [(Int, DockerError.Code?)]
    )
    func statusCodesMapToErrorCodes(status: Int, code: DockerError.Code?) {
        #expect(DockerError.code(forStatus: status) == code)
    }

    @Test func responseErrorsCarryDockersMessageVerbatim() {
        let body = Array(#"{"message":"No such container: ghost"}"#.utf8)
        let error = DockerResponse(status: 404, headers: [], body: body).error(operation: "GET /containers/ghost/json")
        #expect(
            error
                == DockerError(
                    .notFound,
                    status: 404,
                    operation: "GET /containers/ghost/json",
                    message: "No such container: ghost"
                )
        )
        let plain = DockerResponse(status: 500, headers: [], body: Array("  boom\n".utf8)).error(operation: "op")
        #expect(plain?.message == "boom" && plain?.code == .server)
        #expect(DockerResponse(status: 204, headers: [], body: []).error(operation: "op") == nil)
    }

    @Test(
        arguments: [
            (DockerError.Code.unavailable, "connection refused", true), (.timeout, "", true),
            (.server, "driver failed programming external connectivity", true),
            (.server, "No such image: decnet/x:latest", false), (.server, "manifest unknown: manifest unknown", false),
            (.server, "pull access denied for x, repository does not exist", false),
            (.server, "manifest for x:latest not found", false), (.notFound, "No such container: x", false),
            (.conflict, "name in use", false), (.badRequest, "invalid", false), (.cancelled, "", false),
            (.buildFailed, "returned a non-zero code", false),
        ] as [(DockerError.Code, String, Bool)]
    )
    func transientClassification(code: DockerError.Code, message: String, transient: Bool) {
        #expect(DockerError(code, operation: "op", message: message).isTransient == transient)
    }

    @Test func requestTargetsAreVersionedAndEncoded() {
        let filters = DockerFilters.label("decnet.topology", "t 1").adding("type", "container")
        #expect(filters.jsonText == #"{"label":["decnet.topology=t 1"],"type":["container"]}"#)
        let literal: DockerFilters = ["type": ["network"], "label": ["a", "b=c"]]
        #expect(literal.jsonText == #"{"label":["a","b=c"],"type":["network"]}"#)
        let request = DockerRequest(.get, DockerRequest.path("containers", "a b/c", "json"), query: filters.queryItems)
        let target = request.target(version: DockerAPIVersion(1, 41))
        #expect(target.hasPrefix("/v1.41/containers/a%20b%2Fc/json?filters=%7B%22label%22"))
        #expect(!target.dropFirst(target.firstIndex(of: "?")!.utf16Offset(in: target) + 1).contains(" "))
        #expect(DockerRequest(.get, "/_ping", versioned: false).target(version: nil) == "/_ping")
        #expect(request.operation == "GET /containers/a%20b%2Fc/json")
    }

    @Test func networkSpecBodyHasDockersShape() throws {
        let spec = DockerNetworkSpec(
            name: "decnet_t_ab_lan-1",
            isInternal: true,
            pools: [.init(subnet: "10.0.1.0/24")],
            labels: ["decnet.topology": "ab", "decnet.lan": "LAN-1"]
        )
        let body = spec.body
        #expect(body["Name"] == "decnet_t_ab_lan-1")
        #expect(body["Driver"] == "bridge" && body["Internal"] == true && body["CheckDuplicate"] == true)
        #expect(body["IPAM"]?["Config"] == [["Subnet": "10.0.1.0/24"]])
        #expect(body["Labels"] == ["decnet.lan": "LAN-1", "decnet.topology": "ab"])
    }

    @Test func buildOutputGivesTheImageIDOrDockersError() throws {
        let ok = """
            {"stream":"Step 1/2 : FROM decnet-test/busybox:latest\\n"}
            {"stream":" ---\\u003e 691dc0d4449b\\n"}
            {"aux":{"ID":"sha256:0123456789abcdef"}}
            {"stream":"Successfully built 0123456789ab\\n"}
            """
        let result = try DockerClient.parseBuildOutput(Array(ok.utf8), operation: "POST /build")
        #expect(result.imageID == "sha256:0123456789abcdef")
        #expect(result.log.first == "Step 1/2 : FROM decnet-test/busybox:latest\n")

        let legacy = #"{"stream":"Successfully built 0123456789ab\n"}"# + "\n"
        #expect(try DockerClient.parseBuildOutput(Array(legacy.utf8), operation: "b").imageID == "0123456789ab")

        let failed = """
            {"stream":"Step 2/2 : RUN exit 3\\n"}
            {"errorDetail":{"code":3,"message":"The command '/bin/sh -c exit 3' returned a non-zero code: 3"},"error":"The command '/bin/sh -c exit 3' returned a non-zero code: 3"}
            """
        let error = #expect(throws: DockerError.self) {
            try DockerClient.parseBuildOutput(Array(failed.utf8), operation: "POST /build")
        }
        #expect(error?.code == .buildFailed)
        #expect(error?.message == "The command '/bin/sh -c exit 3' returned a non-zero code: 3")

        let nothing = #expect(throws: DockerError.self) {
            try DockerClient.parseBuildOutput(Array(#"{"stream":"hi"}"#.utf8), operation: "b")
        }
        #expect(nothing?.code == .protocol)
    }

    @Test func buildQueryCarriesTagsArgsAndLabels() {
        let options = DockerBuildOptions(
            tags: ["a:1", "b:2"],
            buildArgs: ["GREETING": "hi"],
            labels: ["decnet.test": "1"],
            removeIntermediate: true,
            forceRemoveIntermediate: false
        )
        let items = options.queryItems
        #expect(items.filter { $0.name == "t" }.map(\.value) == ["a:1", "b:2"])
        #expect(items.first { $0.name == "buildargs" }.map { try? JSONParser.parse($0.value) } == ["GREETING": "hi"])
        #expect(items.first { $0.name == "labels" }.map { try? JSONParser.parse($0.value) } == ["decnet.test": "1"])
        #expect(items.first { $0.name == "rm" }?.value == "1" && items.first { $0.name == "forcerm" }?.value == "0")
    }

    @Test func modelsDecodeDockersJSON() throws {
        let inspect = try JSONParser.parse(
            #"""
            {"Id":"c1","Name":"/web","Image":"sha256:ff","Config":{"Image":"decnet-test/busybox:latest",
             "Labels":{"decnet.topology":"t1","n":"1"}},
             "State":{"Status":"running","Running":true,"Pid":42,"ExitCode":0,"Error":"","StartedAt":"s","FinishedAt":"f"},
             "NetworkSettings":{"Networks":{"lan-b":{"IPAMConfig":{"IPv4Address":"10.0.2.5"},"NetworkID":"n2",
             "IPAddress":"10.0.2.5","Gateway":"10.0.2.1","MacAddress":"02:42","Aliases":["web"]},
             "lan-a":{"IPAMConfig":null,"NetworkID":"n1","IPAddress":"","Gateway":"","MacAddress":""}}}}
            """#
        )
        let container = try DockerContainer(json: inspect)
        #expect(container.name == "web" && container.image == "decnet-test/busybox:latest")
        #expect(container.state.isRunning && container.state.pid == 42 && container.labels["decnet.topology"] == "t1")
        #expect(container.networks.map(\.networkName) == ["lan-a", "lan-b"])
        #expect(container.endpoint(onNetwork: "lan-b")?.requestedIPv4Address == "10.0.2.5")
        #expect(container.endpoint(onNetwork: "lan-a")?.requestedIPv4Address == nil)

        let network = try DockerNetwork(
            json: JSONParser.parse(
                #"{"Name":"n","Id":"i","Driver":"bridge","Internal":true,"IPAM":{"Config":[{"Subnet":"10.1.0.0/24","Gateway":"10.1.0.1"}]},"Containers":{}}"#
            )
        )
        #expect(
            network.firstSubnet == "10.1.0.0/24" && network.pools.first?.gateway == "10.1.0.1" && network.isInternal
        )
        #expect(throws: DockerError.self) { try DockerNetwork(json: ["Name": "no id"]) }

        let event = try DockerEvent(
            json: JSONParser.parse(
                #"{"status":"die","id":"c1","Type":"container","Action":"die","Actor":{"ID":"c1","Attributes":{"name":"web","exitCode":"0"}},"scope":"local","time":1700000000,"timeNano":1700000000123456789}"#
            )
        )
        #expect(event.type == "container" && event.action == "die" && event.actorID == "c1" && event.name == "web")
        #expect(event.timeNano == 1_700_000_000_123_456_789 && event.attributes["exitCode"] == "0")
    }
}
