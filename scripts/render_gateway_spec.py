#!/usr/bin/env python3
"""Render `openapi.yaml` into the document API Gateway takes as an API config.

    scripts/render_gateway_spec.py --project P --region R [--url avp-auth=https://...]... --out gateway.yaml

What changes, and why:
- every backend host `https://REGION-PROJECT.cloudfunctions.net` becomes the real function URL:
  `--url NAME=URL` when given (the deploy passes each function's own URL), otherwise the
  deterministic `https://<region>-<project>.cloudfunctions.net/<name>`; `jwtAudience` follows, since
  the gateway's ID token must name the URL the function answers on;
- `x-avp-function` goes: it routes the local gateway and means nothing to API Gateway;
- every `security` requirement and `components.securitySchemes` go. avp's access tokens are
  HS256 JWTs checked inside each function (the gateway forwards them in
  `X-Forwarded-Authorization`). API Gateway can only verify JWTs against a JWKS, does not take an
  `http`/`bearer` scheme or an API key in a cookie, and would read an `apiKey` requirement as
  "demand a Google API key": left in, they either fail the config or lock every client out.
"""
from __future__ import annotations

import argparse
import copy
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

LOCAL_ONLY_KEYS = frozenset({"x-avp-function"})
METHODS = frozenset({"get", "put", "post", "delete", "options", "head", "patch", "trace"})


class RenderError(ValueError):
    """The source document cannot become a gateway config."""


# libyaml reads and writes the 200 kB contract ten times faster when PyYAML was built with it.
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_Dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


def load(path: Path) -> dict[str, Any]:
    """Read an OpenAPI document."""
    return yaml.load(path.read_text(encoding="utf-8"), Loader=_Loader)


class _NoAliasDumper(_Dumper):  # type: ignore[misc, valid-type]
    """API Gateway rejects YAML anchors and aliases: write every node out in full."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def _represent_str(dumper: Any, text: str) -> yaml.ScalarNode:
    # Literal blocks keep the long Markdown descriptions readable in the rendered file.
    return dumper.represent_scalar("tag:yaml.org,2002:str", text, style="|" if "\n" in text else None)


_NoAliasDumper.add_representer(str, _represent_str)


def function_name(address: str) -> str:
    """The Cloud Function a backend address points at (the last path segment)."""
    name = urlsplit(address).path.strip("/").split("/")[-1]
    if not name:
        raise RenderError(f"backend address {address!r} names no function")
    return name


def default_urls(doc: Mapping[str, Any], project: str, region: str) -> dict[str, str]:
    """The deterministic `cloudfunctions.net` URL of every function the document's backends name."""
    return {function_name(b["address"]): f"https://{region}-{project}.cloudfunctions.net/{function_name(b['address'])}"
            for b in _backends(doc).values()}


def render(doc: Mapping[str, Any], urls: Mapping[str, str]) -> dict[str, Any]:
    """A copy of `doc` fit for API Gateway; `urls` maps function names to their real URLs."""
    out = _strip(copy.deepcopy(dict(doc)))
    backends = _backends(out)
    for key, backend in backends.items():
        name = function_name(backend["address"])
        if name not in urls:
            raise RenderError(f"no URL for function {name} (backend {key})")
        url = urls[name].rstrip("/")
        backend["address"] = url
        if "jwtAudience" in backend:
            backend["jwtAudience"] = url
    _check_operations(out, set(backends))
    if any("REGION-PROJECT" in text for text in _strings(out)):
        raise RenderError("a REGION-PROJECT placeholder is left outside the backends")
    return out


def dumps(doc: Mapping[str, Any]) -> str:
    """YAML text of a rendered document, key order kept, no aliases."""
    return yaml.dump(dict(doc), Dumper=_NoAliasDumper, sort_keys=False, allow_unicode=True, width=120)


def _backends(doc: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    try:
        return doc["x-google-api-management"]["backends"]
    except (KeyError, TypeError) as exc:
        raise RenderError("the document has no x-google-api-management.backends") from exc


def _strip(doc: dict[str, Any]) -> dict[str, Any]:
    """Remove the security declarations (root and operations: a schema property may well be
    called `security`) and the local-only keys (at any depth)."""
    doc.pop("security", None)
    (doc.get("components") or {}).pop("securitySchemes", None)
    for item in (doc.get("paths") or {}).values():
        for method, op in item.items():
            if method in METHODS:
                op.pop("security", None)
    _drop_keys(doc, LOCAL_ONLY_KEYS)
    return doc


def _drop_keys(node: Any, keys: frozenset[str]) -> None:
    if isinstance(node, dict):
        for key in keys & node.keys():
            del node[key]
        for value in node.values():
            _drop_keys(value, keys)
    elif isinstance(node, list):
        for value in node:
            _drop_keys(value, keys)


def _strings(node: Any) -> Iterator[str]:
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for key, value in node.items():
            yield str(key)
            yield from _strings(value)
    elif isinstance(node, list):
        for value in node:
            yield from _strings(value)


def _check_operations(doc: Mapping[str, Any], backends: set[str]) -> None:
    for path, item in (doc.get("paths") or {}).items():
        for method, op in item.items():
            if method not in METHODS:
                continue
            target = op.get("x-google-backend")
            if target not in backends:
                raise RenderError(f"{method.upper()} {path} routes to unknown backend {target!r}")


def _parse_url(text: str) -> tuple[str, str]:
    name, sep, url = text.partition("=")
    if not sep or not name or not url.startswith("https://"):
        raise argparse.ArgumentTypeError(f"expected NAME=https://..., got {text!r}")
    return name, url


def main(argv: list[str] | None = None) -> int:
    """Command-line entry: read the source spec, write the gateway spec."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--source", type=Path, default=Path(__file__).resolve().parents[1] / "openapi.yaml")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--project", required=True)
    parser.add_argument("--region", required=True)
    parser.add_argument("--url", type=_parse_url, action="append", default=[],
                        help="NAME=URL of one deployed function (overrides the cloudfunctions.net default)")
    args = parser.parse_args(argv)
    doc = load(args.source)
    urls = {**default_urls(doc, args.project, args.region), **dict(args.url)}
    try:
        rendered = render(doc, urls)
    except RenderError as exc:
        print(f"render_gateway_spec: {exc}", file=sys.stderr)
        return 1
    args.out.write_text(dumps(rendered), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
