from __future__ import annotations

from collections.abc import Iterator

import pytest
from fake_tts_api import FakeTtsApi


@pytest.fixture
def fake_api() -> Iterator[FakeTtsApi]:
    api = FakeTtsApi()
    yield api
    api.close()
