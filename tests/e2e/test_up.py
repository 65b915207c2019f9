import subprocess

import pytest
import requests

from tests.e2e.stack import StackProcess

pytestmark = pytest.mark.e2e


def _emulator_pids(data_dir) -> set[str]:
    out = subprocess.run(["pgrep", "-f", f"--export-on-exit {data_dir}"], capture_output=True, text=True).stdout
    return set(out.split())


def test_avp_up_serves_logs_in_and_stops_cleanly(tmp_path):
    stack = StackProcess(tmp_path / "data").start()
    try:
        base = stack.url
        assert requests.get(f"{base}/healthz", timeout=5).json() == {"status": "ok"}
        assert "SwaggerUIBundle" in requests.get(f"{base}/docs", timeout=5).text
        assert requests.get(f"{base}/docs/swagger-ui-bundle.js", timeout=5).status_code == 200
        assert "openapi: 3.0.3" in requests.get(f"{base}/openapi.yaml", timeout=5).text
        login = requests.post(f"{base}/api/v1/auth/login", json={"email": "admin@example.com", "password": "admin password 1234"}, timeout=10)
        assert login.status_code == 200, login.text
        token = login.json()["access_token"]
        users = requests.get(f"{base}/api/v1/admin/users", headers={"Authorization": f"Bearer {token}"}, timeout=10)
        assert users.status_code == 200 and users.json()["items"][0]["email"] == "admin@example.com"
        assert requests.get(f"{base}/api/v1/nope", timeout=5).status_code == 404
        wrong = requests.put(f"{base}/api/v1/auth/login", timeout=5)
        assert wrong.status_code == 405 and wrong.json() == {"detail": "method not allowed"}
    finally:
        assert stack.stop() == 0
    # Every child process is gone, and the data survives a restart (the emulator exported it).
    assert not _emulator_pids(tmp_path / "data")
    again = StackProcess(tmp_path / "data", env={"AVP_ADMIN_PASSWORD": "another password 99"}).start()
    try:
        login = requests.post(f"{again.url}/api/v1/auth/login", json={"email": "admin@example.com", "password": "admin password 1234"}, timeout=10)
        assert login.status_code == 200
    finally:
        again.stop()
