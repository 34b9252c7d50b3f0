#!/usr/bin/env python3
"""The HTTPS anchor of the wire benchmark: the seed's transport (uvicorn + FastAPI, TLS with client certificates)
answering `GET /topology/state` with the same state body, pre-encoded (no Docker, no JSON encoding per request).

  https_state.py certs DIR              makes ca.pem, server.pem/server.key (SAN 127.0.0.1), client.pem/client.key
  https_state.py serve DIR PORT BODY    uvicorn on 127.0.0.1:PORT, --ssl-cert-reqs 2 (CERT_REQUIRED), until SIGTERM

The client side (persistent keep-alive connections with the client certificate) is `client_context` +
`http.client.HTTPSConnection`, used by wire_bench.py.
"""
import datetime
import ipaddress
import pathlib
import ssl
import sys

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID


def _name(common_name):
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _write(directory, stem, key, certificate):
    (directory / f"{stem}.key").write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    (directory / f"{stem}.pem").write_bytes(certificate.public_bytes(serialization.Encoding.PEM))


def make_certificates(directory):
    """A CA, a server certificate for 127.0.0.1 and a client certificate, all P-256, valid for a day."""
    directory = pathlib.Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    now = datetime.datetime.now(datetime.timezone.utc)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (x509.CertificateBuilder().subject_name(_name("bench-ca")).issuer_name(_name("bench-ca"))
          .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
          .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=1))
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
          .sign(ca_key, hashes.SHA256()))
    _write(directory, "ca", ca_key, ca)
    for stem, usage, san in (("server", ExtendedKeyUsageOID.SERVER_AUTH, True),
                             ("client", ExtendedKeyUsageOID.CLIENT_AUTH, False)):
        key = ec.generate_private_key(ec.SECP256R1())
        builder = (x509.CertificateBuilder().subject_name(_name(f"bench-{stem}")).issuer_name(ca.subject)
                   .public_key(key.public_key()).serial_number(x509.random_serial_number())
                   .not_valid_before(now - datetime.timedelta(minutes=5))
                   .not_valid_after(now + datetime.timedelta(days=1))
                   .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
                   .add_extension(x509.ExtendedKeyUsage([usage]), critical=False))
        if san:
            builder = builder.add_extension(
                x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        _write(directory, stem, key, builder.sign(ca_key, hashes.SHA256()))


def client_context(directory):
    """TLS context of a client presenting client.pem and trusting only the bench CA."""
    directory = pathlib.Path(directory)
    context = ssl.create_default_context(cafile=str(directory / "ca.pem"))
    context.load_cert_chain(str(directory / "client.pem"), str(directory / "client.key"))
    return context


def serve(directory, port, body_file):
    import uvicorn
    from fastapi import FastAPI, Response

    directory = pathlib.Path(directory)
    body = pathlib.Path(body_file).read_bytes()
    app = FastAPI()

    @app.get("/topology/state")
    async def state():
        return Response(content=body, media_type="application/json")

    uvicorn.run(app, host="127.0.0.1", port=int(port), log_level="warning", access_log=False,
                ssl_certfile=str(directory / "server.pem"), ssl_keyfile=str(directory / "server.key"),
                ssl_ca_certs=str(directory / "ca.pem"), ssl_cert_reqs=ssl.CERT_REQUIRED)


if __name__ == "__main__":
    if len(sys.argv) >= 3 and sys.argv[1] == "certs":
        make_certificates(sys.argv[2])
    elif len(sys.argv) == 5 and sys.argv[1] == "serve":
        serve(*sys.argv[2:])
    else:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
