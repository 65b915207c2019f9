"""The Firestore repository of `avp.domain.records`: typed records in, typed records out.

Outside a unit of work each call is its own read or write; inside one (`transaction` given) reads
go through the transaction and writes wait for its commit. The domain's filter field `id` becomes
`__name__`, `Increment`, `Maximum`, `ArrayUnion` and `ArrayRemove` become Firestore's transforms, and Google's exceptions stop
here (a create that finds the record: Conflict; an update of a missing one: NotFound)."""
from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Generic, TypeVar

from google.api_core import exceptions as google_errors
from google.cloud import firestore

from avp.domain.paging import Page
from avp.domain.records import ArrayRemove, ArrayUnion, Filter, Increment, Maximum, Record, new_id
from avp.errors import Conflict, NotFound
from avp.store import is_holdable
from avp.store.documents import RepositoryCommon

R = TypeVar("R", bound=Record)


def stored_value(value: Any) -> Any:
    """A domain value as Firestore writes it (counter steps and list changes become transforms)."""
    if isinstance(value, Increment):
        return firestore.Increment(value.by)
    if isinstance(value, Maximum):
        return firestore.Maximum(value.value)
    if isinstance(value, ArrayUnion):
        return firestore.ArrayUnion(list(value.values))
    if isinstance(value, ArrayRemove):
        return firestore.ArrayRemove(list(value.values))
    return value


def _order(order: tuple[str, str]) -> tuple[str, str]:
    # The domain's `id` is Firestore's document name.
    return ("__name__", order[1]) if order[0] == "id" else order


class FirestoreRepository(RepositoryCommon, Generic[R]):
    """Records of `kind` in the collection `collection` (or, with `group`, every collection of that name)."""

    def __init__(self, store, kind: type[R], collection: str, *, transaction=None, group: bool = False) -> None:
        self._store, self._kind, self._collection = store, kind, collection
        self._txn, self._group = transaction, group

    def _record(self, doc: dict[str, Any]) -> R:
        return self._kind.from_doc(doc.pop("id"), doc)

    def _filters(self, filters: Sequence[Filter]) -> list[Filter] | None:
        """Firestore's filters for the domain's, or None when they can match nothing (an `in`
        list of ids no document can have: Firestore would refuse the ids, and an empty list)."""
        out = []
        for name, op, value in filters:
            if name != "id":
                out.append((name, op, value))
                continue
            if self._group:
                raise TypeError("a group query cannot filter by id")
            if op in ("in", "not-in"):
                refs = [self._ref(v) for v in value if is_holdable(self._path(v))]
                if op == "in" and not refs:
                    return None
                out.append(("__name__", op, refs))
            elif is_holdable(self._path(value)):
                out.append(("__name__", op, self._ref(value)))
            elif op == "==":
                return None
        return out

    # -- reads ---------------------------------------------------------------
    def lookup(self, record_id: str) -> R | None:
        try:
            doc = self._store.get(self._path(record_id), self._txn)
        except NotFound:
            return None  # an id no document can have (".", "__x__")
        return None if doc is None else self._record(doc)

    def get_many(self, record_ids: Sequence[str]) -> list[R]:
        if self._txn is not None:
            return [r for r in (self.lookup(i) for i in record_ids) if r is not None]
        docs = {d["id"]: d for d in self._store.get_many(self._path(i) for i in record_ids)}
        return [self._record(docs[i]) for i in record_ids if i in docs]

    def where(self, *filters: Filter, order_by: Sequence[tuple[str, str]] = (), limit: int | None = None) -> list[R]:
        native = self._filters(filters)
        if native is None:
            return []
        query = self._store.query(self._collection, native, [_order(o) for o in order_by], limit, self._group)
        snaps = query.stream(transaction=self._txn) if self._txn is not None else query.stream()
        out = []
        for snap in snaps:
            if snap.exists:
                out.append(self._kind.from_doc(snap.id, snap.to_dict() or {}))
        return out

    def count(self, *filters: Filter) -> int:
        native = self._filters(filters)
        return 0 if native is None else self._store.count(self._collection, native, self._group)

    def _aggregate(self, op: str, field: str, filters: Sequence[Filter]) -> float | None:
        native = self._filters(filters)
        if native is None:
            return None
        query = self._store.query(self._collection, native, group=self._group)
        value = (query.sum(field) if op == "sum" else query.avg(field)).get()[0][0].value
        return None if value is None else float(value)

    def sum(self, field: str, *filters: Filter) -> float:
        return self._aggregate("sum", field, filters) or 0.0

    def average(self, field: str, *filters: Filter) -> float | None:
        return self._aggregate("avg", field, filters)

    def page(self, filters: Sequence[Filter], order_by: tuple[str, str], page: int, size: int,
             cursor: str | None = None) -> Page[R]:
        native = self._filters(filters)
        if native is None:
            return Page([], 0, page, size)
        result = self._store.paginate(self._collection, native, _order(order_by), page, size, cursor, group=self._group)
        return result.map(self._record)

    def window(self, filters: Sequence[Filter], order_by: tuple[str, str], limit: int,
               after: list[Any] | None = None) -> list[tuple[list[Any], R]]:
        native = self._filters(filters)
        if native is None:
            return []
        field, direction = _order(order_by)
        by_id = field == "__name__"
        orders = [(field, direction)] if by_id else [(field, direction), ("__name__", direction)]
        query = self._store.query(self._collection, native, orders, group=self._group)
        if after is not None:
            where = self._store.client.document(after[1])
            query = query.start_after([where] if by_id else [after[0], where])
        snaps = [s for s in query.limit(limit).stream() if s.exists]
        self._store.reads += len(snaps)
        return [([None if by_id else s.get(field), s.reference.path], self._kind.from_doc(s.id, s.to_dict() or {}))
                for s in snaps]

    # -- writes --------------------------------------------------------------
    def _ref(self, record_id: str):
        return self._store.ref(self._path(record_id))

    def add(self, record: R) -> R:
        self._writable()
        if not record.id:
            record.id = new_id()
        ref = self._ref(record.id)
        doc = {k: stored_value(v) for k, v in record.to_doc().items()}
        if self._txn is not None:
            self._txn.create(ref, doc)   # a lost race surfaces as Conflict from the unit of work
            return record
        try:
            ref.create(doc)
        except google_errors.Conflict as exc:
            raise Conflict(f"{self._kind.NOUN} exists already") from exc
        return record

    def put(self, record: R) -> None:
        self._writable()
        doc = {k: stored_value(v) for k, v in record.to_doc().items()}
        if self._txn is not None:
            self._txn.set(self._ref(record.id), doc)
        else:
            self._ref(record.id).set(doc)

    def put_many(self, records: Iterable[R]) -> int:
        self._writable()
        if self._txn is not None:
            raise TypeError("put_many runs outside a unit of work (it commits in batches)")

        def writes():
            for record in records:
                if not record.id:
                    record.id = new_id()
                yield self._path(record.id), {k: stored_value(v) for k, v in record.to_doc().items()}

        return self._store.set_many(writes())

    def update(self, record_id: str, changes: Mapping[str, Any]) -> None:
        self._writable()
        fields = {k: stored_value(v) for k, v in changes.items()}
        ref = self._ref(record_id)
        if self._txn is not None:
            self._txn.update(ref, fields)
            return
        try:
            ref.update(fields)
        except google_errors.NotFound as exc:
            raise NotFound(f"{self._kind.NOUN} not found") from exc

    def increment(self, record_id: str, counter: str, by: int = 1, also: Mapping[str, Any] | None = None) -> int:
        self._writable()
        if self._txn is not None:
            raise TypeError("increment runs outside a unit of work (its result is read from the write)")
        return self._store.increment(self._path(record_id), counter, by,
                                     {k: stored_value(v) for k, v in (also or {}).items()})

    def delete(self, record_id: str) -> None:
        self._writable()
        if self._txn is not None:
            self._txn.delete(self._ref(record_id))
        else:
            self._ref(record_id).delete()

    def delete_where(self, *filters: Filter) -> int:
        self._writable()
        if self._txn is not None:
            raise TypeError("delete_where runs outside a unit of work (it commits in batches)")
        native = self._filters(filters)
        return 0 if native is None else self._store.delete_where(self._collection, native)
