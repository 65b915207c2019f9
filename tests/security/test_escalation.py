"""No escalation: invitations grant no more than the inviter may and never sign anyone in without their
password; team and PM seats go only to members of the client's organization with the fitting role; ids
named in a request body are checked like ids in a path."""
import io

import pytest

from avp.auth.tokens import Principal
from avp.domain import audit, briefs, glossaries, tenancy
from tests.helpers import API, bearer, login, mailed_link, make_user
from tests.integration.ops_world import build
from tests.integration.test_glossaries import GOOD, workbook


@pytest.fixture
def world(client, container):
    return build(container)


def _as(world, who: str) -> Principal:
    user = world.users[who]
    return Principal(user["id"], user["role"])


def _mailed_token(container, email: str) -> str:
    return mailed_link(container, email, "accept-invitation#token=")


def _invite(client, world, email: str, who: str = "project_manager", role: str = "client"):
    return client.post(f"{API}/organizations/{world.org['id']}/members",
                       json={"email": email, "role": role, "invite": True, "client_id": world.acme["id"]}, headers=world.h(who))


def test_an_invitation_for_an_existing_account_needs_that_account_signed_in_and_its_role(client, container, world):
    # A production user of organization B, invited by A's PM as a client user.
    victim = make_user(container, "production")
    tenancy.add_member(container.store, audit.SYSTEM, _as(world, 'admin'), world.other_org["id"], role="production",
                       user_id=victim["id"])
    invited = _invite(client, world, victim["email"])
    assert invited.status_code == 202, invited.json
    token = _mailed_token(container, victim["email"])
    accept = f"{API}/invitations/accept"

    # Knowing the link is not knowing the password: no session without signing in.
    anonymous = client.post(accept, json={"token": token})
    assert anonymous.status_code == 401 and "sign in" in anonymous.json["detail"]
    someone_else = login(client, make_user(container, "client")["email"]).json["access_token"]
    assert client.post(accept, json={"token": token}, headers=bearer(someone_else)).status_code == 403
    # Signed in as themselves, their production role would reach all of A's jobs: refused.
    own = login(client, victim["email"]).json["access_token"]
    mismatch = client.post(accept, json={"token": token}, headers=bearer(own))
    assert mismatch.status_code == 409 and "client" in mismatch.json["detail"]
    after = container.store.get(f"users/{victim['id']}")
    assert world.org["id"] not in after["org_ids"] and after["team_client_ids"] in ([], None)


def test_an_existing_account_of_the_invited_role_accepts_while_signed_in(client, container, world):
    person = make_user(container, "client")
    assert _invite(client, world, person["email"]).status_code in (201, 202)
    own = login(client, person["email"]).json["access_token"]
    accepted = client.post(f"{API}/invitations/accept", json={"token": _mailed_token(container, person["email"])},
                           headers=bearer(own))
    assert accepted.status_code == 200, accepted.json
    assert world.org["id"] in container.store.get(f"users/{person['id']}")["org_ids"]


def test_a_pm_invites_only_client_users(client, world):
    for role in ("production", "project_manager", "admin", "reviewer"):
        assert _invite(client, world, f"x-{role}@example.com", role=role).status_code == 403


def test_team_and_pm_seats_need_a_member_of_the_clients_organization_with_the_fitting_role(client, container, world):
    store, cid = container.store, world.acme["id"]
    outsider = make_user(container, "client")  # a client user of organization B
    tenancy.add_member(store, audit.SYSTEM, _as(world, 'admin'), world.other_org["id"], role="client", user_id=outsider["id"])
    team = client.post(f"{API}/clients/{cid}/teams", json={"name": "T", "member_ids": []}, headers=world.h("admin")).json
    members = f"{API}/clients/{cid}/teams/{team['id']}/members"
    for who in ("admin", "project_manager"):
        refused = client.post(members, json={"user_id": outsider["id"]}, headers=world.h(who))
        assert refused.status_code == 422 and "organization" in str(refused.json["detail"])
        wrong_role = client.post(members, json={"user_id": world.users["production"]["id"]}, headers=world.h(who))
        assert wrong_role.status_code == 422 and "role" in str(wrong_role.json["detail"])
    created = client.post(f"{API}/clients/{cid}/teams", json={"name": "U", "member_ids": [outsider["id"]]}, headers=world.h("admin"))
    assert created.status_code == 422
    assert client.post(members, json={"user_id": world.users["outsider_client"]["id"]}, headers=world.h("admin")).status_code == 200
    # The outsider reads none of A's jobs.
    assert cid not in (store.get(f"users/{outsider['id']}").get("team_client_ids") or [])

    foreign_pm = make_user(container, "project_manager")
    tenancy.add_member(store, audit.SYSTEM, _as(world, 'admin'), world.other_org["id"], role="project_manager", user_id=foreign_pm["id"])
    assert client.post(f"{API}/clients/{cid}/pm", json={"user_id": foreign_pm["id"]}, headers=world.h("admin")).status_code == 422


def test_upload_complete_refuses_another_organizations_glossary_and_brief(client, container, world):
    store = container.store
    foreign_brief = briefs.create_brief(store, container.storage, _as(world, "other_production"), audit.SYSTEM,
                                        {"org_id": world.other_org["id"], "title": "theirs"})
    foreign_glossary = client.post(f"{API}/glossaries", data={"name": "theirs", "org_id": world.other_org["id"],
                                                              "file": (io.BytesIO(workbook(GOOD)), "t.xlsx", glossaries.XLSX_TYPE)},
                                   headers=world.h("other_production"), content_type="multipart/form-data")
    assert foreign_glossary.status_code == 201, foreign_glossary.json
    foreign_glossary = foreign_glossary.json
    own_brief = briefs.create_brief(store, container.storage, _as(world, "production"), audit.SYSTEM,
                                    {"org_id": world.org["id"], "title": "ours"})
    h = world.h("production")
    session = client.post(f"{API}/jobs/upload/init", json={"filename": "a.mp4", "content_type": "video/mp4", "size_bytes": 1000,
                                                          "org_id": world.org["id"]}, headers=h).json
    body = {"job_id": session["job_id"], "gcs_uri": session["gcs_uri"], "filename": "a.mp4", "source_language": "en",
            "requested_outputs": {"captions_vtt": True}}
    for field, value in (("brief_id", foreign_brief["id"]), ("glossary_id", foreign_glossary["id"]), ("brief_id", "no-such-brief")):
        refused = client.post(f"{API}/jobs/upload/complete", json={**body, field: value}, headers=h)
        assert refused.status_code == 422 and field in refused.json["detail"], refused.json
    assert store.get(f"jobs/{session['job_id']}").get("brief_id") is None
    # Its own organization's brief passes the check (the upload itself is not finished yet: 409).
    assert client.post(f"{API}/jobs/upload/complete", json={**body, "brief_id": own_brief["id"]}, headers=h).status_code == 409
