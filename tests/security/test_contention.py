"""Contention answers like an API (issue 12, item 4): a transaction still aborted after its retries
is a 503 with Retry-After, never a 500. The load figures come from scripts/bench_contention.py
(50 clients on one job for 60 s); this pins the rule itself."""
from __future__ import annotations

import pytest
from google.api_core.exceptions import Aborted

from avp.errors import ServiceUnavailable


def test_a_transaction_aborted_on_every_attempt_is_503_with_retry_after(container):
    calls = []

    def always_contended(transaction):
        calls.append(transaction)
        raise Aborted("contention on jobs/x")

    with pytest.raises(ServiceUnavailable) as caught:
        container.store.transaction(always_contended, attempts=3)
    assert len(calls) == 3
    assert caught.value.status == 503 and caught.value.headers["Retry-After"] == "1"


def test_a_transaction_that_wins_on_a_retry_answers_normally(container):
    calls = []

    def contended_once(transaction):
        calls.append(transaction)
        if len(calls) == 1:
            raise Aborted("contention on jobs/x")
        return "done"

    assert container.store.transaction(contended_once, attempts=3) == "done"
    assert len(calls) == 2
