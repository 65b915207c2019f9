"""A client's mistake never gets a 500: every route of the contract, called by an admin on real
resources (the matrix world) and on unknown ids, with malformed JSON, bodies of the wrong shape
and nonsense query parameters, answers with a 4xx and a `{"detail": ...}` body."""
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
