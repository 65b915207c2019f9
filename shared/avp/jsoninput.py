"""JSON written by clients, parsed so that hostile input is a 400, never a crash further in.

Two things Python's parser accepts that must not get further: nesting deep enough to exhaust the
interpreter's recursion (every later walk of the value would crash too), and strings holding a lone
UTF-16 surrogate (`"\\ud800"`), which no UTF-8 encoder, Firestore's included, can write.
"""
from __future__ import annotations

import json
import re
from typing import Any

from avp.errors import BadRequest

MAX_DEPTH = 32  # far beyond any document of the API (requested_outputs nests 3 deep)
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.S)
_BRACKET = re.compile(r"[\[\]{}]")
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


def loads(raw: bytes | str, what: str = "JSON body") -> Any:
    """Parse client JSON; 400 with a detail when malformed, nested deeper than MAX_DEPTH or not valid Unicode."""
    try:
        text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
    except UnicodeDecodeError:
        raise BadRequest(f"malformed {what}: not UTF-8") from None
    if _depth(text) > MAX_DEPTH:
        raise BadRequest(f"{what} nested deeper than {MAX_DEPTH} levels")
    try:
        data = json.loads(text)
    except ValueError:
        raise BadRequest(f"malformed {what}") from None
    if _SURROGATE_ESCAPE.search(text):  # only escapes can smuggle a surrogate into a decoded UTF-8 text
        where = _lone_surrogate(data, "$")
        if where:
            raise BadRequest(f"{what} holds a string that is not valid Unicode (a lone surrogate) at {where}")
    return data


def _depth(text: str) -> int:
    if text.count("[") + text.count("{") <= MAX_DEPTH:
        return 0  # cannot be deeper: skip the scan
    depth = deepest = 0
    for match in _BRACKET.finditer(_STRING.sub('""', text)):
        depth += 1 if match.group() in "[{" else -1
        deepest = max(deepest, depth)
    return deepest


def _valid(s: str) -> bool:
    try:
        s.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _lone_surrogate(value: Any, where: str) -> str | None:
    """The JSON path of the first string (or key) that is not valid Unicode, else None."""
    if isinstance(value, str):
        return None if _valid(value) else where
    if isinstance(value, list):
        return next((w for i, v in enumerate(value) if (w := _lone_surrogate(v, f"{where}[{i}]"))), None)
    if isinstance(value, dict):
        for k, v in value.items():
            if not _valid(k):
                return f"{where} (a key)"
            if w := _lone_surrogate(v, f"{where}.{k}"):
                return w
    return None
