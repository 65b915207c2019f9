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


def refusal_expected(label: str, response) -> bool:
    """Refusals the contract cannot express (cross-field rules, facts about stored data), each
    documented on its route; anything else refused is a disagreement between server and contract."""
    return False


def fuzz_schema(app):
    import schemathesis

    spec = strict(normalized(yaml.safe_load(OPENAPI.read_text(encoding="utf-8"))))
    spec.pop("x-google-api-management", None)
    schema = schemathesis.openapi.from_dict(spec)
    schema.app = app
    return schema


def run(app, tokens: dict[str, str], examples: int, seed: int) -> tuple[Counter, list[str]]:
    """Fuzz every operation for every role; returns (statuses seen, failures)."""
    from hypothesis import HealthCheck, Phase, given, settings
    from hypothesis import seed as hypothesis_seed
    from schemathesis import checks

    schema = fuzz_schema(app)
    strict_checks = [checks.not_a_server_error, checks.status_code_conformance, checks.content_type_conformance,
                     checks.response_schema_conformance]
    statuses: Counter = Counter()
    failures: list[str] = []
    for result in schema.get_all_operations():
        operation = result.ok()
        if os.environ.get("AVP_FUZZ_ONLY", "") not in operation.label:
            continue
        for role, token in tokens.items():

            @hypothesis_seed(seed)
            @settings(max_examples=examples, database=None, deadline=None, phases=[Phase.generate],
                      suppress_health_check=list(HealthCheck))
            @given(case=operation.as_strategy())
            def one(case):
                headers = {"Authorization": f"Bearer {token}"}  # public routes ignore it
                response = case.call(headers=headers)
                statuses[f"{response.status_code // 100}xx"] += 1
                if os.environ.get("AVP_FUZZ_DEBUG"):
                    print(role, operation.label, response.status_code, response.text[:200], case.path_parameters, case.query)
                where = f"{role} {operation.label} {case.path_parameters or ''} {case.query or ''} -> {response.status_code}"
                try:
                    case.validate_response(response, checks=strict_checks, headers=headers)
                except Exception as exc:  # noqa: BLE001 - collected and reported together
                    failures.append(f"{where}: {str(exc).strip()[:600]}")
                if response.status_code in (400, 422) and not refusal_expected(operation.label, response):
                    # Every example is valid by the contract: refusing it means server and contract disagree.
                    failures.append(f"{where}: documented request refused: {response.text[:300]}")

            one()
    return statuses, failures


@pytest.mark.slow
def test_every_route_survives_fuzzing_as_admin_and_linguist(client, container):
    tokens = {role: token_for(client, container, role)[0] for role in ROLES}
    statuses, failures = run(client.application, tokens, EXAMPLES, SEED)
    print(f"fuzz: {sum(statuses.values())} requests, statuses {dict(statuses)}, {len(failures)} failures")
    assert failures == [], "\n\n".join(failures[:40])
