"""Language QC: the per-language state machine of DOMAIN.md, assignments, comments, the work queue.

Each target language of a job has an entry in `job.languages`:
`{state, linguist_id, reviewer_id, cues_total, cues_reviewed, machine_translated, ...}`. Every
change runs in a transaction through the status writer (so `job_status` mirrors the states),
recomputes the job's access keys when an assignee changes, and appends an audit entry.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from avp.auth.tokens import Principal
from avp.domain import access, audit, jobs
from avp.domain.aggregates import Comment, QueueEntry, User
from avp.domain.audit import AuditMeta
from avp.domain.model import Job
from avp.domain.paging import Page
from avp.domain.ports import Database, UnitOfWork, Units
from avp.domain.records import now
from avp.errors import Conflict, Forbidden, NotFound, Unprocessable

STATES = ("unassigned", "assigned", "in_progress", "submitted", "in_review", "approved", "rejected")
LINGUIST_OPEN = ("assigned", "in_progress", "rejected")
REVIEWER_OPEN = ("submitted", "in_review")
# Assignments may be planned before language QC starts, but not on a finished or dead job.
ASSIGNABLE_JOB_STATES = {"queued", "processing", "pending_qc", "language_qc", "final_review", "blocked_on_source",
                         "failed"}
QUEUE_JOB_STATES = ("pending_qc", "language_qc", "final_review")
EMPTY_ENTRY: dict[str, Any] = {"state": "unassigned", "linguist_id": None, "reviewer_id": None, "cues_total": 0,
                               "cues_reviewed": [], "machine_translated": False}


@dataclass(frozen=True)
class Move:
    """One step of the language state machine: from which states, to which, and who may take it
    (`linguist`, `reviewer` or `either` of the two assignees; admin may always act)."""

    sources: frozenset[str]
    target: str
    actor: str


MOVES: dict[str, Move] = {
    "start_work": Move(frozenset({"assigned"}), "in_progress", "linguist"),
    "submit": Move(frozenset({"in_progress"}), "submitted", "linguist"),
    "open_review": Move(frozenset({"submitted"}), "in_review", "reviewer"),
    "approve": Move(frozenset({"in_review"}), "approved", "reviewer"),
    "reject": Move(frozenset({"in_review"}), "rejected", "reviewer"),
    "reopen": Move(frozenset({"rejected"}), "in_progress", "either"),
}
_ACTOR_ACTION = {"linguist": "language_work", "reviewer": "language_review", "either": "view"}


# -- languages of a job -------------------------------------------------------
def target_languages(job: dict[str, Any]) -> list[str]:
    """The languages the job is translated into."""
    return list((job.get("requested_outputs") or {}).get("languages") or [])


def job_languages(job: dict[str, Any]) -> list[str]:
    """The source language (when known) and every target language, without repeats."""
    source = [job["source_language"]] if job.get("source_language") else []
    return list(dict.fromkeys(source + target_languages(job)))


def entry(job: dict[str, Any], lang: str) -> dict[str, Any]:
    """The QC entry of a target language, with defaults for fields the pipeline has not written."""
    return {**EMPTY_ENTRY, **((job.get("languages") or {}).get(lang) or {})}


def require_target(job: dict[str, Any], lang: str) -> dict[str, Any]:
    """The QC entry of `lang` (404 unless it is a target language of the job)."""
    if lang not in target_languages(job):
        raise NotFound(f"{lang} is not a target language of this job")
    return entry(job, lang)


def require_language(job: dict[str, Any], lang: str) -> None:
    """404 unless `lang` is the source or a target language of the job."""
    if lang not in job_languages(job):
        raise NotFound(f"{lang} is not a language of this job")


def visible_languages(principal: Principal, job: dict[str, Any]) -> set[str]:
    """Languages whose work the caller may see: a linguist only the languages assigned to them
    (and the source, which they translate from); everyone else who sees the job, all."""
    if principal.role != "linguist":
        return set(job_languages(job))
    mine = {lang for lang in target_languages(job) if entry(job, lang)["linguist_id"] == principal.user_id}
    return mine | ({job["source_language"]} if job.get("source_language") else set())


def require_visible_language(principal: Principal, job: dict[str, Any], lang: str) -> None:
    """404 for a language the job does not have, 403 for one the caller may not work on."""
    require_language(job, lang)
    if lang not in visible_languages(principal, job):
        raise Forbidden(f"{lang} is not assigned to you")


# -- views --------------------------------------------------------------------
def reviewed_indexes(e: dict[str, Any]) -> list[int]:
    """The marked cues that still exist in the current captions."""
    return sorted(i for i in set(e.get("cues_reviewed") or []) if 0 <= i < (e.get("cues_total") or 0))


def state_view(job: dict[str, Any], lang: str) -> dict[str, Any]:
    """A language's QC state as the API's LanguageQcState."""
    e = entry(job, lang)
    reviewed = reviewed_indexes(e)
    return {"job_id": job["id"], "language": lang, "status": e["state"], "linguist_id": e["linguist_id"],
            "reviewer_id": e["reviewer_id"], "reviewed_cues": len(reviewed), "total_cues": e["cues_total"] or 0,
            "reviewed_cue_indexes": reviewed, "rejection_reason": e.get("rejection_reason"),
            "machine_translated": bool(e.get("machine_translated")), "updated_at": e.get("updated_at")}


def qc_map(store: Database, principal: Principal, job_id: str) -> dict[str, Any]:
    """The QC state of every target language the caller may see."""
    return _map_view(principal, access.require_job(store, principal, job_id, "view"))


def _map_view(principal: Principal, job: dict[str, Any]) -> dict[str, Any]:
    visible = visible_languages(principal, job)
    return {"job_id": job["id"], "job_status": job["status"],
            "languages": {lang: state_view(job, lang) for lang in target_languages(job) if lang in visible}}


# -- the one writer of language entries --------------------------------------
Mutation = Callable[[dict[str, Any]], dict[str, dict[str, Any]]]


def _write(units: Units, meta: AuditMeta, job_id: str, action: str, mutate: Mutation, *,
           reason: str | None = None, note: str | None = None) -> Job:
    """Read the job in a unit of work, let `mutate(job)` return the new entries of the languages it
    changes (or raise), and save them (job, status mirror and audit entries in one commit)."""

    def work(uow: UnitOfWork) -> Job:
        job = uow.jobs.get(job_id)
        if job.get("deleted"):
            raise NotFound("job not found")
        before = {lang: entry(job, lang) for lang in job.languages}
        changed = mutate(job)
        stamp = now()
        job.languages = {**job.languages, **{lang: {**e, "updated_at": stamp} for lang, e in changed.items()}}
        keys = access.job_keys(job)
        if keys != sorted(job.access_keys):
            job.access_keys = keys
        job.updated_at = stamp
        uow.jobs.save(job)
        for lang, new in changed.items():
            old = before.get(lang) or entry({}, lang)
            fields = ("state", "linguist_id", "reviewer_id")
            uow.audit.append(audit.entry(meta, f"language.{action}", f"jobs/{job_id}/languages/{lang}",
                                         before={k: old.get(k) for k in fields}, after={k: new.get(k) for k in fields},
                                         reason=reason, extra={"note": note} if note else None))
        return job

    return units.atomically(work)


def _require_assignable(job: dict[str, Any]) -> None:
    if job["status"] not in ASSIGNABLE_JOB_STATES:
        raise Conflict(f"cannot assign languages of a job in state {job['status']}")


def _check_assignee(store: Database, job: dict[str, Any], user_id: str, role: str) -> None:
    user = store.of(User).lookup(user_id)
    if user is None or not user.active:
        raise Unprocessable({"user_id": ["no such active user"]})
    if user.role != role:
        raise Unprocessable({"user_id": [f"the assignee must be a {role} (this user is a {user.role})"]})
    if job["org_id"] not in user.org_ids:
        raise Unprocessable({"user_id": ["the assignee is not a member of the job's organization"]})


def _assign_to(e: dict[str, Any], lang: str, role: str, user_id: str, *, replacing: bool | None) -> dict[str, Any]:
    """The entry with `role` (linguist/reviewer) set to `user_id`. `replacing` True demands an
    existing assignee (reassign), False demands none (assign), None accepts both (bulk)."""
    field = f"{role}_id"
    if e["state"] == "approved":
        raise Conflict(f"{lang} is already approved")
    if replacing is False and e[field]:
        raise Conflict(f"{lang} already has a {role}; use reassign")
    if replacing is True and not e[field]:
        raise Conflict(f"{lang} has no {role} yet; use assign")
    new = {**e, field: user_id, f"{role}_assigned_at": now()}
    if role == "linguist" and e["state"] == "unassigned":
        new["state"] = "assigned"
    if role == "reviewer" and e[field] and e[field] != user_id:
        new["cues_reviewed"] = []  # a new reviewer answers for every cue themselves
    return new


def assign(store: Database, meta: AuditMeta, principal: Principal, job_id: str, lang: str, user_id: str, *,
           role: str, replacing: bool, note: str | None = None) -> dict[str, Any]:
    """Assign (or, with `replacing`, reassign) the linguist or reviewer of one target language."""
    job = access.require_job(store, principal, job_id, "assign")
    require_target(job, lang)
    _check_assignee(store, job, user_id, role)

    def mutate(fresh: dict[str, Any]) -> dict[str, dict[str, Any]]:
        _require_assignable(fresh)
        return {lang: _assign_to(require_target(fresh, lang), lang, role, user_id, replacing=replacing)}

    action = ("reassign" if replacing else "assign") + ("_reviewer" if role == "reviewer" else "")
    return state_view(_write(store, meta, job_id, action, mutate, note=note), lang)


def bulk_assign(store: Database, meta: AuditMeta, principal: Principal, job_id: str, languages: list[str], *,
                linguist_id: str | None, reviewer_id: str | None) -> dict[str, Any]:
    """Set the linguist and/or reviewer of several target languages at once, all or nothing."""
    if not linguist_id and not reviewer_id:
        raise Unprocessable({"_schema": ["give linguist_id, reviewer_id or both"]})
    job = access.require_job(store, principal, job_id, "assign")
    unknown = [lang for lang in languages if lang not in target_languages(job)]
    if unknown:
        raise Unprocessable({"languages": [f"not target languages of this job: {', '.join(unknown)}"]})
    people = [(p, r) for p, r in ((linguist_id, "linguist"), (reviewer_id, "reviewer")) if p]
    for user_id, role in people:
        _check_assignee(store, job, user_id, role)

    def mutate(fresh: dict[str, Any]) -> dict[str, dict[str, Any]]:
        _require_assignable(fresh)
        changed = {}
        for lang in languages:
            e = entry(fresh, lang)
            for user_id, role in people:
                e = _assign_to(e, lang, role, user_id, replacing=None)
            changed[lang] = e
        return changed

    return _map_view(principal, _write(store, meta, job_id, "bulk_assign", mutate))


def _require_actor(principal: Principal, e: dict[str, Any], actor: str, lang: str) -> None:
    if principal.is_admin:
        return
    allowed = {"linguist": {e["linguist_id"]}, "reviewer": {e["reviewer_id"]},
               "either": {e["linguist_id"], e["reviewer_id"]}}[actor] - {None}
    if principal.user_id not in allowed:
        who = "linguist or reviewer" if actor == "either" else actor
        raise Forbidden(f"only the assigned {who} of {lang} may do this")


def _all_approved(job: dict[str, Any]) -> bool:
    return all(entry(job, lang)["state"] == "approved" for lang in target_languages(job))


def move(store: Database, meta: AuditMeta, principal: Principal, job_id: str, lang: str, action: str, *,
         reason: str | None = None, note: str | None = None) -> dict[str, Any]:
    """Take one step of the language state machine (409 from the wrong state, with the current one).
    Approving the last language moves the job on to final review."""
    rule = MOVES[action]
    job = access.require_job(store, principal, job_id, _ACTOR_ACTION[rule.actor])
    require_target(job, lang)
    if action == "reject" and not (reason or "").strip():
        raise Unprocessable({"reason": ["a rejection needs a reason"]})

    def mutate(fresh: dict[str, Any]) -> dict[str, dict[str, Any]]:
        e = require_target(fresh, lang)
        _require_actor(principal, e, rule.actor, lang)
        if fresh["status"] != "language_qc":
            raise Conflict(f"the job is in state {fresh['status']}, not language_qc")
        if e["state"] not in rule.sources:
            raise Conflict(f"cannot {action.replace('_', ' ')} {lang}: it is {e['state']}")
        new = {**e, "state": rule.target}
        if action == "open_review" and not e["reviewer_id"]:
            raise Conflict(f"{lang} has no reviewer assigned")
        if action == "approve":
            reviewed, total = len(reviewed_indexes(e)), e["cues_total"] or 0
            if reviewed < total:
                raise Conflict(f"{reviewed}/{total} cues reviewed: mark every cue reviewed before approving")
            new["rejection_reason"] = None
        if action == "reject":
            new["rejection_reason"] = reason
        return {lang: new}

    updated = _write(store, meta, job_id, action, mutate, reason=reason, note=note)
    if action == "approve" and _all_approved(updated):
        # Its own transaction; the check re-reads the job, so of two racing approvals one moves it.
        try:
            updated = jobs.transition(store, meta, job_id, "languages_approved", check=_require_all_approved)
        except Conflict:
            pass  # another approval already moved the job on
    return state_view(updated, lang)


def _require_all_approved(job: dict[str, Any]) -> None:
    if not _all_approved(job):
        raise Conflict("not every language is approved")


def mark_cue_reviewed(store: Database, meta: AuditMeta, principal: Principal, job_id: str, lang: str, cue_index: int, *,
                      reviewed: bool = True, version: int | None = None,
                      current_version: Callable[[], int | None]) -> dict[str, Any]:
    """Mark (or unmark) one caption cue of a language in review. `version`, when given, must be the
    track's current version (`current_version()`): marks on an older text would be stale."""
    job = access.require_job(store, principal, job_id, "language_review")
    require_target(job, lang)
    if version is not None and version != current_version():
        raise Conflict(f"version {version} is not the current captions version of {lang}")

    def mutate(fresh: dict[str, Any]) -> dict[str, dict[str, Any]]:
        e = require_target(fresh, lang)
        _require_actor(principal, e, "reviewer", lang)
        if e["state"] != "in_review":
            raise Conflict(f"{lang} is {e['state']}, not in_review")
        if cue_index >= (e["cues_total"] or 0):
            raise Unprocessable({"cue_index": [f"{lang} has {e['cues_total'] or 0} cues"]})
        marks = set(e.get("cues_reviewed") or [])
        marks = marks | {cue_index} if reviewed else marks - {cue_index}
        return {lang: {**e, "cues_reviewed": sorted(marks)}}

    return state_view(_write(store, meta, job_id, "mark_cue_reviewed", mutate), lang)


# -- comments -----------------------------------------------------------------
def comment_view(c: Comment) -> dict[str, Any]:
    """A comment as the API's Comment."""
    return {k: getattr(c, k) for k in ("id", "job_id", "language", "cue_index", "author_id", "text", "created_at")}


def add_comment(store: Database, principal: Principal, job_id: str, lang: str, text: str,
                cue_index: int | None = None) -> dict[str, Any]:
    """A comment on a language (optionally on one cue) by anyone who may comment on the job and see the language."""
    job = access.require_job(store, principal, job_id, "comment")
    require_target(job, lang)
    require_visible_language(principal, job, lang)
    comment = Comment(job_id=job_id, language=lang, cue_index=cue_index, author_id=principal.user_id, text=text,
                      created_at=now())
    return comment_view(store.of(Comment, job_id=job_id).add(comment))


def list_comments(store: Database, principal: Principal, job_id: str, lang: str, *, page: int, size: int,
                  cursor: str | None = None, cue_index: int | None = None) -> Page:
    """Comments on a language, oldest first."""
    job = access.require_job(store, principal, job_id, "view")
    require_target(job, lang)
    require_visible_language(principal, job, lang)
    filters = [("language", "==", lang)] + ([("cue_index", "==", cue_index)] if cue_index is not None else [])
    return store.of(Comment, job_id=job_id).page(filters, ("created_at", "asc"), page, size, cursor).map(comment_view)


# -- the work queue -----------------------------------------------------------
QUEUE = QueueEntry.COLLECTION
_ROLES = ("linguist", "reviewer")


def _stamp(at: Any) -> str:
    # Fixed-width UTC text: ids that begin with it sort by time.
    return at.astimezone(dt.timezone.utc).strftime("%Y%m%dT%H%M%S.%fZ")


def queue_entries(job: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """The work-queue documents of a job, by id: one per assignee (linguist, reviewer) of each target
    language while the job is in QC and not deleted. The job repository writes them with the job,
    in the same commit, so the queue is one query a page. An id begins with the assignment time, so
    document-id order is the queue's order (oldest assignment first) and needs no composite index."""
    if job.get("deleted") or job.get("status") not in QUEUE_JOB_STATES:
        return {}
    docs = {}
    for lang in target_languages(job):
        e = entry(job, lang)
        for role in _ROLES:
            user_id = e[f"{role}_id"]
            if not user_id:
                continue
            at = e.get(f"{role}_assigned_at") or e.get("updated_at") or job.get("created_at")
            docs[f"{_stamp(at)}~{job['id']}~{lang}~{role}"] = {
                "queue_key": _queue_key(role, user_id, e["state"]), "job_id": job["id"], "job_title": job.get("title"),
                "language": lang, "status": e["state"], "as_role": role, "assigned_at": at,
                "reviewed_cues": len(reviewed_indexes(e)), "total_cues": e["cues_total"] or 0,
                "descriptions_to_write": (job.get("descriptions_to_write") or {}).get(lang, 0)}
    return docs


def queue_changes(before: Mapping[str, Any], after: Mapping[str, Any]) -> tuple[set[str], dict[str, dict[str, Any]]]:
    """What a job's change does to its queue documents: the ids to delete and the documents to
    (over)write, for the job repository to commit with the job."""
    old, new = queue_entries(before), queue_entries(after)
    return old.keys() - new.keys(), {doc_id: doc for doc_id, doc in new.items() if old.get(doc_id) != doc}


def rebuild_queue(store: Database) -> tuple[int, int]:
    """Write the work-queue entries of every job in QC (`queue_entries`): for jobs assigned before the
    queue existed, whose entries the job repository writes only on their next change. Idempotent;
    one unit of work per job, so a deployment of any size stays under a transaction's write limit.
    Returns (jobs, entries)."""
    count = entries = 0
    for found in store.of(Job).where(("status", "in", list(QUEUE_JOB_STATES))):
        def work(uow: UnitOfWork, job_id: str = found.id) -> int:
            job = uow.jobs.get(job_id)
            uow.jobs.save(job, rebuild_queue=True)
            return len(queue_entries(job))

        entries += store.atomically(work)
        count += 1
    return count, entries


QUEUE_FIELDS = ("job_id", "job_title", "language", "status", "as_role", "assigned_at", "reviewed_cues", "total_cues",
                "descriptions_to_write")


def _queue_key(role: str, user_id: str, state: str) -> str:
    return f"{role}:{user_id}:{state}"


def queue(store: Database, principal: Principal, *, page: int, size: int, cursor: str | None = None,
          states: list[str] | None = None) -> Page:
    """The caller's open language work across jobs, oldest assignment first. A linguist's open
    work is assigned / in progress / rejected; a reviewer's is submitted / in review. One query of
    the queue documents (`queue_entries`): size + 1 reads a page at any depth."""
    role = principal.role
    if role not in _ROLES:
        return Page([], 0, page, size)
    wanted = sorted(set(states or (LINGUIST_OPEN if role == "linguist" else REVIEWER_OPEN)))
    keys = [_queue_key(role, principal.user_id, state) for state in wanted]
    entries = store.of(QueueEntry).page([("queue_key", "in", keys)], ("id", "asc"), page, size, cursor)
    return entries.map(lambda e: {k: getattr(e, k) for k in QUEUE_FIELDS})
