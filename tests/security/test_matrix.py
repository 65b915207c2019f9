"""Every implemented route, every kind of caller: who gets through, who gets 403, who gets 404.

Adding a route means adding its row here (the table test fails until then); a row is one line.
"""
import pytest
from flask import Flask

from avp.auth.tokens import Principal
from avp.domain import audit, review_notes, share
from avp.web import authenticated, public
from tests.security.matrix import (ADMIN_ONLY, CLIENT_MANAGERS, CLIENT_VIEWERS, EVERYONE, MEMBERS, OK, PUBLIC, World,
                                   check_row, expect, missing_rows, row, unguarded_views)
from tests.security.ops_rows import OPS_ROWS

TRACK = {"lang": "{lang}", "kind": "captions"}
JOB_EDITORS = expect(OK, client=403)  # access.JOB_ACTIONS["edit_vtt"]; language states decide the rest (409)

ASSIGNERS = expect(403, admin=OK, production=OK, project_manager=OK)  # access.JOB_ACTIONS["assign"]
THE_LINGUIST = expect(403, linguist=OK, admin=OK)  # the assigned linguist (admin may act for anyone)
THE_REVIEWER = expect(403, reviewer=OK, admin=OK)
SHARERS = expect(403, admin=OK, client=OK, production=OK, project_manager=OK)  # access.JOB_ACTIONS["share"]
JOB_CREATORS = expect(OK, reviewer=403, linguist=403)  # jobs.CREATE_ROLES; other_org: 404 for organization A
JOB_WRITERS = expect(OK, reviewer=403, linguist=403)  # access.JOB_ACTIONS["edit"] / ["clone"] / ["cancel"]
SOURCE_REVIEWERS = expect(403, admin=OK, reviewer=OK, production=OK)  # approve_source, approve_english, reject
FINAL_REVIEWERS = expect(403, admin=OK, project_manager=OK)  # complete, reject_final, return_to_qc
PRODUCTION = expect(403, admin=OK, production=OK)  # blocked_on_source, promote_to_qc, retry_tts


def fresh_job(world: World) -> dict[str, str]:
    """Another job like the world's (same assignments), for routes that change who works on it."""
    return world.job()


def fresh_note(world: World) -> dict[str, str]:
    """A note on the world's job written by its client user."""
    author = world.users["client"]
    principal = Principal(author["id"], "client")
    return {"note_id": review_notes.create(world.store, audit.SYSTEM, principal, world.params["job_id"], text="n",
                                           timestamp=1.0)["id"]}


def fresh_share_token(world: World) -> dict[str, str]:
    """A complete job of organization A with a share link; its id and secret."""
    job_id = world.job("complete")["job_id"]
    created = share.create(world.store, audit.SYSTEM, world.admin(), job_id)
    return {"job_id": job_id, "token_id": created["id"], "token": created["token"]}


ROWS = [
    # auth
    row("POST /auth/login", PUBLIC),
    row("POST /auth/microsoft", PUBLIC),
    row("POST /auth/refresh", expect(401, anonymous=401, other_org=401)),  # the refresh cookie is the credential
    row("POST /auth/logout", EVERYONE),
    row("POST /auth/password/reset", PUBLIC),
    # admin
    row("GET /admin/users", ADMIN_ONLY),
    row("POST /admin/users", ADMIN_ONLY),
    row("GET /admin/users/{user_id}", ADMIN_ONLY),
    row("PATCH /admin/users/{user_id}", ADMIN_ONLY),
    row("DELETE /admin/users/{user_id}", ADMIN_ONLY, fresh=World.fresh_user),
    row("POST /admin/users/{user_id}/reset-password", ADMIN_ONLY),
    row("POST /admin/users/{user_id}/password/reset", ADMIN_ONLY),
    row("GET /admin/audit-logs", ADMIN_ONLY),
    row("GET /admin/audit-logs/user/{user_id}", ADMIN_ONLY),
    row("GET /admin/audit-logs/security", ADMIN_ONLY),
    row("DELETE /admin/audit-logs/cleanup", ADMIN_ONLY),
    # organizations
    row("GET /organizations", EVERYONE),
    row("POST /organizations", ADMIN_ONLY),
    row("GET /organizations/{org_id}", MEMBERS),
    row("PATCH /organizations/{org_id}", ADMIN_ONLY),
    row("GET /organizations/{org_id}/members", MEMBERS),
    row("POST /organizations/{org_id}/members", expect(403, admin=OK, project_manager=OK, other_org=403)),  # PMs: invitations
    row("PATCH /organizations/{org_id}/members/{user_id}", ADMIN_ONLY),
    row("DELETE /organizations/{org_id}/members/{user_id}", ADMIN_ONLY, fresh=World.fresh_member),
    row("GET /organizations/me/memberships", EVERYONE),
    # clients, teams, projects
    row("GET /clients", EVERYONE),
    row("POST /clients", ADMIN_ONLY),
    row("GET /clients/all-projects", EVERYONE),
    row("GET /clients/{client_id}", CLIENT_VIEWERS),
    row("PATCH /clients/{client_id}", ADMIN_ONLY),
    row("DELETE /clients/{client_id}", ADMIN_ONLY),  # the job makes it 409 for the admin
    row("GET /clients/{client_id}/pm", CLIENT_VIEWERS),
    row("POST /clients/{client_id}/pm", ADMIN_ONLY),
    row("DELETE /clients/{client_id}/pm/{user_id}", ADMIN_ONLY, fresh=World.fresh_pm),
    row("GET /clients/{client_id}/teams", CLIENT_VIEWERS),
    row("POST /clients/{client_id}/teams", ADMIN_ONLY),
    row("PATCH /clients/{client_id}/teams/{team_id}", ADMIN_ONLY),
    row("DELETE /clients/{client_id}/teams/{team_id}", ADMIN_ONLY, fresh=World.fresh_team),
    row("POST /clients/{client_id}/teams/{team_id}/members", CLIENT_MANAGERS, body={"user_id": "{user_id}"}),
    row("DELETE /clients/{client_id}/teams/{team_id}/members/{user_id}", CLIENT_MANAGERS, fresh=World.fresh_team_member),
    row("GET /clients/{client_id}/projects", CLIENT_VIEWERS),
    row("POST /clients/{client_id}/projects", ADMIN_ONLY),
    row("PATCH /clients/{client_id}/projects/{project_id}", ADMIN_ONLY),
    row("DELETE /clients/{client_id}/projects/{project_id}", ADMIN_ONLY),  # the job makes it 409 for the admin
    # jobs: VTT, versions, downloads, pause points (every role of organization A sees the world's job; DOMAIN.md)
    row("GET /jobs/{job_id}/vtt?lang={lang}&kind=captions", MEMBERS),
    row("PATCH /jobs/{job_id}/vtt", JOB_EDITORS, body={**TRACK, "content": "{vtt}", "base_version": 1}),
    row("POST /jobs/{job_id}/vtt/adjust-timing", JOB_EDITORS, body={**TRACK, "offset_ms": 0}),
    row("GET /jobs/{job_id}/vtt/versions?lang={lang}&kind=captions", MEMBERS),
    row("GET /jobs/{job_id}/vtt/versions/{version}?lang={lang}&kind=captions", MEMBERS),
    row("GET /jobs/{job_id}/vtt/versions/diff?lang={lang}&kind=captions&a=1&b=1", MEMBERS),
    row("POST /jobs/{job_id}/vtt/versions/restore", JOB_EDITORS, body={**TRACK, "version": 1}),
    row("GET /jobs/{job_id}/downloads", MEMBERS),
    row("GET /jobs/{job_id}/accessible-video/{language}/edit-state", MEMBERS),
    row("PATCH /jobs/{job_id}/accessible-video/{language}/pause-points/{cue_index}", JOB_EDITORS, body={"at": 1.0}),
    # language QC (the world's job is pending_qc: assignees get through to a 409 on the job state)
    row("GET /language-qc/jobs/{job_id}/language-qc", MEMBERS),
    row("POST /language-qc/jobs/{job_id}/languages/{lang}/assign", ASSIGNERS, body={"user_id": "{user_id}"}),
    row("POST /language-qc/jobs/{job_id}/languages/{lang}/reassign", ASSIGNERS, body={"user_id": "{user_id}"},
        fresh=fresh_job),
    row("POST /language-qc/jobs/{job_id}/languages/{lang}/assign-reviewer", ASSIGNERS, body={"user_id": "{user_id}"}),
    row("POST /language-qc/jobs/{job_id}/languages/{lang}/reassign-reviewer", ASSIGNERS, body={"user_id": "{user_id}"},
        fresh=fresh_job),
    row("POST /language-qc/jobs/{job_id}/languages/bulk-assign", ASSIGNERS,
        body={"languages": ["fr"], "linguist_id": "{user_id}"}, fresh=fresh_job),
    row("POST /language-qc/jobs/{job_id}/languages/{lang}/start-work", THE_LINGUIST),
    row("POST /language-qc/jobs/{job_id}/languages/{lang}/submit", THE_LINGUIST),
    row("POST /language-qc/jobs/{job_id}/languages/{lang}/open-review", THE_REVIEWER),
    row("POST /language-qc/jobs/{job_id}/languages/{lang}/approve", THE_REVIEWER),
    row("POST /language-qc/jobs/{job_id}/languages/{lang}/reject", THE_REVIEWER, body={"reason": "wrong"}),
    row("POST /language-qc/jobs/{job_id}/languages/{lang}/reopen", expect(403, linguist=OK, reviewer=OK, admin=OK)),
    row("POST /language-qc/jobs/{job_id}/languages/{lang}/mark-cue-reviewed", THE_REVIEWER, body={"cue_index": 0}),
    row("GET /language-qc/jobs/{job_id}/languages/{lang}/comments", MEMBERS),
    row("POST /language-qc/jobs/{job_id}/languages/{lang}/comments", MEMBERS, body={"text": "a remark"}),
    row("GET /language-qc/me/language-qc-queue", EVERYONE),
    # review notes: anyone who sees the job notes; deleting is for the author (the client here) or an admin
    row("GET /jobs/{job_id}/review-notes", MEMBERS),
    row("POST /jobs/{job_id}/review-notes", MEMBERS, body={"timestamp": 1.5, "text": "a note"}),
    row("GET /jobs/{job_id}/review-notes/{note_id}", MEMBERS, fresh=fresh_note),
    row("PATCH /jobs/{job_id}/review-notes/{note_id}", MEMBERS, body={"status": "resolved"}, fresh=fresh_note),
    row("DELETE /jobs/{job_id}/review-notes/{note_id}", expect(403, client=OK, admin=OK), fresh=fresh_note),
    # share links (creating answers 409 for the job is not complete: authorization passed)
    row("POST /share/jobs/{job_id}/share", SHARERS),
    row("GET /share/jobs/{job_id}/share", SHARERS),
    row("DELETE /share/jobs/{job_id}/share/{token_id}", SHARERS, fresh=fresh_share_token),
    row("GET /share/public/share/{token}", PUBLIC, fresh=fresh_share_token),
    # invitations: the token in the body is the credential
    row("POST /invitations/preview", PUBLIC),
    row("POST /invitations/accept", PUBLIC),
    # jobs: uploads, CRUD, actions, bulk (access.JOB_ACTIONS; jobs.CREATE_ROLES for creating). The world's job
    # is pending_qc, so most actions get through to a 409 on its state; the ones that would change it use a copy.
    row("POST /jobs/upload/init", JOB_CREATORS, body={"filename": "a.mp4", "content_type": "video/mp4", "size_bytes": 10,
                                                      "org_id": "{org_id}"}),
    row("POST /jobs/upload/complete", JOB_WRITERS, body={"job_id": "{job_id}", "gcs_uri": "gs://elsewhere/a.mp4",
                                                         "filename": "a.mp4", "source_language": "en",
                                                         "requested_outputs": {}}),
    row("POST /jobs", expect(OK, reviewer=403, linguist=403, other_org=OK)),  # no form: 422 once the role passed
    row("GET /jobs", EVERYONE),
    row("GET /jobs/{job_id}", MEMBERS),
    row("PATCH /jobs/{job_id}", JOB_WRITERS, body={"title": "Renamed"}),
    row("DELETE /jobs/{job_id}", expect(403, admin=OK, production=OK, project_manager=OK), fresh=fresh_job),
    row("POST /jobs/{job_id}/clone", JOB_WRITERS),  # the world's job has no source video: 409 past the check
    row("POST /jobs/{job_id}/cancel", JOB_WRITERS),
    row("POST /jobs/{job_id}/retry", expect(403, admin=OK, production=OK, project_manager=OK)),
    row("GET /jobs/{job_id}/validate", MEMBERS),
    row("POST /jobs/{job_id}/actions/approve_source", SOURCE_REVIEWERS, fresh=fresh_job),
    row("POST /jobs/{job_id}/actions/approve_english", SOURCE_REVIEWERS),
    row("POST /jobs/{job_id}/actions/reject", SOURCE_REVIEWERS, body={"reason": "wrong video"}, fresh=fresh_job),
    row("POST /jobs/{job_id}/actions/complete", FINAL_REVIEWERS),
    row("POST /jobs/{job_id}/actions/reject_final", FINAL_REVIEWERS, body={"languages": ["fr"], "reason": "typos"}),
    row("POST /jobs/{job_id}/actions/return_to_qc", FINAL_REVIEWERS, body={"reason": "timing"}),
    row("POST /jobs/{job_id}/actions/blocked_on_source", PRODUCTION, body={"reason": "no audio"}, fresh=fresh_job),
    row("POST /jobs/{job_id}/actions/promote_to_qc", PRODUCTION),
    row("POST /jobs/{job_id}/actions/retry_tts", PRODUCTION, body={"language": "ja"}),  # 422: not a job language
    row("DELETE /jobs/bulk?job_ids={job_id}", EVERYONE, fresh=fresh_job),  # per-id outcomes in a 200
    row("POST /jobs/bulk/approve", EVERYONE, body={"job_ids": ["unknown"]}),
    row("POST /jobs/bulk/return-to-qc", EVERYONE, body={"job_ids": ["unknown"], "reason": "r"}),
    row("POST /jobs/bulk/download", EVERYONE, body={"job_ids": ["unknown"]}),  # 422: nothing to download
    # files and live status
    row("POST /files/signed-upload", EVERYONE, body={"filename": "terms.csv", "content_type": "text/csv", "size_bytes": 10,
                                                     "purpose": "glossary"}),
    row("GET /ws/status?job_id={job_id}", MEMBERS),
    *OPS_ROWS,  # briefs, glossaries, tts, production, admin statistics / health / maintenance
]


def test_every_implemented_route_has_a_row(gateway):
    assert missing_rows(gateway, ROWS) == []
    assert len({r.key for r in ROWS}) == len(ROWS), "duplicate rows"


def test_every_view_is_marked(gateway):
    assert unguarded_views(gateway.apps) == []


def test_the_checks_catch_a_forgotten_guard_and_a_missing_row(gateway):
    app = Flask("forgetful")

    @app.get("/guarded")
    @authenticated()
    def guarded():
        return "ok"

    @app.get("/open")
    @public
    def deliberately_open():
        return "ok"

    @app.get("/forgot")
    def forgot():
        return "ok"

    assert unguarded_views({"forgetful": app}) == ["forgetful: forgot"]
    assert "no row for implemented route POST /api/v1/auth/login" in missing_rows(gateway, ROWS[1:])


@pytest.mark.parametrize("r", ROWS, ids=lambda r: f"{r.method} {r.template.removeprefix('/api/v1')}")
def test_matrix(api, world, r):
    assert check_row(api, world, r) == []
