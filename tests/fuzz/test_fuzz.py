"""Property-based fuzzing of every route with schemathesis, in process through the local gateway,
authenticated as an admin and as a lower role (a linguist): no 5xx, every status, content type
and body documented (with undocumented fields forbidden, as in tests/openapi_client.py).

Seeded and bounded so it fits in CI: AVP_FUZZ_EXAMPLES examples per operation and role (default
3). `scripts/fuzz` runs the same with many more.
"""
from __future__ import annotations

import os
from collections import Counter

import pytest
import yaml

from tests.helpers import token_for
from tests.openapi_client import OPENAPI, normalized

EXAMPLES = int(os.environ.get("AVP_FUZZ_EXAMPLES", "3"))
SEED = int(os.environ.get("AVP_FUZZ_SEED", "20261130"))
ROLES = ("admin", "linguist")


def strict(node):
    """Objects with declared properties take no others: the server refuses unknown fields (422), and
    a response field the contract does not name is a deviation."""
    if isinstance(node, list):
        return [strict(v) for v in node]
    if not isinstance(node, dict):
        return node
    node = {k: strict(v) if k not in ("example", "examples", "enum", "default") else v for k, v in node.items()}
    if "properties" in node and "additionalProperties" not in node:
        node["additionalProperties"] = False
    return node


# Refusals of schema-valid requests that the contract cannot express, each with its reason:
# (operation label or "*", text of the refusal's detail). Anything else refused is a disagreement
# between server and contract, and fails.
EXPECTED_REFUSALS = [
    ("*", "invalid cursor"),  # cursors are opaque: only one the server handed out is valid
    ("POST /api/v1/language-qc/jobs/{job_id}/languages/bulk-assign", "give linguist_id, reviewer_id or both"),  # cross-field
    ("POST /api/v1/jobs/bulk/download", "none of these jobs has a deliverable you may download"),  # unknown ids
    ("DELETE /api/v1/jobs/bulk", "comma-separated values"),  # blank items are dropped; all blank is none
    ("*", "required: name the organization"),  # a caller in several (or, as admin, no) organizations must say which
    ("POST /api/v1/organizations/{org_id}/members", "give exactly one of user_id and email"),  # cross-field
    ("POST /api/v1/jobs/{job_id}/review-notes", "is not a language of this job"),  # depends on the job
    ("*", "is neither the source nor a target language of this job"),  # depends on the job
    # Provider ids are checked against what this deployment can run (GET /tts/options lists them);
    # the contract keeps them open because older names are accepted as aliases (helper "failures").
    ("*", "must be one of whisper, video_intelligence, gemini"),
    ("*", "provider must be one of espeak, gemini, cloud_tts"),
    ("*", "available here:"),  # a provider this deployment has no key or model for
    ("*", "a project needs its client_id"),  # cross-field (or the job's or brief's own client)
    ("POST /api/v1/organizations/{org_id}/members", "client_id and team_id only apply to invitations"),  # cross-field
    ("POST /api/v1/language-qc/jobs/{job_id}/languages/bulk-assign", "not target languages of this job"),  # depends on the job
    ("*", "not a file uploaded through /files/signed-upload"),  # attachments must name this caller's uploads
    ("POST /api/v1/admin/users", "unknown organization"),  # ids of existing organizations only
    # OpenAPI 3.0 cannot constrain an object's keys (no propertyNames): voices are keyed by language tag.
    ("*", "voices must map language tags to voice ids"),
    ("*", "the due date is in the past"),  # depends on today
    ("*", " has no voice "),  # a voice id must be one the provider's catalog lists for that language
    ("GET /api/v1/jobs", "q (a title search) combines only with sort"),  # cross-parameter (one index per combination)
]


def refusal_expected(label: str, response) -> bool:
    text = response.text
    return any(op in ("*", label) and detail in text for op, detail in EXPECTED_REFUSALS)


def fuzz_schema(app):
    import schemathesis

    spec = strict(normalized(yaml.safe_load(OPENAPI.read_text(encoding="utf-8"))))
    spec.pop("x-google-api-management", None)
    schema = schemathesis.openapi.from_dict(spec)
    schema.app = app
    return schema, spec


# 5xx are checked apart: a 500 is always a failure, a 503 the route documents (a provider or
# sign-in method this deployment does not offer) is an answer.
def strict_checks() -> list:
    from schemathesis import checks

    return [checks.status_code_conformance, checks.content_type_conformance, checks.response_schema_conformance]


def judge(spec: dict, role: str, case, response, headers: dict) -> list[str]:
    """What is wrong with one answer: a server error, an answer the contract does not describe, or
    a refusal of a request the contract allows."""
    label = case.operation.label
    where = f"{role} {label} {case.path_parameters or ''} {case.query or ''} -> {response.status_code}"
    method, path = label.split(" ", 1)
    documented = {str(c) for c in spec["paths"][path][method.lower()]["responses"]}
    found = []
    if response.status_code == 500 or (response.status_code > 500 and str(response.status_code) not in documented):
        found.append(f"{where}: server error: {response.text[:300]}")
    try:
        case.validate_response(response, checks=strict_checks(), headers=headers)
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as exc:  # noqa: BLE001 - schemathesis raises a BaseExceptionGroup; collected
        found.append(f"{where}: {str(exc).strip()[:600]}")
    if response.status_code in (400, 422) and not refusal_expected(label, response):
        # Every example is valid by the contract: refusing it means server and contract disagree.
        found.append(f"{where}: documented request refused: {response.text[:300]}")
    return found


def run(app, token_of, roles, real_ids: dict[str, str], examples: int, seed: int) -> tuple[Counter, list[str]]:
    """Fuzz every operation for every role (`token_of(role)` gives a token valid now: logout and
    role changes end earlier ones); path ids are random or, half the time, real ones from
    `real_ids`. Returns (statuses seen, failures)."""
    from hypothesis import HealthCheck, Phase, given, settings
    from hypothesis import strategies as st
    from hypothesis import seed as hypothesis_seed

    schema, spec = fuzz_schema(app)
    statuses: Counter = Counter()
    failures: list[str] = []
    for result in schema.get_all_operations():
        operation = result.ok()
        if os.environ.get("AVP_FUZZ_ONLY", "") not in operation.label:
            continue
        for role in roles:
            token = token_of(role)

            @hypothesis_seed(seed)
            @settings(max_examples=examples, database=None, deadline=None, phases=[Phase.generate],
                      suppress_health_check=list(HealthCheck))
            @given(case=operation.as_strategy(), real=st.booleans())
            def one(case, real):
                if real and case.path_parameters:
                    case.path_parameters.update({k: real_ids[k] for k in case.path_parameters if k in real_ids})
                headers = {"Authorization": f"Bearer {token}"}  # public routes ignore it
                try:
                    response = case.call(headers=headers)
                except Exception as exc:  # noqa: BLE001 - collected and reported together
                    failures.append(f"{role} {operation.label}: the call failed: {exc!r}"[:600])
                    return
                statuses[f"{response.status_code // 100}xx"] += 1
                if os.environ.get("AVP_FUZZ_DEBUG"):
                    print(role, operation.label, response.status_code, response.text[:200], case.path_parameters, case.query)
                failures.extend(judge(spec, role, case, response, headers))

            one()
    return statuses, failures


def tokens(container, users: dict[str, dict]):
    """`token_of(role)`: an access token of that role's user, valid now (logout and role changes
    made by the fuzzed requests end earlier ones)."""
    from avp.auth.tokens import issue_access_token
    from avp.domain.aggregates import User

    def token_of(role: str) -> str:
        user = container.store.of(User).get(users[role]["id"])
        return issue_access_token(container.jwt_key, user, user.org_ids, 900)[0]

    return token_of


@pytest.mark.slow
def test_every_route_survives_fuzzing_as_admin_and_linguist(client, container):
    users = {role: token_for(client, container, role)[1] for role in ROLES}
    token_of = tokens(container, users)
    real_ids = world(client, {"Authorization": f"Bearer {token_of('admin')}"}, users)
    statuses, failures = run(client.application, token_of, ROLES, real_ids, EXAMPLES, SEED)
    print(f"fuzz: {sum(statuses.values())} requests, statuses {dict(statuses)}, {len(failures)} failures")
    if os.environ.get("AVP_FUZZ_REPORT"):
        with open(os.environ["AVP_FUZZ_REPORT"], "w", encoding="utf-8") as fh:
            fh.write("\n\n".join(failures))
    assert failures == [], "\n\n".join(failures[:40])


def world(client, h: dict, users: dict) -> dict[str, str]:
    """A few real objects made through the API, so fuzzed paths also reach existing resources."""
    from tests.helpers import API

    org = client.post(f"{API}/organizations", json={"name": "Fuzz Org"}, headers=h).json
    for user in users.values():
        client.post(f"{API}/organizations/{org['id']}/members", json={"user_id": user["id"], "role": user["role"]}, headers=h)
    cl = client.post(f"{API}/clients", json={"org_id": org["id"], "name": "Fuzz Client"}, headers=h).json
    team = client.post(f"{API}/clients/{cl['id']}/teams", json={"name": "Fuzz Team"}, headers=h).json
    project = client.post(f"{API}/clients/{cl['id']}/projects", json={"name": "Fuzz Project"}, headers=h).json
    job = client.post(f"{API}/jobs/upload/init", json={"filename": "f.mp4", "content_type": "video/mp4", "size_bytes": 1000,
                                                       "org_id": org["id"], "title": "Fuzz job"}, headers=h).json
    brief = client.post(f"{API}/briefs", json={"title": "Fuzz brief", "org_id": org["id"]}, headers=h).json
    return {"org_id": org["id"], "client_id": cl["id"], "team_id": team.get("id", ""), "project_id": project["id"],
            "job_id": job["job_id"], "brief_id": brief.get("id", ""), "user_id": users["linguist"]["id"],
            "lang": "fr", "language": "fr"}
