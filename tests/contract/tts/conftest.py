from __future__ import annotations

from collections.abc import Iterator

import pytest
from fake_tts_api import FakeTtsApi

from tests.contract.fake_http import running


@pytest.fixture
def fake_api() -> Iterator[FakeTtsApi]:
    with running(FakeTtsApi()) as api:
        yield api
