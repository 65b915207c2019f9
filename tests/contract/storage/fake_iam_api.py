"""A local fake of Google's OAuth token endpoint and the IAM Service Account Credentials API's
signBlob, holding its own service-account key the way Google holds the system-managed one.

Request and response shapes follow Google's reference:
https://cloud.google.com/iam/docs/reference/credentials/rest/v1/projects.serviceAccounts/signBlob
(`POST /v1/projects/-/serviceAccounts/EMAIL:signBlob`, body `{"payload": base64}`, answer
`{"keyId", "signedBlob"}`), signed RSASSA-PKCS1-v1_5 with SHA-256 as V4 URL signatures need."""
from __future__ import annotations

import base64
import datetime as dt
import ipaddress
import secrets
import ssl
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path

import jwt
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID

from tests.contract.fake_http import FakeService, Reply, Request, error

GOOGLE_HOSTS = ("iamcredentials.googleapis.com", "oauth2.googleapis.com")


def _key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _pem(key: rsa.RSAPrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())


def tls_for_google_hosts(folder: Path) -> tuple[ssl.SSLContext, Path]:
    """A server context with a certificate for GOOGLE_HOSTS issued by a throw-away CA, and the CA's
    PEM file for the client to trust (REQUESTS_CA_BUNDLE)."""
    now = dt.datetime.now(dt.timezone.utc)
    ca_key, leaf_key = _key(), _key()
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "avp test CA")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
          .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(minutes=5))
          .not_valid_after(now + dt.timedelta(hours=1))
          .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
          .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True, content_commitment=False,
                                       key_encipherment=False, data_encipherment=False, key_agreement=False,
                                       encipher_only=False, decipher_only=False), critical=True)
          .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
          .sign(ca_key, hashes.SHA256()))
    leaf = (x509.CertificateBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, GOOGLE_HOSTS[0])]))
            .issuer_name(ca_name).public_key(leaf_key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(hours=1))
            .add_extension(x509.SubjectAlternativeName([*map(x509.DNSName, GOOGLE_HOSTS),
                                                        x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256()))
    ca_file, cert_file, key_file = folder / "ca.pem", folder / "leaf.pem", folder / "leaf.key"
    ca_file.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    cert_file.write_bytes(leaf.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(_pem(leaf_key))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_file, key_file)
    return context, ca_file


def service_account_file(folder: Path, email: str) -> Path:
    """A service-account JSON whose key only gets access tokens (from the fake token endpoint): it is
    not the key IAM signs with, so a URL that verifies was signed by signBlob, not locally."""
    info = {"type": "service_account", "project_id": "proj-1", "private_key_id": "local-key", "private_key": _pem(_key()).decode(),
            "client_email": email, "client_id": "1", "token_uri": "https://oauth2.googleapis.com/token"}
    path = folder / "sa.json"
    path.write_text(__import__("json").dumps(info))
    return path


@dataclass
class FakeIamApi(FakeService):
    """POST /token (JWT-bearer grant) hands out access tokens; signBlob signs with `key` when the
    caller presents one of them. `requests` keeps (host, path, headers, body) tuples."""

    key: rsa.RSAPrivateKey = field(default_factory=_key)
    key_id: str = "iam-system-key-1"
    tokens: list[str] = field(default_factory=list)
    deny: bool = False

    def __post_init__(self) -> None:
        self.on("POST", "/token", self._token)
        self.on("POST", "/v1/projects/-/serviceAccounts/", self._sign_blob)

    def record(self, request: Request) -> tuple[str, str, dict[str, str], object]:
        return (request.headers.get("Host", ""), request.path, request.headers, request.body)

    def _token(self, request: Request) -> Reply:
        form = urllib.parse.parse_qs(request.body.decode() if isinstance(request.body, bytes) else "")
        if form.get("grant_type") != ["urn:ietf:params:oauth:grant-type:jwt-bearer"] or not form.get("assertion"):
            return Reply(400, {"error": "invalid_grant"})
        claims = jwt.decode(form["assertion"][0], options={"verify_signature": False})
        if claims.get("aud") != "https://oauth2.googleapis.com/token":
            return Reply(400, {"error": "invalid_grant", "error_description": "wrong audience"})
        token = "ya29." + secrets.token_urlsafe(16)
        self.tokens.append(token)
        return Reply(200, {"access_token": token, "expires_in": 3599, "token_type": "Bearer"})

    def _sign_blob(self, request: Request) -> Reply:
        if not request.path.partition("?")[0].endswith(":signBlob"):
            return error(404, "not found", "NOT_FOUND")
        bearer = request.headers.get("Authorization", "").removeprefix("Bearer ")
        if bearer not in self.tokens:
            return error(401, "Request had invalid authentication credentials.", "UNAUTHENTICATED")
        if self.deny:
            return error(403, "Permission 'iam.serviceAccounts.signBlob' denied on resource", "PERMISSION_DENIED")
        payload = base64.b64decode((request.body or {})["payload"])
        signature = self.key.sign(payload, padding.PKCS1v15(), hashes.SHA256())
        return Reply(200, {"keyId": self.key_id, "signedBlob": base64.b64encode(signature).decode()})

    def signed(self) -> list[bytes]:
        """The payloads signBlob was asked to sign, in order."""
        return [base64.b64decode(body["payload"]) for _, path, _, body in self.requests if path.startswith("/v1/")
                and isinstance(body, dict) and "payload" in body]
