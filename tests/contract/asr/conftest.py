import pytest

from fake_http import FakeService, serve


@pytest.fixture
def fake() -> FakeService:
    service = FakeService()
    server = serve(service)
    yield service
    server.shutdown()
    server.server_close()
