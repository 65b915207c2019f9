"""The local API Gateway: reads the same openapi.yaml as the cloud gateway and forwards each
request to the Flask app of the function the operation names (`x-avp-function`).

Every function is loaded once, under a module name of its own (functions-framework would import
each main.py as `main` and re-import on every create_app call).
"""
from __future__ import annotations

import importlib.util
import json
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from werkzeug.exceptions import MethodNotAllowed, NotFound
from werkzeug.wrappers import Request, Response

from avp import logs
from avp.bootstrap import container
from avp.domain.users import RESET_PAGE
from avp.local import console

log = logs.get("local.gateway")
METHODS = ("get", "post", "put", "patch", "delete")


def project_root() -> Path:
    import os

    return Path(os.environ.get("AVP_ROOT") or Path(__file__).resolve().parents[3])


@dataclass
class Route:
    method: str
    template: str
    function: str
    regex: re.Pattern
    # Literal segments win over parameters, earliest segment first: /jobs/bulk beats /jobs/{job_id}.
    specificity: tuple[int, ...] = field(default_factory=tuple)


def compile_template(template: str) -> tuple[re.Pattern, tuple[int, ...]]:
    parts = template.strip("/").split("/")
    pattern = "".join("/[^/]+" if p.startswith("{") else "/" + re.escape(p) for p in parts)
    return re.compile(f"^{pattern}$"), tuple(0 if p.startswith("{") else 1 for p in parts)


def load_routes(spec: dict[str, Any]) -> list[Route]:
    routes = []
    for template, item in spec.get("paths", {}).items():
        for method in METHODS:
            op = item.get(method)
            if op is None:
                continue
            function = op.get("x-avp-function")
            if not function:
                raise ValueError(f"{method.upper()} {template} names no x-avp-function")
            regex, spec_key = compile_template(template)
            routes.append(Route(method.upper(), template, function, regex, spec_key))
    return routes


def load_function(functions_dir: Path, name: str):
    """Import functions/<name>/main.py once, as `avp_fn_<name>_main`, and return its Flask `app`."""
    main = functions_dir / name / "main.py"
    if not main.exists():
        return None
    module_name = f"avp_fn_{name}_main"
    if module_name not in sys.modules:
        spec = importlib.util.spec_from_file_location(module_name, main)
        assert spec and spec.loader
        module = importlib.util.module_from_spec(spec)
        sys.modules[module_name] = module
        spec.loader.exec_module(module)
    return sys.modules[module_name].app


def _json(status: int, detail: Any, headers: dict[str, str] | None = None) -> Response:
    return Response(json.dumps({"detail": detail}), status=status, mimetype="application/json", headers=headers)


class Gateway:
    """A WSGI app: /healthz, /docs, /openapi.yaml, and every route of the spec."""

    def __init__(self, spec_path: Path | None = None, functions_dir: Path | None = None):
        root = project_root()
        self.spec_path = spec_path or root / "openapi.yaml"
        self.spec_text = self.spec_path.read_text()
        self.spec = yaml.safe_load(self.spec_text)
        self.routes = load_routes(self.spec)
        self.writes = 0
        functions_dir = functions_dir or root / "functions"
        self.console_dir = root / "console" / "dist"
        self.apps = {}
        for name in sorted({r.function for r in self.routes}):
            app = load_function(functions_dir, name)
            if app is not None:
                self.apps[name] = app

    def match(self, method: str, path: str) -> tuple[Route | None, list[str]]:
        """The most specific route for `path` with `method`, and the methods the path allows."""
        candidates = [r for r in self.routes if r.regex.match(path)]
        if not candidates:
            return None, []
        best = max(r.specificity for r in candidates)
        at_best = [r for r in candidates if r.specificity == best]
        allowed = sorted({r.method for r in at_best})
        for r in at_best:
            if r.method == method:
                return r, allowed
        return None, allowed

    def implemented(self, route: Route) -> bool:
        app = self.apps.get(route.function)
        if app is None:
            return False
        concrete = re.sub(r"\{[^}]+\}", "x", route.template)
        try:
            rule, _ = app.url_map.bind("localhost").match(concrete, method=route.method, return_rule=True)
        except (NotFound, MethodNotAllowed):
            return False
        # A parameterised Flask rule must not swallow a literal spec path (e.g. /jobs/<id> for /jobs/bulk).
        return rule.rule.count("<") == route.template.count("{")

    def coverage(self) -> tuple[int, int]:
        return sum(self.implemented(r) for r in self.routes), len(self.routes)

    def __call__(self, environ, start_response):
        request = Request(environ)
        path, method = request.path, request.method
        if path == "/healthz":
            resp = Response(json.dumps({"status": "ok"}), mimetype="application/json")
        elif path == "/openapi.yaml":
            resp = Response(self.spec_text, mimetype="application/yaml")
        elif path == RESET_PAGE and method in ("GET", "HEAD"):
            # Where reset and set-your-password mails point (users.RESET_PAGE); it posts to /auth/password/reset.
            resp = Response((Path(__file__).parent / "reset_password.html").read_bytes(), mimetype="text/html",
                            headers={"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"})
        elif path == "/docs" or path.startswith("/docs/"):
            resp = self._docs(path)
        elif method in ("GET", "HEAD") and (path == console.PREFIX or path.startswith(console.PREFIX + "/")):
            resp = console.serve(path, self.console_dir, container().settings)
        else:
            lookup = "GET" if method == "HEAD" else method
            route, allowed = self.match(lookup, path)
            if route is None and not allowed:
                resp = _json(404, "not found")
            elif route is None:
                resp = _json(405, "method not allowed", {"Allow": ", ".join(allowed)})
            elif not self.implemented(route):
                resp = _json(501, "not implemented yet")
            else:
                result = self.apps[route.function](environ, start_response)
                if method not in ("GET", "HEAD", "OPTIONS"):
                    # Counted once the view has run (its writes are done): the local stack's periodic
                    # Firestore export reads it as a dirty mark.
                    self.writes += 1
                return result
        return resp(environ, start_response)

    def _docs(self, path: str) -> Response:
        from swagger_ui_bundle import swagger_ui_path

        base = Path(swagger_ui_path)
        if path in ("/docs", "/docs/"):
            html = (base / "index.html").read_text()
            html = html.replace('href="./', 'href="/docs/').replace('src="./', 'src="/docs/')
            html = html.replace('<script src="/docs/swagger-initializer.js" charset="UTF-8"> </script>', "")
            init = ('<script>window.onload=function(){window.ui=SwaggerUIBundle({url:"/openapi.yaml",dom_id:"#swagger-ui",'
                    'presets:[SwaggerUIBundle.presets.apis,SwaggerUIStandalonePreset],layout:"StandaloneLayout"});};</script>')
            html = html.replace("</body>", init + "</body>")
            return Response(html, mimetype="text/html")
        name = path[len("/docs/"):]
        target = (base / name).resolve()
        if base.resolve() not in target.parents or not target.is_file():
            return _json(404, "not found")
        mimetype = {".js": "application/javascript", ".css": "text/css", ".png": "image/png", ".html": "text/html"}.get(
            target.suffix, "application/octet-stream")
        return Response(target.read_bytes(), mimetype=mimetype)
