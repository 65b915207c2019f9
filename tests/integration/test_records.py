"""The record repositories (avp.domain.records), one set of cases run against both implementations:
Firestore (the emulator) and memory (what the domain's fast tests use). What the domain relies on,
both do: typed records in and out, filters, orders, pages and cursors, counter steps, units of work
that commit together or not at all."""
from __future__ import annotations

import datetime as dt

import pytest

from avp.domain.aggregates import RateCount, ReviewNote, ShareLink
from avp.domain.records import ArrayRemove, ArrayUnion, Increment
from avp.errors import BadRequest, Conflict, NotFound
from avp.store.memory import MemoryUnits

T0 = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)


@pytest.fixture(params=["firestore", "memory"])
def db(request, container):
    return container.store if request.param == "firestore" else MemoryUnits()


def note(job_id: str, n: int, **fields) -> ReviewNote:
    return ReviewNote(id=f"n{n}", job_id=job_id, timestamp=float(n), text=f"note {n}",
                      created_at=T0 + dt.timedelta(minutes=n), **fields)


def test_a_record_comes_back_typed_and_a_missing_one_is_the_kinds_not_found(db):
    notes = db.of(ReviewNote, job_id="j1")
    added = notes.add(ReviewNote(job_id="j1", text="hello", timestamp=1.5, created_at=T0))
    assert added.id, "a record without an id gets a new one"
    got = notes.get(added.id)
    assert isinstance(got, ReviewNote) and got == added and got.created_at == T0
    assert notes.lookup("nope") is None and notes.lookup("..") is None and notes.lookup("__x__") is None
    with pytest.raises(NotFound, match="review note not found"):
        notes.get("nope")
    with pytest.raises(Conflict):
        notes.add(added)
    assert db.of(ReviewNote, job_id="j2").lookup(added.id) is None, "another parent's collection"


def test_fields_a_record_does_not_name_survive_a_rewrite(db):
    db.of(ShareLink).put(ShareLink.from_doc("s1", {"job_id": "j", "secret_hash": "h", "legacy_flag": True}))
    link = db.of(ShareLink).get("s1")
    assert link.extra == {"legacy_flag": True}
    link.label = "press"
    db.of(ShareLink).put(link)
    again = db.of(ShareLink).get("s1")
    assert again.label == "press" and again.extra == {"legacy_flag": True}


def test_filters_orders_and_counts(db):
    notes = db.of(ReviewNote, job_id="j1")
    for n in range(5):
        notes.add(note("j1", n, status="resolved" if n % 2 else "open", language="fr" if n < 3 else "de"))
    assert [x.id for x in notes.where(("status", "==", "open"), order_by=[("timestamp", "desc")])] == ["n4", "n2", "n0"]
    assert [x.id for x in notes.where(("language", "in", ["de"]), order_by=[("timestamp", "asc")])] == ["n3", "n4"]
    assert [x.id for x in notes.where(("id", "in", ["n1", "n3", "..", "zz"]), order_by=[("timestamp", "asc")])] == ["n1", "n3"]
    assert notes.where(("id", "in", [".."])) == []
    assert [x.id for x in notes.where(("timestamp", ">=", 3.0), order_by=[("timestamp", "asc")])] == ["n3", "n4"]
    assert notes.count(("status", "==", "open")) == 3 and notes.count() == 5
    assert notes.first(("text", "==", "note 2")).id == "n2" and notes.first(("text", "==", "none")) is None
    assert [x.id for x in notes.get_many(["n4", "missing", "n0"])] == ["n4", "n0"]
    db.of(ShareLink).add(ShareLink(id="s1", job_id="j1", secret_hash="h", languages=["fr", "de"]))
    assert [x.id for x in db.of(ShareLink).where(("languages", "array_contains", "de"))] == ["s1"]
    assert db.of(ShareLink).where(("languages", "array_contains", "es")) == []


def test_pages_follow_cursors_and_are_stable_under_inserts(db):
    notes = db.of(ReviewNote, job_id="j1")
    for n in range(7):
        notes.add(note("j1", n))
    first = notes.page([], ("timestamp", "asc"), 1, 3)
    assert [x.id for x in first.items] == ["n0", "n1", "n2"] and first.total == 7 and first.next_cursor
    notes.add(ReviewNote(id="early", job_id="j1", timestamp=-1.0))   # before the cursor: does not shift it
    second = notes.page([], ("timestamp", "asc"), 1, 3, first.next_cursor)
    assert [x.id for x in second.items] == ["n3", "n4", "n5"] and second.page == 2
    third = notes.page([], ("timestamp", "asc"), 1, 3, second.next_cursor)
    assert [x.id for x in third.items] == ["n6"] and third.next_cursor is None
    newest = notes.page([], ("timestamp", "desc"), 2, 3)
    assert [x.id for x in newest.items] == ["n3", "n2", "n1"]
    assert [x.id for x in notes.page([], ("timestamp", "desc"), 1, 3, newest.next_cursor).items] == ["n0", "early"]
    with pytest.raises(BadRequest):
        notes.page([("status", "==", "open")], ("timestamp", "asc"), 1, 3, first.next_cursor)
    as_views = first.map(lambda x: x.text)
    assert as_views.items == ["note 0", "note 1", "note 2"] and as_views.next_cursor == first.next_cursor


def test_updates_reach_into_maps_and_count_server_side(db):
    links = db.of(ShareLink)
    links.add(ShareLink(id="s1", job_id="j", secret_hash="h", extra={"stats": {"opens": 0}}))
    links.update("s1", {"label": "x", "stats.opens": Increment(2)})
    links.update("s1", {"stats.opens": Increment(1)})
    got = links.get("s1")
    assert got.label == "x" and got.extra["stats"] == {"opens": 3}
    with pytest.raises(NotFound, match="share link not found"):
        links.update("missing", {"label": "y"})
    links.delete("s1")
    links.delete("s1")   # twice is harmless
    assert links.lookup("s1") is None


def test_lists_change_server_side_by_union_and_removal(db):
    """ArrayUnion adds only what the list lacks, ArrayRemove takes every occurrence away, and neither
    needs the document read first; a field not yet a list starts empty."""
    links = db.of(ShareLink)
    links.add(ShareLink(id="s1", job_id="j", secret_hash="h", languages=["fr"]))
    links.update("s1", {"languages": ArrayUnion(["de", "fr", "es", "de"])})
    assert links.get("s1").languages == ["fr", "de", "es"]
    links.update("s1", {"languages": ArrayRemove(["fr", "it"]), "stats.seen": ArrayUnion(["a"])})
    links.update("s1", {"languages": ArrayUnion(["fr"])})
    got = links.get("s1")
    assert got.languages == ["de", "es", "fr"] and got.extra["stats"] == {"seen": ["a"]}

    def both(uow):  # inside a unit of work too, beside a counter step
        uow.of(ShareLink).update("s1", {"languages": ArrayRemove(["de", "es"]), "stats.opens": Increment(1)})

    db.atomically(both)
    assert links.get("s1").languages == ["fr"] and links.get("s1").extra["stats"] == {"seen": ["a"], "opens": 1}
    assert db.of(ShareLink).where(("languages", "array_contains", "fr"))[0].id == "s1"


def test_a_counter_is_created_by_its_first_step_and_concurrent_steps_each_see_their_own_count(db):
    from concurrent.futures import ThreadPoolExecutor

    counts = db.of(RateCount)
    expiry = T0 + dt.timedelta(minutes=2)
    assert counts.increment("k1", "count", also={"expires_at": expiry}) == 1
    with ThreadPoolExecutor(8) as pool:
        seen = list(pool.map(lambda _: counts.increment("k1", "count", also={"expires_at": expiry}), range(24)))
    assert sorted(seen) == list(range(2, 26)), "no count lost, none seen twice"
    got = counts.get("k1")
    assert got.count == 25 and got.expires_at == expiry and got.extra == {}
    assert counts.increment("k2", "count", by=3) == 3


def test_delete_where_and_group_reads(db):
    for job in ("a", "b"):
        for n in range(3):
            db.of(ReviewNote, job_id=job).add(note(job, n, status="open" if n else "resolved"))
    group = db.group(ReviewNote)
    assert sorted((x.job_id, x.id) for x in group.where(("status", "==", "resolved"))) == [("a", "n0"), ("b", "n0")]
    assert group.count(("status", "==", "open")) == 4
    paged = group.page([("status", "==", "open")], ("timestamp", "asc"), 1, 3)
    rest = group.page([("status", "==", "open")], ("timestamp", "asc"), 1, 3, paged.next_cursor)
    assert len(paged.items) == 3 and len(rest.items) == 1 and rest.next_cursor is None
    assert db.of(ReviewNote, job_id="a").delete_where(("status", "==", "open")) == 2
    assert [x.id for x in db.of(ReviewNote, job_id="a").where()] == ["n0"] and db.of(ReviewNote, job_id="b").count() == 3


def test_id_order(db):
    notes = db.of(ReviewNote, job_id="j1")
    for n in (3, 1, 2):
        notes.add(note("j1", n))
    assert [x.id for x in notes.where(order_by=[("id", "asc")], limit=2)] == ["n1", "n2"]
    first = notes.page([("status", "==", "open")], ("id", "asc"), 1, 2)
    rest = notes.page([("status", "==", "open")], ("id", "asc"), 2, 2, first.next_cursor)
    assert [x.id for x in first.items] == ["n1", "n2"] and [x.id for x in rest.items] == ["n3"] and first.total == 3


def test_put_many_writes_more_than_one_batch_and_replaces(db):
    notes = db.of(ReviewNote, job_id="j1")
    many = [ReviewNote(job_id="j1", timestamp=float(n), text=str(n)) for n in range(620)]  # a batch holds 500
    assert notes.put_many(many) == 620 and len({n.id for n in many}) == 620
    assert notes.count() == 620
    many[0].text = "again"
    assert notes.put_many(iter(many[:1])) == 1
    assert notes.get(many[0].id).text == "again" and notes.count() == 620
    with pytest.raises(TypeError):
        db.atomically(lambda uow: uow.of(ReviewNote, job_id="j1").put_many(many[:1]))


def test_a_unit_of_work_commits_together_or_not_at_all(db):
    db.of(ShareLink).add(ShareLink(id="s1", job_id="j", secret_hash="h"))

    def both(uow):
        link = uow.of(ShareLink).get("s1")
        uow.of(ShareLink).update(link.id, {"label": "changed"})
        uow.of(ReviewNote, job_id="j").add(ReviewNote(id="n1", job_id="j", text="with it"))
        return link.label

    assert db.atomically(both) is None
    assert db.of(ShareLink).get("s1").label == "changed" and db.of(ReviewNote, job_id="j").get("n1").text == "with it"

    def fails(uow):
        uow.of(ShareLink).get("s1")
        uow.of(ShareLink).update("s1", {"label": "lost"})
        uow.of(ReviewNote, job_id="j").add(ReviewNote(id="n2", job_id="j"))
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        db.atomically(fails)
    assert db.of(ShareLink).get("s1").label == "changed" and db.of(ReviewNote, job_id="j").lookup("n2") is None
    with pytest.raises(Conflict):
        db.atomically(lambda uow: uow.of(ShareLink).add(ShareLink(id="s1", job_id="j", secret_hash="h")))


def test_sums_and_means_are_aggregations_over_the_matching_records(db):
    notes = db.of(ReviewNote, job_id="j1")
    for n in range(4):
        notes.add(note("j1", n, status="open" if n < 3 else "resolved"))
    assert notes.sum("timestamp", ("status", "==", "open")) == 3.0 and notes.sum("timestamp") == 6.0
    assert notes.average("timestamp", ("status", "==", "open")) == 1.0
    assert notes.sum("timestamp", ("status", "==", "none")) == 0.0
    assert notes.average("timestamp", ("status", "==", "none")) in (None, 0.0)  # the emulator answers 0


def _stored_job(db, job_id: str, **fields) -> None:
    from avp.domain.model import Job

    db.atomically(lambda uow: uow.jobs.add(Job(id=job_id, org_id="o1", title=job_id, **fields)))


def test_jobs_are_read_and_counted_outside_a_unit_of_work_but_never_written_there(db):
    from avp.domain.model import Job

    _stored_job(db, "j1", status="failed", client_id="c1")
    _stored_job(db, "j2", status="queued", client_id="c1")
    _stored_job(db, "j3", status="failed", client_id="c2")
    jobs = db.of(Job)
    found = jobs.lookup("j1")
    assert isinstance(found, Job) and found.client_id == "c1" and jobs.lookup("nope") is None
    with pytest.raises(NotFound, match="job not found"):
        jobs.get("nope")
    assert jobs.count(("status", "==", "failed")) == 2
    assert [j.id for j in jobs.where(("client_id", "==", "c1"), order_by=[("title", "desc")])] == ["j2", "j1"]
    first = jobs.page([("status", "==", "failed")], ("title", "asc"), 1, 1)
    assert [j.id for j in first.items] == ["j1"] and first.next_cursor
    with pytest.raises(TypeError):
        jobs.update("j1", {"status": "complete"})
    with pytest.raises(TypeError):
        jobs.put(found)
    assert db.read_job("j1").status == "failed"


def test_a_unit_of_work_finds_jobs_by_field_and_saves_them(db):
    _stored_job(db, "j1", client_id="c1", project_id="p1")
    _stored_job(db, "j2", client_id="c2")

    def detach(uow):
        found = uow.jobs.where(("client_id", "==", "c1"))
        for job in found:
            job.client_id = job.project_id = None
            uow.jobs.save(job)
        return [j.id for j in found]

    assert db.atomically(detach) == ["j1"]
    assert db.read_job("j1").client_id is None and db.read_job("j2").client_id == "c2"


def test_a_unit_of_work_reads_a_group(db):
    for job in ("a", "b"):
        db.of(ReviewNote, job_id=job).add(note(job, 1))
    seen = db.atomically(lambda uow: sorted(n.job_id for n in uow.group(ReviewNote).where(("text", "==", "note 1"))))
    assert seen == ["a", "b"]


def _walk(db, repo, scope, personal, size, per_query, order=("created_at", "desc")):
    from avp.domain.records import page_any

    pages, cursor, page = [], None, 1
    while True:
        got = page_any(repo, [("status", "==", "draft")], "access_keys", "array_contains_any", scope, order, page, size,
                       cursor, "briefs", personal=personal, per_query=per_query)
        pages.append(got)
        if not got.next_cursor:
            return pages
        cursor, page = got.next_cursor, page + 1


def test_a_page_over_more_values_than_one_query_holds_merges_queries_without_loss_or_repeat(db):
    from avp.domain.aggregates import Brief

    briefs = db.of(Brief)
    # 12 organizations, 2 briefs in each; the caller's own key on every third brief, and on one
    # brief of an organization they do not belong to (it counts once, and only through them).
    expected = []
    for n in range(24):
        org = f"o{n % 12:02d}"
        keys = [f"org:{org}"] + (["user:me"] if n % 3 == 0 else [])
        briefs.add(Brief(id=f"b{n:02d}", org_id=org, status="draft", access_keys=keys,
                         created_at=T0 + dt.timedelta(minutes=n)))
        expected.append(f"b{n:02d}")
    briefs.add(Brief(id="b-mine", org_id="elsewhere", status="draft", access_keys=["org:elsewhere", "user:me"],
                     created_at=T0 + dt.timedelta(minutes=30)))
    briefs.add(Brief(id="b-other", org_id="elsewhere", status="draft", access_keys=["org:elsewhere"],
                     created_at=T0 + dt.timedelta(minutes=31)))
    briefs.add(Brief(id="b-done", org_id="o00", status="approved", access_keys=["org:o00", "user:me"],
                     created_at=T0 + dt.timedelta(minutes=32)))
    scope = [f"org:o{i:02d}" for i in range(12)]
    want = ["b-mine", *sorted(expected, reverse=True)]

    # 5 values a query: the personal key alone, then 5 + 5 + 2 organizations: 4 queries merged.
    pages = _walk(db, briefs, scope, ["user:me"], size=4, per_query=5)
    got = [b.id for p in pages for b in p.items]
    assert got == want, "every brief once, newest first, none of another organization but the caller's own"
    assert {p.total for p in pages} == {25} and [p.page for p in pages] == list(range(1, 8))
    # A jump to page 3 without a cursor is the page the cursors reached.
    from avp.domain.records import page_any
    jump = page_any(briefs, [("status", "==", "draft")], "access_keys", "array_contains_any", scope, ("created_at", "desc"),
                    3, 4, None, "briefs", personal=["user:me"], per_query=5)
    assert [b.id for b in jump.items] == got[8:12] and jump.total == 25
    # Few enough values for one query: the repository's own page, the same briefs.
    single = _walk(db, briefs, scope, ["user:me"], size=4, per_query=30)
    assert [b.id for p in single for b in p.items] == want and single[0].total == 25
    # Oldest first, and a cursor does not serve another list.
    ascending = _walk(db, briefs, scope, [], size=10, per_query=5, order=("created_at", "asc"))
    assert [b.id for p in ascending for b in p.items] == sorted(expected)
    with pytest.raises(BadRequest, match="invalid cursor"):
        page_any(briefs, [], "access_keys", "array_contains_any", scope, ("created_at", "asc"), 2, 10,
                 ascending[0].next_cursor, "other list", per_query=5)


def test_a_window_starts_after_a_position_it_handed_out(db):
    from avp.domain.aggregates import Brief

    briefs = db.of(Brief)
    for n in range(5):
        briefs.add(Brief(id=f"b{n}", org_id="o", access_keys=["org:o"], created_at=T0 + dt.timedelta(minutes=n % 2)))
    first = briefs.window([("org_id", "==", "o")], ("created_at", "asc"), 3)
    assert [b.id for _, b in first] == ["b0", "b2", "b4"], "ties broken by path"
    rest = briefs.window([("org_id", "==", "o")], ("created_at", "asc"), 3, first[-1][0])
    assert [b.id for _, b in rest] == ["b1", "b3"]
    group = db.group(ReviewNote)
    for job in ("a", "b"):
        db.of(ReviewNote, job_id=job).add(note(job, 1))
    one = group.window([], ("timestamp", "asc"), 1)
    two = group.window([], ("timestamp", "asc"), 5, one[0][0])
    assert [(n.job_id, n.id) for _, n in one + two] == [("a", "n1"), ("b", "n1")], "a group's positions are paths"


def test_one_value_a_query_and_none_at_all(db):
    from avp.domain.aggregates import Brief
    from avp.domain.records import page_any

    briefs = db.of(Brief)
    briefs.add(Brief(id="b1", org_id="o", access_keys=["org:o", "user:me"], created_at=T0))
    briefs.add(Brief(id="b2", org_id="p", access_keys=["org:p"], created_at=T0 + dt.timedelta(minutes=1)))
    # Only personal values, one a query (as when a filter's other disjunctions leave room for one).
    got = page_any(briefs, [], "access_keys", "array_contains_any", [], ("created_at", "asc"), 1, 10, None, "b",
                   personal=["user:me", "reviewer:me"], per_query=1)
    assert [b.id for b in got.items] == ["b1"] and got.total == 1
    got = page_any(briefs, [], "access_keys", "array_contains_any", ["org:p", "org:o"], ("created_at", "asc"), 1, 10,
                   None, "b", personal=["user:me"], per_query=1)
    assert [b.id for b in got.items] == ["b1", "b2"] and got.total == 2
    nothing = page_any(briefs, [], "access_keys", "array_contains_any", [], ("created_at", "asc"), 1, 10, None, "b")
    assert nothing.items == [] and nothing.total == 0
