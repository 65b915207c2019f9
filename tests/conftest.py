"""Shared fixtures: the emulators start once per session; every test gets a fresh Firestore
project id and its own bucket, so tests never see each other's data."""
from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
MEDIA = REPO / "tests" / "data" / "media"  # in the repository, licences in tests/data/README.md


@pytest.fixture(scope="session")
def media_dir() -> Path:
    return MEDIA


@pytest.fixture(scope="session")
def emulators(tmp_path_factory):
    """The Firestore emulator (child JVM, with our security rules) and the storage emulator (in-process)."""
    from avp.local.emulators import FirestoreEmulator, StorageEmulator

    rules = REPO / "infra" / "firestore.rules"
    fs = FirestoreEmulator(rules=rules if rules.exists() else None,
                           log_file=tmp_path_factory.mktemp("fs") / "firestore.log").start()
    st = StorageEmulator(bucket="avp-test").start()
    os.environ["FIRESTORE_EMULATOR_HOST"] = fs.host
    os.environ["STORAGE_EMULATOR_HOST"] = st.host
    yield {"firestore": fs, "storage": st}
    st.stop()
    fs.stop()


def _settings(emulators, data_dir: Path):
    from avp.config import Settings

    return Settings(project_id=f"test-{uuid.uuid4().hex[:12]}", data_dir=data_dir,
                    firestore_host=emulators["firestore"].host, storage_host=emulators["storage"].host,
                    bucket=f"b-{uuid.uuid4().hex[:12]}", jwt_key="test-key-" + uuid.uuid4().hex,
                    public_url="http://127.0.0.1:8012")


@pytest.fixture
def settings(emulators, tmp_path):
    return _settings(emulators, tmp_path / "data")


@pytest.fixture(scope="session")
def accessible_render(emulators, tmp_path_factory):
    """One real run of the sample through the pipeline and a French language's synthesize and
    render steps (tests/rendered.py), in a project of its own: the worlds that need a rendered
    language install what it left."""
    from tests import rendered

    return rendered.run(lambda name: _settings(emulators, tmp_path_factory.mktemp(name) / "data"))


@pytest.fixture
def container(settings):
    """The composition root of one test. Its workflow runner records what would run: a test that
    wants real pipeline executions builds a LocalRunner itself (tests/integration/test_pipeline.py)."""
    from avp.bootstrap import Container, use_container
    from tests.integration.workflow_fake import install

    c = Container(settings)
    install(c)
    use_container(c)
    yield c
    use_container(None)


@pytest.fixture(scope="session")
def gateway(emulators):
    from avp.local.gateway import Gateway

    return Gateway()


@pytest.fixture
def client(gateway, container):
    """The API as a client sees it; every exchange is checked against openapi.yaml."""
    from tests.openapi_client import ContractClient

    return ContractClient(gateway, use_cookies=True)
