"""`http.*` calls of the local executor, and the one HTTP helper the local connectors share.

Locally a workflow may only reach this machine: `http.*` to anything but a loopback
address is refused, so a workflow run on a laptop can never touch a real service.
"""
from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

import requests

from avp.local.workflows.errors import WorkflowError

HTTP_CALLS = {"http.get": "GET", "http.post": "POST", "http.put": "PUT", "http.patch": "PATCH", "http.delete": "DELETE"}
DEFAULT_TIMEOUT_SECONDS = 300.0


def is_loopback_url(url: str) -> bool:
    """Whether `url` points at this machine (localhost or a loopback IP)."""
    host = urlsplit(url).hostname
    if host is None:
        return False
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def send(
    method: str,
    url: str,
    *,
    query: Mapping[str, Any] | list[tuple[str, Any]] | None = None,
    headers: Mapping[str, str] | None = None,
    body: Any = None,
    timeout: float = DEFAULT_TIMEOUT_SECONDS,
) -> dict[str, Any]:
    """Send a request; `{code, headers, body}` on 2xx, else the platform's error maps.

    A map or list body is sent as JSON; a JSON response body comes back decoded.
    """
    payload: dict[str, Any] = {}
    if isinstance(body, (str, bytes)):
        payload["data"] = body
    elif body is not None:
        payload["json"] = body
    try:
        response = requests.request(method, url, params=query, headers=dict(headers or {}), timeout=timeout, **payload)
    except requests.Timeout as failure:
        raise WorkflowError.tagged("TimeoutError", f"{method} {url} timed out: {failure}") from failure
    except requests.ConnectionError as failure:
        raise WorkflowError({"message": f"{method} {url}: {failure}", "tags": ["ConnectionError", "ConnectionFailedError"]}) from failure
    except requests.RequestException as failure:  # a malformed URL or header: the request never left
        raise WorkflowError.tagged("ValueError", f"{method} {url}: {failure}") from failure
    result = {"code": response.status_code, "headers": dict(response.headers), "body": _decoded_body(response)}
    if not 200 <= response.status_code < 300:
        raise WorkflowError({"message": f"HTTP server responded with error code {response.status_code}", "tags": ["HttpError"], **result})
    return result


def _decoded_body(response: requests.Response) -> Any:
    if not response.content:
        return None
    if "json" in response.headers.get("Content-Type", ""):
        try:
            return response.json()
        except ValueError:
            return response.text
    return response.text


def http_call(call: str, args: Mapping[str, Any]) -> dict[str, Any]:
    """Run `http.get` ... `http.delete` / `http.request` with the workflow's `args`.

    `auth` is accepted and ignored: loopback services take no Google tokens.
    """
    method = HTTP_CALLS.get(call) or str(args.get("method", "")).upper()
    url = args.get("url")
    if not method or not isinstance(url, str):
        raise WorkflowError.tagged("ValueError", f"{call} needs a url (and a method for http.request)")
    if not is_loopback_url(url):
        raise WorkflowError.tagged("ValueError", f"{call}: only loopback URLs can be called locally, not {url!r}")
    return send(
        method,
        url,
        query=args.get("query"),
        headers=args.get("headers"),
        body=args.get("body"),
        timeout=float(args.get("timeout", DEFAULT_TIMEOUT_SECONDS)),
    )
