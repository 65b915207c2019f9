"""The repositories and units of work, one set of cases run against both implementations: Firestore
(the emulator) and memory (what the domain's unit tests use). Whatever the domain relies on, both do."""
from __future__ import annotations

import logging
import threading
import time
from typing import Any

import pytest

from avp.domain import audit, jobs, language_qc, tenancy, users
from avp.domain.aggregates import AuditEntry, Client, Organization
from avp.domain.model import Asset, Job, TrackVersion
from avp.domain.ports import Progress
from avp.errors import Conflict, NotFound
from avp.domain.records import now
from avp.store.memory import MemoryUnits


@pytest.fixture(params=["firestore", "memory"])
def units(request, container):
    return container.store if request.param == "firestore" else MemoryUnits()


def doc(units, path: str) -> dict[str, Any] | None:
    if isinstance(units, MemoryUnits):
        return units.docs.get(path)
    found = units.get(path)
    if found:
        found.pop("id")
    return found


def audit_actions(units) -> list[str]:
    return sorted(e.action for e in units.of(AuditEntry).where())


def add(units, job_id: str = "j1", **fields) -> Job:
    job = Job(job_id, status="language_qc", title="T", source_language="en", requested_outputs={"languages": ["fr", "de"]},
              extra={"media": {"duration": 3.0}}, **fields)
    units.atomically(lambda uow: uow.jobs.add(job))
    return job


def test_a_job_comes_back_as_it_was_stored_with_its_mirror(units):
    job = Job("j0", status="pending_qc", title="T0", source_language="en")
    job.record_asset("en", "captions_vtt", Asset("a.vtt", "ready", size=3, checksum="sha256:ab", version=1))
    units.atomically(lambda uow: uow.jobs.add(job))
    assert units.read_job("j0") == job and doc(units, "job_status/j0")["status"] == "pending_qc"
    add(units)
    with pytest.raises(Conflict):
        units.atomically(lambda uow: uow.jobs.add(Job("j1")))
    read = units.read_job("j1")
    assert read.title == "T" and read["media"] == {"duration": 3.0} and read.status == "language_qc"
    assert doc(units, "job_status/j1")["status"] == "language_qc"
    with pytest.raises(NotFound):
        units.read_job("nope")


def test_save_writes_only_what_changed_so_languages_do_not_overwrite_each_other(units):
    add(units)

    def first(uow):
        job = uow.jobs.get("j1")
        job.record_asset("fr", "description_mp3", Asset("fr.mp3", "ready", size=10))
        job.outputs["fr"].fit_report = {"voice": "fr-fr"}
        return job

    stale = units.atomically(first)  # not saved: a unit of work that does not save writes nothing
    assert "fr" not in units.read_job("j1").outputs

    def save_language(lang: str, voice: str):
        def work(uow):
            job = uow.jobs.get("j1")
            job.record_asset(lang, "description_mp3", Asset(f"{lang}.mp3", "ready", size=10))
            job.outputs[lang].fit_report = {"voice": voice}
            uow.jobs.save(job)
        units.atomically(work)

    save_language("fr", "fr-fr")
    save_language("de", "de")

    def nested(uow):  # a change deep inside a map field is a change too
        job = uow.jobs.get("j1")
        job.languages.setdefault("fr", {})["translation_note"] = "drafts"
        uow.jobs.save(job)

    units.atomically(nested)
    job = units.read_job("j1")
    assert job.languages["fr"]["translation_note"] == "drafts"
    assert job.outputs["fr"].fit_report == {"voice": "fr-fr"} and job.outputs["de"].fit_report == {"voice": "de"}
    assert stale.outputs["fr"].asset("description_mp3").size == job.outputs["fr"].asset("description_mp3").size


def test_nothing_of_a_failed_unit_of_work_is_written(units):
    add(units)

    def work(uow):
        job = uow.jobs.get("j1")
        job.status = "failed"
        uow.jobs.save(job)
        uow.audit.append(audit.entry(audit.SYSTEM, "job.fail", "jobs/j1"))
        raise Conflict("vetoed")

    with pytest.raises(Conflict):
        units.atomically(work)
    assert units.read_job("j1").status == "language_qc" and doc(units, "job_status/j1")["status"] == "language_qc"
    assert audit_actions(units) == []


def queue_docs(units) -> dict[str, dict[str, Any]]:
    if isinstance(units, MemoryUnits):
        return {p.split("/", 1)[1]: d for p, d in units.docs.items() if p.startswith(f"{language_qc.QUEUE}/")}
    return {d.pop("id"): d for d in units.find(language_qc.QUEUE)}


def test_the_work_queue_is_committed_with_the_job(units):
    """Each assignee of a language has one queue document while the job is in QC; the job's own
    save writes, moves and removes them, and a failed unit of work leaves them as they were."""
    add(units)
    assigned = now()

    def assign(uow, lang: str, **entry):
        job = uow.jobs.get("j1")
        job.languages = {**job.languages, lang: {**language_qc.EMPTY_ENTRY, **entry}}
        uow.jobs.save(job)

    units.atomically(lambda uow: assign(uow, "fr", state="assigned", linguist_id="u1", linguist_assigned_at=assigned))
    units.atomically(lambda uow: assign(uow, "de", state="submitted", linguist_id="u1", reviewer_id="u2",
                                        linguist_assigned_at=assigned, reviewer_assigned_at=assigned))
    queued = queue_docs(units)
    assert sorted((d["language"], d["as_role"], d["queue_key"]) for d in queued.values()) == [
        ("de", "linguist", "linguist:u1:submitted"), ("de", "reviewer", "reviewer:u2:submitted"),
        ("fr", "linguist", "linguist:u1:assigned")]
    assert all(doc_id.startswith(assigned.strftime("%Y%m%dT%H%M%S")) for doc_id in queued)

    def vetoed(uow):
        assign(uow, "fr", state="assigned", linguist_id="u3", linguist_assigned_at=now())
        raise Conflict("vetoed")

    with pytest.raises(Conflict):
        units.atomically(vetoed)
    assert queue_docs(units) == queued
    jobs.fail(units, audit.SYSTEM, "j1", "render", "no voice", language="de")  # out of QC: out of the queue
    assert queue_docs(units) == {}


def test_the_queue_of_jobs_assigned_before_it_existed_is_rebuilt(units):
    """`avp migrate` writes the queue entries of jobs in QC that have none (assigned before the queue
    existed): every entry of every such job, once, and running it again changes nothing."""
    add(units)
    done = Job("j2", status="complete", title="T", source_language="en", requested_outputs={"languages": ["fr"]})
    units.atomically(lambda uow: uow.jobs.add(done))
    at = now()

    def assign(uow):
        job = uow.jobs.get("j1")
        job.languages = {"fr": {**language_qc.EMPTY_ENTRY, "state": "submitted", "linguist_id": "u1", "reviewer_id": "u2",
                                "linguist_assigned_at": at, "reviewer_assigned_at": at}}
        uow.jobs.save(job)

    units.atomically(assign)
    expected = queue_docs(units)
    assert len(expected) == 2
    for doc_id in expected:   # deliberately: the state of a deployment from before the queue
        if isinstance(units, MemoryUnits):
            del units.docs[f"{language_qc.QUEUE}/{doc_id}"]
        else:
            units.delete(f"{language_qc.QUEUE}/{doc_id}")
    assert queue_docs(units) == {}
    assert language_qc.rebuild_queue(units) == (1, 2)
    assert queue_docs(units) == expected
    assert language_qc.rebuild_queue(units) == (1, 2) and queue_docs(units) == expected


def test_organizations_from_before_member_ids_get_them_from_their_members(units):
    """`avp migrate` sets each organization's `member_ids` from its members (what a member's
    organization list queries): organizations written before the field get it, a current one is
    left alone, and running it again changes nothing."""
    orgs = [tenancy.create_organization(units, audit.SYSTEM, name=name)["id"] for name in ("Old", "Also old", "Empty")]
    people = [users.create_user(units, audit.SYSTEM, email=f"m{i}@example.com", role="production", org_ids=orgs[:2]).id
              for i in range(3)]
    expected = {orgs[0]: sorted(people), orgs[1]: sorted(people), orgs[2]: []}
    stored = {o.id: sorted(o.member_ids) for o in units.of(Organization).where()}
    assert stored == expected, "joining writes them"
    for org_id in orgs[:2]:
        _from_before(units, f"organizations/{org_id}", "member_ids")
    assert tenancy.backfill_member_ids(units) == (3, 2)
    assert {o.id: sorted(o.member_ids) for o in units.of(Organization).where()} == expected
    assert tenancy.backfill_member_ids(units) == (3, 0)


def _from_before(units, path: str, field: str) -> None:
    """Deliberately: the state of a deployment from before `field` existed (the document lacks it)."""
    old = doc(units, path)
    del old[field]
    if isinstance(units, MemoryUnits):
        units.docs[path] = old
    else:
        units.set(path, old)


def test_clients_from_before_viewer_ids_get_them_from_their_pms_and_teams(units):
    """`avp migrate` sets each client's `viewer_ids` from its PMs and all its teams (what a PM's or
    client user's client list queries): someone in two of its teams once, a current client left
    alone, and running it again changes nothing."""
    org = tenancy.create_organization(units, audit.SYSTEM, name="Harbour")["id"]
    clients = [tenancy.create_client(units, audit.SYSTEM, org_id=org, name=name)["id"] for name in ("A", "B", "C")]
    pm, cu, cu2 = (users.create_user(units, audit.SYSTEM, email=f"{role}{i}@example.com", role=role, org_ids=[org]).id
                   for i, role in enumerate(("project_manager", "client", "client")))
    tenancy.add_pm(units, audit.SYSTEM, clients[0], pm)
    for name, members in (("Edit", [cu, cu2]), ("Review", [cu])):
        tenancy.create_team(units, audit.SYSTEM, clients[0], name=name, member_ids=members)
    tenancy.create_team(units, audit.SYSTEM, clients[1], name="Only", member_ids=[cu2])
    expected = {clients[0]: sorted([pm, cu, cu2]), clients[1]: [cu2], clients[2]: []}
    assert {c.id: sorted(c.viewer_ids) for c in units.of(Client).where()} == expected, "each seat writes them"
    for client_id in clients[:2]:
        _from_before(units, f"clients/{client_id}", "viewer_ids")
    assert tenancy.backfill_viewer_ids(units) == (3, 2)
    assert {c.id: sorted(c.viewer_ids) for c in units.of(Client).where()} == expected
    assert tenancy.backfill_viewer_ids(units) == (3, 0)


def test_a_transition_commits_job_mirror_and_audit_entry(units):
    add(units)
    jobs.fail(units, audit.SYSTEM, "j1", "render", "no voice", language="de")
    assert units.read_job("j1").failed_language == "de" and units.read_job("j1")["failed_from"] == "language_qc"
    assert doc(units, "job_status/j1")["status"] == "failed" and doc(units, "job_status/j1")["failed_step"] == "render"
    assert audit_actions(units) == ["job.fail_language"]


def test_progress_reports_never_lower_the_figure(units):
    add(units)
    units.report_progress("j1", Progress("transcribe", 0.5, 0.4))
    units.report_progress("j1", Progress("shots", 0.2, 0.1))
    units.report_progress("j1", Progress("translate", 0.5, 0.3, language="fr"))
    for path in ("jobs/j1", "job_status/j1"):
        stored = doc(units, path)
        assert stored["progress"] == 0.4 and stored["stage"] == "shots" and stored["step_progress"] == 0.2
        assert stored["language_progress"]["fr"] == {"stage": "translate", "step_progress": 0.5, "progress": 0.3}
    with pytest.raises(NotFound):
        units.report_progress("nope", Progress("ingest", 0.0, 0.0))


def test_track_versions_are_numbered_and_never_overwritten(units):
    add(units)

    def reserve(uow):
        track = uow.tracks.get("j1", "fr", "captions")
        n = track.reserve()
        uow.tracks.save(track)
        return n

    assert [units.atomically(reserve) for _ in range(2)] == [1, 2]
    version = TrackVersion(n=1, language="fr", kind="captions", source="pipeline", author_id="system", created_at=now(),
                           cue_count=2, size=30, path="jobs/j1/tracks/fr/captions/v1.vtt")
    units.atomically(lambda uow: uow.tracks.add_version("j1", version))
    assert units.atomically(lambda uow: uow.tracks.version("j1", "fr", "captions", 1)) == version
    with pytest.raises(Conflict):
        units.atomically(lambda uow: uow.tracks.add_version("j1", version))
    with pytest.raises(NotFound):
        units.atomically(lambda uow: uow.tracks.version("j1", "fr", "captions", 2))
    assert units.atomically(lambda uow: uow.tracks.get("j1", "fr", "captions")).reserved == 2


def test_audit_entries_are_records_read_like_any_other(units):
    units.atomically(lambda uow: uow.audit.append(audit.entry(audit.SYSTEM, "job.fail", "jobs/j1/languages/fr", reason="r",
                                                              extra={"note": "n"})))
    audit.record(units, audit.SYSTEM, "review_note.delete", "jobs/j2/review_notes/n1")
    [entry] = units.of(AuditEntry).where(("target_id", "==", "j1"))
    assert (entry.action, entry.category, entry.target_type, entry.reason, entry.actor_id) == \
        ("job.fail", "workflow", "job", "r", "system")
    assert entry.extra == {"note": "n"}  # what one kind of entry adds; nothing else is unknown
    assert units.of(AuditEntry).count(("category", "==", "workflow")) == 2
    assert audit.public_view(units.of(AuditEntry).first(("target_id", "==", "j2")))["target_type"] == "job"


def test_jobs_from_before_the_live_key_get_this_versions_keys(units):
    """`avp migrate` gives every job the keys `access.job_keys` computes now: a live job written
    before live jobs carried `live` gains it (an administrator's lists ask for it), a deleted one
    loses all (no list, listener or member finds it), through the job writer, so the status mirror
    follows; running it again changes nothing."""
    from avp.auth.tokens import Principal
    from avp.domain import access

    made = [jobs.new_job(Principal("u1", "production"), org_id="o1", client_id=None, project_id=None, title=t,
                         filename="a.mp4", content_type="video/mp4", size_bytes=1, source_language="en",
                         requested_outputs={}) for t in ("kept", "deleted", "current")]
    for job in made:
        jobs.store_new_job(units, audit.SYSTEM, job)
    jobs.delete_job(units, Principal("admin", "admin"), audit.SYSTEM, made[1]["id"])
    assert doc(units, f"jobs/{made[1]['id']}")["access_keys"] == [], "deleting clears them"
    assert doc(units, f"job_status/{made[1]['id']}")["access_keys"] == []
    for job, before in ((made[0], ["org:o1", "user:u1"]), (made[1], ["org:o1", "user:u1"])):
        for path in (f"jobs/{job['id']}", f"job_status/{job['id']}"):
            old = {**doc(units, path), "access_keys": before}  # deliberately: as an older version wrote them
            if isinstance(units, MemoryUnits):
                units.docs[path] = old
            else:
                units.set(path, old)
    assert jobs.refresh_access_keys(units) == (3, 2)
    assert doc(units, f"jobs/{made[0]['id']}")["access_keys"] == [access.LIVE_KEY, "org:o1", "user:u1"]
    assert doc(units, f"job_status/{made[0]['id']}")["access_keys"] == [access.LIVE_KEY, "org:o1", "user:u1"]
    assert doc(units, f"jobs/{made[1]['id']}")["access_keys"] == []
    assert doc(units, f"job_status/{made[1]['id']}")["access_keys"] == []
    assert jobs.refresh_access_keys(units) == (3, 0)


def _hold_a_read_lock(store, path: str, seconds: float) -> threading.Thread:
    """A unit of work elsewhere that has read `path` and commits `seconds` later: the emulator, like
    Firestore, keeps other writers of that document waiting meanwhile (up to its lock timeout)."""
    held = threading.Event()

    def hold() -> None:
        txn = store.client.transaction(max_attempts=1)
        txn._begin()
        store.client.document(path).get(transaction=txn)
        held.set()
        time.sleep(seconds)
        txn._rollback()

    thread = threading.Thread(target=hold)
    thread.start()
    held.wait(10)
    return thread


def test_a_progress_report_outlasts_a_lock_held_past_the_lock_timeout(container):
    """Two steps of one job run at once (two languages): one's unit of work holds the job's documents
    while the other reports progress. A report that meets the lock timeout is tried again and gets
    through; one that cannot is skipped with a warning, never the step's failure (before, a
    'Transaction lock timeout' failed a whole language)."""
    units = container.store
    add(units)
    holder = _hold_a_read_lock(units, "jobs/j1", 2.8)  # longer than the emulator's 2 s lock timeout
    units.report_progress("j1", Progress("translate", 0.5, 0.6, language="fr"))
    holder.join()
    assert doc(units, "job_status/j1")["language_progress"]["fr"]["progress"] == 0.6

    holder = _hold_a_read_lock(units, "jobs/j1", 7.0)  # past every attempt (3 of about 2 s)
    warnings: list[str] = []
    handler = logging.Handler(logging.WARNING)
    handler.emit = lambda record: warnings.append(record.getMessage())
    logging.getLogger("avp.store.units").addHandler(handler)
    try:
        units.report_progress("j1", Progress("translate", 0.7, 0.8, language="fr"))
    finally:
        logging.getLogger("avp.store.units").removeHandler(handler)
    holder.join()
    assert warnings == ["progress of job j1 not recorded: its documents stayed locked"]
    assert doc(units, "job_status/j1")["language_progress"]["fr"]["progress"] == 0.6


def test_a_start_runs_each_migration_once_and_avp_migrate_runs_them_all(units):
    """`avp up` runs only the steps the data has not had (so a start does not read every job each
    time); `avp migrate` runs every step again; both say what each changed."""
    from avp.domain import migrations

    add(units)
    first = migrations.run(units, every=False)
    assert [line.split(":")[0] for line in first] == ["job access keys", "language work queue",
                                                       "organization member ids", "client viewer ids"]
    assert first[0] == "job access keys: 1 of 1 job(s) brought up to date"  # an old-shaped job: no live key
    assert migrations.run(units, every=False) == []
    again = migrations.run(units, every=True)
    assert len(again) == 4 and again[0] == "job access keys: 0 of 1 job(s) brought up to date"
