import CSodium
import CZeroMQ

/// A typed socket option: the C option number and how its value travels through `zmq_setsockopt` and
/// `zmq_getsockopt`. The options this project uses are static members (``SocketOption/linger``, ...), so a call reads
/// `try socket.setOption(.linger, 500)`.
public struct SocketOption<Value>: Sendable, CustomStringConvertible {
    /// The C option number, e.g. 17 for `ZMQ_LINGER`.
    public let rawValue: Int32
    /// The Swift name, for errors and logs.
    public let name: String
    let codec: OptionCodec<Value>

    init(_ rawValue: Int32, _ name: String, _ codec: OptionCodec<Value>) {
        self.rawValue = rawValue
        self.name = name
        self.codec = codec
    }

    public var description: String { name }
}

/// How an option value becomes bytes for libzmq and back.
struct OptionCodec<Value>: Sendable {
    /// The buffer size for `zmq_getsockopt`.
    let capacity: Int
    /// Calls the closure with the value's bytes and returns its result.
    let encode: @Sendable (Value, (UnsafeRawBufferPointer) -> Int32) -> Int32
    /// Builds a value from the bytes `zmq_getsockopt` wrote.
    let decode: @Sendable (UnsafeRawBufferPointer) throws(ZMQError) -> Value
}

extension OptionCodec where Value == Int32 {
    static var int32: Self {
        Self(
            capacity: 4,
            encode: { value, body in withUnsafeBytes(of: value) { body($0) } },
            decode: { $0.loadUnaligned(as: Int32.self) }
        )
    }
}

extension OptionCodec where Value == Int64 {
    static var int64: Self {
        Self(
            capacity: 8,
            encode: { value, body in withUnsafeBytes(of: value) { body($0) } },
            decode: { $0.loadUnaligned(as: Int64.self) }
        )
    }
}

extension OptionCodec where Value == Bool {
    static var bool: Self {
        Self(
            capacity: 4,
            encode: { value, body in withUnsafeBytes(of: Int32(value ? 1 : 0)) { body($0) } },
            decode: { $0.loadUnaligned(as: Int32.self) != 0 }
        )
    }
}

extension OptionCodec where Value == PollEvents {
    static var events: Self {
        Self(
            capacity: 4,
            encode: { value, body in withUnsafeBytes(of: Int32(value.rawValue)) { body($0) } },
            decode: { PollEvents(rawValue: Int16(truncatingIfNeeded: $0.loadUnaligned(as: Int32.self))) }
        )
    }
}

extension OptionCodec where Value == [UInt8] {
    static var bytes: Self {
        Self(capacity: 256, encode: { value, body in value.withUnsafeBytes { body($0) } }, decode: { Array($0) })
    }
}

extension OptionCodec where Value == String {
    /// Strings go in without a terminator and come back with one, which is dropped.
    static var string: Self {
        Self(
            capacity: 1024,
            encode: { value, body in Array(value.utf8).withUnsafeBytes { body($0) } },
            decode: { bytes in
                let text = bytes.prefix { $0 != 0 }
                return String(decoding: text, as: UTF8.self)
            }
        )
    }
}

extension OptionCodec where Value == CurveKey {
    /// Keys travel as 32 binary bytes (libzmq also accepts 40 Z85 characters, not used here).
    static var curveKey: Self {
        Self(
            capacity: CurveKey.byteCount,
            encode: { value, body in value.bytes.withUnsafeBytes { body($0) } },
            decode: { (bytes) throws(ZMQError) in try CurveKey(bytes: Array(bytes)) }
        )
    }
}

extension OptionCodec where Value == SecretBytes {
    static var secret: Self {
        Self(
            capacity: CurveKey.byteCount,
            encode: { value, body in value.withUnsafeBytes { body($0) } },
            decode: { bytes in SecretBytes(count: bytes.count) { $0.copyMemory(from: bytes) } }
        )
    }
}

extension ZMQSocket {
    /// `zmq_setsockopt`: sets a typed option. Options that affect connections (keys, heartbeats, limits) must be
    /// set before ``bind(_:)`` or ``connect(_:)``.
    public func setOption<Value>(_ option: SocketOption<Value>, _ value: Value) throws(ZMQError) {
        let handle = requireHandle("setOption \(option)")
        let rc = option.codec.encode(value) { bytes in
            zmq_setsockopt(handle, option.rawValue, bytes.baseAddress, bytes.count)
        }
        if rc != 0 { throw ZMQError.last("setOption \(option)") }
        if option.rawValue == ZMQ_CURVE_SERVER, let enabled = value as? Bool { isCurveServer = enabled }
    }

    /// `zmq_getsockopt`: reads a typed option. The scratch buffer is wiped afterwards, as it may hold a secret key.
    public func option<Value>(_ option: SocketOption<Value>) throws(ZMQError) -> Value {
        let handle = requireHandle("option \(option)")
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: option.codec.capacity, alignment: 8)
        defer {
            sodium_memzero(buffer.baseAddress, buffer.count)
            buffer.deallocate()
        }
        var size = buffer.count
        while zmq_getsockopt(handle, option.rawValue, buffer.baseAddress, &size) != 0 {
            if zmq_errno() != EINTR { throw ZMQError.last("option \(option)") }
        }
        return try option.codec.decode(UnsafeRawBufferPointer(rebasing: buffer[0..<size]))
    }
}
