from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fake_iam_api import FakeIamApi, tls_for_google_hosts

from tests.contract.fake_http import running


@pytest.fixture
def google(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeIamApi]:
    """The fake reached the way the libraries reach Google: HTTPS to the real host names, through a
    loopback proxy that terminates TLS with a certificate this process trusts."""
    context, ca_file = tls_for_google_hosts(tmp_path)
    with running(FakeIamApi(), tls=context) as api:
        for name in ("NO_PROXY", "no_proxy", "STORAGE_EMULATOR_HOST", "CURL_CA_BUNDLE"):
            monkeypatch.delenv(name, raising=False)
        monkeypatch.setenv("HTTPS_PROXY", api.url)
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(ca_file))
        yield api
