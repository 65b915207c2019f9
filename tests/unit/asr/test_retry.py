import pytest

from avp.providers.asr.base import AsrError
from avp.providers.retry import error_for_status, with_retries


@pytest.mark.parametrize(("status", "permanent"), [
    (400, True), (403, True), (404, True), (408, False), (429, False), (500, False), (503, False), (None, False)])
def test_status_mapping(status, permanent):
    assert error_for_status(status, "x", AsrError).permanent is permanent


def test_transient_errors_are_retried_with_backoff():
    calls, waits = [], []

    def flaky() -> str:
        calls.append(1)
        if len(calls) < 3:
            raise AsrError("busy", permanent=False)
        return "ok"

    assert with_retries(flaky, attempts=3, backoff=0.5, sleep=waits.append) == "ok"
    assert waits == [0.5, 1.0]


def test_permanent_error_is_not_retried():
    calls = []

    def bad() -> None:
        calls.append(1)
        raise AsrError("bad request", permanent=True)

    with pytest.raises(AsrError):
        with_retries(bad, attempts=5, sleep=lambda _: None)
    assert len(calls) == 1


def test_last_transient_error_propagates():
    def busy() -> None:
        raise AsrError("busy", permanent=False)

    with pytest.raises(AsrError, match="busy"):
        with_retries(busy, attempts=2, sleep=lambda _: None)
