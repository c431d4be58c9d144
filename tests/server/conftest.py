"""The add-on backend under test: an RSA key made here, its certificate served on loopback with
Cache-Control, ID tokens minted with it (no network), and a folder of local plans."""

from __future__ import annotations

import datetime as dt
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

CLIENT_ID = "1234-test.apps.googleusercontent.com"
KID = "test-key-1"
SHEET = "acme-plan"
MISSING = "(leave this claim out)"  # Issuer.token(email, email_verified=MISSING): no such claim


class Issuer:
    """Google's side of sign-in, for tests: a key, its certificate on loopback, token minting."""

    def __init__(self) -> None:
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import rsa
        from cryptography.x509.oid import NameOID

        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "test-issuer")])
        now = dt.datetime.now(dt.timezone.utc)
        cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(self.key.public_key())
                .serial_number(1).not_valid_before(now - dt.timedelta(days=1))
                .not_valid_after(now + dt.timedelta(days=1)).sign(self.key, hashes.SHA256()))
        self.pem_key = self.key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                              serialization.NoEncryption())
        self.certs = json.dumps({KID: cert.public_bytes(serialization.Encoding.PEM).decode()}).encode()
        self.fetches = 0
        issuer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802
                issuer.fetches += 1
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Cache-Control", "public, max-age=3600")
                self.send_header("Content-Length", str(len(issuer.certs)))
                self.end_headers()
                self.wfile.write(issuer.certs)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/oauth2/v1/certs"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def token(self, email: str = "ae@globex.example", *, key=None, **claims) -> str:
        from google.auth import crypt, jwt

        now = int(time.time())
        payload = {"iss": "https://accounts.google.com", "aud": CLIENT_ID, "sub": "1" + str(abs(hash(email)))[:10],
                   "email": email, "email_verified": True, "iat": now, "exp": now + 600}
        payload.update(claims)
        payload = {k: v for k, v in payload.items() if not (isinstance(v, str) and v == MISSING)}
        signer = crypt.RSASigner.from_string(key or self.pem_key, KID)
        return jwt.encode(signer, payload).decode()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="session")
def issuer():
    made = Issuer()
    yield made
    made.close()


@pytest.fixture
def plans_dir(tmp_path):
    folder = tmp_path / "plans"
    folder.mkdir()
    return folder


@pytest.fixture
def app(issuer, plans_dir, tmp_path):
    from addon_server import create_app

    app = create_app({"CLIENT_ID": CLIENT_ID, "CERTS_URL": issuer.url, "DEV": True, "HOST": "127.0.0.1",
                      "PLANS_DIR": str(plans_dir), "DB": f"sqlite:///{tmp_path / 'addon.db'}",
                      "SELLER_DOMAINS": "globex.example", "MAX_BODY": 16384,
                      "TODAY": dt.date(2026, 12, 1)})
    yield app
    app.extensions["mapsheets_store"].close()


@pytest.fixture
def client(app):
    return app.test_client()


def headers(issuer: Issuer, email: str = "ae@globex.example", **claims) -> dict[str, str]:
    return {"Authorization": f"Bearer {issuer.token(email, **claims)}"}


GENERATE = {"template": "enterprise-map", "buyer": "Acme Corp", "seller": "Globex", "close_date": "2027-03-31",
            "start_date": "2026-12-01", "champion_name": "Jane Doe", "champion_email": "jane@acme.example",
            "economic_buyer_name": "Eve Money", "economic_buyer_email": "eve@acme.example"}
