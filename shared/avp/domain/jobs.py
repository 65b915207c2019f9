"""Jobs: creation, the state machine of DOMAIN.md, and the transitions every actor uses; the job
API's operations (listing, views, edits, actions, bulk operations) on top of them."""
from __future__ import annotations

import datetime as dt
import shutil
import zipfile
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, fields
from pathlib import PurePosixPath
from typing import TYPE_CHECKING, Any

from avp import logs
from avp.auth.tokens import Principal
from avp.domain import access, audit, plan
from avp.domain.aggregates import Client, Organization, Project
from avp.domain.audit import AuditMeta
from avp.domain.model import ASSET_KINDS, Asset, Job, job_outputs, language_outputs, requested_kinds
from avp.domain.paging import Page
from avp.domain.ports import Database, Progress, UnitOfWork, Units
from avp.domain.records import MAX_ANY, new_id, now
from avp.errors import AvpError, BadRequest, Conflict, Forbidden, NotFound, PayloadTooLarge, Unprocessable

if TYPE_CHECKING:
    from avp.domain.ports import WorkflowRunner
    from avp.storage import Storage

log = logs.get("domain.jobs")

STATES = ("uploading", "queued", "processing", "pending_qc", "language_qc", "final_review", "complete",
          "failed", "cancelled", "rejected", "blocked_on_source")
LANGUAGE_RUN_STATES = {"pending_qc", "language_qc", "final_review", "blocked_on_source"}
ACTIVE = {"uploading", "queued", "processing", "pending_qc", "language_qc", "final_review"}
PIPELINE_STEPS = ("ingest", "transcribe", "shots", "captions", "describe", "synthesize", "render")
# The `requested_outputs` flags a job may set (the kinds they ask for: model.REQUEST_FLAGS).
OUTPUT_KINDS = ("captions_vtt", "audio_description_vtt", "audio_description_mp3", "accessible_video_mp4")


def _after_source_approval(job: dict[str, Any]) -> str:
    # Languages already approved (English by approve_english) need no more language QC.
    languages = job.get("languages") or {}
    open_languages = [lang for lang in (job.get("requested_outputs") or {}).get("languages") or ()
                      if (languages.get(lang) or {}).get("state") != "approved"]
    return "language_qc" if open_languages else "final_review"


@dataclass(frozen=True)
class Transition:
    sources: frozenset[str]
    target: str | Callable[[Mapping[str, Any]], str]

    def target_for(self, job: Mapping[str, Any]) -> str:
        return self.target(job) if callable(self.target) else self.target


def _t(sources, target) -> Transition:
    return Transition(frozenset(sources), target)


TRANSITIONS: dict[str, Transition] = {
    "complete_upload": _t({"uploading"}, "queued"),
    "start_processing": _t({"queued"}, "processing"),
    "finish_processing": _t({"processing"}, "pending_qc"),
    "fail": _t({"queued", "processing"}, "failed"),
    "cancel": _t({"uploading", "queued", "processing"}, "cancelled"),
    "retry": _t({"failed"}, "queued"),
    # A language run (translate, synthesize, render of one language) fails the job from the review
    # state it ran in; retrying goes back to that state and resumes the unfinished languages.
    "fail_language": _t(LANGUAGE_RUN_STATES, "failed"),
    "retry_language": _t({"failed"}, lambda job: job.get("failed_from") or "language_qc"),
    "reprocess": _t(set(STATES) - {"uploading"}, "queued"),
    "approve_source": _t({"pending_qc"}, _after_source_approval),
    "approve_english": _t({"pending_qc"}, _after_source_approval),
    "reject": _t({"pending_qc"}, "rejected"),
    "languages_approved": _t({"language_qc"}, "final_review"),
    "complete": _t({"final_review"}, "complete"),
    "reject_final": _t({"final_review"}, "language_qc"),
    "return_to_qc": _t({"final_review"}, "pending_qc"),
    "blocked_on_source": _t(ACTIVE, "blocked_on_source"),
    "promote_to_qc": _t({"processing", "failed", "blocked_on_source"}, "pending_qc"),
}


Changes = dict[str, Any] | Callable[[Job], dict[str, Any]]
TYPED_FIELDS = frozenset(f.name for f in fields(Job)) - {"id", "outputs", "extra"}


def apply_changes(job: Job, changes: dict[str, Any]) -> None:
    """Set fields of the aggregate from a change map (keys may be dotted paths into map fields).
    Outputs are not changed this way: `Job.record_asset` is their one door."""
    for key, value in changes.items():
        head, *rest = key.split(".")
        if head in ("id", "outputs", "extra"):
            raise ValueError(f"{head} is not changed through a change map")
        if not rest:
            if head in TYPED_FIELDS:
                setattr(job, head, value)
            else:
                job.extra[head] = value
            continue
        node = getattr(job, head) if head in TYPED_FIELDS else job.extra.setdefault(head, {})
        if node is None:
            node = {}
            setattr(job, head, node) if head in TYPED_FIELDS else job.extra.__setitem__(head, node)
        for part in rest[:-1]:
            node = node.setdefault(part, {})
        node[rest[-1]] = value


def transition(units: Units, meta: AuditMeta, job_id: str, action: str, *, reason: str | None = None,
               changes: Changes | None = None, check: Callable[[Job], None] | None = None) -> Job:
    """Move a job through `action` in one unit of work (job, status mirror and audit entry commit
    together): 409 (with the current state) when the state does not allow it. `check(job)` may veto
    with a domain error; `changes` (a dict, or a function of the job as read) are written alongside
    and seen by the target rule."""
    rule = TRANSITIONS[action]

    def work(uow: UnitOfWork) -> Job:
        job = uow.jobs.get(job_id)
        before = job.status
        if before not in rule.sources:
            raise Conflict(f"cannot {action.replace('_', ' ')} a job in state {before}")
        if check:
            check(job)
        apply_changes(job, (changes(job) if callable(changes) else changes) or {})
        job.status = rule.target_for(job)
        if job.status != "processing":
            job.stage, job.step_progress = None, None
        if reason is not None:
            job.extra["status_reason"] = reason
        job.updated_at = now()
        uow.jobs.save(job)
        uow.audit.append(audit.entry(meta, f"job.{action}", f"jobs/{job_id}", before={"status": before},
                                     after={"status": job.status}, reason=reason))
        return job

    return units.atomically(work)


def fail(units: Units, meta: AuditMeta, job_id: str, step: str, reason: str, language: str | None = None) -> Job | None:
    """Mark the job failed at `step` (of `language`, for a language run) with a reason a person can
    act on. A job already failed keeps the reason recorded first (None is returned); a job in a
    state that no run can fail (cancelled...) is left alone likewise."""
    try:
        if language:
            return transition(units, meta, job_id, "fail_language", reason=reason, changes=lambda job: {
                "failed_step": step, "failed_language": language, "failure_reason": reason, "failed_from": job.status})
        return transition(units, meta, job_id, "fail", reason=reason,
                          changes={"failed_step": step, "failed_language": None, "failure_reason": reason})
    except Conflict as exc:
        logs.event(log, f"not marked failed: {exc.detail}", job_id=job_id, step=step, language=language)
        return None


def report_progress(units: Units, job_id: str, *, stage: str | None = None, step_progress: float | None = None,
                    progress: float | None = None, language: str | None = None) -> None:
    """Record a running step's progress (its own share done, and the whole job's, which never falls).

    Not a state change, so no transaction: parallel steps reporting progress on one job would
    otherwise contend for it (the emulator serialises such transactions for seconds)."""
    def clamp(x: float | None) -> float | None:
        return None if x is None else round(max(0.0, min(1.0, x)), 4)

    units.report_progress(job_id, Progress(stage, clamp(step_progress), clamp(progress), language))


def record_step(units: Units, job_id: str, done: str, seconds: float, result: StepResult) -> Job:
    """Record what a finished step made (its assets and reports, for its language), that it is
    done, and how long it took, in one unit of work."""
    def work(uow: UnitOfWork) -> Job:
        job = uow.jobs.get(job_id)
        apply_changes(job, result.changes)
        for lang, kind, asset in result.assets:
            job.record_asset(lang, kind, asset)
        for lang, reports in result.reports.items():
            out = job.language_outputs(lang)
            for name, value in reports.items():
                setattr(out, name, value)
        if done not in job.steps_done:
            job.steps_done = [*job.steps_done, done]
        job.extra.setdefault("step_seconds", {})[done.replace(":", "_")] = seconds
        job.updated_at = now()
        uow.jobs.save(job)
        return job

    return units.atomically(work)


@dataclass
class StepResult:
    """What a pipeline step made: assets per language, per-language reports (`fit_report`,
    `render_stats`, `pause_points`), and other job fields it found out (media facts, notes)."""

    changes: dict[str, Any] = field(default_factory=dict)
    assets: list[tuple[str, str, Asset]] = field(default_factory=list)
    reports: dict[str, dict[str, Any]] = field(default_factory=dict)

    def asset(self, lang: str, kind: str, asset: Asset) -> None:
        """Record an asset of `lang`."""
        self.assets.append((lang, kind, asset))

    def report(self, lang: str, **reports: Any) -> None:
        """Record reports of `lang` (LanguageOutputs fields)."""
        self.reports.setdefault(lang, {}).update(reports)


def title_key(title: str | None) -> str:
    """The title as `GET /jobs?q=` matches it: case-insensitively, by its start."""
    return " ".join((title or "").casefold().split())


def new_job(principal: Principal, *, org_id: str, client_id: str | None, project_id: str | None, title: str,
            filename: str, content_type: str, size_bytes: int, source_language: str | None,
            requested_outputs: dict[str, Any] | None, notes: str = "") -> dict[str, Any]:
    """A job record in state `uploading` (not yet stored)."""
    job_id = new_id()
    ext = filename.rsplit(".", 1)[-1].lower() if "." in filename else "bin"
    job = {
        "id": job_id, "org_id": org_id, "client_id": client_id, "project_id": project_id,
        "created_by": principal.user_id, "title": title or filename, "title_key": title_key(title or filename),
        "notes": notes, "filename": filename,
        "content_type": content_type, "size_bytes": size_bytes, "source_language": source_language,
        "requested_outputs": requested_outputs or {}, "source_path": f"jobs/{job_id}/source.{ext}",
        "status": "uploading", "stage": None, "progress": 0.0, "failed_step": None, "failure_reason": None,
        "steps_done": [], "outputs": {}, "languages": {}, "media": None, "deleted": False,
        "created_at": now(), "updated_at": now(),
    }
    job["access_keys"] = access.job_keys(job)
    return job


def store_new_job(units: Units, meta: AuditMeta, job: Mapping[str, Any]) -> Job:
    """Store a new job (from `new_job`) with its status mirror and an audit entry."""
    aggregate = job if isinstance(job, Job) else Job.from_doc(job["id"], {k: v for k, v in job.items() if k != "id"})

    def work(uow: UnitOfWork) -> None:
        uow.jobs.add(aggregate)
        uow.audit.append(audit.entry(meta, "job.create", f"jobs/{aggregate.id}",
                                     after={"title": aggregate.title, "org_id": aggregate.org_id}))

    units.atomically(work)
    return aggregate


def get_job(units: Units, job_id: str) -> Job:
    """The job (404 when there is none)."""
    return units.read_job(job_id)


# -- who creates jobs, and where ------------------------------------------------------
CREATE_ROLES = frozenset({"client", "production", "project_manager", "admin"})
RUNNING = frozenset({"uploading", "queued", "processing"})  # everything else is a resting state


def require_creator(principal: Principal) -> None:
    """403 unless the caller's role may create jobs."""
    if principal.role not in CREATE_ROLES:
        raise Forbidden(f"requires role: {', '.join(sorted(CREATE_ROLES))}")


def resolve_placement(store: Database, principal: Principal | None, org_id: str | None, client_id: str | None,
                      project_id: str | None) -> dict[str, str | None]:
    """Where a job goes: the organization (default: the caller's only one; a member's own, any for
    admin), and optionally a client of it the caller may see and a live project of that client.
    `principal` None is the platform itself (storage events): any organization, named explicitly."""
    orgs = access.member_org_ids(store, principal) if principal else None
    if client_id:
        client = access.require_client(store, principal, client_id) if principal else store.of(Client).lookup(client_id)
        if client is None or client.deleted:
            raise NotFound("client not found")
        if org_id and client.org_id != org_id:
            raise Unprocessable({"client_id": ["the client belongs to another organization"]})
        org_id = client.org_id
    if not org_id:
        if orgs is None or len(orgs) != 1:
            raise Unprocessable({"org_id": ["required: name the organization the job belongs to"]})
        org_id = orgs[0]
    org = store.of(Organization).lookup(org_id)
    if org is None or org.deleted or (orgs is not None and org_id not in orgs):
        raise NotFound("organization not found")
    if project_id:
        if not client_id:
            raise Unprocessable({"project_id": ["a project needs its client_id"]})
        project = store.of(Project, client_id=client_id).lookup(project_id)
        if project is None or project.deleted or project.archived:
            raise NotFound("project not found")
    return {"org_id": org_id, "client_id": client_id, "project_id": project_id}


def launch_pipeline(store: Database, runner: WorkflowRunner, meta: AuditMeta, job_id: str) -> dict[str, Any]:
    """Start the pipeline of a `queued` job with the steps it still needs, then mark it `processing`
    with the execution id. A runner that cannot start leaves the job `failed` with the reason, so
    `retry` can start it again later."""
    job = get_job(store, job_id)
    audio_only = str(job.get("content_type", "")).startswith("audio/")
    planned = plan.steps_for(job.requested_outputs, audio_only=audio_only)
    steps = [s for s in planned if s not in job.steps_done]
    try:
        execution_id = runner.start_pipeline(job_id, steps)
    except Exception as exc:  # any runner failure (network, quota, config) is the job's failure reason
        logs.event(log, "pipeline did not start", job_id=job_id, error=str(exc))
        return transition(store, meta, job_id, "fail", changes={
            "failed_step": steps[0] if steps else "ingest", "failure_reason": f"the pipeline could not start: {exc}"})
    try:
        # A resumed run starts from what its done steps are worth, not from zero.
        start = plan.run_progress({**job, "planned_steps": planned}, steps[0], 0.0) if steps else 1.0
        return transition(store, meta, job_id, "start_processing", changes={
            "execution_id": execution_id, "stage": steps[0] if steps else None, "progress": round(start, 4),
            "step_progress": 0.0, "planned_steps": planned})
    except Conflict:
        runner.cancel(execution_id)  # the job moved on meanwhile (cancelled): this run must not go on
        raise


def describe_error(exc: AvpError) -> str:
    """An error's detail as one line (field messages joined)."""
    detail = exc.detail
    if isinstance(detail, dict):
        return "; ".join(f"{k}: {' '.join(map(str, v if isinstance(v, list) else [v]))}" for k, v in detail.items())
    return str(detail)


# -- views ---------------------------------------------------------------------------
SUMMARY_FIELDS = ("id", "title", "status", "stage", "progress", "step_progress", "source_language", "org_id",
                  "client_id", "project_id", "created_by", "created_at", "updated_at")


def summary_view(job: Mapping[str, Any]) -> dict[str, Any]:
    """A job as lists show it."""
    out = {k: job.get(k) for k in SUMMARY_FIELDS}
    out["languages"] = list((job.get("requested_outputs") or {}).get("languages") or [])
    if job.get("deleted"):
        out["deleted"] = True
    return out


def job_view(job: Mapping[str, Any]) -> dict[str, Any]:
    """A job with its full per-language output map."""
    source = language_outputs(job, job.get("source_language") or "")
    return {
        **summary_view(job), "filename": job.get("filename"), "source_gcs_uri": job.get("source_uri"),
        "duration_s": (job.get("media") or {}).get("duration"), "requested_outputs": job.get("requested_outputs") or {},
        "media": job.get("media"), "detected_language": job.get("detected_language"),
        "pipeline_notes": job.get("notes_pipeline") or [], "step_seconds": job.get("step_seconds") or {},
        "caption_qc": job.get("caption_qc"), "fit_report": source.fit_report, "render_stats": source.render_stats,
        "outputs": output_map(job), "failed_step": job.get("failed_step"), "failed_language": job.get("failed_language"),
        "failure_reason": job.get("failure_reason"),
        "descriptions_to_write": job.get("descriptions_to_write") or {},
        "rejection_reason": job.get("rejection_reason"), "notes": job.get("notes"), "brief_id": job.get("brief_id"),
        "glossary_id": job.get("glossary_id"), "workflow_execution": job.get("execution_id"),
    }


def _job_languages(job: Mapping[str, Any]) -> list[str]:
    source = job.get("source_language")
    ordered = [source] if source else []
    for lang in [*_targets(job), *job_outputs(job)]:
        if lang not in ordered:
            ordered.append(lang)
    return ordered


def asset_view(asset: Asset) -> dict[str, Any]:
    """An asset as the API's Asset."""
    return {"status": asset.state, "gcs_uri": asset.uri,
            "size_bytes": asset.size, "checksum": asset.checksum, "version": asset.version,
            "updated_at": asset.updated_at}


def output_map(job: Mapping[str, Any]) -> dict[str, Any]:
    """Every language of the job (source first) with the state of each deliverable it asked for (and
    any other one stored, e.g. uploaded); what the pipeline has not made yet is `pending`. A
    deliverable nobody asked for is left out rather than shown `pending` forever."""
    result = {}
    wanted = plan.asset_kinds_for(job.get("requested_outputs") or {},
                                  audio_only=str(job.get("content_type", "")).startswith("audio/"))
    for lang in _job_languages(job):
        stored = language_outputs(job, lang)
        qc = (job.get("languages") or {}).get(lang) or {}
        entry: dict[str, Any] = {"language": lang, "is_source": lang == job.get("source_language") or stored.is_source,
                                 "qc_status": qc.get("state")}
        if "machine_translated" in qc:
            entry["machine_translated"] = qc["machine_translated"]
        for kind in ASSET_KINDS:
            asset = stored.asset(kind)
            if kind in wanted or asset.state != "pending":
                entry[kind] = asset_view(asset)
        entry["fit_report"], entry["render_stats"] = stored.fit_report, stored.render_stats
        result[lang] = entry
    return result


# -- listing --------------------------------------------------------------------------
SORT_FIELDS = ("created_at", "updated_at", "title", "status")


@dataclass(frozen=True)
class JobQuery:
    """Filters, order and page of a job list."""

    page: int = 1
    size: int = 20
    cursor: str | None = None
    sort: str = "-created_at"
    statuses: tuple[str, ...] = ()
    org_id: str | None = None
    client_id: str | None = None
    project_id: str | None = None
    created_by: str | None = None
    q: str | None = None


def list_jobs(store: Database, principal: Principal, query: JobQuery) -> Page:
    """The jobs the caller may see (never deleted ones), filtered and sorted, one page at a time —
    a single indexed query per page (`access_keys` array-contains-any the caller's keys) while the
    keys times the statuses asked for fit in one query, a few merged queries beyond."""
    return _visible_jobs(store, principal, query).map(summary_view)


def _visible_jobs(store: Database, principal: Principal, query: JobQuery) -> Page[Job]:
    filters: list[tuple[str, str, Any]] = []  # deleted jobs carry no key
    if len(query.statuses) > MAX_ANY:
        raise BadRequest(f"ask for at most {MAX_ANY} statuses at once")
    if query.statuses:
        single = len(query.statuses) == 1
        filters.append(("status", "==", query.statuses[0]) if single else ("status", "in", list(query.statuses)))
    for name in ("org_id", "client_id", "project_id", "created_by"):
        value = getattr(query, name)
        if value:
            filters.append((name, "==", principal.user_id if name == "created_by" and value == "me" else value))
    sort_field = query.sort.lstrip("-")
    if sort_field not in SORT_FIELDS:
        raise BadRequest(f"sort by one of {', '.join(SORT_FIELDS)}")
    if query.q and title_key(query.q):
        # A title prefix is a range on `title_key`, which Firestore orders by first. A range beside
        # equality filters needs one composite index per combination: a search stands alone.
        if filters:
            raise BadRequest("q (a title search) combines only with sort, not with status, org_id, client_id, "
                             "project_id or created_by")
        key = title_key(query.q)
        filters += [("title_key", ">=", key), ("title_key", "<", key + "\uf8ff")]
        sort_field = "title_key"
    order = (sort_field, "desc" if query.sort.startswith("-") else "asc")
    # Firestore counts (keys x statuses) disjunctions against one limit.
    per_query = MAX_ANY // max(1, len(query.statuses))
    return access.page_by_keys(store.of(Job), access.job_list_keys(store, principal), filters, order, query.page,
                               query.size, query.cursor, "jobs", per_query=per_query)


# -- edits --------------------------------------------------------------------------------
def change(units: Units, meta: AuditMeta, job_id: str, action: str, fn: Callable[[Job], dict[str, Any]],
            reason: str | None = None) -> Job:
    """Change a job without a state transition, through the status writer, with an audit entry."""

    def work(uow: UnitOfWork) -> Job:
        job = uow.jobs.get(job_id)
        changes = fn(job)
        before = {k: job.get(k.split(".")[0]) for k in changes}
        apply_changes(job, changes)
        job.updated_at = now()
        uow.jobs.save(job)
        uow.audit.append(audit.entry(meta, f"job.{action}", f"jobs/{job_id}", before=before, after=changes, reason=reason))
        return job

    return units.atomically(work)


def update_job(store: Database, principal: Principal, meta: AuditMeta, job_id: str, body: dict[str, Any]) -> dict[str, Any]:
    """Change title, notes, placement (client/project, within the job's organization), requested
    outputs (only while `uploading`: 409 after), or restore a deleted job (`deleted: false`, admin)."""
    job = access.require_job(store, principal, job_id, "edit")
    if "deleted" in body:
        if not principal.is_admin:
            raise Forbidden("only an administrator may restore a deleted job")
        if body["deleted"]:
            raise Unprocessable({"deleted": ["use DELETE /jobs/{job_id} to delete a job"]})
    placement = None
    if "client_id" in body or "project_id" in body:
        client_id = body.get("client_id", job.get("client_id"))
        project_id = body.get("project_id", job.get("project_id") if client_id == job.get("client_id") else None)
        placement = resolve_placement(store, principal, job["org_id"], client_id, project_id)

    def changes(current: dict[str, Any]) -> dict[str, Any]:
        out = {k: body[k] for k in ("title", "notes") if k in body}
        if "title" in out:
            out["title_key"] = title_key(out["title"])
        if "requested_outputs" in body:
            if current["status"] != "uploading":
                raise Conflict(f"requested outputs can only change before processing; the job is {current['status']}")
            out["requested_outputs"] = body["requested_outputs"]
        if placement is not None:
            out.update(placement)
        if body.get("deleted") is False:
            out.update(deleted=False, deleted_at=None, deleted_by=None)
        if placement is not None or "deleted" in out:
            out["access_keys"] = access.job_keys({**current, **out})
        return out

    return change(store, meta, job_id, "restore" if "deleted" in body else "update", changes)


def refresh_access_keys(store: Database) -> tuple[int, int]:
    """`avp migrate`: give every job the access keys this version computes (`access.job_keys`: jobs
    written before live jobs carried LIVE_KEY and deleted ones none). Idempotent; one unit of work
    per job changed, through the job writer (so the status mirror follows). Returns (jobs, changed)."""
    seen = changed = 0
    for found in store.of(Job).where():
        seen += 1
        if sorted(found.access_keys) == access.job_keys(found):
            continue

        def work(uow: UnitOfWork, job_id: str = found.id) -> None:
            job = uow.jobs.get(job_id)
            job.access_keys = access.job_keys(job)
            uow.jobs.save(job)

        store.atomically(work)
        changed += 1
    return seen, changed


def delete_job(store: Database, principal: Principal, meta: AuditMeta, job_id: str) -> None:
    """Soft delete: hidden from lists and from everyone but admins, who may restore it."""
    access.require_job(store, principal, job_id, "delete")

    def changes(current: dict[str, Any]) -> dict[str, Any]:
        if current["status"] == "processing":
            raise Conflict("the job is processing; cancel it first")
        return {"deleted": True, "deleted_at": now(), "deleted_by": principal.user_id,
                "access_keys": access.job_keys({**current, "deleted": True})}

    change(store, meta, job_id, "delete", changes)


def cancel_job(store: Database, runner: WorkflowRunner, principal: Principal, meta: AuditMeta, job_id: str,
               note: str | None = None) -> dict[str, Any]:
    """Cancel a job that is uploading, queued or processing, and stop its running execution."""
    access.require_job(store, principal, job_id, "cancel")
    job = transition(store, meta, job_id, "cancel", reason=note)
    _stop_execution(runner, job)
    return job


def _stop_execution(runner: WorkflowRunner, job: dict[str, Any]) -> None:
    if not job.get("execution_id"):
        return
    try:
        runner.cancel(job["execution_id"])
    except Exception as exc:  # the job's state already forbids the run's further writes
        logs.event(log, "could not cancel the execution", job_id=job["id"], execution_id=job["execution_id"], error=str(exc))


def retry_job(store: Database, runner: WorkflowRunner, principal: Principal, meta: AuditMeta, job_id: str,
              note: str | None = None) -> Job:
    """Start a failed job again where it stopped: the pipeline without the steps it has done, or,
    when a language run failed, every unfinished language from its first step not done."""
    job = access.require_job(store, principal, job_id, "retry")
    if job.get("failed_language"):
        return _retry_languages(store, runner, meta, job_id, note)
    transition(store, meta, job_id, "retry", reason=note, changes={"failed_step": None, "failure_reason": None, "step_errors": {}})
    return launch_pipeline(store, runner, meta, job_id)


def _retry_languages(units: Units, runner: WorkflowRunner, meta: AuditMeta, job_id: str, note: str | None) -> Job:
    job = transition(units, meta, job_id, "retry_language", reason=note, changes={
        "failed_step": None, "failure_reason": None, "failed_language": None, "step_errors": {}})
    return _resume_languages(units, runner, meta, job)


def _resume_languages(units: Units, runner: WorkflowRunner, meta: AuditMeta, job: Job) -> Job:
    steps = plan.language_steps_for(job.requested_outputs)
    remaining: dict[tuple[str, ...], list[str]] = {}
    for lang in _open_languages(job):
        todo = tuple(s for s in steps if f"{s}:{lang}" not in job.steps_done)
        if todo:
            remaining.setdefault(todo, []).append(lang)
    for todo, langs in remaining.items():
        job = _record_language_run(units, meta, job.id, runner.start_languages(job.id, langs, list(todo)))
    return job


def _record_language_run(units: Units, meta: AuditMeta, job_id: str, execution_id: str) -> Job:
    return change(units, meta, job_id, "languages_started", lambda _job: {"languages_execution_id": execution_id})


# -- deliverables ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Deliverable:
    """One made object of a job: its language, asset kind, storage path, and recorded size."""

    language: str
    kind: str
    path: str
    gcs_uri: str
    size: int | None = None


def deliverables(storage: Storage, job: Mapping[str, Any], *, with_source: bool = False) -> list[Deliverable]:
    """The objects the job's outputs record as made (ready or stale), and its source video when asked."""
    found = []
    if with_source and job.get("source_path") and job["status"] not in ("uploading",):
        found.append(Deliverable(job.get("source_language") or "source", "source_video", job["source_path"],
                                 storage.uri(job["source_path"]), job.get("size_bytes")))
    for lang, stored in sorted(job_outputs(job).items()):
        for kind in ASSET_KINDS:
            asset = stored.asset(kind)
            if asset.path and asset.state in ("ready", "stale"):
                found.append(Deliverable(lang, kind, asset.path, storage.uri(asset.path), asset.size))
    return found


def validate_outputs(store: Database, storage: Storage, principal: Principal, job_id: str) -> dict[str, Any]:
    """Check that every deliverable the job records exists in storage, not empty and of its recorded size."""
    job = access.require_job(store, principal, job_id)
    items = deliverables(storage, job)
    missing = []
    for item in items:
        stat = storage.stat(item.path)
        size = int(stat["size"] or 0) if stat else 0
        if not size or (item.size is not None and size != item.size):
            missing.append({"language": item.language, "kind": item.kind, "gcs_uri": item.gcs_uri,
                            "reason": "missing" if stat is None else "empty" if not size else
                            f"{size} bytes instead of {item.size}"})
    return {"job_id": job_id, "ok": not missing, "checked": len(items), "missing": missing}


# -- review actions -------------------------------------------------------------------------
REASON_REQUIRED = frozenset({"reject", "reject_final", "return_to_qc", "blocked_on_source"})
TTS_RETRY_STATES = frozenset({"pending_qc", "language_qc", "final_review", "failed", "blocked_on_source"})


def _targets(job: dict[str, Any]) -> list[str]:
    return list((job.get("requested_outputs") or {}).get("languages") or [])


def _with_language_states(job: dict[str, Any], states: dict[str, str] | None = None, **extra: Any) -> dict[str, Any]:
    """The job's `languages` map with every target present (new ones `unassigned`) and `states` applied."""
    languages = {k: dict(v) for k, v in (job.get("languages") or {}).items()}
    for lang in _targets(job):
        languages.setdefault(lang, {"state": "unassigned"})
    for lang, state in (states or {}).items():
        languages[lang] = {**languages.get(lang, {}), "state": state, **extra}
    return {"languages": languages}


def _open_languages(job: Mapping[str, Any]) -> list[str]:
    languages = job.get("languages") or {}
    return [lang for lang in _targets(job) if (languages.get(lang) or {}).get("state") != "approved"]


def _check_english_pivot(job: Job) -> None:
    if (job.source_language or "").split("-")[0] == "en" or "en" not in _targets(job):
        raise Conflict("approve_english applies to a job whose source is not English and whose targets include en")
    if not language_outputs(job, "en").asset("captions_vtt").ready:
        raise NoEnglishTrack("there is no English track to approve yet: it is being made from the source now; "
                             "review it and approve it when its captions are ready")


class NoEnglishTrack(Conflict):
    """approve_english before the English track exists (its making is then started)."""


def take_action(store: Database, runner: WorkflowRunner, principal: Principal, meta: AuditMeta, job_id: str, action: str, *,
                reason: str | None = None, note: str | None = None, languages: Iterable[str] = ()) -> Job:
    """One of the review actions of DOMAIN.md's state machine, with the roles of access.JOB_ACTIONS."""
    access.require_job(store, principal, job_id, action)
    if action in REASON_REQUIRED and not (reason or "").strip():
        raise Unprocessable({"reason": ["a reason is required"]})
    if action == "approve_source":
        job = transition(store, meta, job_id, action, reason=note, changes=_with_language_states)
        return _start_languages(store, runner, meta, job)
    if action == "approve_english":
        try:
            job = transition(store, meta, job_id, action, reason=note, check=_check_english_pivot,
                             changes=lambda job: _with_language_states(job, {"en": "approved"}))
        except NoEnglishTrack as exc:
            _make_english(store, runner, meta, job_id)
            raise Conflict(exc.detail) from exc
        return _start_languages(store, runner, meta, job)
    if action == "reject":
        return transition(store, meta, job_id, action, reason=reason, changes={"rejection_reason": reason})
    if action == "reject_final":
        chosen = list(languages)

        def reopen(job: Job) -> dict[str, Any]:
            unknown = [lang for lang in chosen if lang not in _targets(job)]
            if unknown:
                raise Unprocessable({"languages": [f"not target languages of this job: {', '.join(unknown)}"]})
            # A reopened language is reviewed again from the start: its cue marks go.
            return _with_language_states(job, {lang: "in_progress" for lang in chosen}, reopen_reason=reason,
                                         cues_reviewed=[])

        return transition(store, meta, job_id, action, reason=reason, changes=reopen)
    if action == "promote_to_qc":
        job = transition(store, meta, job_id, action, reason=note)
        _stop_execution(runner, job)  # a manual promotion ends whatever run was still going
        return job
    return transition(store, meta, job_id, action, reason=reason or note)


def _make_english(units: Units, runner: WorkflowRunner, meta: AuditMeta, job_id: str) -> None:
    """Start making the English track (the languages run for `en`) unless one is on its way."""
    job = get_job(units, job_id)
    if job.get("english_execution_id"):
        return
    execution_id = runner.start_languages(job_id, ["en"], plan.language_steps_for(job.requested_outputs))
    change(units, meta, job_id, "english_started", lambda _job: {"english_execution_id": execution_id})


def _start_languages(units: Units, runner: WorkflowRunner, meta: AuditMeta, job: Job) -> Job:
    """Once the source is approved, make every open target language's tracks (languages workflow)."""
    open_langs = _open_languages(job)
    if not open_langs:
        return job
    execution_id = runner.start_languages(job.id, open_langs, plan.language_steps_for(job.requested_outputs))
    return _record_language_run(units, meta, job.id, execution_id)


def retry_tts(store: Database, runner: WorkflowRunner, principal: Principal, meta: AuditMeta, job_id: str, language: str,
              tts_preferences: dict[str, Any] | None = None) -> Job:
    """Synthesize (and render) one language's description audio again, optionally with other voices:
    the preferences apply to that language from now on (the synthesize step reads them)."""
    job = access.require_job(store, principal, job_id, "retry_tts")
    if job["status"] not in TTS_RETRY_STATES:
        raise Conflict(f"cannot retry speech synthesis of a job in state {job['status']}")
    if language not in _job_languages(job):
        raise Unprocessable({"language": [f"{language} is not a language of this job"]})
    if "description_vtt" not in requested_kinds(job.get("requested_outputs") or {}):
        raise Conflict("this job asked for no audio description: there is nothing to voice")
    if not language_outputs(job, language).asset("description_vtt").path:
        raise Conflict(f"{language} has no description track to voice yet")
    preferences = {f"tts_overrides.{language}": tts_preferences} if tts_preferences else {}
    if job["status"] == "failed":
        # Other voices are how a language that failed for want of one is fixed: resume with them.
        if job.get("failed_language") != language:
            raise Conflict(f"the job failed at {job.get('failed_step')}: retry the job")
        change(store, meta, job_id, "retry_tts", lambda _job: preferences)
        return _retry_languages(store, runner, meta, job_id, f"retry_tts {language}")
    execution_id = runner.start_languages(job_id, [language], ["synthesize", "render"])
    retry = {"execution_id": execution_id, "requested_at": now(), "tts_preferences": tts_preferences}
    return change(store, meta, job_id, "retry_tts", lambda _job: {f"languages_tts.{language}": retry, **preferences})


# -- bulk --------------------------------------------------------------------------------------
@dataclass
class BulkResult:
    """Per-job outcome of a bulk operation: one job failing does not fail the others."""

    succeeded: list[str] = field(default_factory=list)
    failed: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"succeeded": self.succeeded, "failed": self.failed}


def bulk(job_ids: Iterable[str], one: Callable[[str], Any]) -> BulkResult:
    """Apply `one` to each id; a domain error (404 for jobs the caller may not see) is that id's result."""
    result = BulkResult()
    for job_id in dict.fromkeys(job_ids):
        try:
            one(job_id)
            result.succeeded.append(job_id)
        except AvpError as exc:
            result.failed.append({"job_id": job_id, "status": exc.status, "detail": describe_error(exc)})
    return result


DOWNLOAD_TTL = 3600
_TEXT_SUFFIXES = (".vtt", ".json", ".txt", ".srt")


class _Unflushed:
    """A write-only stream for zipfile over a storage writer: zipfile flushes after every member,
    which a resumable upload refuses before it is closed (a flush would finish the object)."""

    def __init__(self, raw: Any):
        self._raw, self._pos = raw, 0

    def write(self, data: bytes) -> int:
        self._raw.write(data)
        self._pos += len(data)
        return len(data)

    def tell(self) -> int:
        return self._pos

    def flush(self) -> None:
        pass


@dataclass(frozen=True)
class BulkSelection:
    """What a bulk download will hold: the jobs included and each ZIP member (name, object, bytes)."""

    job_ids: list[str]
    entries: list[tuple[str, str, int]]

    @property
    def size_bytes(self) -> int:
        return sum(size for _, _, size in self.entries)


def bulk_download_selection(store: Database, storage: Storage, principal: Principal, job_ids: Iterable[str], *,
                            max_bytes: int, languages: Iterable[str] = (), kinds: Iterable[str] = ()) -> BulkSelection:
    """The chosen jobs' deliverables the caller may download (jobs they may not are left out),
    filtered by language and kind; 422 when nothing is left, 413 above `max_bytes`."""
    langs, wanted = set(languages), set(kinds)
    entries: list[tuple[str, str, int]] = []
    included = []
    for job_id in dict.fromkeys(job_ids):
        try:
            job = access.require_job(store, principal, job_id, "download")
        except (NotFound, Forbidden):
            continue
        included.append(job_id)
        for item in deliverables(storage, job, with_source=True):
            if (langs and item.language not in langs) or (wanted and item.kind not in wanted):
                continue
            stat = storage.stat(item.path)
            if stat and int(stat["size"] or 0):
                suffix = PurePosixPath(item.path).suffix
                entries.append((f"{job_id}/{item.language}/{item.kind}{suffix}", item.path, int(stat["size"])))
    if not entries:
        raise Unprocessable({"job_ids": ["none of these jobs has a deliverable you may download"]})
    selection = BulkSelection(included, entries)
    if selection.size_bytes > max_bytes:
        raise PayloadTooLarge(f"the ZIP would hold {selection.size_bytes} bytes; the limit is {max_bytes}: "
                              "ask for fewer jobs or kinds")
    return selection


def write_bulk_zip(storage: Storage, path: str, entries: Iterable[tuple[str, str, int]]) -> int:
    """Stream the ZIP of `entries` (name, object, bytes) into `path`, object by object (never whole
    in memory); returns the ZIP's size."""
    with storage.open_write(path, "application/zip") as out, zipfile.ZipFile(_Unflushed(out), "w", allowZip64=True) as archive:
        for name, source, size in entries:
            info = zipfile.ZipInfo(name, date_time=now().timetuple()[:6])
            # Media is compressed already; only text deliverables are worth deflating.
            info.compress_type = zipfile.ZIP_DEFLATED if name.endswith(_TEXT_SUFFIXES) else zipfile.ZIP_STORED
            with storage.open_read(source) as src, archive.open(info, "w", force_zip64=size > 2**31) as dst:
                shutil.copyfileobj(src, dst, 8 * 1024 * 1024)
    stat = storage.stat(path)
    return int(stat["size"]) if stat else 0


# -- live status --------------------------------------------------------------------------------
STATUS_COLLECTION = "job_status"
WATCH_LIMIT = 100


@dataclass(frozen=True)
class ListenGrant:
    """What a Firestore listener token carries for a caller, and the status documents it may watch.
    The security rules compare `claims["keys"]` with each status document's `access_keys`; a
    listener for jobs made after it began queries `access_keys` array-contains-any those keys."""

    uid: str
    claims: dict[str, Any]
    documents: list[str]


def listen_grant(store: Database, principal: Principal, job_id: str | None = None) -> ListenGrant:
    """The claims for the caller's listener token (role; access keys unless admin) and the status
    documents to watch: one job's (404 if not visible), else the caller's most recently updated jobs."""
    if job_id:
        watched = [access.require_job(store, principal, job_id)]
    else:
        watched = _visible_jobs(store, principal, JobQuery(size=WATCH_LIMIT, sort="-updated_at")).items
    ids = [job.id for job in watched]
    keys = access.principal_keys(store, principal)
    claims: dict[str, Any] = {"role": principal.role}
    if keys is not None:
        # One `array-contains-any` query's worth (what a listener for new jobs asks with): their own
        # keys (their downloads' status documents carry them too), then those the watched jobs
        # carry, then the rest. A caller of more than 30 organizations or clients sees new jobs of
        # the others live only once the jobs list names them.
        carried = {k for job in watched for k in (job.access_keys or access.job_keys(job))}
        ranked = sorted(keys, key=lambda k: (not k.startswith(access.PERSONAL_KEYS), k not in carried, k))
        claims["keys"] = sorted(ranked[:MAX_ANY])
    return ListenGrant(principal.user_id, claims, [f"{STATUS_COLLECTION}/{i}" for i in ids])
