from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.contract.fake_http import FakeService, running


@pytest.fixture
def fake() -> Iterator[FakeService]:
    with running(FakeService()) as service:
        yield service
