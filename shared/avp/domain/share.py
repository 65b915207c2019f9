"""Share links: a job's deliverables for people without an account.

The token handed out is a random 256-bit secret shown once; only its hash is stored, so a
leaked database does not leak working links. A link expires (7 days by default, 90 at most),
may be limited to some languages and asset kinds, and can be revoked. The public lookup is
rate-limited per client IP, so tokens cannot be guessed at speed.
"""
from __future__ import annotations

import datetime as dt
from typing import Any

from avp.auth.tokens import Principal, new_secret, secret_hash
from avp.domain import access, audit, deliverables, language_qc, throttle
from avp.domain.aggregates import ShareLink
from avp.domain.audit import AuditMeta
from avp.domain.ports import Database
from avp.domain.records import now
from avp.errors import Conflict, NotFound, TooManyRequests, Unprocessable
from avp.storage import Storage

DEFAULT_HOURS = 7 * 24
MAX_HOURS = 90 * 24
PUBLIC_PATH = "/api/v1/share/public/share/"
PUBLIC_RATE_LIMIT = 60  # lookups per IP per window
RATE_WINDOW = 60  # seconds
FIELDS = ("id", "job_id", "label", "languages", "assets", "created_by", "created_at", "expires_at", "last_used_at")


def token_view(link: ShareLink) -> dict[str, Any]:
    """A share link as the API's ShareToken: never its secret or hash."""
    return {k: getattr(link, k) for k in FIELDS}


def create(store: Database, meta: AuditMeta, principal: Principal, job_id: str, *, label: str | None = None,
           expires_in_hours: int = DEFAULT_HOURS, languages: list[str] | None = None,
           assets: list[str] | None = None) -> dict[str, Any]:
    """A share link for a complete job; the returned `token` is not stored and cannot be shown again."""
    job = access.require_job(store, principal, job_id, "share")
    if job["status"] != "complete":
        raise Conflict(f"only a complete job can be shared; this one is {job['status']}")
    if not 1 <= expires_in_hours <= MAX_HOURS:
        raise Unprocessable({"expires_in_hours": [f"must be between 1 and {MAX_HOURS}"]})
    unknown = sorted(set(languages or []) - set(language_qc.job_languages(job)))
    if unknown:
        raise Unprocessable({"languages": [f"not languages of this job: {', '.join(unknown)}"]})
    bad_assets = sorted(set(assets or []) - set(deliverables.ASSET_KINDS))
    if bad_assets:
        raise Unprocessable({"assets": [f"unknown asset kinds: {', '.join(bad_assets)}"]})
    secret = new_secret()
    stamp = now()
    link = store.of(ShareLink).add(ShareLink(
        job_id=job_id, secret_hash=secret_hash(secret), label=label, languages=sorted(set(languages or [])),
        assets=sorted(set(assets or [])), created_by=principal.user_id, created_at=stamp,
        expires_at=stamp + dt.timedelta(hours=expires_in_hours)))
    audit.record(store, meta, "share.create", f"share_tokens/{link.id}",
                 after={"job_id": job_id, "expires_at": link.expires_at, "languages": link.languages})
    return {**token_view(link), "token": secret, "url": PUBLIC_PATH + secret}


def list_active(store: Database, principal: Principal, job_id: str) -> list[dict[str, Any]]:
    """The job's unrevoked, unexpired links, newest first (never their secrets)."""
    access.require_job(store, principal, job_id, "share")
    found = store.of(ShareLink).where(("job_id", "==", job_id), ("revoked", "==", False))
    active = [link for link in found if link.expires_at > now()]
    return [token_view(link) for link in sorted(active, key=lambda link: link.created_at, reverse=True)]


def revoke(store: Database, meta: AuditMeta, principal: Principal, job_id: str, token_id: str) -> None:
    """Revoke a link of the job at once (revoking twice is harmless)."""
    access.require_job(store, principal, job_id, "share")
    link = store.of(ShareLink).lookup(token_id)
    if link is None or link.job_id != job_id:
        raise NotFound("share link not found")
    if not link.revoked:
        store.of(ShareLink).update(token_id, {"revoked": True, "revoked_at": now(), "revoked_by": principal.user_id})
        audit.record(store, meta, "share.revoke", f"share_tokens/{token_id}", before={"revoked": False},
                     after={"revoked": True})


def _limit_rate(store: Database, key: str, limit: int, window: int) -> None:
    """At most `limit` calls per `window` seconds for `key`, counted in Firestore so every instance
    shares the count (429 with Retry-After beyond it)."""
    hit = throttle.hit(store, key, window)
    if hit.count > limit:
        raise TooManyRequests("too many share link lookups; try again later", retry_after=hit.seconds_left)


def open_public(store: Database, storage: Storage, token: str, ip: str) -> dict[str, Any]:
    """What an anonymous holder of a link sees: the job's title and languages and short-lived
    links to the shared deliverables. Unknown, expired or revoked links, and jobs no longer
    complete, answer 404 alike."""
    _limit_rate(store, f"share:{ip}", PUBLIC_RATE_LIMIT, RATE_WINDOW)
    link = store.of(ShareLink).first(("secret_hash", "==", secret_hash(token)))
    if link is None or link.revoked or link.expires_at <= now():
        raise NotFound("share link not found")
    try:
        job = store.read_job(link.job_id)
    except NotFound:
        raise NotFound("share link not found") from None
    if job.get("deleted") or job.status != "complete":
        raise NotFound("share link not found")
    languages = link.languages or language_qc.job_languages(job)
    store.of(ShareLink).update(link.id, {"last_used_at": now()})
    return {"job_id": job.id, "title": job.title, "source_language": job.source_language,
            "languages": languages, "expires_at": link.expires_at,
            "items": deliverables.download_links(storage, job, languages, assets=link.assets or None)}
