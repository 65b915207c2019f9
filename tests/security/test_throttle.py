"""Sign-in throttles hold under a parallel burst, and the client address comes from the trusted hop only."""
import dataclasses
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
from flask import Flask
from werkzeug.test import Client

from tests.helpers import API, PASSWORD, login, make_user

BURST = 50


def test_fifty_parallel_wrong_passwords_lock_the_account_without_server_errors(client, container):
    user = make_user(container, "client")
    gateway = client.application
    limit = container.settings.login_max_failures

    def attempt(i: int) -> int:
        return login(Client(gateway), user["email"], f"wrong password {i:04d}", ip="198.51.100.20").status_code

    t0 = time.perf_counter()
    with ThreadPoolExecutor(BURST) as pool:
        codes = Counter(pool.map(attempt, range(BURST)))
    elapsed = time.perf_counter() - t0
    print(f"\n{BURST} parallel wrong passwords: {dict(codes)} in {elapsed:.1f} s")
    assert set(codes) <= {401, 429}, codes  # never a 500
    # Only failures counted before the limit answer 401: none slips past it.
    assert codes[401] <= limit - 1 and codes[429] >= BURST - (limit - 1)
    locked = login(client, user["email"], PASSWORD, ip="198.51.100.21")
    assert locked.status_code == 429 and int(locked.headers["Retry-After"]) > 0


def test_the_right_password_during_a_burst_never_gets_a_server_error(client, container):
    user = make_user(container, "client")
    gateway = client.application

    def attempt(i: int) -> int:
        password = PASSWORD if i % 4 == 0 else f"wrong password {i:04d}"
        return login(Client(gateway), user["email"], password, ip="198.51.100.30").status_code

    with ThreadPoolExecutor(20) as pool:
        codes = Counter(pool.map(attempt, range(20)))
    assert set(codes) <= {200, 401, 429}, codes


@pytest.mark.parametrize(("hops", "forwarded", "peer", "expected"), [
    (0, "203.0.113.9", "10.1.1.1", "10.1.1.1"),  # locally no proxy: the header is the client's own words
    (1, "203.0.113.9", "10.1.1.1", "203.0.113.9"),  # one proxy appended the address it saw
    (1, "6.6.6.6, 203.0.113.9", "10.1.1.1", "203.0.113.9"),  # a forged left part changes nothing
    (2, "6.6.6.6, 203.0.113.9, 10.0.0.5", "10.1.1.1", "203.0.113.9"),
    (2, "", "10.1.1.1", "10.1.1.1"),  # fewer hops than configured: the nearest known address
])
def test_client_address_is_the_right_most_untrusted_hop(container, hops, forwarded, peer, expected):
    from avp.bootstrap import Container, use_container
    from avp.web import client_ip

    use_container(Container(dataclasses.replace(container.settings, trusted_proxies=hops)))
    headers = {"X-Forwarded-For": forwarded} if forwarded else {}
    with Flask("t").test_request_context(headers=headers, environ_base={"REMOTE_ADDR": peer}):
        assert client_ip() == expected


def test_a_locked_address_stays_locked_whatever_x_forwarded_for_says(client, container):
    """Locally there is no trusted proxy: changing the header does not make a new client."""
    from avp.bootstrap import Container, use_container

    use_container(Container(dataclasses.replace(container.settings, login_ip_max_failures=3)))
    emails = [make_user(container, "client")["email"] for _ in range(3)]
    codes = [client.post(f"{API}/auth/login", json={"email": e, "password": "wrong password 1"},
                         environ_base={"REMOTE_ADDR": "198.51.100.40"}, headers={"X-Forwarded-For": f"192.0.2.{i}"}).status_code
             for i, e in enumerate(emails)]
    assert codes == [401, 401, 429]
    again = client.post(f"{API}/auth/login", json={"email": emails[0], "password": PASSWORD},
                        environ_base={"REMOTE_ADDR": "198.51.100.40"}, headers={"X-Forwarded-For": "192.0.2.99"})
    assert again.status_code == 429
