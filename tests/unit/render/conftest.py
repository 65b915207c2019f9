"""Generated sources shared by the render tests (session-scoped: made once)."""
from __future__ import annotations

from pathlib import Path

import pytest
from render_media import make_source


@pytest.fixture(scope="session")
def source_12s(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_source(tmp_path_factory.mktemp("src") / "src.mp4", 12)


@pytest.fixture(scope="session")
def source_hum(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_source(tmp_path_factory.mktemp("hum") / "hum.mp4", 8, hum=True)
