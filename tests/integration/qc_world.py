"""A small world for the QC workflow tests: an organization with people of every role, and a job
with a source language, target languages and version 1 of its tracks (as the pipeline saves them)."""
from __future__ import annotations

from dataclasses import dataclass, field

from avp.auth.tokens import Principal
from avp.domain import audit, jobs, language_qc, tenancy, tracks
from tests.helpers import bearer, login, make_job, make_user
from tests.rendered import Rendered, install

SOURCE_VTT = """WEBVTT

00:00:01.000 --> 00:00:03.000
Hello there.

00:00:04.000 --> 00:00:06.000
How are you today?

00:00:07.000 --> 00:00:09.500
Fine, thank you.
"""

DESCRIPTIONS_VTT = """WEBVTT
Kind: descriptions

00:00:03.100 --> 00:00:03.900
A door opens.

00:00:06.100 --> 00:00:06.900
She smiles.
"""

ADMIN = Principal("system-admin", "admin")


@dataclass
class Person:
    user: dict
    headers: dict[str, str]

    @property
    def id(self) -> str:
        return self.user["id"]


@dataclass
class World:
    container: object
    client: object
    org_id: str
    people: dict[str, Person] = field(default_factory=dict)

    @property
    def store(self):
        return self.container.store

    @property
    def storage(self):
        return self.container.storage

    def person(self, role: str, *, member: bool = True) -> Person:
        """A signed-in user of `role`, a member of the world's organization unless `member` is False."""
        user = make_user(self.container, role)
        if member:
            tenancy.add_member(self.store, audit.SYSTEM, ADMIN, self.org_id, role=role, user_id=user["id"])
        resp = login(self.client, user["email"])
        assert resp.status_code == 200, resp.json
        return Person(user, bearer(resp.json["access_token"]))

    def job(self, *, status: str = "language_qc", source: str = "en", targets: tuple[str, ...] = ("fr", "de"),
            duration: float = 12.0, creator: Person | None = None, tracks_for: tuple[str, ...] | None = None) -> dict:
        """A job in `status` (pending_qc, language_qc, final_review or complete) with version 1 of the
        captions (and source descriptions) of `tracks_for`. It gets there the way a real one does
        (`tests.helpers.make_job`: the state machine's transitions and the ingest step's writer), so
        its document has the shape the real writers give it; only the language workflow is not run
        (the tracks it would make are saved through the tracks writer instead)."""
        owner = Principal(creator.id, creator.user["role"]) if creator else Principal("pipeline", "production")
        job_id = make_job(self.store, self.org_id, status=status, creator=owner, title="The Test Film",
                          filename="film.mp4", source_language=source, media={"duration": duration},
                          requested_outputs={"languages": list(targets), "accessible_video_mp4": True})["id"]
        for lang in (tracks_for if tracks_for is not None else (source, *targets)):
            tracks.save_version(self.store, self.storage, audit.SYSTEM, job_id, lang, "captions", SOURCE_VTT,
                                source="pipeline")
        return self.store.get(f"jobs/{job_id}")

    def advance(self, job_id: str, *actions: str, reason: str | None = None) -> None:
        """Move the job through `actions` of the state machine (jobs.TRANSITIONS), as its actors would."""
        for action in actions:
            jobs.transition(self.store, audit.SYSTEM, job_id, action, reason=reason)

    def language(self, job_id: str, lang: str, state: str, *, linguist: Person, reviewer: Person | None = None) -> None:
        """Take `lang` of the job to `state` (assigned, in_progress, submitted or in_review) through
        language QC's own writers: its assignments, then the moves of its state machine."""
        language_qc.assign(self.store, audit.SYSTEM, ADMIN, job_id, lang, linguist.id, role="linguist", replacing=False)
        if reviewer:
            language_qc.assign(self.store, audit.SYSTEM, ADMIN, job_id, lang, reviewer.id, role="reviewer",
                               replacing=False)
        moves = ("start_work", "submit", "open_review")
        for action in moves[:("assigned", "in_progress", "submitted", "in_review").index(state)]:
            language_qc.move(self.store, audit.SYSTEM, ADMIN, job_id, lang, action)

    def with_accessible_video(self, job_id: str, rendered: Rendered) -> None:
        """The language of the session's real run (tests/rendered.py: the `accessible_render`
        fixture) on this job, as its steps left it: description track, pause points, fit report and
        accessible MP4. Make the job with `duration=rendered.duration`."""
        install(self.store, self.storage, job_id, rendered)


def make_world(container, client) -> World:
    # Every test has a Firestore project of its own, so one name serves all.
    org = tenancy.create_organization(container.store, audit.SYSTEM, name="Test Org")
    return World(container, client, org["id"])
