"""The local stand-in for Cloud Storage's URL checks: a front before the storage emulator that lets a
request through only when it carries a valid, unexpired V4 signature, as Cloud Storage does (the
emulator itself serves any object to anyone). Resumable-session requests (`upload_id`) pass, as the
session URI is the credential in Cloud Storage too.

It knows nothing of how URLs are signed, only the signer's public key and email: the V4 rules are
https://cloud.google.com/storage/docs/authentication/signatures (canonical request, string to sign,
RSA-SHA256 over it, hex in `X-Goog-Signature`).
"""
from __future__ import annotations

import binascii
import datetime as dt
import hashlib
import threading
import urllib.parse
from collections.abc import Callable

import requests
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

ALGORITHM = "GOOG4-RSA-SHA256"
MAX_EXPIRES = 7 * 24 * 3600  # Cloud Storage's limit on X-Goog-Expires
PASSED_REQUEST_HEADERS = ("Content-Type", "Content-Range", "Range", "Content-MD5", "x-goog-resumable", "Origin",
                          "Access-Control-Request-Method", "Access-Control-Request-Headers")
PASSED_RESPONSE_HEADERS = ("Content-Type", "Content-Range", "Range", "Content-Disposition", "ETag", "Location",
                           "x-goog-hash", "x-goog-generation", "Access-Control-Allow-Origin",
                           "Access-Control-Allow-Methods", "Access-Control-Allow-Headers", "Access-Control-Expose-Headers")


class Refused(Exception):
    def __init__(self, status: int, code: str, message: str):
        super().__init__(message)
        self.status, self.code = status, code


def _quote(value: str) -> str:
    return urllib.parse.quote(value, safe="-_.~")


def string_to_sign(method: str, raw_path: str, raw_query: str, headers: dict[str, str]) -> tuple[bytes, dict[str, str]]:
    """The V4 string to sign of a request as received, and its X-Goog-* parameters (Refused if malformed)."""
    pairs = urllib.parse.parse_qsl(raw_query, keep_blank_values=True)
    params = dict(pairs)
    for name in ("X-Goog-Algorithm", "X-Goog-Credential", "X-Goog-Date", "X-Goog-Expires", "X-Goog-SignedHeaders",
                 "X-Goog-Signature"):
        if name not in params:
            raise Refused(403, "AccessDenied", "Anonymous caller does not have storage.objects.get access.")
    if params["X-Goog-Algorithm"] != ALGORITHM:
        raise Refused(400, "InvalidArgument", "unsupported X-Goog-Algorithm")
    query = "&".join(f"{_quote(k)}={_quote(v)}" for k, v in sorted(pairs) if k != "X-Goog-Signature")
    lowered = {k.lower(): " ".join(v.split()) for k, v in headers.items()}
    signed = params["X-Goog-SignedHeaders"].split(";")
    canonical_headers = "".join(f"{name}:{lowered.get(name, '')}\n" for name in signed)
    payload = lowered.get("x-goog-content-sha256", "UNSIGNED-PAYLOAD") if "x-goog-content-sha256" in signed else "UNSIGNED-PAYLOAD"
    canonical = "\n".join([method, raw_path, query, canonical_headers, ";".join(signed), payload])
    scope = params["X-Goog-Credential"].split("/", 1)[1] if "/" in params["X-Goog-Credential"] else ""
    message = "\n".join([ALGORITHM, params["X-Goog-Date"], scope, hashlib.sha256(canonical.encode()).hexdigest()])
    return message.encode(), params


def check(method: str, raw_path: str, raw_query: str, headers: dict[str, str], key: rsa.RSAPublicKey, email: str,
          now: dt.datetime | None = None) -> None:
    """Refused unless the request's V4 signature is `email`'s, verifies with `key` and has not expired."""
    message, params = string_to_sign(method, raw_path, raw_query, headers)
    if params["X-Goog-Credential"].split("/", 1)[0] != email:
        raise Refused(403, "SignatureDoesNotMatch", "the URL is signed by another account")
    try:
        signed_at = dt.datetime.strptime(params["X-Goog-Date"], "%Y%m%dT%H%M%SZ").replace(tzinfo=dt.timezone.utc)
        expires = int(params["X-Goog-Expires"])
    except ValueError:
        raise Refused(400, "InvalidArgument", "malformed X-Goog-Date or X-Goog-Expires") from None
    if not 1 <= expires <= MAX_EXPIRES:
        raise Refused(400, "InvalidArgument", f"X-Goog-Expires must be between 1 and {MAX_EXPIRES}")
    now = now or dt.datetime.now(dt.timezone.utc)
    if now > signed_at + dt.timedelta(seconds=expires):
        raise Refused(400, "ExpiredToken", "Invalid argument: the signed URL has expired")
    if now < signed_at - dt.timedelta(minutes=15):
        raise Refused(400, "InvalidArgument", "X-Goog-Date is in the future")
    try:
        key.verify(binascii.unhexlify(params["X-Goog-Signature"]), message, padding.PKCS1v15(), hashes.SHA256())
    except (InvalidSignature, binascii.Error, ValueError):
        raise Refused(403, "SignatureDoesNotMatch",
                      "The request signature we calculated does not match the signature you provided.") from None


class SignedUrlFront:
    """A WSGI app: verify, then forward to the emulator at `upstream` (http://host:port)."""

    def __init__(self, upstream: str, identity: Callable[[], tuple[rsa.RSAPublicKey, str]]):
        self.upstream = upstream.rstrip("/")
        self._identity_source = identity  # the signer's public key and email, read when first needed
        self._key: tuple[rsa.RSAPublicKey, str] | None = None

    def _identity(self) -> tuple[rsa.RSAPublicKey, str]:
        if self._key is None:
            self._key = self._identity_source()
        return self._key

    def __call__(self, environ, start_response):
        request = Request(environ)
        raw = environ.get("RAW_URI") or environ.get("REQUEST_URI") or request.full_path
        raw_path, _, raw_query = raw.partition("?")
        headers = {k: v for k, v in request.headers.items()}
        try:
            # Preflights carry no credentials; a resumable session's URI is its own credential.
            if request.method != "OPTIONS" and "upload_id" not in request.args:
                key, email = self._identity()
                check(request.method, raw_path, raw_query, headers, key, email)
        except Refused as refusal:
            body = (f"<?xml version='1.0' encoding='UTF-8'?><Error><Code>{refusal.code}</Code>"
                    f"<Message>{refusal}</Message></Error>")
            return Response(body, status=refusal.status, mimetype="application/xml")(environ, start_response)
        upstream = requests.request(request.method, f"{self.upstream}{raw_path}", params=raw_query or None,
                                    data=request.stream if request.method in ("PUT", "POST") else None,
                                    headers={h: headers[h] for h in PASSED_REQUEST_HEADERS if h in headers},
                                    stream=True, allow_redirects=False, timeout=300)
        response = Response(upstream.iter_content(64 * 1024), status=upstream.status_code,
                            headers=[(h, upstream.headers[h]) for h in PASSED_RESPONSE_HEADERS if h in upstream.headers])
        if "Content-Length" in upstream.headers:
            response.headers["Content-Length"] = upstream.headers["Content-Length"]
        return response(environ, start_response)


def serve(front: SignedUrlFront, port: int):
    """Serve `front` on 127.0.0.1:`port` in a thread; returns the server (call `shutdown()`)."""
    server = make_server("127.0.0.1", port, front, threaded=True)
    threading.Thread(target=server.serve_forever, name="signed-url-front", daemon=True).start()
    return server


def key_file_identity(key_file) -> Callable[[], tuple[rsa.RSAPublicKey, str]]:
    """The public half and email of a service-account key file (the local signer's)."""
    import json

    from cryptography.hazmat.primitives import serialization

    def identity() -> tuple[rsa.RSAPublicKey, str]:
        info = json.loads(key_file.read_text())
        private = serialization.load_pem_private_key(info["private_key"].encode(), password=None)
        return private.public_key(), info["client_email"]

    return identity
