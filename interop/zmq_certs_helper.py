#!/usr/bin/env python3
"""pyzmq side of the Swift ZeroMQ interop tests (Tests/ZeroMQTests/PyzmqInteropTests.swift).

Subcommands (all output is JSON or one line on stdout; every wait is bounded):
  create DIR NAME [AGENT_ID]      zmq.auth.create_certificates (metadata agent-id/role when AGENT_ID is given);
                                  prints {"public": ..., "secret": ...} as read back by zmq.auth.load_certificate
  load FILE                       zmq.auth.load_certificate; prints {"public": ..., "secret": ... or null}
  client ENDPOINT SERVER_KEY_FILE CLIENT_SECRET_FILE TEXT
                                  CURVE DEALER: sends TEXT, prints the reply; exit 2 when none comes in 10 s
  server ALLOW_DIR SERVER_SECRET_FILE
                                  CURVE ROUTER checked by pyzmq's ThreadAuthenticator over ALLOW_DIR; prints its
                                  endpoint, answers one message with "echo:" + TEXT; exit 2 when none comes in 15 s
"""
import json
import sys

import zmq
import zmq.auth
from zmq.auth.thread import ThreadAuthenticator


def text(value):
    return value.decode("ascii") if isinstance(value, bytes) else value


def create(directory, name, agent_id=None):
    metadata = {"agent-id": agent_id, "role": "agent"} if agent_id else None
    public_file, secret_file = zmq.auth.create_certificates(directory, name, metadata=metadata)
    public, secret = zmq.auth.load_certificate(secret_file)
    print(json.dumps({"public": text(public), "secret": text(secret)}))


def load(path):
    public, secret = zmq.auth.load_certificate(path)
    print(json.dumps({"public": text(public), "secret": text(secret) if secret else None}))


def client(endpoint, server_key_file, client_secret_file, message):
    server_public, _ = zmq.auth.load_certificate(server_key_file)
    client_public, client_secret = zmq.auth.load_certificate(client_secret_file)
    context = zmq.Context()
    socket = context.socket(zmq.DEALER)
    socket.linger = 0
    socket.curve_serverkey = server_public
    socket.curve_publickey = client_public
    socket.curve_secretkey = client_secret
    socket.connect(endpoint)
    socket.send_string(message)
    status = 2
    if socket.poll(10000):
        print(socket.recv_string())
        status = 0
    socket.close()
    context.term()
    return status


def server(allow_dir, server_secret_file):
    context = zmq.Context()
    auth = ThreadAuthenticator(context)
    auth.start()
    auth.configure_curve(domain="*", location=allow_dir)
    server_public, server_secret = zmq.auth.load_certificate(server_secret_file)
    socket = context.socket(zmq.ROUTER)
    socket.linger = 1000  # let the reply reach the client before close
    socket.curve_secretkey = server_secret
    socket.curve_publickey = server_public
    socket.curve_server = True
    socket.bind("tcp://127.0.0.1:*")
    print(socket.getsockopt_string(zmq.LAST_ENDPOINT), flush=True)
    status = 2
    if socket.poll(15000):
        frames = socket.recv_multipart(copy=False)
        body = frames[-1].bytes.decode()
        socket.send_multipart([frames[0].bytes, ("echo:" + body).encode()])
        status = 0
    socket.close()
    auth.stop()
    context.term()
    return status


def main(argv):
    command, args = argv[1], argv[2:]
    if command == "create":
        create(*args)
    elif command == "load":
        load(*args)
    elif command == "client":
        return client(*args)
    elif command == "server":
        return server(*args)
    else:
        print("unknown command " + command, file=sys.stderr)
        return 64
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
