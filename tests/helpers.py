"""Helpers for tests that talk to the API through the gateway."""
from __future__ import annotations

import contextlib
import itertools
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

from avp.auth.tokens import Principal
from avp.domain import audit, jobs, language_qc, users

PASSWORD = "correct horse battery staple"
_counter = itertools.count()

API = "/api/v1"


def make_user(container, role: str = "admin", email: str | None = None, password: str = PASSWORD, **kw) -> dict:
    """An account made by the real code path, as its stored fields and id (what the tests index)."""
    email = email or f"{role}{next(_counter)}@example.com"
    user = users.create_user(container.store, audit.SYSTEM, email=email, role=role, password=password, **kw)
    return {**user.to_doc(), "id": user.id}


def login(client, email: str, password: str = PASSWORD, ip: str = "10.0.0.1"):
    return client.post(f"{API}/auth/login", json={"email": email, "password": password},
                       environ_base={"REMOTE_ADDR": ip}, base_url="https://localhost")


def token_for(client, container, role: str = "admin", **kw) -> tuple[str, dict]:
    user = make_user(container, role, **kw)
    resp = login(client, user["email"])
    assert resp.status_code == 200, resp.json
    return resp.json["access_token"], user


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def mailed_link(container, to: str, marker: str) -> str:
    """The secret after `marker` in the newest mail of the local outbox sent to `to`."""
    import email
    from email import policy

    mails = sorted((container.settings.data_dir / "outbox").glob("*.eml"))
    for path in reversed(mails):
        message = email.message_from_bytes(path.read_bytes(), policy=policy.default)
        body = message.get_body(("plain",)).get_content()
        if message["To"] == to and marker in body:
            return body.split(marker, 1)[1].split()[0]
    raise AssertionError(f"no mail to {to} holds {marker}")


def assert_exact_records(repository, *filters) -> None:
    """Every stored document `repository` reads (matching `filters`) is exactly its record: a field
    a writer adds that the record does not name would ride in `extra`, unseen by every reader."""
    records = repository.where(*filters)
    assert records, "nothing was written"
    leftovers = {r.id: r.extra for r in records if r.extra}
    assert not leftovers, f"documents hold fields their record does not name: {leftovers}"


# The transitions that take a new (uploading) job to each state, as its actors would (approve_source
# with the languages it opens: jobs._with_language_states).
JOB_PATHS = {
    "uploading": (), "queued": ("complete_upload",), "processing": ("complete_upload", "start_processing"),
    "failed": ("complete_upload", "start_processing"), "cancelled": ("cancel",),
    "pending_qc": ("complete_upload", "start_processing", "finish_processing"),
}
JOB_PATHS |= {"language_qc": (*JOB_PATHS["pending_qc"], "approve_source"),
           "final_review": (*JOB_PATHS["pending_qc"], "approve_source", "languages_approved"),
           "complete": (*JOB_PATHS["pending_qc"], "approve_source", "languages_approved", "complete")}
ROBOT = Principal("system", "admin")


def make_job(store, org_id: str, client_id: str | None = None, *, status: str = "pending_qc",
             project_id: str | None = None, creator: Principal = ROBOT, title: str = "a job", filename: str = "a.mp4",
             source_language: str | None = None, requested_outputs: Mapping[str, Any] | None = None,
             size_bytes: int = 1000, content_type: str = "video/mp4", media: Mapping[str, Any] | None = None,
             steps_done: Iterable[str] = (), step_seconds: Mapping[str, float] | None = None,
             stage: str | None = None, execution_id: str | None = None, failed_step: str | None = None,
             failure_reason: str | None = None, deleted: bool = False, created_at=None,
             assignments: Mapping[str, Mapping[str, str]] | None = None, uploaded: tuple[Any, bytes] | None = None
             ) -> dict[str, Any]:
    """A job in `status`, made the way real ones are: `jobs.new_job` and `store_new_job`, the state
    machine's transitions (along a legal path) and `jobs.record_step` for what its steps recorded
    (`media`, `steps_done`, `step_seconds`), `jobs.fail` for a failure, `jobs.delete_job` for a
    deleted one, language QC's `assign` for `assignments` ({lang: {"linguist": id, "reviewer": id}},
    planned once the job waits for source QC); `uploaded` (storage, bytes) is its uploaded video, its
    URI recorded as the upload path records it. So it has the shape the writers give a job, never
    one only a test writes."""
    job = jobs.new_job(creator, org_id=org_id, client_id=client_id, project_id=project_id, title=title,
                       filename=filename, content_type=content_type, size_bytes=size_bytes,
                       source_language=source_language, requested_outputs=dict(requested_outputs or {}))
    if created_at is not None:
        job["created_at"] = created_at  # a job made in the past (the clock, not a pipeline field)
    if uploaded:
        storage, data = uploaded
        job["source_uri"] = storage.uri(job["source_path"])  # as uploads.store_job records it
        storage.write_bytes(job["source_path"], data, content_type)
    job_id, at = jobs.store_new_job(store, audit.SYSTEM, job).id, "uploading"
    seconds = dict(step_seconds or {})
    done = list(dict.fromkeys([*steps_done, *seconds]))
    for action in JOB_PATHS[status]:
        if action == "start_processing":
            started = {k: v for k, v in (("execution_id", execution_id), ("stage", stage)) if v is not None}
            at = jobs.transition(store, audit.SYSTEM, job_id, action, changes=started).status
            for step in done or (["ingest"] if media else []):
                changes = {"media": dict(media)} if media and step == "ingest" else {}
                jobs.record_step(store, job_id, step, seconds.get(step, 0.0), jobs.StepResult(changes=changes))
            continue
        if action == "languages_approved" and at == "final_review":
            continue  # a job with no target language goes from source approval to final review
        # approve_source opens every target language, as the review action does (jobs.take_action).
        changes = jobs._with_language_states if action == "approve_source" else None
        at = jobs.transition(store, audit.SYSTEM, job_id, action, changes=changes).status
        if at == "pending_qc":
            for lang, people in (assignments or {}).items():
                for role, user_id in people.items():
                    language_qc.assign(store, audit.SYSTEM, ROBOT, job_id, lang, user_id, role=role, replacing=False)
    if status == "failed":
        step = failed_step or "ingest"
        jobs.fail(store, audit.SYSTEM, job_id, step, failure_reason or f"{step} broke")
    if deleted:
        jobs.delete_job(store, ROBOT, audit.SYSTEM, job_id)
    made = store.get(f"jobs/{job_id}")
    assert not assignments or made["languages"], "assignments are planned from pending_qc on"
    assert made["status"] == status, f"no legal path to {status} for this job: it is {made['status']}"
    return made


@contextlib.contextmanager
def json_server(answer: Callable[[], tuple[int, bytes]]) -> Iterator[str]:
    """A real HTTP server on a free local port answering every GET and POST with `answer()`
    (status, JSON body): a provider's endpoint, as the tests need it. Yields its base URL."""
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class Handler(BaseHTTPRequestHandler):
        def _reply(self):
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            status, body = answer()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = _reply  # noqa: N815 (http.server's names)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
