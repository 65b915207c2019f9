"""A client's mistake never gets a 500: every route of the contract, called by an admin on real
resources (the matrix world) and on unknown ids, with malformed JSON, bodies of the wrong shape
and nonsense query parameters, answers with a 4xx and a `{"detail": ...}` body. Hostile input too:
ids Firestore cannot hold answer 404; JSON holding a lone surrogate, or nested 1,000 deep, 400."""
import re

import pytest
import yaml

from tests.conftest import REPO
from tests.helpers import bearer

SPEC = yaml.safe_load((REPO / "openapi.yaml").read_text())
# Deleting routes last, so the others meet the world's resources while they still exist.
ROUTES = sorted(((method.upper(), path) for path, item in SPEC["paths"].items() for method in item
                 if method in ("get", "post", "put", "patch", "delete")), key=lambda r: r[0] == "DELETE")
BODIES = {"malformed": ("{not json", "application/json"), "array": ("[1, 2]", "application/json"),
          "wrong types": ('{"name": 5, "email": [], "role": {}, "languages": "fr", "size_bytes": "big"}', "application/json"),
          "form": ("a=1&b=2", "application/x-www-form-urlencoded")}


def _urls(path: str, params: dict[str, str]) -> list[str]:
    real = re.sub(r"\{([^}]+)\}", lambda m: params.get(m.group(1), "no-such-id"), path)
    unknown = re.sub(r"\{[^}]+\}", "no-such-id", path)
    return list(dict.fromkeys([real, unknown]))


@pytest.mark.parametrize(("method", "path"), ROUTES, ids=[f"{m} {p}" for m, p in ROUTES])
def test_no_route_answers_500_to_garbage(api, world, method, path):
    headers = bearer(world.current_token("admin"))
    answers = []
    for url in _urls(path, world.params):
        answers.append(api.open(url + "?page=-3&size=abc&sort=%00&lang=%%&kind=x&version=-1&a=z&b=&format=exe",
                                method=method, headers=headers))
        if method in ("POST", "PUT", "PATCH", "DELETE"):
            for body, content_type in BODIES.values():
                answers.append(api.open(url, method=method, data=body, content_type=content_type, headers=headers))
    for resp in answers:
        assert resp.status_code < 500, (resp.status_code, resp.get_data(as_text=True)[:300])
        if resp.status_code >= 400:
            assert "detail" in (resp.get_json(silent=True) or {}), resp.get_data(as_text=True)[:200]


# Ids no Firestore document can have (an encoded `/` reaches the function as part of the id).
HOSTILE_IDS = {"dot": ".", "dotdot": "..", "reserved": "__x__", "slash": "a%2Fb", "long": "x" * 1600}
ID_ROUTES = [(m, p) for m, p in ROUTES if re.search(r"\{[a-z_]*(_id|token)\}", p)]
JSON_ROUTES = [(m, p) for m, p in ROUTES if "application/json" in
               ((SPEC["paths"][p][m.lower()].get("requestBody") or {}).get("content") or {})]
SURROGATE = '{"name": "\\ud800", "email": "a\\udfff@example.com", "title": "x\\ud800", "text": "\\udc00"}'
DEEP = "[" * 1000 + "]" * 1000


def _with_ids(path: str, params: dict[str, str], hostile: str) -> str:
    """`path` with every id parameter hostile and the others (languages, kinds, versions) real."""
    def value(m: re.Match) -> str:
        name = m.group(1)
        return hostile if name.endswith("_id") or name == "token" else params.get(name, "x")

    return re.sub(r"\{([^}]+)\}", value, path)


@pytest.mark.parametrize(("method", "path"), ID_ROUTES, ids=[f"{m} {p}" for m, p in ID_ROUTES])
def test_ids_firestore_cannot_hold_answer_404(raw_api, world, method, path):
    headers = bearer(world.current_token("admin"))
    for name, hostile in HOSTILE_IDS.items():
        resp = raw_api.open(_with_ids(path, world.params, hostile), method=method, headers=headers)
        body = resp.get_json(silent=True) or {}
        # 404, or the body's validation (415, 422) or the method's rules (405) before the id is looked at.
        assert resp.status_code in (404, 405, 415, 422), (name, resp.status_code, resp.get_data(as_text=True)[:300])
        assert "detail" in body, (name, resp.get_data(as_text=True)[:200])


@pytest.mark.parametrize(("method", "path"), JSON_ROUTES, ids=[f"{m} {p}" for m, p in JSON_ROUTES])
def test_json_that_is_not_unicode_or_too_deep_answers_400(raw_api, world, method, path):
    headers = bearer(world.current_token("admin"))
    url = re.sub(r"\{([^}]+)\}", lambda m: world.params.get(m.group(1), "no-such-id"), path)
    for name, body in (("lone surrogate", SURROGATE), ("nested 1000 deep", DEEP)):
        resp = raw_api.open(url, method=method, data=body, content_type="application/json", headers=headers)
        detail = (resp.get_json(silent=True) or {}).get("detail", "")
        # 400 when the body is read; a route may refuse the caller or the resource first (never 500).
        assert resp.status_code in (400, 404, 409), (name, resp.status_code, resp.get_data(as_text=True)[:300])
        if resp.status_code == 400:
            assert ("Unicode" in detail) if name == "lone surrogate" else ("deeper" in detail), detail
