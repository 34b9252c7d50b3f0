import CZeroMQ

// The options this project uses, with the C spelling on the first doc line so it can be searched for.

extension SocketOption where Value == Int32 {
    /// `ZMQ_LINGER`: milliseconds queued messages may still be sent after close (-1 = forever, libzmq's default,
    /// which makes `zmq_ctx_term` hang when the peer is gone). Always set it: 0 to 2000.
    public static var linger: Self { Self(ZMQ_LINGER, "linger", .int32) }
    /// `ZMQ_SNDHWM`: the outgoing queue limit in messages per peer (default 1000).
    public static var sndhwm: Self { Self(ZMQ_SNDHWM, "sndhwm", .int32) }
    /// `ZMQ_RCVHWM`: the incoming queue limit in messages per peer (default 1000).
    public static var rcvhwm: Self { Self(ZMQ_RCVHWM, "rcvhwm", .int32) }
    /// `ZMQ_HEARTBEAT_IVL`: milliseconds between ZMTP PINGs (0 = off).
    public static var heartbeatIvl: Self { Self(ZMQ_HEARTBEAT_IVL, "heartbeatIvl", .int32) }
    /// `ZMQ_HEARTBEAT_TIMEOUT`: milliseconds without traffic after a PING before the connection is dropped.
    public static var heartbeatTimeout: Self { Self(ZMQ_HEARTBEAT_TIMEOUT, "heartbeatTimeout", .int32) }
    /// `ZMQ_HEARTBEAT_TTL`: milliseconds the peer should wait for traffic before dropping (sent in PINGs; stored
    /// by libzmq in tenths of a second).
    public static var heartbeatTtl: Self { Self(ZMQ_HEARTBEAT_TTL, "heartbeatTtl", .int32) }
    /// `ZMQ_TCP_MAXRT`: milliseconds sent data may stay unacknowledged before the connection is dropped
    /// (`TCP_USER_TIMEOUT`; 0 = the system's default).
    public static var tcpMaxrt: Self { Self(ZMQ_TCP_MAXRT, "tcpMaxrt", .int32) }
    /// `ZMQ_TCP_KEEPALIVE`: `SO_KEEPALIVE` (-1 = system default, 0 = off, 1 = on).
    public static var tcpKeepalive: Self { Self(ZMQ_TCP_KEEPALIVE, "tcpKeepalive", .int32) }
    /// `ZMQ_TCP_KEEPALIVE_IDLE`: seconds idle before the first keepalive probe (`TCP_KEEPIDLE`).
    public static var tcpKeepaliveIdle: Self { Self(ZMQ_TCP_KEEPALIVE_IDLE, "tcpKeepaliveIdle", .int32) }
    /// `ZMQ_TCP_KEEPALIVE_CNT`: unanswered probes before the connection is dropped (`TCP_KEEPCNT`).
    public static var tcpKeepaliveCnt: Self { Self(ZMQ_TCP_KEEPALIVE_CNT, "tcpKeepaliveCnt", .int32) }
    /// `ZMQ_TCP_KEEPALIVE_INTVL`: seconds between keepalive probes (`TCP_KEEPINTVL`).
    public static var tcpKeepaliveIntvl: Self { Self(ZMQ_TCP_KEEPALIVE_INTVL, "tcpKeepaliveIntvl", .int32) }
    /// `ZMQ_RECONNECT_IVL`: milliseconds before the first reconnection attempt (-1 = never reconnect).
    public static var reconnectIvl: Self { Self(ZMQ_RECONNECT_IVL, "reconnectIvl", .int32) }
    /// `ZMQ_RECONNECT_IVL_MAX`: the ceiling in milliseconds of the doubling reconnect interval (0 = no backoff).
    public static var reconnectIvlMax: Self { Self(ZMQ_RECONNECT_IVL_MAX, "reconnectIvlMax", .int32) }
    /// `ZMQ_BACKLOG`: connections the kernel queues before the socket accepts them (capped by `somaxconn`).
    public static var backlog: Self { Self(ZMQ_BACKLOG, "backlog", .int32) }
    /// `ZMQ_HANDSHAKE_IVL`: milliseconds a ZMTP/CURVE handshake may take before the connection is dropped.
    public static var handshakeIvl: Self { Self(ZMQ_HANDSHAKE_IVL, "handshakeIvl", .int32) }
    /// `ZMQ_FD` (read-only): a file descriptor that becomes readable when `events` may have changed
    /// (edge-triggered; always read `events` after it fires).
    public static var fd: Self { Self(ZMQ_FD, "fd", .int32) }
}

extension SocketOption where Value == Int64 {
    /// `ZMQ_MAXMSGSIZE`: the largest inbound frame in bytes (-1 = no limit); a peer sending more is disconnected.
    /// Under CURVE the limit applies to the encrypted frame: add ``ZMQSocket/curveMessageOverhead``.
    public static var maxMsgSize: Self { Self(ZMQ_MAXMSGSIZE, "maxMsgSize", .int64) }
}

extension SocketOption where Value == Bool {
    /// `ZMQ_CURVE_SERVER`: act as a CURVE server (needs `curveSecretKey`, and a running ZAP handler to bind).
    public static var curveServer: Self { Self(ZMQ_CURVE_SERVER, "curveServer", .bool) }
    /// `ZMQ_IMMEDIATE`: queue messages only to completed connections, so sends would block while none is up.
    public static var immediate: Self { Self(ZMQ_IMMEDIATE, "immediate", .bool) }
    /// `ZMQ_ROUTER_MANDATORY`: a ROUTER fails with `hostUnreachable` instead of dropping messages for unknown peers.
    public static var routerMandatory: Self { Self(ZMQ_ROUTER_MANDATORY, "routerMandatory", .bool) }
    /// `ZMQ_XPUB_VERBOSE` (write-only): an XPUB passes every subscription upstream, not only new ones.
    public static var xpubVerbose: Self { Self(ZMQ_XPUB_VERBOSE, "xpubVerbose", .bool) }
    /// `ZMQ_XPUB_MANUAL` (write-only): an XPUB registers a subscription only when its owner sets `subscribe` after
    /// receiving it (``SubscriptionGate``).
    public static var xpubManual: Self { Self(ZMQ_XPUB_MANUAL, "xpubManual", .bool) }
}

extension SocketOption where Value == [UInt8] {
    /// `ZMQ_ROUTING_ID`: this socket's identity as seen by a ROUTER peer (1 to 255 bytes, not starting with 0).
    public static var routingId: Self { Self(ZMQ_ROUTING_ID, "routingId", .bytes) }
    /// `ZMQ_SUBSCRIBE` (write-only): a SUB receives messages whose first frame starts with this prefix.
    public static var subscribe: Self { Self(ZMQ_SUBSCRIBE, "subscribe", .bytes) }
    /// `ZMQ_UNSUBSCRIBE` (write-only): removes one earlier `subscribe` of the same prefix.
    public static var unsubscribe: Self { Self(ZMQ_UNSUBSCRIBE, "unsubscribe", .bytes) }
}

extension SocketOption where Value == String {
    /// `ZMQ_ZAP_DOMAIN`: the domain passed to the ZAP handler (the wire protocol uses `decnet`).
    public static var zapDomain: Self { Self(ZMQ_ZAP_DOMAIN, "zapDomain", .string) }
    /// `ZMQ_LAST_ENDPOINT` (read-only): the endpoint last bound or connected, wildcard port resolved.
    public static var lastEndpoint: Self { Self(ZMQ_LAST_ENDPOINT, "lastEndpoint", .string) }
}

extension SocketOption where Value == CurveKey {
    /// `ZMQ_CURVE_PUBLICKEY`: this socket's long-term public key (clients; servers need only the secret).
    public static var curvePublicKey: Self { Self(ZMQ_CURVE_PUBLICKEY, "curvePublicKey", .curveKey) }
    /// `ZMQ_CURVE_SERVERKEY`: the server's public key a client pins; makes the socket a CURVE client.
    public static var curveServerKey: Self { Self(ZMQ_CURVE_SERVERKEY, "curveServerKey", .curveKey) }
}

extension SocketOption where Value == SecretBytes {
    /// `ZMQ_CURVE_SECRETKEY`: this socket's long-term secret key (libzmq keeps its own, unwiped, copy).
    public static var curveSecretKey: Self { Self(ZMQ_CURVE_SECRETKEY, "curveSecretKey", .secret) }
}

extension SocketOption where Value == PollEvents {
    /// `ZMQ_EVENTS` (read-only): whether a message can be received or sent right now.
    public static var events: Self { Self(ZMQ_EVENTS, "events", .events) }
}

extension ZMQSocket {
    /// Makes this socket a CURVE client of the server with public key `serverKey`, authenticating with `keys`
    /// (`ZMQ_CURVE_SERVERKEY`, `ZMQ_CURVE_PUBLICKEY`, `ZMQ_CURVE_SECRETKEY`). Call before ``connect(_:)``.
    public func makeCurveClient(keys: CurveKeyPair, serverKey: CurveKey) throws(ZMQError) {
        try setOption(.curveServerKey, serverKey)
        try setOption(.curvePublicKey, keys.publicKey)
        try setOption(.curveSecretKey, keys.secretKey)
    }

    /// Makes this socket a CURVE server with `keys` whose clients are checked by the ZAP handler under `zapDomain`
    /// (`ZMQ_CURVE_SERVER`, `ZMQ_CURVE_SECRETKEY`, `ZMQ_ZAP_DOMAIN`). Call before ``bind(_:)``.
    public func makeCurveServer(keys: CurveKeyPair, zapDomain: String) throws(ZMQError) {
        try setOption(.curveServer, true)
        try setOption(.curveSecretKey, keys.secretKey)
        try setOption(.zapDomain, zapDomain)
    }
}
