"""Stateful fuzzing: schemathesis chains calls along the contract's OpenAPI links (an organization
feeds its clients, members, uploads and briefs; a client its projects and teams; an upload its job
routes, review notes and share links; ...), so generated requests reach objects that exist instead
of answering 404. Same judgement as tests/fuzz/test_fuzz.py: no server error, every answer as the
contract describes it, no documented request refused.

Seeded and bounded for CI (AVP_FUZZ_SCENARIOS scenarios of at most AVP_FUZZ_STEPS calls each, as
an admin and as a production user); `scripts/fuzz` runs many more with a fresh seed.
"""
from __future__ import annotations

import os
from collections import Counter

import pytest

from tests.fuzz.test_fuzz import SEED, fuzz_schema, judge, tokens
from tests.helpers import API, token_for

SCENARIOS = int(os.environ.get("AVP_FUZZ_SCENARIOS", "15"))
STEPS = int(os.environ.get("AVP_FUZZ_STEPS", "10"))
ROLES = ("admin", "production")


def machine_for(app, role: str, token_of, statuses: Counter, failures: list[str]):
    """The contract's state machine (its links only: no inferred ones), calling as `role`."""
    from schemathesis import GenerationMode

    schema, spec = fuzz_schema(app)
    schema.config.phases.stateful.inference.algorithms = []  # the contract's links, nothing guessed
    schema.config.phases.stateful.generation.modes = [GenerationMode.POSITIVE]  # valid requests, as documented
    # Scenarios start at an operation that links somewhere (the stateless fuzz covers the rest).
    schema = schema.include(operation_id=sorted(linked_operations(spec)))

    class Contract(schema.as_state_machine()):
        def get_call_kwargs(self, case):
            return {"headers": {"Authorization": f"Bearer {token_of(role)}"}}

        def validate_response(self, response, case, additional_checks=None, **kwargs):
            statuses[(case.operation.label, response.status_code)] += 1
            if os.environ.get("AVP_FUZZ_DEBUG"):
                print("STEP", role, case.operation.label, case.path_parameters, str(case.body)[:200], response.status_code,
                      response.text[:200])
            failures.extend(judge(spec, role, case, response, kwargs.get("headers") or {}))

    return Contract


def linked_operations(spec: dict) -> set[str]:
    """Operation ids that are the source or the target of a link in the contract."""
    found = set()
    for item in spec["paths"].values():
        for op in item.values():
            if not isinstance(op, dict) or "responses" not in op:
                continue
            for response in op["responses"].values():
                for link in (response.get("links") or {}).values() if isinstance(response, dict) else ():
                    found |= {op["operationId"], link["operationId"]}
    return found


def run_machine(machine, scenarios: int, steps: int, seed: int) -> int:
    """Run `scenarios` scenarios of at most `steps` calls; returns how many restarts it took.

    The server keeps what earlier scenarios made (a second organization of the same name is a
    409), so when Hypothesis replays a scenario's start to vary it, the bundles can differ and it
    stops with a Flaky error: as schemathesis's own runner does, end that run and start the next
    with the following seed. Nothing is lost: every answer was judged as it came."""
    from hypothesis import HealthCheck, Phase, settings
    from hypothesis import seed as hypothesis_seed
    from hypothesis.errors import Flaky
    from hypothesis.stateful import get_state_machine_test
    from schemathesis.engine.errors import is_inconsistent_replay

    done = [0]

    class Counted(machine):
        def setup(self):
            done[0] += 1

    restarts = 0
    while done[0] < scenarios and restarts < scenarios:
        bounded = settings(max_examples=scenarios - done[0], stateful_step_count=steps, deadline=None, database=None,
                           phases=[Phase.generate], suppress_health_check=list(HealthCheck))
        try:
            hypothesis_seed(seed + restarts)(get_state_machine_test(Counted, settings=bounded))()
            return restarts
        except (Flaky, AssertionError) as exc:
            if not isinstance(exc, Flaky) and not is_inconsistent_replay(exc):
                raise
            restarts += 1
    return restarts


@pytest.mark.slow
def test_linked_calls_survive_stateful_fuzzing(client, container):
    users = {role: token_for(client, container, role)[1] for role in ROLES}
    admin_h = {"Authorization": f"Bearer {token_for(client, container, 'admin', email='setup@example.com')[0]}"}
    # The production user works in an organization of their own, as production staff do.
    org = client.post(f"{API}/organizations", json={"name": "Stateful Org"}, headers=admin_h).json
    client.post(f"{API}/organizations/{org['id']}/members", json={"user_id": users["production"]["id"],
                                                                 "role": "production"}, headers=admin_h)

    token_of = tokens(container, users)

    statuses: Counter = Counter()
    failures: list[str] = []
    restarts = sum(run_machine(machine_for(client.application, role, token_of, statuses, failures), SCENARIOS, STEPS,
                               SEED) for role in ROLES)
    calls = sum(statuses.values())
    reached = sorted({label for (label, status), n in statuses.items() if 200 <= status < 300 and "{" in label})
    print(f"stateful fuzz: {calls} calls, statuses {dict(Counter(f'{s // 100}xx' for (_, s) in statuses.elements()))}, "
          f"{restarts} restarts, {len(reached)} operations on linked objects answered 2xx: {reached}")
    if os.environ.get("AVP_FUZZ_DEBUG"):
        print("\n".join(f"{n:4} {label} {status}" for (label, status), n in sorted(statuses.items())))
    if os.environ.get("AVP_FUZZ_REPORT"):
        with open(os.environ["AVP_FUZZ_REPORT"] + ".stateful", "w", encoding="utf-8") as fh:
            fh.write("\n\n".join(failures))
    assert failures == [], "\n\n".join(failures[:40])
    # The links carried real ids: operations on an object that exists answered, not only 404.
    assert len(reached) >= 5, reached
