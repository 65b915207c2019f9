"""Every query the code builds has an index in production Firestore.

The Firestore emulator does not enforce composite indexes, so a query that production refuses
("The query requires an index") passes every local test. Here the real domain code runs against a
recording store: each query it builds is recorded as a shape (collection group, scope, filters,
orders, aggregation) instead of being run, and each shape is checked against
`infra/firestore.indexes.json` with a model of how Firestore picks indexes:

- equality filters alone (==, in, array-contains[-any]) merge single-field indexes;
- a sort, or a filter plus a sort, needs composite indexes made of equality fields followed by
  exactly the query's order (its sorts, then inequality fields it does not sort by, then a
  sum()/avg() field); without inequality filters several such indexes merge (each covering some of
  the equality fields, all with the same order suffix), with one a single index must cover them all;
- a composite index serves one direction of a sort only; document-id order in the direction of the
  last sort is implicit;
- collection-group queries need collection-group-scope indexes (single-field ones only exist
  where a field override declares them).

A query call site that no scenario here drives fails `test_every_query_call_site_is_exercised`.
Offline and fast: no emulator, no Google client calls.
"""
from __future__ import annotations

import ast
import datetime as dt
import functools
import json
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from avp.auth.tokens import ROLES, Principal
from avp.domain import (access, audit, auth, briefs, glossaries, invitations, jobs, language_qc, production,
                        review_notes, share, stats, tenancy, throttle, tracks, users)
from avp.domain.aggregates import User
from avp.domain.audit import AuditMeta
from avp.errors import NotFound
from avp.store import Store

REPO = Path(__file__).resolve().parents[2]
INDEXES_FILE = REPO / "infra/firestore.indexes.json"
STORE_FILE = Path(sys.modules[Store.__module__].__file__).resolve()
STORE_PACKAGE = STORE_FILE.parent  # the adapters: the store, its repositories, the in-memory twin
THIS_FILE = Path(__file__).resolve()
SOURCES = (REPO / "shared/avp", REPO / "functions")
QUERY_METHODS = {"find", "find_one", "query", "paginate", "count", "where", "first", "page", "delete_where", "sum",
                 "average"}
REPOSITORY_FACTORIES = {"of", "group"}  # store.of(Kind).where(...) is a query of the store
MAX_COMPOSITE_INDEXES = 200  # Firestore's per-database limit

ASC, DESC, CONTAINS = "ASCENDING", "DESCENDING", "CONTAINS"
EQ_OPS = {"==", "in"}
ARRAY_OPS = {"array_contains", "array_contains_any"}
RANGE_OPS = {"<", "<=", ">", ">=", "!=", "not-in"}
DEFAULT_SINGLE_FIELD = frozenset({("COLLECTION", ASC), ("COLLECTION", DESC), ("COLLECTION", CONTAINS)})

# Expiries meant for clean-up: Firestore's TTL policy deletes the document once the time has passed.
TTL_FIELDS = {("rate_limits", "expires_at"), ("rate_windows", "expires_at"), ("password_resets", "expires_at"),
              ("refresh_tokens", "expires_at"), ("login_throttle", "expires_at")}


# -- the index file -------------------------------------------------------------------------------
@functools.cache
def _spec() -> dict[str, Any]:
    return json.loads(INDEXES_FILE.read_text())


def _mode(f: dict[str, Any]) -> str:
    return f.get("order") or f.get("arrayConfig")


@dataclass(frozen=True)
class Index:
    group: str
    scope: str
    fields: tuple[tuple[str, str], ...]  # (field path, ASCENDING | DESCENDING | CONTAINS)


@functools.cache
def _composites() -> tuple[Index, ...]:
    return tuple(Index(i["collectionGroup"], i.get("queryScope", "COLLECTION"),
                       tuple((f["fieldPath"], _mode(f)) for f in i["fields"])) for i in _spec()["indexes"])


@functools.cache
def _overrides() -> dict[tuple[str, str], dict[str, Any]]:
    return {(o["collectionGroup"], o["fieldPath"]): o for o in _spec().get("fieldOverrides", [])}


def _single_field(group: str, path: str) -> frozenset[tuple[str, str]]:
    """(scope, mode) of the single-field indexes Firestore keeps for `group.path`."""
    override = _overrides().get((group, path))
    if override is None:
        return DEFAULT_SINGLE_FIELD
    return frozenset((i.get("queryScope", "COLLECTION"), _mode(i)) for i in override.get("indexes", []))


# -- query shapes and the index model --------------------------------------------------------------
@dataclass(frozen=True)
class Shape:
    group: str                              # collection id (last segment of the collection path)
    scope: str                              # COLLECTION | COLLECTION_GROUP
    filters: tuple[tuple[str, str], ...]    # (field, operator)
    orders: tuple[tuple[str, str], ...] = ()  # (field, asc | desc), as passed to Store.query
    aggregate: str | None = None            # field of a sum() / avg()

    def __str__(self) -> str:
        agg = f" agg({self.aggregate})" if self.aggregate else ""
        return f"{self.group}[{self.scope}] where {list(self.filters)} order {list(self.orders)}{agg}"


def _requirement(shape: Shape) -> tuple[frozenset[tuple[str, str]], tuple[tuple[str, str], ...], bool]:
    """(equality fields with their index mode, the order an index must end with, has an inequality)."""
    eq = ({(f, ASC) for f, op in shape.filters if op in EQ_OPS}
          | {(f, CONTAINS) for f, op in shape.filters if op in ARRAY_OPS})
    ranges = sorted({f for f, op in shape.filters if op in RANGE_OPS})
    unknown = {op for _, op in shape.filters} - EQ_OPS - ARRAY_OPS - RANGE_OPS
    assert not unknown, f"operator(s) {unknown} not modelled: {shape}"
    orders = [(f, DESC if d == "desc" else ASC) for f, d in shape.orders]
    # Document-id order in the direction of the last sort comes free with every index.
    if orders and orders[-1][0] == "__name__" and (len(orders) == 1 and orders[-1][1] == ASC or
                                                    len(orders) > 1 and orders[-1][1] == orders[-2][1]):
        orders.pop()
    sorted_fields = {f for f, _ in orders}
    # A field both filtered by == / in and sorted by is served by the sort position of the index.
    eq -= {(f, ASC) for f in sorted_fields}
    last = orders[-1][1] if orders else ASC
    orders += [(f, last) for f in ranges if f not in sorted_fields]
    if shape.aggregate and shape.aggregate not in {f for f, _ in orders}:
        orders.append((shape.aggregate, ASC))
    return frozenset(eq), tuple(orders), bool(ranges)


def _prefix_key(fields: Iterable[tuple[str, str]]) -> frozenset[tuple[str, str]]:
    # An equality field may sit in an index in either direction.
    return frozenset((f, CONTAINS if m == CONTAINS else ASC) for f, m in fields)


def _candidates(shape: Shape) -> list[Index]:
    """Composite indexes that end with the shape's order and whose other fields are all among its
    equality fields: those Firestore may use (alone or merged) for it."""
    eq, order, _ = _requirement(shape)
    n = len(order)
    if not n:
        return [i for i in _composites()
                if i.group == shape.group and i.scope == shape.scope and _prefix_key(i.fields) == eq]
    return [i for i in _composites() if i.group == shape.group and i.scope == shape.scope and len(i.fields) >= n
            and i.fields[-n:] == order and _prefix_key(i.fields[:-n]) <= eq]


def unserved_reason(shape: Shape) -> str | None:
    """None when Firestore can run `shape` with the declared indexes, else why not."""
    eq, order, has_range = _requirement(shape)
    if not order:
        if all((shape.scope, mode) in _single_field(shape.group, f) for f, mode in eq):
            return None  # equality filters merge single-field indexes (or none at all)
        if _candidates(shape):
            return None
        return "equality filters without a single-field index of this scope, and no composite index of them"
    if not eq and len(order) == 1:
        f, mode = order[0]
        return None if (shape.scope, mode) in _single_field(shape.group, f) else f"no single-field index on {f} {mode}"
    n = len(order)
    prefixes = [_prefix_key(i.fields[:-n]) for i in _candidates(shape)]
    if eq in prefixes:
        return None
    if not has_range and prefixes and frozenset().union(*prefixes) == eq:
        return None  # index merging: every equality field is covered by an index with this order suffix
    want = [f"{f} {m}" for f, m in sorted(eq)] + [f"{f} {m}" for f, m in order]
    return f"needs a composite index like ({', '.join(want)})"


# -- the recording store ---------------------------------------------------------------------------
@dataclass
class Recorded:
    shape: Shape
    site: tuple[str, str]  # (file relative to the repo, function) that asked the store


class _Snap:
    def __init__(self, store: RecordingStore, path: str, data: dict[str, Any] | None):
        self.id = path.rsplit("/", 1)[-1]
        self._data = data
        self.exists = data is not None
        self.reference = _Ref(store, path)

    def to_dict(self) -> dict[str, Any] | None:
        return dict(self._data) if self._data is not None else None

    def get(self, name: str) -> Any:
        return (self._data or {}).get(name)


class _Ref:
    def __init__(self, store: RecordingStore, path: str):
        self._store, self.path = store, path
        self.id = path.rsplit("/", 1)[-1]

    def get(self, transaction=None) -> _Snap:
        return _Snap(self._store, self.path, self._store.docs.get(self.path))

    def set(self, data, merge: bool = False) -> None:
        self._store.writes.append((self.path, data))

    def create(self, data) -> None:
        self._store.writes.append((self.path, data))

    def update(self, data) -> None:
        self._store.writes.append((self.path, data))

    def delete(self) -> None:
        pass


class _Collection:
    def __init__(self, store: RecordingStore, path: str):
        self._store, self.path = store, path

    def document(self, doc_id: str | None = None) -> _Ref:
        return _Ref(self._store, f"{self.path}/{doc_id or 'new-id'}")


class _Txn:
    def __init__(self, store: RecordingStore):
        self._store = store

    def set(self, ref, data, merge: bool = False) -> None:
        self._store.writes.append((ref.path, data))

    create = update = set

    def delete(self, ref) -> None:
        pass

    def get(self, query) -> Iterator[_Snap]:
        return query.stream()


class _Batch(_Txn):
    def commit(self) -> None:
        pass


class _Query:
    def __init__(self, store: RecordingStore, shape: Shape, site: tuple[str, str]):
        self._store, self._shape, self._site = store, shape, site

    def select(self, fields) -> _Query:
        return self

    def limit(self, n) -> _Query:
        return self

    def start_after(self, values) -> _Query:
        return self

    def stream(self, transaction=None) -> Iterator[_Snap]:
        self._store.record(self._shape, self._site)
        for doc in self._store.results.get(self._shape.group, []):
            yield _Snap(self._store, f"{self._shape.group}/{doc['id']}", doc)

    def count(self) -> _Aggregate:
        return _Aggregate(self._store, Shape(self._shape.group, self._shape.scope, self._shape.filters), self._site)

    def sum(self, name: str) -> _Aggregate:
        shape = Shape(self._shape.group, self._shape.scope, self._shape.filters, (), name)
        return _Aggregate(self._store, shape, self._site)

    avg = sum


class _Aggregate:
    def __init__(self, store: RecordingStore, shape: Shape, site: tuple[str, str]):
        self._store, self._shape, self._site = store, shape, site

    def get(self):
        self._store.record(self._shape, self._site)
        return [[SimpleNamespace(value=0)]]


def _caller() -> tuple[str, str]:
    frame = sys._getframe(1)
    # Skip the store and this file, and comprehensions / lambdas (report the function around them).
    while frame and (Path(frame.f_code.co_filename).resolve().parent == STORE_PACKAGE
                     or Path(frame.f_code.co_filename).resolve() == THIS_FILE
                     or frame.f_code.co_name.startswith("<")):
        frame = frame.f_back
    assert frame is not None
    # A unit of work's body (`def work(uow)` inside `delete_client`) is reported as the function around it.
    outer = frame.f_code.co_qualname.split(".<locals>.")[0].rsplit(".", 1)[-1]
    return str(Path(frame.f_code.co_filename).resolve().relative_to(REPO)), outer


class RecordingStore(Store):
    """The real `Store` (its find / find_one / count / paginate build the queries) over a fake client:
    `query` records what would run instead of running it."""

    def __init__(self, docs: dict[str, dict[str, Any]] | None = None):
        super().__init__(SimpleNamespace(collection=lambda p: _Collection(self, p), document=lambda p: _Ref(self, p),
                                         batch=lambda: _Batch(self)))
        self.docs = docs or {}
        self.results: dict[str, list[dict[str, Any]]] = {}  # what a query of a collection id returns
        self.recorded: list[Recorded] = []
        self.writes: list[tuple[str, dict[str, Any]]] = []

    def record(self, shape: Shape, site: tuple[str, str]) -> None:
        self.recorded.append(Recorded(shape, site))

    def get(self, path: str, transaction=None) -> dict[str, Any] | None:
        data = self.docs.get(path, _default_doc(path))
        return None if data is None else {**data, "id": path.rsplit("/", 1)[-1]}

    def get_many(self, paths) -> list[dict[str, Any]]:
        return [d for d in (self.get(p) for p in paths) if d]

    def ref(self, path: str) -> _Ref:
        return _Ref(self, path)

    def collection(self, path: str) -> _Collection:
        return _Collection(self, path)

    def set(self, path: str, data: dict[str, Any], merge: bool = False) -> None:
        self.writes.append((path, data))

    def update(self, path: str, data: dict[str, Any]) -> None:
        self.writes.append((path, data))

    def increment(self, path: str, field: str, by: int = 1, also: dict[str, Any] | None = None) -> int:
        self.writes.append((path, {field: by, **(also or {})}))
        return by

    def delete(self, path: str) -> None:
        pass

    def transaction(self, fn, attempts: int = 4):
        return fn(_Txn(self))

    def query(self, collection, filters=(), order_by=(), limit=None, group=False) -> _Query:
        parts = collection.split("/")
        assert len(parts) % 2 == 1, f"{collection} is not a collection path"
        shape = Shape(parts[-1], "COLLECTION_GROUP" if group else "COLLECTION",
                      tuple((f, op) for f, op, _ in filters), tuple((f, d) for f, d in order_by))
        return _Query(self, shape, _caller())


NOW = dt.datetime(2025, 1, 1, tzinfo=dt.timezone.utc)
JOB = {"org_id": "o1", "client_id": "c1", "created_by": "u-client", "status": "complete", "deleted": False,
       "source_language": "en", "requested_outputs": {"languages": ["fr"]}, "languages": {"fr": {}},
       "access_keys": ["org:o1", "client:c1"]}


def _default_doc(path: str) -> dict[str, Any]:
    """Any document the scenarios read without seeding it: alive, of organization o1 / client c1."""
    return {"deleted": False, "org_id": "o1", "client_id": "c1", "name": "n", "name_key": "n", "status": "active",
            "role": "client", "access_keys": ["org:o1", "client:c1", "orgwide:o1"], "embedding_status": "ready",
            "user_id": "u-x", "created_at": NOW, "pm_ids": [], "member_ids": [], "email": "x@example.com"}


def _store() -> RecordingStore:
    docs = {f"users/u-{role}": {"role": role, "org_ids": ["o1"], "pm_client_ids": ["c1"], "team_client_ids": ["c1"],
                                "deleted": False, "email": f"{role}@example.com"} for role in ROLES}
    docs["jobs/j1"] = JOB
    return RecordingStore(docs)


def who(role: str) -> Principal:
    return Principal(f"u-{role}", role, ("o1",))


META = AuditMeta("u-admin", "admin", "req", "127.0.0.1")
ADMIN = who("admin")
OTHERS = [who(r) for r in ROLES if r != "admin"]


# -- scenarios: the real query-building code, each way the API can call it -------------------------
def _jobs_list(store: RecordingStore) -> None:
    filter_sets = [{}, {"statuses": ("queued",)}, {"statuses": ("queued", "failed")}, {"org_id": "o1"},
                   {"client_id": "c1"}, {"project_id": "p1"}, {"created_by": "me"},
                   {"statuses": ("failed",), "org_id": "o1", "client_id": "c1"},
                   {"statuses": ("queued", "failed"), "org_id": "o1", "client_id": "c1", "project_id": "p1",
                    "created_by": "u-x"}]
    for principal in [ADMIN, *OTHERS]:
        for sort in jobs.SORT_FIELDS:
            for direction in ("", "-"):
                for extra in [*filter_sets, {"q": "intro"}]:
                    jobs.list_jobs(store, principal, jobs.JobQuery(sort=direction + sort, **extra))


def _audit(store: RecordingStore) -> None:
    window = {"start": dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc), "end": dt.datetime(2026, 2, 1, tzinfo=dt.timezone.utc)}
    singles = ({"actor_id": "u-x"}, {"category": "security"}, {"action": "auth.login"}, {"target_type": "job"},
               {"target_id": "j-1"})
    for kwargs in ({}, window, *singles, *({**one, **window} for one in singles),
                   {"actor_id": "u-x", "category": "security"}, {"target_type": "job", "target_id": "j-1"}):
        audit.list_entries(store, page=1, size=20, **kwargs)
    audit.cleanup(store, META, 400)


def _users(store: RecordingStore) -> None:
    for kwargs in ({}, {"role": "linguist"}, {"email": "a@example.com"}, {"role": "client", "email": "a@example.com"},
                   {"is_active": True}, {"org_id": "o-1"}, {"q": "ann"}, {"q": "ann", "role": "linguist"},
                   {"sort": "-created_at"}, {"sort": "-created_at", "role": "linguist"}, {"sort": "-last_login_at"}):
        users.list_users(store, page=1, size=20, **kwargs)
    store.results["users"] = [{"id": "u-admin", "role": "admin", "email": "admin@example.com"}]
    assert users.ensure_first_admin(store, "admin@example.com", "pw") is None
    store.results["users"].append({"id": "u-admin-2", "role": "admin", "email": "admin2@example.com"})
    users.update_user(store, META, "u-admin", {"role": "client"})  # the last-active-admin guard's query


def _local_stack(store: RecordingStore) -> None:
    from avp.local import stack

    stack.fail_interrupted(store)
    jobs.refresh_access_keys(store)  # what `avp migrate` and `avp up` run first


def _refresh_tokens(store: RecordingStore) -> None:
    users.revoke_all_refresh_tokens(store, "u-x")
    auth.revoke_family(store, "family-1")


def _briefs(store: RecordingStore) -> None:
    for principal in (ADMIN, who("client"), who("production")):
        for sort in _brief_sorts():
            for kwargs in ({}, {"org_id": "o1"}, {"client_id": "c1"}, {"status": "draft"},
                           {"org_id": "o1", "client_id": "c1", "status": "submitted"}):
                briefs.list_briefs(store, principal, page=1, size=20, sort=sort, **kwargs)


def _glossaries(store: RecordingStore) -> None:
    for principal in (ADMIN, who("linguist"), who("client")):
        for status in ("active", "archived"):
            for kwargs in ({}, {"client_id": "c1"}, {"org_id": "o1"}, {"client_id": "c1", "org_id": "o1"}):
                glossaries.list_glossaries(store, principal, page=1, size=20, status=status, **kwargs)
    for kwargs in ({}, {"q": "hello"}, {"language": "fr"}, {"q": "hello", "language": "fr"}):
        glossaries.list_terms(store, ADMIN, "g1", page=1, size=20, version_id="v1", **kwargs)
    glossaries.get_glossary(store, ADMIN, "g1")
    embedder = SimpleNamespace(embed=lambda texts: [[0.0] for _ in texts], model="m", dimensions=1)
    glossaries.embed_version(store, embedder, META, "g1", "v1")


def _language_qc(store: RecordingStore) -> None:
    for cue in (None, 3):
        language_qc.list_comments(store, ADMIN, "j1", "fr", page=1, size=20, cue_index=cue)
    for role in ("linguist", "reviewer"):
        language_qc.queue(store, who(role), page=1, size=20)
    language_qc.rebuild_queue(store)  # avp migrate: the jobs in QC


def _review_notes(store: RecordingStore) -> None:
    for kwargs in ({}, {"language": "fr"}, {"asset": "captions"}, {"state": "open"},
                   {"language": "fr", "asset": "captions", "state": "open"}):
        review_notes.list_notes(store, ADMIN, "j1", page=1, size=20, **kwargs)


def _share(store: RecordingStore) -> None:
    share.list_active(store, ADMIN, "j1")
    with pytest.raises(NotFound):
        share.open_public(store, None, "no-such-token", "203.0.113.1")


def _invitations(store: RecordingStore) -> None:
    with pytest.raises(NotFound):
        invitations.preview(store, "no-such-token")
    settings = SimpleNamespace(invitation_ttl=3600, public_url="https://avp.example")
    mailer = SimpleNamespace(send=lambda *a, **k: None)
    invitations.create(store, mailer, settings, ADMIN, META,
                       invitations.InvitationRequest(email="new@example.com", org_id="o1", role="client", client_id="c1"))


def _production(store: RecordingStore) -> None:
    for principal in (ADMIN, who("production")):
        for kwargs in ({}, {"org_id": "o1"}, {"step": "transcribe"}, {"org_id": "o1", "step": "render"}):
            for since in (None, NOW):
                production.list_failures(store, principal, page=1, size=20, since=since, **kwargs)


def _stats(store: RecordingStore) -> None:
    stats.platform_stats(store)
    for org in (None, "o1"):
        stats.job_stats(store, org_id=org)
    stats.queue_stats(store, runner=None)


def _tenancy(store: RecordingStore) -> None:
    for principal in (ADMIN, who("production")):
        for q in (None, "acme"):
            tenancy.list_organizations(store, principal, page=1, size=20, q=q)
            for org in (None, "o1"):
                tenancy.list_clients(store, principal, page=1, size=20, org_id=org, q=q)
    for role in (None, "production"):
        tenancy.list_members(store, ADMIN, "o1", page=1, size=20, role=role)
    for archived in (False, True):
        tenancy.list_projects(store, ADMIN, "c1", page=1, size=20, archived=archived)
        for org in (None, "o1"):
            for principal in (ADMIN, who("production"), who("project_manager"), who("client"), who("linguist")):
                tenancy.list_all_projects(store, principal, page=1, size=20, org_id=org, archived=archived)
    tenancy.list_teams(store, ADMIN, "c1")
    access.require_client(store, who("production"), "c1")
    store.docs["organizations/o1/members/u-x"] = {"role": "client", "user_id": "u-x", "org_id": "o1", "deleted": False}
    tenancy.remove_member(store, META, ADMIN, "o1", "u-x")
    store.results |= {kind: [{**_default_doc(f"{kind}/{i}"), "id": i}] for kind, i in (("organizations", "o1"),
                                                                                        ("clients", "c1"))}
    tenancy.backfill_member_ids(store)  # avp migrate: every organization's members
    tenancy.backfill_viewer_ids(store)  # and every client's teams
    del store.results["organizations"], store.results["clients"]
    store.docs["clients/c9"] = {**_default_doc("clients/c9"), "pm_ids": ["u-project_manager"]}
    tenancy.remove_pm(store, META, "c9", "u-project_manager")  # the client's teams, for its viewers
    tenancy.my_memberships(store, who("linguist"))  # across organizations: a group query
    tenancy.delete_team(store, META, "c1", "t1")  # the client's other teams
    tenancy.delete_project(store, META, "c1", "p1", force=True)  # its jobs, to detach
    seated = User.from_doc("u-x", {"email": "x@example.com", "role": "client", "pm_client_ids": ["c1"],
                                   "team_client_ids": ["c1"]})
    store.atomically(lambda uow: tenancy.drop_unfitting_seats(uow, META, seated, "production"))  # a role change
    tenancy.delete_client(store, META, "c1", force=True)  # its jobs, teams and projects


def _tracks(store: RecordingStore) -> None:
    tracks.list_versions(store, "j1", "fr", "captions", page=1, size=20)
    with pytest.raises(NotFound):  # the current version is the newest one: none here
        tracks.version_meta(store, "j1", "fr", "captions")


def _pipeline(store: RecordingStore) -> None:
    store.docs["glossaries/g1"] = {"org_id": "o1", "active_version_id": "v1", "source_language": "en"}
    glossaries.translation_terms(store, "g1", "en", "fr")


def _many_memberships(store: RecordingStore) -> None:
    """Callers with more organizations or clients than one query can name: several merged queries,
    each of the one-query shape with fewer values, and the counts of the first page."""
    many = [f"o{i}" for i in range(35)]
    for role in ("production", "project_manager", "client", "linguist"):
        store.docs[f"users/u-many-{role}"] = {"role": role, "org_ids": many, "pm_client_ids": many,
                                              "team_client_ids": many, "deleted": False, "email": f"{role}@example.com"}
    people = [Principal(f"u-many-{role}", role, tuple(many)) for role in ("production", "project_manager", "client",
                                                                          "linguist")]
    for principal in people:
        for extra in ({}, {"statuses": ("queued", "failed")}, {"q": "intro"}):
            jobs.list_jobs(store, principal, jobs.JobQuery(**extra))
        briefs.list_briefs(store, principal, page=2, size=5, sort="-created_at")
        glossaries.list_glossaries(store, principal, page=1, size=20)
        production.list_failures(store, principal, page=1, size=20)
        for org in (None, "o1"):
            tenancy.list_clients(store, principal, page=1, size=20, org_id=org)
            tenancy.list_all_projects(store, principal, page=1, size=20, org_id=org)
    for principal in (who("project_manager"), who("client")):  # their clients, named by id
        for org in (None, "o1"):
            for q in (None, "acme"):
                tenancy.list_clients(store, principal, page=1, size=20, org_id=org, q=q)


SCENARIOS: dict[str, Callable[[RecordingStore], None]] = {
    "jobs list (each role, filter and sort)": _jobs_list,
    "audit logs (actor / security / action, newest first; clean-up)": _audit,
    "users list and first admin": _users,
    "refresh tokens (by user and revoked; by family)": _refresh_tokens,
    "local stack start (interrupted jobs, job keys)": _local_stack,
    "briefs list": _briefs,
    "glossaries list, terms, versions": _glossaries,
    "language-QC comments, work queue and its rebuild": _language_qc,
    "review notes list": _review_notes,
    "share tokens": _share,
    "invitations": _invitations,
    "production failures": _production,
    "admin stats (counts, sums, means, queue)": _stats,
    "organizations, members, clients, teams, projects": _tenancy,
    "track versions": _tracks,
    "pipeline steps (glossary terms for translation)": _pipeline,
    "callers of more than 30 organizations or clients": _many_memberships,
}

# Call sites the scenarios cannot reach offline, with the query they build, written out by hand.
STATIC: dict[tuple[str, str], list[Shape]] = {
    # Microsoft sign-in of someone without an account: their pending invitation.
    ("shared/avp/domain/auth.py", "microsoft_login"): [
        Shape("invitations", "COLLECTION", (("email", "=="), ("status", "=="))),
    ],
    # The console's listener for jobs made since the Jobs screen opened (console/src/live.js,
    # `watchNew`): the token's keys, then the time; an administrator's leaves out the keys.
    ("console/src/live.js", "watchNew"): [
        Shape("job_status", "COLLECTION", (("access_keys", "array_contains_any"), ("created_at", ">="))),
        Shape("job_status", "COLLECTION", (("created_at", ">="),)),
    ],
}


def _brief_sorts() -> tuple[str, ...]:
    """The sorts the briefs API accepts (functions/briefs/schemas.py, loaded under a unique name)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("_briefs_schemas_for_index_test", REPO / "functions/briefs/schemas.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.SORTS


@functools.cache
def _recorded() -> dict[str, tuple[Recorded, ...]]:
    out = {}
    for name, scenario in SCENARIOS.items():
        store = _store()
        scenario(store)
        out[name] = tuple(store.recorded)
    return out


# -- tests ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", list(SCENARIOS))
def test_every_query_of_the_scenario_has_an_index(name: str) -> None:
    recorded = _recorded()[name]
    assert recorded, f"{name}: the scenario built no query"
    missing = {}
    for r in recorded:
        reason = unserved_reason(r.shape)
        if reason:
            missing.setdefault(str(r.shape), f"{r.site[0]}:{r.site[1]}: {reason}")
    listing = "\n".join(f"{shape}\n    {why}" for shape, why in missing.items())
    assert not missing, f"queries production Firestore would refuse:\n{listing}"


@pytest.mark.parametrize("site", list(STATIC), ids=lambda s: f"{s[0]}:{s[1]}")
def test_hand_written_shapes_have_an_index(site: tuple[str, str]) -> None:
    for shape in STATIC[site]:
        assert unserved_reason(shape) is None, f"{site}: {shape}: {unserved_reason(shape)}"


def _query_call_sites() -> set[tuple[str, str]]:
    """(file, enclosing function) of every `<...>store.find/find_one/query/paginate/count(` call and
    every query of a repository (`store.of(Kind).where(`, `uow.of(Kind).page(`, ...)."""
    sites = set()
    for root in SOURCES:
        for path in sorted(root.rglob("*.py")):
            if path.resolve().parent == STORE_PACKAGE:
                continue
            tree = ast.parse(path.read_text(), str(path))
            nested = {id(inner) for outer in ast.walk(tree) if isinstance(outer, (ast.FunctionDef, ast.AsyncFunctionDef))
                      for inner in ast.walk(outer) if inner is not outer and isinstance(inner, (ast.FunctionDef, ast.AsyncFunctionDef))}
            for node in ast.walk(tree):
                if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) or id(node) in nested:
                    continue  # a nested function's queries count as the outer function's
                for call in ast.walk(node):
                    if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute)
                            and call.func.attr in QUERY_METHODS):
                        continue
                    receiver = call.func.value
                    if isinstance(receiver, ast.Call) and isinstance(receiver.func, ast.Attribute) \
                            and receiver.func.attr in REPOSITORY_FACTORIES:
                        sites.add((str(path.resolve().relative_to(REPO)), node.name))
                        continue
                    named = receiver.id if isinstance(receiver, ast.Name) else getattr(receiver, "attr", "")
                    if named == "jobs" and call.func.attr == "where":  # uow.jobs.where(...): the job repository
                        sites.add((str(path.resolve().relative_to(REPO)), node.name))
                    if named == "store" and call.func.attr not in ("where", "first", "page"):
                        sites.add((str(path.resolve().relative_to(REPO)), node.name))
    return sites


def test_every_query_call_site_is_exercised() -> None:
    """A new query somewhere in the code must be driven by a scenario (or written out in STATIC),
    so its shape is checked against the index file."""
    sites = _query_call_sites()
    assert len(sites) > 20, "the call-site scan found too little: has the store vocabulary changed?"
    reached = {r.site for recorded in _recorded().values() for r in recorded} | set(STATIC)
    assert not sites - reached, f"query call sites no scenario reaches: {sorted(sites - reached)}"


def test_queries_are_only_built_by_the_store() -> None:
    """Firestore queries built outside the store package (`.where(filter=`, `.order_by(`,
    `collection_group(`) would bypass the recording above. (A repository's `.where(` takes the
    domain's filter triples and is recorded through the store.)"""
    offenders = []
    for root in SOURCES:
        for path in sorted(root.rglob("*.py")):
            if path.resolve().parent == STORE_PACKAGE:
                continue
            for n, line in enumerate(path.read_text().splitlines(), 1):
                if any(token in line for token in (".where(filter=", "FieldFilter", ".order_by(", "collection_group(")):
                    offenders.append(f"{path.relative_to(REPO)}:{n}: {line.strip()}")
    assert not offenders, "\n".join(offenders)


def test_every_composite_index_serves_a_query() -> None:
    """No index the code does not use: each one costs a write per document change, and a database
    holds at most 200."""
    used = {i for recorded in _recorded().values() for r in recorded for i in _candidates(r.shape)}
    used |= {i for shapes in STATIC.values() for shape in shapes for i in _candidates(shape)}
    unused = [i for i in _composites() if i not in used]
    assert not unused, "indexes no query uses:\n" + "\n".join(map(str, unused))


def test_the_model_refuses_what_firestore_refuses() -> None:
    """The checker is not vacuous: shapes production would refuse are reported."""
    refused = [
        Shape("audit_logs", "COLLECTION", (("actor_id", "=="),), (("action", "asc"), ("__name__", "asc"))),  # no such sort
        Shape("jobs", "COLLECTION", (("deleted", "=="), ("size_bytes", ">")), (("title", "asc"),)),
        Shape("no_such_collection", "COLLECTION", (("a", "=="),), (("b", "asc"),)),
        Shape("no_such_collection", "COLLECTION_GROUP", (("a", "=="),)),  # no collection-group single-field index
        Shape("jobs", "COLLECTION", (("deleted", "=="), ("status", "=="), ("org_id", "=="), ("created_at", ">=")),
              (), "step_seconds.render"),
    ]
    for shape in refused:
        assert unserved_reason(shape) is not None, shape
    served = [
        Shape("anything", "COLLECTION", (("a", "=="), ("b", "=="), ("c", "array_contains"))),
        Shape("anything", "COLLECTION", (("a", "<"),), (), None),
        Shape("anything", "COLLECTION", (), (("b", "desc"), ("__name__", "desc"))),
    ]
    for shape in served:
        assert unserved_reason(shape) is None, shape


def test_index_file_is_well_formed_and_within_limits() -> None:
    spec = _spec()
    assert set(spec) <= {"indexes", "fieldOverrides"}
    indexes = spec["indexes"]
    assert len(indexes) <= MAX_COMPOSITE_INDEXES
    keys = [(i.group, i.scope, i.fields) for i in _composites()]
    assert len(keys) == len(set(keys)), "duplicate composite indexes"
    for raw, index in zip(indexes, _composites()):
        assert index.scope in ("COLLECTION", "COLLECTION_GROUP"), raw
        assert len(index.fields) >= 2, f"a composite index needs two fields at least: {raw}"
        assert len({f for f, _ in index.fields}) == len(index.fields), raw
        for f in raw["fields"]:
            assert len({"order", "arrayConfig"} & set(f)) == 1, raw
            assert _mode(f) in (ASC, DESC, CONTAINS), raw
        assert sum(m == CONTAINS for _, m in index.fields) <= 1, f"one array field per index: {raw}"
    overrides = spec.get("fieldOverrides", [])
    assert len(_overrides()) == len(overrides), "one override per field"
    for o in overrides:
        assert set(o) <= {"collectionGroup", "fieldPath", "ttl", "indexes"}, o
        for i in o.get("indexes", []):
            assert len({"order", "arrayConfig"} & set(i)) == 1 and i.get("queryScope") in ("COLLECTION", "COLLECTION_GROUP"), o


def test_ttl_policies_cover_the_expiring_collections() -> None:
    ttl = {(o["collectionGroup"], o["fieldPath"]) for o in _spec().get("fieldOverrides", []) if o.get("ttl")}
    assert ttl == TTL_FIELDS
    assert len({group for group, _ in ttl}) == len(ttl), "Firestore allows one TTL field per collection group"


def _ttl_writes() -> dict[str, Callable[[RecordingStore], None]]:
    def rate_limits(store):
        share._limit_rate(store, "share:203.0.113.1", 10, 60)

    def rate_windows(store):
        throttle.take(store, "tts-preview:u-client", 20, 60.0, "previews")

    def password_resets(store):
        users.send_password_reset(store, META, SimpleNamespace(send=lambda *a, **k: None), "https://avp.example", "u-client")

    def refresh_tokens(store):
        auth._new_refresh(store, SimpleNamespace(refresh_ttl=3600), "u-client", family="f1")

    return {"rate_limits": rate_limits, "rate_windows": rate_windows, "password_resets": password_resets,
            "refresh_tokens": refresh_tokens}


@pytest.mark.parametrize("group", ["rate_limits", "rate_windows", "password_resets", "refresh_tokens"])
def test_ttl_fields_are_written_as_timestamps(group: str) -> None:
    """TTL acts only on timestamp values: a number in the TTL field leaves the document for ever."""
    store = _store()
    _ttl_writes()[group](store)
    written = [data for path, data in store.writes if path.split("/")[0] == group and "expires_at" in data]
    assert written, f"nothing written to {group}"
    for data in written:
        assert isinstance(data["expires_at"], dt.datetime), f"{group}.expires_at = {data['expires_at']!r}"
