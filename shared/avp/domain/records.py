"""Records: the typed aggregates avp stores besides jobs, and the one repository interface the
domain reads and writes them through.

A record is a dataclass. Its fields are its stored document (`to_doc` / `from_doc`, here and
nowhere else); its `COLLECTION` says where it lives, a path template whose `{names}` are the ids
of its parents (`jobs/{job_id}/review_notes`). The domain asks `records.of(ReviewNote,
job_id=...)` for a `Repository` and gets typed records back; the adapters (`avp.store.records`
over Firestore, `avp.store.memory` in memory) implement the same interface, so no Firestore
type, reference, snapshot or exception reaches the domain.

Filters are plain `(field, op, value)` triples with Firestore's operators (`==`, `!=`, `<`,
`<=`, `>`, `>=`, `in`, `not-in`, `array_contains`, `array_contains_any`). The field `id`
names the record's id (`("id", "in", [...])`). Writes may hold `Increment(n)`: a server-side
counter step, so concurrent writers never lose a count; `Maximum`, `ArrayUnion` and `ArrayRemove`
are server-side too, so a write of them needs no read of the document.
"""
from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from typing import Any, ClassVar, Protocol, TypeVar

from avp.domain.paging import Page, comparable, decode_cursor, encode_cursor, query_fingerprint
from avp.errors import BadRequest

Filter = tuple[str, str, Any]
R = TypeVar("R", bound="Record")
T = TypeVar("T")


def now() -> dt.datetime:
    """The current time, in UTC (every stored time is aware and in UTC)."""
    return dt.datetime.now(dt.timezone.utc)


def new_id() -> str:
    """A fresh random record id."""
    return uuid.uuid4().hex


@dataclass(frozen=True)
class Increment:
    """Add `by` to a stored number (server-side: concurrent increments all count)."""

    by: int = 1


@dataclass(frozen=True)
class Maximum:
    """Store the larger of the stored number and `value` (server-side: never lowers it)."""

    value: float


@dataclass(frozen=True)
class ArrayUnion:
    """Add each of `values` to a stored list unless it holds it already (server-side: concurrent
    writers each add theirs, and no read of the document is needed)."""

    values: tuple[Any, ...]

    def __init__(self, values: Iterable[Any]) -> None:
        object.__setattr__(self, "values", tuple(values))


@dataclass(frozen=True)
class ArrayRemove:
    """Remove every occurrence of each of `values` from a stored list (server-side, like ArrayUnion)."""

    values: tuple[Any, ...]

    def __init__(self, values: Iterable[Any]) -> None:
        object.__setattr__(self, "values", tuple(values))


@dataclass(kw_only=True)
class Record:
    """Base of the stored aggregates: an id, the fields of its document, and what a document
    holds beyond them (`extra`: written by an older version; kept, so saving never loses it)."""

    COLLECTION: ClassVar[str]
    NOUN: ClassVar[str] = "record"   # in "... not found"
    # Why the repositories refuse to write this kind, when another writer owns it (jobs: `uow.jobs`).
    READ_ONLY: ClassVar[str | None] = None

    id: str = ""
    extra: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    def to_doc(self) -> dict[str, Any]:
        """The stored document (without the id, which is its name)."""
        doc = {f.name: getattr(self, f.name) for f in fields(self) if f.name not in ("id", "extra")}
        return {**self.extra, **doc}

    @classmethod
    def from_doc(cls: type[R], record_id: str, doc: Mapping[str, Any]) -> R:
        """The record of a stored document; unknown fields go to `extra`."""
        names = {f.name for f in fields(cls)} - {"id", "extra"}
        known = {k: v for k, v in doc.items() if k in names}
        return cls(id=record_id, **known, extra={k: v for k, v in doc.items() if k not in names and k != "id"})

    @classmethod
    def collection(cls, **parent: str) -> str:
        """The collection path for the parents' ids (`jobs/j1/review_notes`)."""
        return cls.COLLECTION.format(**parent)


class Repository(Protocol[R]):
    """The records of one collection (one parent's, or every parent's for a group query)."""

    def get(self, record_id: str) -> R:
        """The record (NotFound "<noun> not found" when there is none)."""
        ...

    def lookup(self, record_id: str) -> R | None:
        """The record, or None."""
        ...

    def get_many(self, record_ids: Sequence[str]) -> list[R]:
        """The records that exist among `record_ids`, in that order."""
        ...

    def where(self, *filters: Filter, order_by: Sequence[tuple[str, str]] = (), limit: int | None = None) -> list[R]:
        """Records matching every filter, in `order_by` order ("asc"/"desc")."""
        ...

    def first(self, *filters: Filter) -> R | None:
        """One record matching the filters, or None."""
        ...

    def count(self, *filters: Filter) -> int:
        """How many records match (an aggregation, not a read of each)."""
        ...

    def sum(self, field: str, *filters: Filter) -> float:
        """The sum of a number field over the matching records (an aggregation; 0 when none)."""
        ...

    def average(self, field: str, *filters: Filter) -> float | None:
        """The mean of a number field over the matching records that hold it (None when none do)."""
        ...

    def page(self, filters: Sequence[Filter], order_by: tuple[str, str], page: int, size: int,
             cursor: str | None = None) -> Page[R]:
        """One page ordered by `order_by` then id; following `next_cursor` reads at most size + 1 records."""
        ...

    def window(self, filters: Sequence[Filter], order_by: tuple[str, str], limit: int,
               after: list[Any] | None = None) -> list[tuple[list[Any], R]]:
        """Up to `limit` matching records in `order_by` order (then by path), each with its position
        (a JSON-able list), starting after the position `after`: the pieces several queries' pages
        are merged from (`page_any`). Reads at most `limit` records."""
        ...

    def add(self, record: R) -> R:
        """Create the record (a new id when it has none); Conflict if it exists. Returns it with its id."""
        ...

    def put(self, record: R) -> None:
        """Create or replace the record."""
        ...

    def put_many(self, records: Iterable[R]) -> int:
        """Create or replace many records (a new id for each without one) in batches outside any unit
        of work: each batch commits whole, the set does not. Returns how many."""
        ...

    def update(self, record_id: str, changes: Mapping[str, Any]) -> None:
        """Change some fields (dotted names reach into maps; values may be `Increment`); NotFound if missing."""
        ...

    def increment(self, record_id: str, counter: str, by: int = 1, also: Mapping[str, Any] | None = None) -> int:
        """Add `by` to the number `counter` server-side, creating the record (with the fields `also`)
        when there is none, and return the number after this write. One write, no transaction: a burst
        of concurrent callers neither aborts nor loses a count, and each sees its own. Outside a unit
        of work only."""
        ...

    def delete(self, record_id: str) -> None:
        """Delete the record (nothing happens when there is none)."""
        ...

    def delete_where(self, *filters: Filter) -> int:
        """Delete every matching record; returns how many (not atomic as a whole)."""
        ...


class Records(Protocol):
    """Where repositories come from, outside (`of`) or inside (`atomically`) a unit of work."""

    def of(self, kind: type[R], **parent: str) -> Repository[R]:
        """The repository of `kind` under `parent` ids (none for a top-level collection)."""
        ...

    def group(self, kind: type[R]) -> Repository[R]:
        """Records of `kind` under every parent (read only: a collection-group query)."""
        ...

    def atomically(self, fn: Callable[[Any], T]) -> T:
        """Run `fn(unit_of_work)` and commit it (avp.domain.ports.UnitOfWork: `uow.of(kind)` reads
        inside the transaction; all reads before any write); contention makes it run again."""
        ...


def matches(doc: Mapping[str, Any], record_id: str, filters: Sequence[Filter]) -> bool:
    """Whether a document meets every filter, as Firestore decides it (used by the in-memory store)."""
    for name, op, value in filters:
        have = record_id if name == "id" else _dotted(doc, name)
        if have is _ABSENT or not _meets(have, op, value):
            return False
    return True


_ABSENT = object()


def value_at(doc: Mapping[str, Any], name: str) -> Any:
    """The value at a dotted name of a document (`step_seconds.shots`), or None when absent."""
    value = _dotted(doc, name)
    return None if value is _ABSENT else value


def _dotted(doc: Mapping[str, Any], name: str) -> Any:
    value: Any = doc
    for part in name.split("."):
        if not isinstance(value, Mapping) or part not in value:
            return _ABSENT
        value = value[part]
    return value


def _meets(have: Any, op: str, value: Any) -> bool:
    try:
        if op == "==":
            return have == value
        if op == "!=":
            return have is not None and have != value
        if op == "in":
            return have in value
        if op == "not-in":
            return have is not None and have not in value
        if op == "array_contains":
            return isinstance(have, list) and value in have
        if op == "array_contains_any":
            return isinstance(have, list) and any(v in have for v in value)
        if have is None or value is None:
            return False
        return {"<": have < value, "<=": have <= value, ">": have > value, ">=": have >= value}[op]
    except TypeError:
        return False  # Firestore compares only values of one type


# -- one page over more values than one query may name ------------------------------------------
MAX_ANY = 30  # Firestore's limit on the values of one `in` / `array_contains_any` filter (its disjunctions)


def page_any(repo: Repository[R], filters: Sequence[Filter], field: str, op: str, scope: Sequence[Any],
             order_by: tuple[str, str], page: int, size: int, cursor: str | None, *query: Any,
             personal: Sequence[Any] = (), per_query: int = MAX_ANY) -> Page[R]:
    """One page of the records matching `filters` and `field` `op` (`in` or `array_contains_any`)
    any of `scope` + `personal`, however many values that is.

    `scope` values are ones a record holds at most one of (its organization, its client); `personal`
    ones it may hold beside them (the caller's own keys). When all fit in one query (`per_query`
    values: fewer when another filter multiplies the disjunctions) this is `repo.page`: size + 1
    reads a page. Beyond, one query per `per_query` values (the personal ones where there is room),
    each read from the cursor's position, merged in order without duplicates: (queries) x (size + 1)
    reads a page at any depth. The total is counted once, on the first page (the queries' counts,
    less the records matched by more than one, which only personal values can do), and carried
    in the cursor. No value past a limit goes unasked."""
    values = [*scope, *personal]
    if per_query < 1:
        raise BadRequest("too many values in one filter")
    if not values:
        return Page([], 0, page, size)
    if len(values) <= per_query:
        return repo.page([*filters, (field, op, sorted(values))], order_by, page, size, cursor)
    chunks = [sorted(scope)[i:i + per_query] for i in range(0, len(scope), per_query)] or [[]]
    mine = sorted(personal)
    if len(chunks[-1]) + len(mine) <= per_query:
        chunks[-1] = chunks[-1] + mine
    else:
        chunks += [mine[i:i + per_query] for i in range(0, len(mine), per_query)]
    chunks = [c for c in chunks if c]
    queries = [[*filters, (field, op, chunk)] for chunk in chunks]
    fingerprint = query_fingerprint("any", *query)
    descending = order_by[1] == "desc"
    after: list[Any] | None = None
    total: int | None = None
    if cursor:
        held = decode_cursor(cursor)
        if len(held) != 4 or held[2] != fingerprint or not isinstance(held[0], list) \
                or not isinstance(held[1], int) or held[1] < 2 or not isinstance(held[3], int):
            raise BadRequest("invalid cursor: not a cursor of this list with these filters")
        after, page, total = held[0], held[1], held[3]
    skip = 0 if after is not None else (page - 1) * size
    merged: dict[str, tuple[list[Any], R]] = {}
    for filters_ in queries:
        for position, record in repo.window(filters_, order_by, skip + size + 1, after):
            merged.setdefault(str(position[-1]), (position, record))
    ordered = sorted(merged.values(), key=lambda pr: comparable(pr[0]), reverse=descending)
    chunk = ordered[skip:skip + size]
    if total is None:
        total = sum(repo.count(*q) for q in queries) - _counted_twice(repo, filters, field, op, mine, chunks)
    more = len(ordered) > skip + size
    next_cursor = encode_cursor([chunk[-1][0], page + 1, fingerprint, total]) if more and chunk else None
    return Page([record for _, record in chunk], total, page, size, next_cursor)


def _counted_twice(repo: Repository[R], filters: Sequence[Filter], field: str, op: str, personal: Sequence[Any],
                   chunks: list[list[Any]]) -> int:
    """How many extra times the queries' counts count a record: only one matching a personal value
    can be in more than one query, so those are read and each counted once."""
    found: dict[str, R] = {}
    for i in range(0, len(personal), MAX_ANY):
        found.update((r.id, r) for r in repo.where(*filters, (field, op, list(personal[i:i + MAX_ANY]))))

    def hits(record: R, chunk: list[Any]) -> bool:
        have = value_at(record.to_doc(), field)
        return bool(set(chunk) & set(have or ())) if op == "array_contains_any" else have in chunk

    return sum(max(0, sum(hits(r, c) for c in chunks) - 1) for r in found.values())
