"""Signed URLs in the cloud: the composition root's storage signs through IAM signBlob with the
runtime's service account (email + access token), and the URL it returns carries a V4 signature
that verifies against the key IAM signed with — checked here by the V4 verifier of the local storage front."""
from __future__ import annotations

import urllib.parse

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from fake_iam_api import FakeIamApi, service_account_file

from avp.local import signed_urls

EMAIL = "avp-functions@proj-1.iam.gserviceaccount.com"


def verify(url: str, key: rsa.RSAPublicKey, method: str = "GET", headers: dict[str, str] | None = None) -> bytes:
    """Refused unless `url`'s V4 signature is EMAIL's and verifies with `key`, checked by the same
    verifier that guards local signed URLs (avp.local.signed_urls, written from Cloud Storage's
    canonical-request rules); returns the string that was signed."""
    parts = urllib.parse.urlsplit(url)
    sent = {"host": parts.netloc, **(headers or {})}
    signed_urls.check(method, parts.path, parts.query, sent, key, EMAIL)
    return signed_urls.string_to_sign(method, parts.path, parts.query, sent)[0]


@pytest.fixture
def cloud_storage(google: FakeIamApi, tmp_path, monkeypatch):
    """The cloud composition root: Application Default Credentials from a service-account file whose
    own key is NOT the one IAM signs with."""
    from avp.bootstrap import Container
    from avp.config import Settings

    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(service_account_file(tmp_path, EMAIL)))
    return Container(Settings(env="cloud", project_id="proj-1", bucket="avp-media-proj-1", data_dir=tmp_path / "d")).storage


def test_download_url_is_signed_by_iam_sign_blob_and_verifies(google: FakeIamApi, cloud_storage) -> None:
    url = cloud_storage.signed_url("jobs/j1/out/en/captions.vtt", filename="captions.vtt", expires=600)

    parts = urllib.parse.urlsplit(url)
    assert (parts.scheme, parts.netloc, parts.path) == ("https", "storage.googleapis.com", "/avp-media-proj-1/jobs/j1/out/en/captions.vtt")
    query = urllib.parse.parse_qs(parts.query)
    assert query["X-Goog-Credential"][0].startswith(f"{EMAIL}/")
    assert query["X-Goog-Expires"] == ["600"] and query["X-Goog-Algorithm"] == ["GOOG4-RSA-SHA256"]
    assert query["response-content-disposition"] == ['attachment; filename="captions.vtt"']

    # One access token from the token endpoint, then signBlob for the account, called with it.
    (token_call, sign_call) = google.requests
    assert token_call[:2] == ("oauth2.googleapis.com", "/token")
    host, path, headers, body = sign_call
    assert host == "iamcredentials.googleapis.com"
    assert path.partition("?")[0] == f"/v1/projects/-/serviceAccounts/{EMAIL}:signBlob"
    assert headers["Authorization"] == f"Bearer {google.tokens[0]}"
    assert set(body) == {"payload"}

    # What IAM was asked to sign is exactly the URL's string-to-sign, and the signature verifies
    # with IAM's key (and with no other).
    assert google.signed() == [verify(url, google.key.public_key())]
    with pytest.raises(signed_urls.Refused):
        verify(url, rsa.generate_private_key(public_exponent=65537, key_size=2048).public_key())
    tampered = url.replace("captions.vtt?", "descriptions.vtt?", 1)
    with pytest.raises(signed_urls.Refused):
        verify(tampered, google.key.public_key())


def test_upload_url_signs_its_content_type_and_reuses_the_live_token(google: FakeIamApi, cloud_storage) -> None:
    first = cloud_storage.signed_url("uploads/a.mp4", method="PUT", content_type="video/mp4")
    second = cloud_storage.signed_url("uploads/b.mp4", method="PUT", content_type="video/mp4")

    assert len(google.tokens) == 1, "a live token is reused, not fetched per URL"
    verify(first, google.key.public_key(), "PUT", {"Content-Type": "video/mp4"})
    verify(second, google.key.public_key(), "PUT", {"Content-Type": "video/mp4"})
    with pytest.raises(signed_urls.Refused):  # the browser must send the content type it was signed for
        verify(first, google.key.public_key(), "PUT", {"Content-Type": "application/octet-stream"})


def test_a_refused_sign_blob_is_an_error_not_an_unsigned_url(google: FakeIamApi, cloud_storage) -> None:
    from google.auth.exceptions import TransportError

    google.deny = True
    with pytest.raises(TransportError, match="signBytes"):
        cloud_storage.signed_url("jobs/j1/source.mp4")
