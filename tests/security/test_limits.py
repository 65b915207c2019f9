"""Size limits hold for bodies that do not declare their length (Transfer-Encoding: chunked), over real
HTTP: the gateway served by the same server `avp up` uses."""
import json
import threading

import pytest
import requests
from werkzeug.serving import make_server

from tests.helpers import API, token_for


@pytest.fixture
def http(gateway, container):
    server = make_server("127.0.0.1", 0, gateway, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


def _chunked(payload: bytes, size: int = 64 * 1024):
    """A generator body: requests sends it chunked, with no Content-Length."""
    for i in range(0, len(payload), size):
        yield payload[i:i + size]


def test_a_chunked_json_body_over_the_limit_is_refused(http, container):
    limit = container.settings.max_json_bytes
    big = json.dumps({"email": "a@example.com", "password": "p" * (limit + 1024 * 1024)}).encode()
    resp = requests.post(f"{http}{API}/auth/login", data=_chunked(big), headers={"Content-Type": "application/json"},
                         timeout=60)
    assert resp.request.headers.get("Transfer-Encoding") == "chunked" and "Content-Length" not in resp.request.headers
    assert resp.status_code == 413 and resp.json()["detail"]


def test_a_chunked_vtt_over_the_limit_is_not_saved(http, client, container):
    """The finding: a 3.25 MiB, 45,000-cue VTT sent chunked was saved."""
    token, _ = token_for(client, container, "admin")
    cues = "".join(f"{i // 3600:02d}:{i // 60 % 60:02d}:{i % 60:02d}.000 --> {i // 3600:02d}:{i // 60 % 60:02d}:{i % 60:02d}.500\n"
                   f"cue {i}, long enough to read\n\n" for i in range(45_000))
    body = json.dumps({"lang": "en", "kind": "captions", "content": "WEBVTT\n\n" + cues}).encode()
    assert len(body) > container.settings.max_json_bytes
    resp = requests.post(f"{http}{API}/production/jobs/no-such-job/upload-final-vtt", data=_chunked(body),
                         headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"}, timeout=60)
    assert resp.status_code == 413, resp.text[:300]


def test_a_small_chunked_body_still_works(http, client, container):
    resp = requests.post(f"{http}{API}/auth/login", data=_chunked(json.dumps({"email": "nobody@example.com",
                                                                            "password": "wrong password 1"}).encode()),
                         headers={"Content-Type": "application/json"}, timeout=60)
    assert resp.status_code == 401
