"""The web console on the local gateway, at /console/: the files `scripts/setup` built into
console/dist, and a config.json made from the settings (in the cloud the deploy writes that file
next to the static site, see docs/decisions/0007-web-console-plain-modules.md)."""
from __future__ import annotations

import json
import mimetypes
from pathlib import Path
from typing import Any

from werkzeug.wrappers import Response

PREFIX = "/console"
TYPES = {".js": "text/javascript", ".css": "text/css", ".html": "text/html", ".json": "application/json",
         ".map": "application/json", ".png": "image/png", ".svg": "image/svg+xml"}


def client_config(settings) -> dict[str, Any]:
    """What the console needs to know: where the API is (here: the same origin), the Firebase
    project its listeners use, and the Microsoft sign-in app when one is configured."""
    tenants = settings.ms_tenant_ids
    microsoft = {"client_id": settings.ms_client_id, "tenant": tenants[0] if len(tenants) == 1 else "organizations"}
    return {"api_base_url": "", "firebase": {"projectId": settings.project_id},
            "microsoft": microsoft if settings.ms_client_id else None}


def _json(status: int, body: Any) -> Response:
    return Response(json.dumps(body), status=status, mimetype="application/json")


def serve(path: str, dist: Path, settings) -> Response:
    """Answer a GET under /console."""
    if path == PREFIX:
        return Response(status=308, headers={"Location": f"{PREFIX}/"})
    name = path[len(PREFIX) + 1:] or "index.html"
    if name == "config.json":
        resp = _json(200, client_config(settings))
        resp.headers["Cache-Control"] = "no-store"
        return resp
    if not (dist / "index.html").is_file():
        return _json(503, {"detail": "the console is not built: run scripts/setup (npm ci and npm run build in console/)"})
    root = dist.resolve()
    target = (root / name).resolve()
    if root not in target.parents or not target.is_file():
        return _json(404, {"detail": "not found"})
    mimetype = TYPES.get(target.suffix) or mimetypes.guess_type(target.name)[0] or "application/octet-stream"
    resp = Response(target.read_bytes(), mimetype=mimetype)
    resp.headers["X-Content-Type-Options"] = "nosniff"
    resp.headers["Cache-Control"] = "no-cache"
    return resp
