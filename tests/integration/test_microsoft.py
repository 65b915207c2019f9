"""Microsoft sign-in against ID tokens signed by keys made here and a JWKS served on loopback."""
import json
import time
from dataclasses import replace

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from avp.bootstrap import Container, use_container
from tests.helpers import API, json_server, make_user

CLIENT_ID, TENANT = "avp-client-id", "11111111-2222-3333-4444-555555555555"


def _key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture
def ms(container):
    key, kid = _key(), "test-kid"
    jwk = json.loads(RSAAlgorithm.to_jwk(key.public_key()))
    body = json.dumps({"keys": [{**jwk, "kid": kid, "use": "sig", "alg": "RS256"}]}).encode()

    with json_server(lambda: (200, body)) as url:
        settings = replace(container.settings, ms_client_id=CLIENT_ID, ms_tenant_ids=(TENANT,), ms_jwks_url=f"{url}/keys")
        configured = Container(settings)
        use_container(configured)
        yield {"key": key, "kid": kid, "container": configured}


def _token(ms, email, *, key=None, aud=CLIENT_ID, tid=TENANT, exp_in=600):
    now = int(time.time())
    claims = {"iss": f"https://login.microsoftonline.com/{tid}/v2.0", "aud": aud, "tid": tid, "email": email,
              "name": "Ms User", "iat": now, "nbf": now, "exp": now + exp_in}
    return jwt.encode(claims, key or ms["key"], algorithm="RS256", headers={"kid": ms["kid"]})


def _sign_in(client, token):
    return client.post(f"{API}/auth/microsoft", json={"id_token": token})


def test_a_valid_token_signs_in_the_user_with_that_email(client, ms):
    user = make_user(ms["container"], "reviewer", email="ms.user@example.com")
    resp = _sign_in(client, _token(ms, "MS.User@example.com"))
    assert resp.status_code == 200, resp.json
    assert resp.json["user"]["id"] == user["id"] and resp.json["access_token"]


@pytest.mark.parametrize("case", ["wrong_audience", "other_tenant", "expired", "other_key"])
def test_bad_tokens_are_refused(client, ms, case):
    make_user(ms["container"], "reviewer", email="ms.user@example.com")
    token = {
        "wrong_audience": lambda: _token(ms, "ms.user@example.com", aud="someone-else"),
        "other_tenant": lambda: _token(ms, "ms.user@example.com", tid="99999999-0000-0000-0000-000000000000"),
        "expired": lambda: _token(ms, "ms.user@example.com", exp_in=-3600),
        "other_key": lambda: _token(ms, "ms.user@example.com", key=_key()),
    }[case]()
    assert _sign_in(client, token).status_code == 401


def test_unknown_users_are_refused(client, ms):
    resp = _sign_in(client, _token(ms, "stranger@example.com"))
    assert resp.status_code == 403 and "invitation" in resp.json["detail"]


def test_unconfigured_sign_in_is_a_documented_503(client, container):
    resp = client.post(f"{API}/auth/microsoft", json={"id_token": "x" * 40})
    assert resp.status_code == 503 and "not configured" in resp.json["detail"]
