"""The rules of a job's companions on in-memory units of work (milliseconds, no emulator): a brief's
draft -> submitted -> approved with its audit entries, a glossary version that must be embedded
before it is active, one embedding at a time, the current track version, and jobs that only their
unit of work writes. tests/integration/test_briefs.py and test_glossaries.py run the same rules
through HTTP on Firestore."""
from __future__ import annotations

import datetime as dt

import pytest

from avp.auth.tokens import Principal
from avp.domain import briefs, glossaries, tracks
from avp.domain.aggregates import AuditEntry, Brief, Glossary, GlossaryTerm, GlossaryVersion
from avp.domain.audit import AuditMeta
from avp.domain.model import Job, TrackVersion
from avp.domain.records import now
from avp.errors import Conflict, NotFound, Unprocessable
from avp.providers.embed.local import HashedNgramEmbedder
from avp.store.memory import MemoryUnits

ADMIN = Principal("a1", "admin")
META = AuditMeta("a1", "admin", "req-1")


@pytest.fixture
def db() -> MemoryUnits:
    return MemoryUnits()


def actions(db: MemoryUnits, target: str) -> list[str]:
    return [e.action for e in db.of(AuditEntry).where(("target", "==", target), order_by=[("at", "asc")])]


def test_a_brief_is_frozen_once_submitted_and_approved_only_then(db):
    db.of(Brief).put(Brief(id="b1", org_id="o1", created_by="u1", access_keys=["org:o1", "user:u1"]))
    with pytest.raises(Unprocessable, match="title"):
        briefs.submit_brief(db, ADMIN, META, "b1")
    assert briefs.update_brief(db, None, ADMIN, META, "b1", {"title": " Harbour film "})["title"] == "Harbour film"
    with pytest.raises(Conflict, match="state draft"):
        briefs.approve_brief(db, ADMIN, META, "b1")
    submitted = briefs.submit_brief(db, ADMIN, META, "b1", note="ready")
    assert submitted["status"] == "submitted" and submitted["submitted_at"] is not None
    with pytest.raises(Conflict, match="state submitted"):
        briefs.update_brief(db, None, ADMIN, META, "b1", {"title": "late"})
    approved = briefs.approve_brief(db, ADMIN, META, "b1")
    assert approved["status"] == "approved" and approved["approved_by"] == "a1"
    stored = db.of(Brief).get("b1")
    assert (stored.title, stored.status, stored.extra) == ("Harbour film", "approved", {})
    assert actions(db, "briefs/b1") == ["brief.update", "brief.submit", "brief.approve"]
    submit = db.of(AuditEntry).first(("action", "==", "brief.submit"))
    assert submit.reason == "ready" and submit.before == {"status": "draft", "submitted_at": None}
    with pytest.raises(NotFound, match="brief not found"):
        briefs.get_brief(db, ADMIN, "nope")


def _glossary(db: MemoryUnits, *sources: str) -> None:
    db.of(Glossary).put(Glossary(id="g1", org_id="o1", name="House", version_count=1, access_keys=["org:o1"]))
    db.of(GlossaryVersion, glossary_id="g1").put(GlossaryVersion(id="v1", number=1, term_count=len(sources),
                                                                 languages=["fr"], source_language="en"))
    db.of(GlossaryTerm, glossary_id="g1", version_id="v1").put_many(
        GlossaryTerm(row=n, source=s, translations={"fr": s.upper()}, search=["lang:fr"]) for n, s in enumerate(sources, 2))


def test_a_version_is_active_only_once_embedded_and_one_embedding_runs_at_a_time(db):
    _glossary(db, "Harbour", "Storm")
    with pytest.raises(Conflict, match="embedding is pending"):
        glossaries.activate(db, ADMIN, META, "g1", "v1")
    embedder = HashedNgramEmbedder()
    version = glossaries.embed_version(db, embedder, META, "g1", "v1")
    assert version.embedding_status == "ready" and version.embedding_model == embedder.model
    terms = db.of(GlossaryTerm, glossary_id="g1", version_id="v1").where(order_by=[("row", "asc")])
    assert [t.embedding for t in terms] == embedder.embed(["Harbour", "Storm"])
    active = glossaries.activate(db, ADMIN, META, "g1", "v1")
    assert active["active_version_id"] == "v1" and active["target_languages"] == ["fr"]
    assert glossaries.translation_terms(db, "g1", "en-GB", "fr") == {"Harbour": "HARBOUR", "Storm": "STORM"}
    assert glossaries.translation_terms(db, "g1", "de", "fr") == {}, "a glossary of another source language"

    db.of(GlossaryVersion, glossary_id="g1").update("v1", {"embedding_status": "running", "embedding_started_at": now()})
    with pytest.raises(Conflict, match="being embedded"):
        glossaries.reembed(db, embedder, ADMIN, META, "g1", "v1")
    crashed = now() - glossaries.EMBEDDING_STALE - dt.timedelta(seconds=1)
    db.of(GlossaryVersion, glossary_id="g1").update("v1", {"embedding_started_at": crashed})
    assert glossaries.reembed(db, embedder, ADMIN, META, "g1", "v1")["embedding_status"] == "ready"

    glossaries.archive(db, ADMIN, META, "g1")
    with pytest.raises(Conflict, match="archived"):
        glossaries.archive(db, ADMIN, META, "g1")
    assert actions(db, "glossaries/g1") == ["glossary.activate", "glossary.archive"]
    assert actions(db, "glossaries/g1/versions/v1") == ["glossary.version.embed"] * 2


def test_the_current_track_version_is_the_highest_committed_one(db):
    versions = db.of(TrackVersion, job_id="j1", track_id="fr_captions")
    with pytest.raises(NotFound, match="no captions track"):
        tracks.version_meta(db, "j1", "fr", "captions")
    for n in (1, 3, 2):  # a save that reserved 2 may commit after 3
        versions.put(TrackVersion(n=n, language="fr", kind="captions", source="edit", author_id="u1", created_at=now(),
                                  cue_count=n, size=10, path=f"v{n}.vtt"))
    assert tracks.latest_version(db, "j1", "fr", "captions") == 3
    assert tracks.version_meta(db, "j1", "fr", "captions").path == "v3.vtt"
    assert tracks.version_meta(db, "j1", "fr", "captions", 2).cue_count == 2
    assert [v["version"] for v in tracks.list_versions(db, "j1", "fr", "captions", page=1, size=2).items] == [3, 2]


def test_jobs_read_as_records_but_only_their_unit_of_work_writes_them(db):
    db.atomically(lambda uow: uow.jobs.add(Job("j1", status="queued", title="T")))
    assert [j.id for j in db.of(Job).where(("status", "==", "queued"))] == ["j1"]
    with pytest.raises(TypeError, match="uow.jobs"):
        db.of(Job).update("j1", {"status": "failed"})
    with pytest.raises(TypeError, match="uow.jobs"):
        db.atomically(lambda uow: uow.of(Job).put(Job("j2")))
    assert db.read_job("j1").status == "queued" and db.of(Job).lookup("j2") is None
