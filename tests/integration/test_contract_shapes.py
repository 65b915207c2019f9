"""One source of truth for request shapes (docs/decisions/0011-contract-shapes.md): each route's
marshmallow schema — what the server enforces — and its request body and query parameters in
openapi.yaml must agree field by field, in both directions: same names, same required fields,
same JSON types, same enums, same patterns (language tags), and every length bound the server enforces stated. (Responses are
held to the contract by the validating test client.)"""
from __future__ import annotations

import inspect
import re
import sys
from typing import Any

import yaml
from marshmallow import fields, validate

from tests.openapi_client import OPENAPI, _resolve, normalized

TYPES = [  # most specific first
    (fields.Email, "string"), (fields.AwareDateTime, "string"), (fields.DateTime, "string"), (fields.Date, "string"),
    (fields.String, "string"), (fields.Boolean, "boolean"), (fields.Integer, "integer"), (fields.Float, "number"),
    (fields.List, "array"), (fields.Dict, "object"), (fields.Nested, "object"),
]
USES = re.compile(r"(json_body|query_args)\((?:schemas|ACTION_SCHEMAS)\.(\w+)\(|schemas\.(\w+)\(\)\.load\(request\.form")


def json_type(field: fields.Field) -> str | None:
    return next((t for cls, t in TYPES if isinstance(field, cls)), None)


def enum_of(field: fields.Field) -> set | None:
    for v in field.validators:
        if isinstance(v, validate.OneOf):
            return set(v.choices)
    return None


def length_of(field: fields.Field) -> tuple[int | None, int | None]:
    for v in field.validators:
        if isinstance(v, validate.Length) and v.equal is None:
            return v.min, v.max
    return None, None


def pattern_of(field: fields.Field) -> str | None:
    """The pattern a string field (or a list's items) must match on the server."""
    field = field.inner if isinstance(field, fields.List) else field
    return next((v.regex.pattern for v in field.validators if isinstance(v, validate.Regexp)), None)


def contract_pattern(spec: dict, node: dict) -> str | None:
    node = _resolve(spec, node)
    if "allOf" in node:  # a nullable $ref
        node = _resolve(spec, node["allOf"][0])
    if node.get("type") == "array" and "items" in node:
        return contract_pattern(spec, node["items"])
    return node.get("pattern")


def contract_type(spec: dict, node: dict) -> tuple[str | None, set | None]:
    node = _resolve(spec, node)
    values = node.get("enum")
    return node.get("type"), (set(values) - {None} if values else None)


def uses(view) -> list[tuple[str, str]]:
    """(where, schema class name) of each schema the view loads: json, query or form."""
    source = inspect.getsource(inspect.unwrap(view))
    # A view choosing its schema at run time (`A() if ... else B()`) is checked by the client tests.
    source = re.sub(r"json_body\(schemas\.\w+\(\) if .*", "", source)
    out = []
    for kind, name, form in USES.findall(source):
        out.append(("form" if form else {"json_body": "json", "query_args": "query"}[kind], name or form))
    return out


def documented(spec: dict, op: dict, item: dict, where: str) -> tuple[dict[str, Any], set[str]] | None:
    if where == "query":
        params = [_resolve(spec, p) for p in item.get("parameters", []) + op.get("parameters", [])]
        query = [p for p in params if p["in"] == "query"]
        return {p["name"]: p["schema"] for p in query}, {p["name"] for p in query if p.get("required")}
    content = op.get("requestBody", {}).get("content", {})
    media = "application/json" if where == "json" else "multipart/form-data"
    if media not in content:
        return None
    body = _resolve(spec, content[media]["schema"])
    return dict(body.get("properties", {})), set(body.get("required", []))


def test_request_schemas_and_contract_agree_field_by_field(gateway):
    spec = normalized(yaml.safe_load(OPENAPI.read_text(encoding="utf-8")))
    problems, checked = [], 0
    for route in gateway.routes:
        app = gateway.apps.get(route.function)
        concrete = re.sub(r"\{[^}]+\}", "x", route.template)
        endpoint, _ = app.url_map.bind("localhost").match(concrete, method=route.method)
        view = app.view_functions[endpoint]
        module = sys.modules[view.__module__]
        item = spec["paths"][route.template]
        op = item[route.method.lower()]
        for where, name in uses(view):
            schema = getattr(module.schemas, name)()
            got = documented(spec, op, item, where)
            label = f"{route.method} {route.template} ({where} {name})"
            if got is None:
                problems.append(f"{label}: the contract documents no {where} body")
                continue
            props, required = got
            server = {f.data_key or n: f for n, f in schema.fields.items() if not f.dump_only}
            if where == "form":
                props.pop("file", None)
            checked += 1
            for missing in sorted(set(server) - set(props)):
                problems.append(f"{label}: server takes `{missing}`, the contract does not name it")
            for extra in sorted(set(props) - set(server)):
                problems.append(f"{label}: the contract names `{extra}`, the server refuses it")
            for key in sorted(set(server) & set(props)):
                field = server[key]
                if field.required != (key in required):
                    problems.append(f"{label}: `{key}` required={field.required} on the server, "
                                    f"{key in required} in the contract")
                ctype, cenum = contract_type(spec, props[key])
                stype = json_type(field)
                smin, smax = length_of(field)
                node = _resolve(spec, props[key])
                if "allOf" in node:  # a nullable $ref
                    node = _resolve(spec, node["allOf"][0])
                lo, hi = ("minItems", "maxItems") if stype == "array" else ("minLength", "maxLength")
                if stype != node.get("type") or "pattern" in node:
                    smin = smax = None  # a JSON or comma-separated string the contract parses; a tag's pattern bounds it
                # A bound the server enforces and the contract leaves open refuses documented requests.
                if smin and node.get(lo, 0) < smin:
                    problems.append(f"{label}: `{key}` at least {smin} long on the server, {lo} {node.get(lo)}")
                if smax is not None and node.get(hi, float("inf")) > smax:
                    problems.append(f"{label}: `{key}` at most {smax} long on the server, {hi} {node.get(hi)}")
                if where == "json" and stype and ctype and stype != ctype:
                    problems.append(f"{label}: `{key}` is {stype} on the server, {ctype} in the contract")
                if pattern_of(field) != contract_pattern(spec, props[key]):
                    problems.append(f"{label}: `{key}` pattern {pattern_of(field)} on the server, "
                                    f"{contract_pattern(spec, props[key])} in the contract")
                senum = enum_of(field)
                if senum is not None and cenum is not None and senum != cenum:
                    problems.append(f"{label}: `{key}` enum {sorted(senum)} on the server, {sorted(cenum)} in the contract")
    assert checked >= 60, checked
    assert problems == [], "\n".join(problems)
