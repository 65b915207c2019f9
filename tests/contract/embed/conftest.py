from __future__ import annotations

from collections.abc import Iterator

import pytest
from fake_embed_api import FakeEmbedApi


@pytest.fixture
def fake_api() -> Iterator[FakeEmbedApi]:
    api = FakeEmbedApi()
    yield api
    api.close()
