"""Firestore access: the one place that talks to the Firestore client.

Domain code gets a `Store` and uses its small vocabulary (get, create, update, query,
transaction, paginate); it never imports google.cloud.firestore itself.
"""
from __future__ import annotations

import random
import re
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any, TypeVar

from google.api_core.exceptions import Aborted
from google.api_core.exceptions import NotFound as MissingDocument
from google.cloud import firestore
from google.cloud.firestore_v1.base_query import FieldFilter

from avp.domain.paging import Page, comparable, decode_cursor, encode_cursor, query_fingerprint
from avp.domain.records import Record
from avp.errors import BadRequest, NotFound, ServiceUnavailable


T = TypeVar("T")
R = TypeVar("R", bound=Record)
BATCH_LIMIT = 500  # Firestore's limit on writes in one batch
Filter = tuple[str, str, Any]

DELETE_FIELD = firestore.DELETE_FIELD
SERVER_TIMESTAMP = firestore.SERVER_TIMESTAMP
Increment = firestore.Increment
ArrayUnion = firestore.ArrayUnion


_RESERVED_ID = re.compile(r"^__.*__$")


def _holdable(path: str, documents: bool) -> str:
    """`path` if Firestore can hold it (a document path when `documents`, else a collection path);
    404 otherwise. Ids come from URLs and bodies: `.`, `..`, `__x__`, an id with a `/` (which shifts
    every later segment) or one over 1,500 bytes are no document anyone can have, and the client
    library would raise on them (a 500) instead of answering "not found"."""
    parts = path.split("/")
    if (len(parts) % 2 == 0) != documents or any(p in ("", ".", "..") or _RESERVED_ID.match(p) or len(p) > 1500
                                                  for p in parts):
        raise NotFound("not found")
    return path


def is_holdable(path: str) -> bool:
    """Whether `path` is a document path Firestore can hold."""
    try:
        _holdable(path, True)
    except NotFound:
        return False
    return True


def _to_dict(snapshot) -> dict[str, Any] | None:
    if snapshot is None or not snapshot.exists:
        return None
    data = snapshot.to_dict() or {}
    data["id"] = snapshot.id
    return data


def _named(value: Any) -> Any:
    # Document references (in `__name__` filters) have no repr of their own: name them by path.
    if isinstance(value, (list, tuple)):
        return type(value)(_named(v) for v in value)
    return value.path if isinstance(value, firestore.DocumentReference) else value


def _in_group(path: str, collection: str) -> bool:
    # A group cursor's anchor is a document path: refuse one outside the group rather than 500.
    return is_holdable(path) and path.split("/")[-2] == collection


class Store:
    """A thin, typed facade over one Firestore database."""

    def __init__(self, client: firestore.Client):
        self.client = client
        self.reads = 0  # documents read through `paginate`, for the read-budget tests
        # Against the emulator, this process runs its transactions one at a time: the emulator holds a
        # transaction's read locks until its lock timeout when two of them collide (tens of seconds
        # for every request on a hot document), while one at a time each takes milliseconds.
        self._one_at_a_time = threading.RLock() if getattr(client, "_emulator_host", None) else None

    # -- documents ---------------------------------------------------------
    def ref(self, path: str):
        return self.client.document(_holdable(path, True))

    def collection(self, path: str):
        return self.client.collection(_holdable(path, False))

    def get(self, path: str, transaction=None) -> dict[str, Any] | None:
        return _to_dict(self.client.document(_holdable(path, True)).get(transaction=transaction))

    def get_many(self, paths: Iterable[str]) -> list[dict[str, Any]]:
        refs = [self.client.document(p) for p in paths if is_holdable(p)]  # no such document: not in the result
        if not refs:
            return []
        return [d for d in (_to_dict(s) for s in self.client.get_all(refs)) if d is not None]

    def set(self, path: str, data: dict[str, Any], merge: bool = False) -> None:
        self.client.document(_holdable(path, True)).set(data, merge=merge)

    def update(self, path: str, data: dict[str, Any]) -> None:
        self.client.document(_holdable(path, True)).update(data)

    def increment(self, path: str, field: str, by: int = 1, also: dict[str, Any] | None = None) -> int:
        """Add `by` to a counter server-side (creating the document) and return the value after this
        write. One write, no transaction: concurrent callers never abort and each sees its own count."""
        result = self.client.document(_holdable(path, True)).set({field: Increment(by), **(also or {})}, merge=True)
        return int(result.transform_results[0].integer_value)

    def delete(self, path: str) -> None:
        self.client.document(_holdable(path, True)).delete()

    # -- several documents at once ------------------------------------------
    def set_many(self, writes: Iterable[tuple[str, dict[str, Any]]], merge: bool = False) -> int:
        """Write many documents in batches of at most BATCH_LIMIT (each batch atomic); returns how many."""
        batch, pending, total = self.client.batch(), 0, 0
        for path, data in writes:
            batch.set(self.client.document(path), data, merge=merge)
            pending += 1
            if pending == BATCH_LIMIT:
                batch.commit()
                total += pending
                batch, pending = self.client.batch(), 0
        if pending:
            batch.commit()
        return total + pending

    def update_together(self, updates: dict[str, dict[str, Any]], attempts: int = 3) -> None:
        """Update several existing documents atomically, without reading them (NotFound if one is missing).

        A write that waits on a transaction's locks over the same documents until the lock timeout
        (Aborted: a step's unit of work beside another step's progress report) is tried again, after
        a short pause, up to `attempts` times; then ServiceUnavailable. Call it with writes that may
        apply twice (fields set, maxima), as it may."""
        for attempt in range(attempts):
            batch = self.client.batch()
            for path, data in updates.items():
                batch.update(self.client.document(path), data)
            try:
                batch.commit()
                return
            except MissingDocument as exc:
                raise NotFound("document not found") from exc
            except Aborted as exc:
                if attempt == attempts - 1:
                    raise ServiceUnavailable("too many concurrent changes to the same data; try again shortly") from exc
                time.sleep(0.1 * 2 ** attempt)

    def delete_where(self, collection: str, filters: Sequence[Filter], chunk: int = 400) -> int:
        """Delete every document of `collection` matching `filters`, a batch at a time; returns how many."""
        deleted = 0
        while True:
            snaps = list(self.query(collection, filters, limit=chunk).stream())
            if not snaps:
                return deleted
            batch = self.client.batch()
            for snap in snaps:
                batch.delete(snap.reference)
            batch.commit()
            deleted += len(snaps)

    # -- queries -----------------------------------------------------------
    def query(
        self,
        collection: str,
        filters: Sequence[Filter] = (),
        order_by: Sequence[tuple[str, str]] = (),
        limit: int | None = None,
        group: bool = False,
    ):
        q = self.client.collection_group(collection) if group else self.client.collection(_holdable(collection, False))
        for field, op, value in filters:
            q = q.where(filter=FieldFilter(field, op, value))
        for field, direction in order_by:
            q = q.order_by(field, direction=firestore.Query.DESCENDING if direction == "desc" else firestore.Query.ASCENDING)
        if limit is not None:
            q = q.limit(limit)
        return q

    def find(self, collection: str, filters: Sequence[Filter] = (), order_by: Sequence[tuple[str, str]] = (), limit: int | None = None, group: bool = False) -> list[dict[str, Any]]:
        return [d for d in (_to_dict(s) for s in self.query(collection, filters, order_by, limit, group).stream()) if d]

    def find_one(self, collection: str, filters: Sequence[Filter]) -> dict[str, Any] | None:
        found = self.find(collection, filters, limit=1)
        return found[0] if found else None

    def count(self, collection: str, filters: Sequence[Filter] = (), group: bool = False) -> int:
        result = self.query(collection, filters, group=group).count().get()
        return int(result[0][0].value)

    def paginate(
        self,
        collection: str,
        filters: Sequence[Filter],
        order_by: tuple[str, str],
        page: int,
        size: int,
        cursor: str | None = None,
        group: bool = False,
    ) -> Page:
        """One page of a query, ordered by `order_by` then document id.

        Following `next_cursor` reads at most size + 1 documents at any depth: the cursor holds
        the last item's sort key and id (so inserts before it do not shift the next page) and the
        page number, and nothing is remembered between requests, so any instance can serve any
        page. A jump to page N without a cursor reads the skipped documents' sort keys once.
        (`total` is a count aggregation: one read per 1000 index entries.) With `group` the query
        spans every collection of that name and cursors hold the document's path instead of its id.
        `order_by` may be `("__name__", direction)`: document-id order alone, which needs no composite
        index with equality filters (ids that begin with the sort key make a sort for free).
        """
        field, direction = order_by
        by_id = field == "__name__"
        orders = [(field, direction)] if by_id else [(field, direction), ("__name__", direction)]
        base = self.query(collection, filters, orders, group=group)
        fingerprint = query_fingerprint(collection, sorted(map(repr, _named(list(filters)))), orders, *(["group"] if group else []))
        total = self.count(collection, filters, group)
        at = (lambda snap: snap.reference.path) if group else (lambda snap: snap.id)
        key = (lambda snap: None) if by_id else (lambda snap: snap.get(field))
        anchor: list[Any] | None = None
        if cursor:
            values = decode_cursor(cursor)
            if len(values) != 4 or values[3] != fingerprint or not isinstance(values[1], str) \
                    or not isinstance(values[2], int) or values[2] < 2 \
                    or (group and not _in_group(values[1], collection)):
                raise BadRequest("invalid cursor: not a cursor of this list with these filters")
            anchor, page = values[:2], values[2]
        elif page > 1:
            skipped = list(base.select([field]).limit((page - 1) * size).stream())
            self.reads += len(skipped)
            if len(skipped) < (page - 1) * size:
                return Page([], total, page, size)
            anchor = [key(skipped[-1]), at(skipped[-1])]
        q = base
        if anchor is not None:
            where = self.client.document(anchor[1]) if group else self.client.collection(collection).document(anchor[1])
            q = q.start_after([where] if by_id else [anchor[0], where])
        docs = list(q.limit(size + 1).stream())
        self.reads += len(docs)
        more, docs = len(docs) > size, docs[:size]
        items = [d for d in (_to_dict(s) for s in docs) if d]
        next_cursor = encode_cursor([key(docs[-1]), at(docs[-1]), page + 1, fingerprint]) if more else None
        return Page(items, total, page, size, next_cursor)

    # -- records (avp.domain.records.Records) --------------------------------
    def of(self, kind: type[R], **parent: str):
        """The Firestore repository of `kind` under `parent` ids."""
        from avp.store.records import FirestoreRepository

        return FirestoreRepository(self, kind, kind.collection(**parent))

    def group(self, kind: type[R]):
        """Records of `kind` under every parent (a collection-group query)."""
        from avp.store.records import FirestoreRepository

        return FirestoreRepository(self, kind, kind.COLLECTION.rsplit("/", 1)[-1], group=True)

    # -- units of work -----------------------------------------------------
    def atomically(self, fn: Callable[[Any], T]) -> T:
        """Run `fn(unit_of_work)` (repositories over one transaction) and commit it (avp.domain.ports.Units)."""
        from avp.store.units import FirestoreUnits

        return FirestoreUnits(self).atomically(fn)

    def read_job(self, job_id: str):
        """The job aggregate as stored now, outside any unit of work (avp.domain.ports.Units)."""
        from avp.store.units import FirestoreUnits

        return FirestoreUnits(self).read_job(job_id)

    def report_progress(self, job_id: str, progress) -> None:
        """A running step's progress on the job and its mirror, without a transaction (avp.domain.ports.Units)."""
        from avp.store.units import FirestoreUnits

        FirestoreUnits(self).report_progress(job_id, progress)

    # -- transactions ------------------------------------------------------
    def transaction(self, fn: Callable[[Any], T], attempts: int = 6) -> T:
        """Run `fn(transaction)` in a Firestore transaction, retrying contention after a random,
        growing pause. (The client's own retries are immediate, so two writers that collided
        collide again; the emulator even deadlocks them until its lock timeout.)"""

        @firestore.transactional
        def run(transaction):
            return fn(transaction)

        for attempt in range(attempts):
            try:
                if self._one_at_a_time is None:
                    return run(self.client.transaction(max_attempts=1))
                with self._one_at_a_time:
                    return run(self.client.transaction(max_attempts=1))
            except (Aborted, ValueError) as exc:
                # The client reports exhausted attempts as a ValueError caused by the Aborted commit.
                if not isinstance(exc, Aborted) and not isinstance(exc.__cause__, Aborted):
                    raise
                if attempt == attempts - 1:
                    # Still contended after every retry: a busy resource, not a server fault (503, not 500).
                    raise ServiceUnavailable("too many concurrent changes to the same data; try again shortly",
                                             headers={"Retry-After": "1"}) from exc
                time.sleep(random.uniform(0.05, 0.3) * 2**attempt)
        raise AssertionError("unreachable")
