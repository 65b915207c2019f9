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


@pytest.fixture
def settings(emulators, tmp_path):
    from avp.config import Settings

    return Settings(project_id=f"test-{uuid.uuid4().hex[:12]}", data_dir=tmp_path / "data",
                    firestore_host=emulators["firestore"].host, storage_host=emulators["storage"].host,
                    bucket=f"b-{uuid.uuid4().hex[:12]}", jwt_key="test-key-" + uuid.uuid4().hex,
                    public_url="http://127.0.0.1:8012")


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
