"""Cloud Storage access: object I/O, signed URLs and resumable upload sessions.

Locally the same google-cloud-storage client talks to gcp-storage-emulator
(STORAGE_EMULATOR_HOST) and signed URLs are V4 signatures made with a key generated into the
data dir (`local_signer`); in the cloud the functions' own service account signs them through
IAM signBlob (`IamSigner`), so no key file exists anywhere.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import tempfile
import threading
import urllib.parse
from pathlib import Path

from google.api_core.exceptions import PreconditionFailed
from google.cloud import storage

from avp.errors import NotFound


class Storage:
    def __init__(self, client: storage.Client, bucket: str, signer=None, public_host: str | None = None,
                 checks_preconditions: bool = True):
        self.client = client
        # gcp-storage-emulator ignores `ifGenerationMatch`; Cloud Storage enforces it atomically.
        self._checks_preconditions = checks_preconditions
        self.bucket_name = bucket
        self.bucket = client.bucket(bucket)
        self._signer = signer
        self._public_host = public_host

    def uri(self, path: str) -> str:
        return f"gs://{self.bucket_name}/{path}"

    def path_of(self, uri: str) -> str:
        """The object path inside our bucket of a `gs://bucket/path` URI (NotFound for other buckets)."""
        prefix = f"gs://{self.bucket_name}/"
        if not uri.startswith(prefix):
            raise NotFound(f"object {uri} is not in bucket {self.bucket_name}")
        return uri[len(prefix):]

    def exists(self, path: str) -> bool:
        return self.bucket.blob(path).exists()

    def stat(self, path: str) -> dict | None:
        blob = self.bucket.get_blob(path)
        if blob is None:
            return None
        return {"size": blob.size, "content_type": blob.content_type, "md5": blob.md5_hash, "crc32c": blob.crc32c,
                "metadata": blob.metadata or {}, "updated": blob.updated}

    def read_bytes(self, path: str) -> bytes:
        blob = self.bucket.blob(path)
        if not blob.exists():
            raise NotFound(f"object {path} not found")
        return blob.download_as_bytes()

    def read_text(self, path: str) -> str:
        return self.read_bytes(path).decode("utf-8")

    def read_json(self, path: str):
        return json.loads(self.read_bytes(path))

    def write_bytes(self, path: str, data: bytes, content_type: str = "application/octet-stream") -> None:
        """A single-request upload: the object appears whole or not at all."""
        self.bucket.blob(path).upload_from_string(data, content_type=content_type)

    def create_bytes(self, path: str, data: bytes, content_type: str = "application/octet-stream") -> bool:
        """Write the object only if nothing is stored at `path`; False (and nothing written) if something is.

        Cloud Storage enforces `ifGenerationMatch=0` atomically, in the one request; the local
        emulator ignores that precondition, so there an existence check in front of it is what holds."""
        blob = self.bucket.blob(path)
        if not self._checks_preconditions and blob.exists():
            return False
        try:
            blob.upload_from_string(data, content_type=content_type, if_generation_match=0)
        except PreconditionFailed:
            return False
        return True

    def write_text(self, path: str, text: str, content_type: str = "text/plain; charset=utf-8") -> None:
        self.write_bytes(path, text.encode("utf-8"), content_type)

    def write_json(self, path: str, value) -> None:
        self.write_bytes(path, json.dumps(value, indent=1, default=str).encode(), "application/json")

    def upload_file(self, path: str, local: Path, content_type: str | None = None) -> None:
        self.bucket.blob(path).upload_from_filename(str(local), content_type=content_type)

    def download_file(self, path: str, local: Path) -> Path:
        """Download to `local` through a temporary file, so a crash never leaves half a file in place."""
        local.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=local.parent, prefix=f".{local.name}.")
        os.close(fd)
        try:
            blob = self.bucket.blob(path)
            if not blob.exists():
                raise NotFound(f"object {path} not found")
            blob.download_to_filename(tmp)
            os.replace(tmp, local)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
        return local

    def delete(self, path: str) -> None:
        blob = self.bucket.blob(path)
        if blob.exists():
            blob.delete()

    def list(self, prefix: str) -> list[str]:
        return [b.name for b in self.client.list_blobs(self.bucket_name, prefix=prefix)]

    def read_head(self, path: str, length: int) -> bytes:
        """The first `length` bytes of an object (one ranged request, not a whole download)."""
        blob = self.bucket.blob(path)
        if not blob.exists():
            raise NotFound(f"object {path} not found")
        return blob.download_as_bytes(start=0, end=max(0, length - 1))

    def copy(self, source: str, target: str) -> None:
        """A server-side copy: no bytes pass through this process."""
        self.bucket.copy_blob(self.bucket.blob(source), self.bucket, target)

    def open_read(self, path: str):
        return self.bucket.blob(path).open("rb")

    def open_write(self, path: str, content_type: str):
        return self.bucket.blob(path).open("wb", content_type=content_type)

    def resumable_session(self, path: str, content_type: str, size: int, origin: str | None = None) -> str:
        """Start a resumable upload bound to `path`, `content_type` and `size`; the session URL is the
        client's credential for sending bytes straight to storage, in chunks, resumably."""
        url = self.bucket.blob(path).create_resumable_upload_session(content_type=content_type, size=size, origin=origin)
        if self._public_host:
            # Locally the session is opened on the emulator but handed out on the public front before it.
            parts, public = urllib.parse.urlsplit(url), urllib.parse.urlsplit(self._public_host)
            url = urllib.parse.urlunsplit((public.scheme, public.netloc, parts.path, parts.query, parts.fragment))
        return url

    def signed_url(self, path: str, *, method: str = "GET", expires: int = 900, content_type: str | None = None,
                   filename: str | None = None) -> str:
        blob = self.bucket.blob(path)
        kwargs = {}
        if self._public_host:
            kwargs["api_access_endpoint"] = self._public_host
        if filename:
            kwargs["response_disposition"] = f'attachment; filename="{filename}"'
        if isinstance(self._signer, IamSigner):
            kwargs.update(self._signer.signing_kwargs())
        else:
            kwargs["credentials"] = self._signer
        return blob.generate_signed_url(version="v4", expiration=dt.timedelta(seconds=expires), method=method,
                                        content_type=content_type, **kwargs)


class IamSigner:
    """V4 URL signing in the cloud, where the runtime's credentials (the metadata server's) hold no
    private key: google-cloud-storage sends each string-to-sign to the IAM Service Account
    Credentials API (`POST https://iamcredentials.googleapis.com/v1/projects/-/serviceAccounts/EMAIL:signBlob`,
    body `{"payload": base64}`, answer `{"keyId", "signedBlob"}`;
    https://cloud.google.com/iam/docs/reference/credentials/rest/v1/projects.serviceAccounts/signBlob)
    when `generate_signed_url` is given `service_account_email` and `access_token`. The caller needs
    `iam.serviceAccounts.signBlob` on that account: Terraform grants the functions'
    account roles/iam.serviceAccountTokenCreator on itself (infra/terraform/modules/service_accounts)."""

    def __init__(self, credentials, service_account_email: str | None = None, request=None):
        self._credentials = credentials
        self._email = service_account_email
        self._request = request
        self._lock = threading.Lock()

    def signing_kwargs(self) -> dict[str, str]:
        """The email and a live access token; the token is refreshed when it has expired (metadata
        server credentials start without one and learn their email on the first refresh)."""
        with self._lock:
            if not self._credentials.valid:
                from google.auth.transport.requests import Request

                self._credentials.refresh(self._request or Request())
            email = self._email or getattr(self._credentials, "service_account_email", None)
            token = self._credentials.token
        if not email or email == "default":
            raise RuntimeError("no service account email to sign as: the credentials name none")
        return {"service_account_email": email, "access_token": token}


def local_signer(data_dir: Path, project_id: str):
    """Service-account credentials made from a key generated once into the data dir, so V4 URL signing
    works offline. The emulator does not check the signature; in the cloud the real account signs."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from google.oauth2 import service_account

    key_file = data_dir / "signing-key.json"
    if not key_file.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode()
        info = {"type": "service_account", "project_id": project_id, "private_key_id": hashlib.sha1(pem.encode()).hexdigest(),
                "private_key": pem, "client_email": f"avp-local@{project_id}.iam.gserviceaccount.com", "client_id": "0",
                "token_uri": "https://oauth2.googleapis.com/token"}
        tmp = key_file.with_suffix(".tmp")
        tmp.write_text(json.dumps(info))
        os.chmod(tmp, 0o600)
        os.replace(tmp, key_file)
    return service_account.Credentials.from_service_account_info(json.loads(key_file.read_text()))
