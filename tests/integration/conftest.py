from __future__ import annotations

import pytest

from tests.integration.workflow_fake import FakeRunner, install


@pytest.fixture
def runner(container) -> FakeRunner:
    """A recording fake installed as the container's workflow runner."""
    return install(container)
