from __future__ import annotations

import pytest

from tests.integration.qc_world import make_world
from tests.integration.workflow_fake import FakeRunner, install


@pytest.fixture
def runner(container) -> FakeRunner:
    """A recording fake installed as the container's workflow runner."""
    return install(container)


@pytest.fixture
def world(container, client):
    """The QC world (an organization, signed-in people of every role, a job with version 1 of its
    tracks). Test files with a world of their own define `world` themselves."""
    return make_world(container, client)
