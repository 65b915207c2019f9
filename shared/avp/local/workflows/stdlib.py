"""The part of the Workflows standard library that expressions can call.

Each function checks its argument types and raises the platform's `TypeError` /
`ValueError` error maps, so a workflow's `try`/`except` sees the same thing locally as
in the cloud.
"""
from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from avp.local.workflows.errors import WorkflowError
from avp.local.workflows.expr import is_number, type_name


def _need(value: Any, kinds: tuple[str, ...], what: str) -> None:
    if type_name(value) not in kinds:
        raise WorkflowError.tagged("TypeError", f"{what} must be {' or '.join(kinds)}, got {type_name(value)}")


def default(value: Any, fallback: Any) -> Any:
    """`value` unless it is null."""
    return fallback if value is None else value


def length(value: Any) -> int:
    """Length of a string (in characters), list, map or bytes."""
    _need(value, ("string", "list", "map", "bytes"), "len() argument")
    return len(value)


def keys(value: Any) -> list[str]:
    """The keys of a map, in insertion order."""
    _need(value, ("map",), "keys() argument")
    return list(value)


def map_get(value: Any, key: Any) -> Any:
    """`map.get(m, key)`: the value or null; a list of keys walks nested maps."""
    _need(value, ("map",), "map.get() map")
    path = key if isinstance(key, list) else [key]
    current: Any = value
    for part in path:
        _need(part, ("string",), "map.get() key")
        if not isinstance(current, dict) or part not in current:
            return None
        current = current[part]
    return current


def list_concat(items: Any, value: Any) -> list[Any]:
    """`list.concat(list, value)`: a new list with `value` appended."""
    _need(items, ("list",), "list.concat() list")
    return [*items, value]


def text_split(source: Any, separator: Any) -> list[str]:
    """Split `source` at every `separator`."""
    _need(source, ("string",), "text.split() source")
    _need(separator, ("string",), "text.split() separator")
    if not separator:
        raise WorkflowError.tagged("ValueError", "text.split() separator must not be empty")
    return source.split(separator)


def text_replace_all(source: Any, substring: Any, replacement: Any) -> str:
    """Replace every occurrence of `substring`."""
    for value, what in ((source, "source"), (substring, "substr"), (replacement, "repl")):
        _need(value, ("string",), f"text.replace_all() {what}")
    return source.replace(substring, replacement)


def text_to_lower(source: Any) -> str:
    """Lower-case a string."""
    _need(source, ("string",), "text.to_lower() source")
    return source.lower()


def text_to_upper(source: Any) -> str:
    """Upper-case a string."""
    _need(source, ("string",), "text.to_upper() source")
    return source.upper()


def text_find_all(source: Any, substring: Any) -> list[dict[str, Any]]:
    """Every non-overlapping occurrence as `{index, match}`."""
    _need(source, ("string",), "text.find_all() source")
    _need(substring, ("string",), "text.find_all() substr")
    if not substring:
        raise WorkflowError.tagged("ValueError", "text.find_all() substr must not be empty")
    found: list[dict[str, Any]] = []
    start = source.find(substring)
    while start != -1:
        found.append({"index": start, "match": substring})
        start = source.find(substring, start + len(substring))
    return found


def text_substring(source: Any, start: Any, end: Any) -> str:
    """Characters from `start` up to `end`; indices outside the string are clamped."""
    _need(source, ("string",), "text.substring() source")
    _need(start, ("integer",), "text.substring() start")
    _need(end, ("integer",), "text.substring() end")
    start, end = max(0, min(start, len(source))), max(0, min(end, len(source)))
    return source[start:end] if start <= end else ""


def json_encode(value: Any, indent: Any = None) -> bytes:
    """JSON of a value, as bytes (what `json.encode` returns in the cloud)."""
    return json_encode_to_string(value, indent).encode()


def json_encode_to_string(value: Any, indent: Any = None) -> str:
    """JSON of a value, as a string; compact unless an indent is given."""
    if indent is not None:
        _need(indent, ("integer",), "json indent")
    separators = (",", ":") if indent is None else None
    try:
        return json.dumps(value, indent=indent, separators=separators, ensure_ascii=False)
    except TypeError as failure:
        raise WorkflowError.tagged("TypeError", f"cannot encode as JSON: {failure}") from failure


def json_decode(data: Any) -> Any:
    """Parse JSON given as bytes or a string."""
    _need(data, ("bytes", "string"), "json.decode() data")
    try:
        return json.loads(data)
    except ValueError as failure:
        raise WorkflowError.tagged("ValueError", f"invalid JSON: {failure}") from failure


def time_format(seconds: Any, zone: Any = None) -> str:
    """RFC 3339 text of seconds since the epoch, in UTC (`Z`) or the named time zone."""
    if not is_number(seconds):
        raise WorkflowError.tagged("TypeError", f"time.format() seconds must be a number, got {type_name(seconds)}")
    if zone is None:
        return datetime.fromtimestamp(seconds, UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")
    _need(zone, ("string",), "time.format() timezone")
    try:
        return datetime.fromtimestamp(seconds, ZoneInfo(zone)).isoformat(timespec="microseconds")
    except ZoneInfoNotFoundError as failure:
        raise WorkflowError.tagged("ValueError", f"unknown time zone {zone!r}") from failure


def to_string(value: Any) -> str:
    """`string()`: text of a number, boolean or string (booleans as `true`/`false`)."""
    _need(value, ("string", "integer", "double", "boolean"), "string() argument")
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def to_int(value: Any) -> int:
    """`int()`: a double truncated toward zero, or an integer written as text."""
    _need(value, ("integer", "double", "string"), "int() argument")
    if isinstance(value, str):
        try:
            return int(value.strip())
        except ValueError as failure:
            raise WorkflowError.tagged("ValueError", f"not an integer: {value!r}") from failure
    return int(value)


def to_double(value: Any) -> float:
    """`double()`: a number or numeric text as a double."""
    _need(value, ("integer", "double", "string"), "double() argument")
    try:
        return float(value)
    except ValueError as failure:
        raise WorkflowError.tagged("ValueError", f"not a number: {value!r}") from failure


def to_bool(value: Any) -> bool:
    """`bool()`: a boolean, or the text `true`/`false` in any case."""
    _need(value, ("boolean", "string"), "bool() argument")
    if isinstance(value, bool):
        return value
    lowered = value.strip().lower()
    if lowered not in ("true", "false"):
        raise WorkflowError.tagged("ValueError", f"not a boolean: {value!r}")
    return lowered == "true"


def standard_functions(env: Mapping[str, str], clock: Callable[[], float] = time.time) -> dict[str, Any]:
    """The callable built-ins; `sys.get_env` reads `env` (the execution's variables), not os.environ."""

    def get_env(name: Any, fallback: Any = None) -> Any:
        _need(name, ("string",), "sys.get_env() name")
        return env.get(name, fallback)

    return {
        "default": default,
        "len": length,
        "keys": keys,
        "map.get": map_get,
        "list.concat": list_concat,
        "text.split": text_split,
        "text.replace_all": text_replace_all,
        "text.to_lower": text_to_lower,
        "text.to_upper": text_to_upper,
        "text.find_all": text_find_all,
        "text.substring": text_substring,
        "json.encode": json_encode,
        "json.encode_to_string": json_encode_to_string,
        "json.decode": json_decode,
        "time.format": time_format,
        "sys.now": lambda: float(clock()),
        "sys.get_env": get_env,
        "string": to_string,
        "int": to_int,
        "double": to_double,
        "bool": to_bool,
    }
