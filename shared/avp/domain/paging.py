"""Pages of a list and their cursors, the same for every list route and every store.

A cursor carries the last item's sort key, the next page's number and a fingerprint of the query,
so any instance can serve the next page (nothing is remembered between requests), inserts before
the cursor do not shift it, and a cursor cannot be replayed against another list."""
from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from avp.errors import BadRequest

T = TypeVar("T")
U = TypeVar("U")


@dataclass
class Page(Generic[T]):
    items: list[T]
    total: int
    page: int
    size: int
    next_cursor: str | None = None

    def map(self, fn: Callable[[T], U]) -> Page[U]:
        """The same page with each item passed through `fn` (a record to its API view)."""
        return Page([fn(i) for i in self.items], self.total, self.page, self.size, self.next_cursor)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"items": self.items, "total": self.total, "page": self.page, "size": self.size}
        if self.next_cursor:
            out["next_cursor"] = self.next_cursor
        return out


def encode_cursor(values: list[Any]) -> str:
    """An opaque cursor for `values` (JSON-able values and datetimes)."""

    def enc(v: Any) -> Any:
        if isinstance(v, dt.datetime):
            return {"$t": v.isoformat()}
        return [enc(x) for x in v] if isinstance(v, list) else v

    return base64.urlsafe_b64encode(json.dumps([enc(v) for v in values]).encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> list[Any]:
    """The values of a cursor made by `encode_cursor` (400 for anything else)."""
    try:
        raw = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (ValueError, TypeError) as exc:
        raise BadRequest("invalid cursor") from exc
    if not isinstance(raw, list):
        raise BadRequest("invalid cursor")

    def dec(v: Any) -> Any:
        if isinstance(v, dict) and "$t" in v:
            return dt.datetime.fromisoformat(v["$t"])
        return [dec(x) for x in v] if isinstance(v, list) else v

    try:
        return dec(raw)
    except (TypeError, ValueError) as exc:
        raise BadRequest("invalid cursor") from exc


def query_fingerprint(*parts: Any) -> str:
    """A short digest naming one query, carried in its cursors so a cursor cannot be replayed
    against another list (or other filters) and silently page through the wrong thing."""
    return hashlib.sha256(repr(parts).encode()).hexdigest()[:12]


def comparable(values: list[Any]) -> list[Any]:
    """Sort-key values made comparable across JSON round trips: datetimes as ISO text, None first."""
    return [(v is not None, v.isoformat() if isinstance(v, dt.datetime) else v) for v in values]


def page_of(items: list[T], key: Callable[[T], list[Any]], page: int, size: int, cursor: str | None,
            *query: Any, descending: bool = False) -> Page[T]:
    """One page of a list already filtered and sorted by `key` (a unique, JSON-able sort key;
    largest first when `descending`): the next page starts after the last item's key, so inserts
    before it do not shift it. `query` names the list and its filters."""
    fingerprint = query_fingerprint(*query)
    start = (page - 1) * size
    if cursor:
        values = decode_cursor(cursor)
        if len(values) != 3 or values[2] != fingerprint or not isinstance(values[0], list) \
                or not isinstance(values[1], int) or values[1] < 2:
            raise BadRequest("invalid cursor: not a cursor of this list with these filters")
        after, page = values[0], values[1]
        anchor = comparable(after)
        beyond = (lambda k: k < anchor) if descending else (lambda k: k > anchor)
        start = next((i for i, item in enumerate(items) if beyond(comparable(key(item)))), len(items))
    chunk = items[start:start + size]
    more = start + size < len(items)
    next_cursor = encode_cursor([key(chunk[-1]), page + 1, fingerprint]) if more and chunk else None
    return Page(list(chunk), len(items), page, size, next_cursor)
