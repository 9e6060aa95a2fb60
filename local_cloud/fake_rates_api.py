"""A local stand-in for the third-party exchange-rates provider: HTTPS on 127.0.0.1 with a local CA.

The job's construct accepts only ``https://`` URLs, so the stand-in serves TLS with a certificate
for 127.0.0.1 signed by a certificate authority created for this run; Lambda workers trust it
through ``SSL_CERT_FILE`` (the system's CAs plus this one). Like the real provider it checks the API
key header against the key it was given (the value of the stack's secret), answers 401 otherwise,
and returns ``{"base", "timestamp", "rates"}`` for the fixed table ``RATES``.
"""

from __future__ import annotations

import datetime as dt
import json
import ssl
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from ipaddress import IPv4Address
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from local_cloud.settings import LOOPBACK

#: What the stand-in answers (units of the quote currency per 1 EUR).
RATES = {"USD": "1.0812", "GBP": "0.8731", "JPY": "161.42", "CHF": "0.9474"}


def _certificate_pair(folder: Path) -> tuple[Path, Path, Path]:
    """A CA and a server certificate for 127.0.0.1 (ECDSA P-256, valid one day); returns ca, cert, key."""
    folder.mkdir(parents=True, exist_ok=True)
    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "serverless-patterns local CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True
        )
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, LOOPBACK)]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(IPv4Address(LOOPBACK))]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    ca_path, cert_path, key_path = folder / "local-ca.pem", folder / "rates-api.pem", folder / "rates-api.key"
    ca_path.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return ca_path, cert_path, key_path


def trust_bundle(folder: Path, ca_path: Path) -> Path:
    """The system's CA bundle plus the local CA, for ``SSL_CERT_FILE`` in the Lambda workers."""
    system = Path(ssl.get_default_verify_paths().cafile or "/etc/ssl/certs/ca-certificates.crt")
    bundle = folder / "trust-bundle.pem"
    bundle.write_bytes((system.read_bytes() if system.is_file() else b"") + b"\n" + ca_path.read_bytes())
    return bundle


class FakeRatesApi:
    """``https://127.0.0.1:<port>/v1/latest?base=EUR``; requests must carry ``x-api-key: <expected key>``."""

    def __init__(self, folder: Path, port: int = 0) -> None:
        self.ca_path, cert_path, key_path = _certificate_pair(folder)
        self.trust_bundle = trust_bundle(folder, self.ca_path)
        self.expected_key: Callable[[], str | None] = lambda: None
        self.requests = 0
        api = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                api.requests += 1
                expected = api.expected_key()
                if expected is not None and self.headers.get("x-api-key") != expected:
                    self._send(401, {"message": "invalid API key"})
                    return
                if not self.path.startswith("/v1/latest"):
                    self._send(404, {"message": "not found"})
                    return
                now = dt.datetime.now(dt.UTC).replace(minute=0, second=0, microsecond=0)
                rates = {code: float(value) for code, value in RATES.items()}
                self._send(
                    200, {"base": "EUR", "timestamp": now.strftime("%Y-%m-%dT%H:%M:%SZ"), "rates": rates}
                )

            def _send(self, status: int, document: object) -> None:
                body = json.dumps(document).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                return

        self._server = ThreadingHTTPServer((LOOPBACK, port), Handler)
        self._server.daemon_threads = True
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert_path, key_path)
        self._server.socket = context.wrap_socket(self._server.socket, server_side=True)
        self.port = int(self._server.server_address[1])
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        """The URL the job is synthesized with."""
        return f"https://{LOOPBACK}:{self.port}/v1/latest?base=EUR"

    def start(self) -> None:
        """Serve in a background thread."""
        self._thread.start()

    def stop(self) -> None:
        """Stop serving and close the socket."""
        self._server.shutdown()
        self._server.server_close()
