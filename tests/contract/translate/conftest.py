from __future__ import annotations

from collections.abc import Iterator

import pytest
from fake_translate_api import FakeGeminiTranslate

from tests.contract.fake_http import running


@pytest.fixture
def fake_gemini() -> Iterator[FakeGeminiTranslate]:
    with running(FakeGeminiTranslate()) as api:
        yield api
