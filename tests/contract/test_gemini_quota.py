"""A Gemini rate limit, answered by a real HTTP server with the body Gemini sends: a per-minute
limit is transient (the step retries it), a used-up daily quota is permanent (retrying for hours
cannot help) and the job's reason says when it resets."""
from __future__ import annotations

import json

import pytest

from avp.providers.retry import DAILY_QUOTA_ADVICE
from tests.contract.test_unreachable_gemini import CALLS as ALL_CALLS
from tests.helpers import json_server


def _body(quota_id: str) -> bytes:
    return json.dumps({"error": {
        "code": 429, "status": "RESOURCE_EXHAUSTED",
        "message": "You exceeded your current quota, please check your plan and billing details.",
        "details": [
            {"@type": "type.googleapis.com/google.rpc.QuotaFailure", "violations": [{
                "quotaMetric": "generativelanguage.googleapis.com/generate_content_free_tier_requests",
                "quotaId": quota_id, "quotaDimensions": {"location": "global", "model": "gemini-2.5-flash"},
                "quotaValue": "250"}]},
            {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "41s"}]}}).encode()


@pytest.fixture
def limited():
    """A server answering every call 429 with the quota id set in `state["quota_id"]`: (its URL, state)."""
    state = {"quota_id": "GenerateRequestsPerDayPerProjectPerModel-FreeTier", "calls": 0}

    def answer() -> tuple[int, bytes]:
        state["calls"] += 1
        return 429, _body(state["quota_id"])

    with json_server(answer) as url:
        yield url, state


# The adapters that tell permanent from transient (an embedding failure is always retryable).
CALLS = {kind: call for kind, call in ALL_CALLS.items() if kind != "embed"}


@pytest.mark.parametrize("kind", sorted(CALLS))
def test_a_used_up_daily_quota_is_permanent_and_says_when_it_resets(kind, limited):
    url, state = limited
    error, call = CALLS[kind]
    with pytest.raises(error) as caught:
        call(url)
    assert caught.value.permanent is True and DAILY_QUOTA_ADVICE in str(caught.value) and "429" in str(caught.value)
    assert state["calls"] == 1, "not retried"


def test_a_per_minute_limit_is_retried(limited):
    url, state = limited
    state["quota_id"] = "GenerateRequestsPerMinutePerProjectPerModel-FreeTier"
    error, call = CALLS["translate"]
    with pytest.raises(error) as caught:
        call(url)
    assert caught.value.permanent is False and DAILY_QUOTA_ADVICE not in str(caught.value)
    assert state["calls"] > 1, "retried"
