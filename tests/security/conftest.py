import uuid

import pytest

from tests.integration.workflow_fake import install
from tests.security.matrix import World, build_world


@pytest.fixture(scope="module")
def world(emulators, gateway, tmp_path_factory, accessible_render) -> World:
    """One world for the whole module: building it per test would dominate the run time."""
    from avp.bootstrap import Container, use_container
    from avp.config import Settings

    settings = Settings(project_id=f"matrix-{uuid.uuid4().hex[:12]}", data_dir=tmp_path_factory.mktemp("matrix"),
                        firestore_host=emulators["firestore"].host, storage_host=emulators["storage"].host,
                        bucket=f"b-{uuid.uuid4().hex[:12]}", jwt_key="matrix-key-" + uuid.uuid4().hex)
    container = Container(settings)
    install(container)  # actions that start workflows record them instead of spawning real steps
    use_container(container)
    yield build_world(container, accessible_render)
    use_container(None)


@pytest.fixture(scope="module")
def api(gateway, world):
    from tests.openapi_client import ContractClient

    return ContractClient(gateway, use_cookies=False)


@pytest.fixture
def raw_api(gateway):
    """A client that sends what it is told without checking it against the contract: for requests
    that are malformed on purpose (hostile ids, bodies no JSON parser should take), whose answers the
    tests check themselves."""
    from werkzeug.test import Client

    return Client(gateway, use_cookies=False)
