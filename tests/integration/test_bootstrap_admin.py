"""`avp bootstrap-admin`: the first admin of a deployment where no stack start-up makes one."""
from __future__ import annotations

import re

from avp.cli import main
from tests.helpers import API


def test_bootstrap_admin_creates_one_admin_who_can_sign_in(client, container, capsys):
    assert main(["bootstrap-admin", "--email", "boss@example.com"]) == 0
    out = capsys.readouterr().out
    password = re.search(r"password \(shown once\): (\S+)", out).group(1)
    assert f"project {container.settings.project_id} (emulator)" in out
    signed_in = client.post(f"{API}/auth/login", json={"email": "boss@example.com", "password": password})
    assert signed_in.status_code == 200, signed_in.json
    assert signed_in.json["user"]["role"] == "admin"

    assert main(["bootstrap-admin", "--email", "boss@example.com"]) == 0
    assert "exists" in capsys.readouterr().out
    assert main(["bootstrap-admin", "--email", "other@example.com"]) == 0
    assert "already has an admin: nothing created" in capsys.readouterr().err
    assert container.store.count("users", [("role", "==", "admin")]) == 1
