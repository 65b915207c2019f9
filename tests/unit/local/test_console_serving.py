"""How the local gateway serves the web console: the built files, a config.json made from the
settings (Microsoft sign-in only when configured), and nothing outside console/dist."""
from __future__ import annotations

import json

from avp.config import Settings
from avp.local import console


def _dist(tmp_path):
    dist = tmp_path / "dist"
    (dist / "chunks").mkdir(parents=True)
    (dist / "index.html").write_text("<!doctype html><title>avp console</title>")
    (dist / "main.js").write_text("export {};")
    (tmp_path / "secret.txt").write_text("not for browsers")
    return dist


def test_files_config_and_refusals(tmp_path):
    dist, settings = _dist(tmp_path), Settings(project_id="demo-project")
    assert console.serve("/console", dist, settings).headers["Location"] == "/console/"
    index = console.serve("/console/", dist, settings)
    assert index.status_code == 200 and index.mimetype == "text/html" and b"avp console" in index.data
    assert console.serve("/console/main.js", dist, settings).mimetype == "text/javascript"
    config = console.serve("/console/config.json", dist, settings)
    assert json.loads(config.data) == {"api_base_url": "", "firebase": {"projectId": "demo-project"}, "microsoft": None}
    assert config.headers["Cache-Control"] == "no-store"
    for path in ("/console/../secret.txt", "/console/chunks/../../secret.txt", "/console/nothing.js", "/console/chunks"):
        resp = console.serve(path, dist, settings)
        assert resp.status_code == 404 and json.loads(resp.data) == {"detail": "not found"}, path


def test_microsoft_sign_in_appears_only_when_configured():
    assert console.client_config(Settings())["microsoft"] is None
    one = console.client_config(Settings(ms_client_id="app-id", ms_tenant_ids=("contoso",)))
    assert one["microsoft"] == {"client_id": "app-id", "tenant": "contoso"}
    many = console.client_config(Settings(ms_client_id="app-id", ms_tenant_ids=("a", "b")))
    assert many["microsoft"]["tenant"] == "organizations"


def test_an_unbuilt_console_says_how_to_build_it(tmp_path):
    resp = console.serve("/console/", tmp_path / "missing", Settings())
    assert resp.status_code == 503 and "scripts/setup" in json.loads(resp.data)["detail"]
    # config.json does not depend on the build
    assert console.serve("/console/config.json", tmp_path / "missing", Settings()).status_code == 200
