from __future__ import annotations

from collections.abc import Iterator

import pytest
from fake_embed_api import FakeEmbedApi

from tests.contract.fake_http import running


@pytest.fixture
def fake_api() -> Iterator[FakeEmbedApi]:
    with running(FakeEmbedApi()) as api:
        yield api
