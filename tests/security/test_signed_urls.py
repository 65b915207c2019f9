"""Signed URLs are checked locally as Cloud Storage checks them: the storage emulator is reachable
only through a front that verifies the V4 signature and its expiry; upload sessions pass through it."""
import time
import urllib.parse
import uuid

import pytest
import requests
from google.auth.credentials import AnonymousCredentials
from google.cloud import storage as gcs

from avp.local.emulators import StorageEmulator
from avp.storage import Storage, local_signer


@pytest.fixture
def fronted(tmp_path, monkeypatch):
    """An emulator behind the verifying front, and avp's Storage signing with the local key."""
    key_dir = tmp_path / "keys"
    signer = local_signer(key_dir, "proj-x")
    emulator = StorageEmulator(bucket="front-test", signing_key=key_dir / "signing-key.json").start()
    monkeypatch.setenv("STORAGE_EMULATOR_HOST", emulator.host)
    client = gcs.Client(project="proj-x", credentials=AnonymousCredentials())
    if not client.bucket("front-test").exists():
        client.create_bucket("front-test")
    yield emulator, Storage(client, "front-test", signer=signer, public_host=emulator.public_host)
    emulator.stop()


def _with(url: str, **changes: str) -> str:
    parts = urllib.parse.urlsplit(url)
    query = dict(urllib.parse.parse_qsl(parts.query))
    query.update(changes)
    return urllib.parse.urlunsplit(parts._replace(query=urllib.parse.urlencode(query, quote_via=urllib.parse.quote)))


def test_only_a_valid_unexpired_signature_reads_an_object(fronted, tmp_path):
    emulator, storage = fronted
    storage.write_bytes("org-a/secret.txt", b"for org A only", "text/plain")
    storage.write_bytes("org-b/other.txt", b"for org B only", "text/plain")
    url = storage.signed_url("org-a/secret.txt", expires=60)
    assert url.startswith(emulator.public_host) and emulator.public_host != emulator.host
    ok = requests.get(url, timeout=10)
    assert ok.status_code == 200 and ok.content == b"for org A only"

    # Another object under the same signature, a tampered or missing signature, a longer validity,
    # another signer's key: all refused.
    other = url.replace("org-a/secret.txt", "org-b/other.txt")
    assert requests.get(other, timeout=10).status_code == 403
    signature = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(url).query))["X-Goog-Signature"]
    assert requests.get(_with(url, **{"X-Goog-Signature": ("0" if signature[0] != "0" else "1") + signature[1:]}),
                        timeout=10).status_code == 403
    assert requests.get(url.split("&X-Goog-Signature=")[0], timeout=10).status_code == 403
    assert requests.get(_with(url, **{"X-Goog-Expires": "3600"}), timeout=10).status_code == 403
    stranger = Storage(storage.client, "front-test", signer=local_signer(tmp_path / "stranger", "proj-x"),
                       public_host=emulator.public_host)
    forged = requests.get(stranger.signed_url("org-a/secret.txt", expires=60), timeout=10)
    assert forged.status_code == 403 and b"SignatureDoesNotMatch" in forged.content
    assert requests.get(f"{emulator.public_host}/front-test/org-a/secret.txt", timeout=10).status_code == 403

    short = storage.signed_url("org-a/secret.txt", expires=1)
    time.sleep(2.1)
    expired = requests.get(short, timeout=10)
    assert expired.status_code == 400 and b"ExpiredToken" in expired.content


def test_an_upload_session_works_through_the_front(fronted):
    _, storage = fronted
    path = f"uploads/{uuid.uuid4().hex}.bin"
    session = storage.resumable_session(path, "application/octet-stream", 11)
    assert session.startswith(storage._public_host)
    done = requests.put(session, data=b"hello world", headers={"Content-Range": "bytes 0-10/11"}, timeout=10)
    assert done.status_code in (200, 201), done.text
    assert storage.read_bytes(path) == b"hello world"
