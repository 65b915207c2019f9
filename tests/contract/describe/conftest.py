from __future__ import annotations

from collections.abc import Iterator

import pytest
from fake_describe_api import FakeGeminiText

from tests.contract.fake_http import running


@pytest.fixture
def fake_gemini() -> Iterator[FakeGeminiText]:
    with running(FakeGeminiText()) as api:
        yield api
