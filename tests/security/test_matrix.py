"""Every implemented route, every kind of caller: who gets through, who gets 403, who gets 404.

Adding a route means adding its row here (the table test fails until then); a row is one line.
"""
import pytest
from flask import Flask

from avp.web import authenticated, public
from tests.security.matrix import (ADMIN_ONLY, CLIENT_MANAGERS, CLIENT_VIEWERS, EVERYONE, MEMBERS, OK, PUBLIC, World,
                                   check_row, expect, missing_rows, row, unguarded_views)

TRACK = {"lang": "{lang}", "kind": "captions"}
JOB_EDITORS = expect(OK, client=403)  # access.JOB_ACTIONS["edit_vtt"]; language states decide the rest (409)

ROWS = [
    # auth
    row("POST /auth/login", PUBLIC),
    row("POST /auth/microsoft", PUBLIC),
    row("POST /auth/refresh", expect(401, anonymous=401, other_org=401)),  # the refresh cookie is the credential
    row("POST /auth/logout", EVERYONE),
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
    # invitations: the token in the body is the credential
    row("POST /invitations/preview", PUBLIC),
    row("POST /invitations/accept", PUBLIC),
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
