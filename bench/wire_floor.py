#!/usr/bin/env python3
"""The floor of the wire benchmark: a minimal pyzmq DEALER over CURVE that answers every request with the same
state body, pre-encoded; the only work per request is reading the request's id.

It stands where our agent stands (a CURVE client dialling the master's ROUTER, routing id = its agent id, a hello
first), so the same master-side client measures both and only the responder differs.

usage: wire_floor.py AGENT_ID COMMAND_ENDPOINT MASTER_PUBLIC_KEY_FILE SECRET_KEY_FILE BODY_FILE
Runs until SIGTERM.
"""
import json
import signal
import sys

import zmq
import zmq.auth


def main(agent_id, endpoint, master_key_file, secret_file, body_file):
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    server_public, _ = zmq.auth.load_certificate(master_key_file)
    public, secret = zmq.auth.load_certificate(secret_file)
    body = open(body_file, "rb").read()
    context = zmq.Context()
    socket = context.socket(zmq.DEALER)
    socket.linger = 0
    socket.curve_serverkey = server_public
    socket.curve_publickey = public
    socket.curve_secretkey = secret
    socket.routing_id = agent_id.encode()
    socket.connect(endpoint)
    socket.send(json.dumps({"proto": 1, "type": "hello", "agent_id": agent_id}).encode())
    head = b'{"proto":1,"type":"result","id":'
    tail = b',"status":200,"body":' + body + b"}"
    loads, dumps, recv, send = json.loads, json.dumps, socket.recv, socket.send
    while True:
        request = loads(recv())
        send(head + dumps(request["id"]).encode() + tail)


if __name__ == "__main__":
    if len(sys.argv) != 6:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    main(*sys.argv[1:])
