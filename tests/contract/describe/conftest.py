from __future__ import annotations

from collections.abc import Iterator

import pytest
from fake_describe_api import FakeGeminiText


@pytest.fixture
def fake_gemini() -> Iterator[FakeGeminiText]:
    api = FakeGeminiText()
    yield api
    api.close()
