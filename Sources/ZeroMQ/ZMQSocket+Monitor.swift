import CZeroMQ

extension ZMQSocket {
    /// `zmq_socket_monitor`: publishes this socket's connection events (all of them by default) on a PAIR socket
    /// bound at the inproc `endpoint`; connect a PAIR to it and decode with ``SocketEvent``. libzmq sends these
    /// events blocking, so the reader must keep reading (``SocketThread`` does, with no receive limit).
    /// Caveat of libzmq 4.3: on a monitored socket a failed bind reports `EAGAIN` (sending the event overwrites
    /// `errno`); the ``SocketEvent/Kind/bindFailed`` event carries the real errno (``SocketThread`` swaps it in).
    public func startMonitor(endpoint: String, events: Int32 = ZMQ_EVENT_ALL) throws(ZMQError) {
        try check(zmq_socket_monitor(requireHandle("startMonitor"), endpoint, events), "zmq_socket_monitor \(endpoint)")
    }

    /// Stops the monitor: libzmq sends ``SocketEvent/Kind/monitorStopped`` and closes its end. Returns false when
    /// the context is already terminating (the monitor then stops with the socket).
    @discardableResult
    public func stopMonitor() -> Bool {
        zmq_socket_monitor(requireHandle("stopMonitor"), nil, 0) == 0
    }
}
