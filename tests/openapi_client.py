"""A test client that holds the server to openapi.yaml.

Every request made through it and every response it gets back is validated against the
contract with openapi-core, with additional properties forbidden: an undocumented field,
query parameter, status code or content type fails the test that made the call. Requests a
test sends on purpose against the contract (a missing field, a wrong type...) are fine — only
the *response* to them must be documented — so request errors fail only when the server
accepted the request (2xx): a 2xx to a request the contract forbids is a deviation too.
"""
from __future__ import annotations

import io
import os
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from werkzeug.test import Client, EnvironBuilder
from werkzeug.wrappers import Request

from tests.contract_allowlist import allowed

OPENAPI = Path(__file__).resolve().parents[1] / "openapi.yaml"
API = "/api/v1/"


class ContractViolation(AssertionError):
    pass


@cache
def contract():
    from openapi_core import Config, OpenAPI

    spec = normalized(yaml.safe_load(OPENAPI.read_text(encoding="utf-8")))
    text = {t: _text for t in ("text/vtt", "application/x-subrip", "application/ttml+xml")}
    return OpenAPI.from_dict(spec, config=Config(additional_properties_default_policy="forbid",
                                                 extra_media_type_deserializers=text))


def _text(data: bytes) -> str:
    return data.decode("utf-8")


def normalized(spec: dict[str, Any]) -> dict[str, Any]:
    """The contract with its two composition idioms spelled out, meaning unchanged, so that
    "additional properties forbidden" can apply: `allOf: [A, B]` of objects becomes one object
    with both property sets (else A would forbid B's fields), and `allOf: [$ref] + nullable`
    (OpenAPI 3.0's nullable reference) becomes the referenced schema made nullable."""

    def merged(node: Any) -> Any:
        if isinstance(node, list):
            return [merged(v) for v in node]
        if not isinstance(node, dict):
            return node
        node = {k: merged(v) for k, v in node.items()}
        parts = node.get("allOf")
        if not parts:
            return node
        rest = {k: v for k, v in node.items() if k != "allOf"}
        resolved = [merged(_resolve(spec, p)) for p in parts]
        if len(resolved) == 1 and rest.get("nullable"):
            one = {**resolved[0], **rest}
            if "enum" in one:
                one["enum"] = [*one["enum"], None]
            return one
        if all(r.get("type") == "object" or "properties" in r for r in resolved):
            out: dict[str, Any] = {"type": "object", "properties": {}, "required": []}
            for r in resolved:
                out["properties"].update(r.get("properties", {}))
                out["required"] += [f for f in r.get("required", []) if f not in out["required"]]
            if not out["required"]:
                del out["required"]
            return {**out, **rest}
        return node

    return merged(spec)


@cache
def _routes() -> list[tuple[Any, set[str]]]:
    """Each documented operation (the gateway's matcher) with the names of its query parameters."""
    from avp.local.gateway import load_routes

    spec = yaml.safe_load(OPENAPI.read_text(encoding="utf-8"))
    out = []
    for route in load_routes(spec):
        item = spec["paths"][route.template]
        params = [_resolve(spec, p) for p in item.get("parameters", []) + item[route.method.lower()].get("parameters", [])]
        out.append((route, {p["name"] for p in params if p["in"] == "query"}))
    return out


def documented_query(method: str, path: str) -> set[str] | None:
    matches = [(r, q) for r, q in _routes() if r.method == method and r.regex.match(path)]
    if not matches:
        return None
    return max(matches, key=lambda m: m[0].specificity)[1]


def _resolve(spec: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        target: Any = spec
        for part in node["$ref"][2:].split("/"):
            target = target[part]
        node = target
    return node


def _errors(exc: BaseException | None) -> list[str]:
    """openapi-core nests the useful message (which field, which rule) in __cause__ / schema_errors."""
    out: list[str] = []
    while exc is not None:
        details = [f"{'/'.join(map(str, e.absolute_path)) or '(body)'}: {e.message}"
                   for e in getattr(exc, "schema_errors", ()) or ()]
        out += details or ([f"{type(exc).__name__}: {str(exc)[:300]}"] if exc.__cause__ is None else [])
        exc = exc.__cause__
    return out


def check(request: Request, response) -> list[str]:
    """The contract violations of one exchange (empty when it is all documented)."""
    from openapi_core.contrib.werkzeug import WerkzeugOpenAPIRequest, WerkzeugOpenAPIResponse
    from openapi_core.templating.paths.exceptions import PathNotFound

    if not request.path.startswith(API):
        return []
    api = contract()
    oreq = WerkzeugOpenAPIRequest(request)
    problems: list[str] = []
    try:
        result = api.unmarshal_request(oreq)
    except PathNotFound:
        return [f"undocumented path {request.method} {request.path}"]
    if result.errors:
        if any("not found" in str(e).lower() for e in result.errors) and documented_query(request.method, request.path) is None:
            return [f"undocumented operation {request.method} {request.path}"]
        if 200 <= response.status_code < 300:
            problems += [f"accepted a request the contract refuses: {m}" for e in result.errors for m in _errors(e)]
    documented = documented_query(request.method, request.path)
    # A route that reads query parameters refuses unknown ones (422); one that reads none ignores
    # them, as HTTP APIs do. Accepting an undocumented one is a deviation only for the former.
    if documented and 200 <= response.status_code < 300:
        extra = sorted(set(request.args) - documented)
        if extra:
            problems.append(f"accepted undocumented query parameters {extra}")
    resp_errors = api.unmarshal_response(oreq, WerkzeugOpenAPIResponse(response)).errors
    problems += [m for e in resp_errors for m in _errors(e)]
    return problems


class ContractClient(Client):
    """werkzeug's test client, validating every exchange against openapi.yaml."""

    def open(self, *args, buffered: bool = False, follow_redirects: bool = False, **kwargs):
        if args and isinstance(args[0], (EnvironBuilder, dict, Request)):
            return super().open(*args, buffered=buffered, follow_redirects=follow_redirects, **kwargs)
        builder = EnvironBuilder(*args, **kwargs)
        try:
            environ = builder.get_environ()
        finally:
            builder.close()
        body = environ["wsgi.input"].read()
        environ["wsgi.input"] = io.BytesIO(body)
        response = super().open(Request(environ), buffered=True, follow_redirects=follow_redirects)
        seen = Request({**environ, "wsgi.input": io.BytesIO(body)})
        problems = [p for p in check(seen, response) if not allowed(seen.method, seen.path, response.status_code, p)]
        if problems:
            record = os.environ.get("AVP_CONTRACT_RECORD")
            message = f"{seen.method} {seen.full_path.rstrip('?')} -> {response.status_code}:\n  " + "\n  ".join(problems)
            if record:
                with open(record, "a", encoding="utf-8") as fh:
                    fh.write(message + "\n")
            else:
                raise ContractViolation(message)
        return response
