"""The storage emulator answers the console's cross-origin requests (resumable PUTs that read
`Range`, signed-URL GETs) for browsers on this machine only, as the bucket's CORS does in the cloud."""
from __future__ import annotations

import requests

from avp.local.emulators import StorageEmulator


def test_loopback_origins_get_cors_and_others_do_not():
    storage = StorageEmulator(bucket="cors-test").start()
    try:
        url = f"{storage.host}/storage/v1/b"
        pre = requests.options(url, timeout=10, headers={"Origin": "http://127.0.0.1:8012",
                                                         "Access-Control-Request-Method": "PUT",
                                                         "Access-Control-Request-Headers": "content-range"})
        assert pre.status_code == 204
        assert pre.headers["Access-Control-Allow-Origin"] == "http://127.0.0.1:8012"
        assert "PUT" in pre.headers["Access-Control-Allow-Methods"]
        assert pre.headers["Access-Control-Allow-Headers"] == "content-range"
        got = requests.get(url, timeout=10, headers={"Origin": "http://localhost:5173"})
        assert got.headers["Access-Control-Allow-Origin"] == "http://localhost:5173"
        assert "Range" in got.headers["Access-Control-Expose-Headers"]
        for origin in ("https://evil.example", "http://127.0.0.1.evil.example"):
            other = requests.options(url, timeout=10, headers={"Origin": origin, "Access-Control-Request-Method": "PUT"})
            assert "Access-Control-Allow-Origin" not in other.headers
            assert "Access-Control-Allow-Methods" not in other.headers
    finally:
        storage.stop()
