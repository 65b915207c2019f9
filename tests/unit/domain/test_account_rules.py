"""The accounts' security rules on in-memory units of work (milliseconds, no emulator): the last
active administrator stays, revocation epochs end earlier tokens, a deleted account frees its email,
reset links work once, refresh tokens rotate, throttles count every attempt. The same rules run
through HTTP against the emulator in tests/security and tests/integration/test_auth.py."""
from __future__ import annotations

import copy
import datetime as dt
from types import SimpleNamespace

import pytest

from avp.auth.passwords import hash_password
from avp.auth.tokens import Principal, secret_hash
from avp.domain import auth, invitations, sessions, tenancy, throttle, users
from avp.domain.aggregates import (AuditEntry, EmailClaim, Invitation, LoginLock, Member, Organization, PasswordReset,
                                   RecentAttempts, RefreshToken, User)
from avp.domain.audit import AuditMeta
from avp.domain.records import now
from avp.errors import Conflict, Gone, NotFound, TooManyRequests, Unauthorized, Unprocessable
from avp.store.memory import MemoryUnits

META = AuditMeta("u-root", "admin", "req-1", "198.51.100.7")
SETTINGS = SimpleNamespace(refresh_ttl=3600, access_ttl=900)


@pytest.fixture
def db() -> MemoryUnits:
    return MemoryUnits()


def last_entry(db: MemoryUnits) -> AuditEntry:
    return db.of(AuditEntry).where(order_by=[("at", "desc")], limit=1)[0]


def account(db: MemoryUnits, user_id: str, role: str = "admin", **fields) -> User:
    email = f"{user_id}@example.com"
    user = db.of(User).add(User(id=user_id, email=email, role=role, created_at=now(), **fields))
    db.of(EmailClaim).add(EmailClaim(id=users.email_claim_id(email), user_id=user_id))
    return user


def test_the_last_active_admin_can_be_neither_demoted_nor_disabled_and_a_demotion_ends_sessions(db):
    account(db, "a1")
    account(db, "a2")
    account(db, "gone", deleted=True, disabled=True)
    demoted = users.update_user(db, META, "a1", {"role": "reviewer", "name": "Ann"})
    assert demoted.role == "reviewer" and demoted.name == "Ann"
    stored = db.of(User).get("a1")
    assert stored.role == "reviewer" and stored.session_epoch == 1 and stored.extra == {}
    entry = last_entry(db)
    assert entry.action == "user.role" and entry.before == {"role": "admin", "name": ""}
    for change in ({"role": "client"}, {"disabled": True}):
        with pytest.raises(Conflict, match="last active administrator"):
            users.update_user(db, META, "a2", change)
    assert db.of(User).get("a2").session_epoch == 0, "a refused change writes nothing"
    renamed = users.update_user(db, META, "a2", {"name": "Still admin"})
    assert renamed.role == "admin" and db.of(User).get("a2").session_epoch == 0, "a rename is no security event"


def test_a_deleted_account_frees_its_email_and_the_last_admin_or_oneself_cannot_be_deleted(db):
    account(db, "a1")
    account(db, "u1", role="linguist")
    with pytest.raises(Conflict, match="your own account"):
        users.delete_user(db, AuditMeta("u1", "linguist"), "u1")
    with pytest.raises(Conflict, match="last active administrator"):
        users.delete_user(db, META, "a1")
    users.delete_user(db, META, "u1")
    gone = db.of(User).get("u1")
    assert gone.deleted and gone.disabled and gone.deleted_at and gone.session_epoch == 1
    assert users.find_by_email(db, "U1@example.com ") is None and db.of(EmailClaim).lookup(users.email_claim_id("u1@example.com")) is None
    with pytest.raises(NotFound, match="user not found"):
        users.get_user(db, "u1")
    assert users.get_user(db, "u1", include_deleted=True).email == "u1@example.com"
    assert users.find_by_email(db, "A1@Example.com").id == "a1"


def test_a_token_from_before_a_revocation_is_refused_and_the_state_comes_from_the_record(db):
    account(db, "u1", role="reviewer", org_ids=["o1"])
    token = Principal("u1", "admin", ("o-forged",), "jti", "", 0)
    principal = sessions.current_principal(db, token, cache_seconds=0)
    assert principal.role == "reviewer" and principal.org_ids == ("o1",), "never the token's claims"
    sessions.revoke(db, "u1")
    with pytest.raises(Unauthorized, match="session revoked"):
        sessions.current_principal(db, token, cache_seconds=60)
    assert sessions.current_principal(db, Principal("u1", "reviewer", epoch=1), cache_seconds=0).user_id == "u1"
    users.update_user(db, META, "u1", {"disabled": True})
    with pytest.raises(Unauthorized, match="disabled or deleted"):
        sessions.current_principal(db, Principal("u1", "reviewer", epoch=5), cache_seconds=60)


def test_a_reset_link_works_once_until_it_expires_and_ends_every_session(db):
    account(db, "u1", role="client", password_hash=hash_password("old password that is long"))
    db.of(RefreshToken).add(RefreshToken(id="r1", user_id="u1", family="f", expires_at=now() + dt.timedelta(hours=1)))
    db.of(PasswordReset).put(PasswordReset(id=secret_hash("tok"), user_id="u1", expires_at=now() + dt.timedelta(hours=1)))
    db.of(PasswordReset).put(PasswordReset(id=secret_hash("old"), user_id="u1", expires_at=now() - dt.timedelta(seconds=1)))
    with pytest.raises(NotFound, match="reset link not found"):
        users.redeem_password_reset(db, META, "never-made", "a brand new passphrase")
    with pytest.raises(Gone, match="expired"):
        users.redeem_password_reset(db, META, "old", "a brand new passphrase")
    users.redeem_password_reset(db, META, "tok", "a brand new passphrase")
    user = db.of(User).get("u1")
    assert user.session_epoch == 1 and user.password_hash != hash_password("old password that is long")
    assert db.of(RefreshToken).get("r1").revoked and db.of(PasswordReset).get(secret_hash("tok")).used
    entry = last_entry(db)
    assert entry.action == "user.password.reset" and entry.actor_id == "u1"
    with pytest.raises(Gone, match="already used"):
        users.redeem_password_reset(db, META, "tok", "another brand new passphrase")


def test_a_refresh_token_rotates_within_its_family_and_works_once(db):
    account(db, "u1", role="linguist")
    first = auth._new_refresh(db, SETTINGS, "u1", family="fam")
    session = auth.refresh(db, SETTINGS, "k" * 32, first, META)
    assert session.user.id == "u1" and session.refresh_token != first
    spent, fresh = db.of(RefreshToken).get(secret_hash(first)), db.of(RefreshToken).get(secret_hash(session.refresh_token))
    assert spent.used and spent.used_at and fresh.family == "fam" and not fresh.used and fresh.extra == {}
    with pytest.raises(Unauthorized, match="invalid or expired"):
        auth.refresh(db, SETTINGS, "k" * 32, "never-issued", META)
    users.update_user(db, META, "u1", {"disabled": True})   # disabling revokes every refresh token
    with pytest.raises(Unauthorized, match="invalid or expired"):
        auth.refresh(db, SETTINGS, "k" * 32, session.refresh_token, META)


def test_a_throttle_counts_each_attempt_in_its_window_and_forgetting_starts_again(db):
    counts = [throttle.hit(db, "login:ip:198.51.100.7", 60).count for _ in range(5)]
    assert counts == [1, 2, 3, 4, 5]
    assert throttle.hit(db, "another key", 60).count == 1
    throttle.forget(db, "login:ip:198.51.100.7", 60)
    hit = throttle.hit(db, "login:ip:198.51.100.7", 60)
    assert hit.count == 1 and 1 <= hit.seconds_left <= 61


def test_failed_sign_ins_lock_the_account_and_a_success_clears_its_count(db):
    settings = SimpleNamespace(login_max_failures=3, login_ip_max_failures=100, lockout_seconds=600, refresh_ttl=3600,
                               access_ttl=900)
    account(db, "u1", role="client", password_hash=hash_password("the right passphrase"))
    wrong = AuditMeta(ip="203.0.113.5")
    for _ in range(2):
        with pytest.raises(Unauthorized, match="incorrect email or password"):
            auth.login(db, settings, "k" * 32, "u1@example.com", "not it at all", wrong)
    session = auth.login(db, settings, "k" * 32, "U1@example.com", "the right passphrase", wrong)
    assert session.user.id == "u1" and db.of(User).get("u1").last_login_at
    for _ in range(2):   # the success started the count again: two more failures do not lock
        with pytest.raises(Unauthorized):
            auth.login(db, settings, "k" * 32, "u1@example.com", "not it at all", wrong)
    with pytest.raises(TooManyRequests):
        auth.login(db, settings, "k" * 32, "u1@example.com", "not it at all", wrong)
    with pytest.raises(TooManyRequests):   # locked: even the right password waits
        auth.login(db, settings, "k" * 32, "u1@example.com", "the right passphrase", wrong)
    lock = db.of(LoginLock).where()
    assert len(lock) == 1 and lock[0].at_count == 3 and lock[0].extra == {}
    actions = [e.action for e in db.of(AuditEntry).where()]
    assert actions.count("auth.login_failed") == 5 and "auth.lockout" in actions and "auth.login" in actions


def test_a_spent_refresh_token_presented_again_revokes_its_whole_family(db):
    account(db, "u1", role="linguist")
    first = auth._new_refresh(db, SETTINGS, "u1", family="fam")
    second = auth.refresh(db, SETTINGS, "k" * 32, first, META).refresh_token
    with pytest.raises(Unauthorized, match="already used"):
        auth.refresh(db, SETTINGS, "k" * 32, first, META)
    assert all(t.revoked for t in db.of(RefreshToken).where(("family", "==", "fam")))
    with pytest.raises(Unauthorized, match="invalid or expired"):
        auth.refresh(db, SETTINGS, "k" * 32, second, META)
    assert last_entry(db).action == "auth.refresh_reuse"


def test_an_email_makes_one_account_and_its_organizations_are_joined_in_the_same_unit_of_work(db):
    org = tenancy.create_organization(db, META, name="Harbour Films")["id"]
    made = users.create_user(db, META, email=" Ann@Example.com", role="reviewer", org_ids=[org, org])
    stored = db.of(User).get(made.id)
    assert stored.email == "ann@example.com" and stored.org_ids == [org] and stored.password_hash is None
    assert stored.extra == {} and db.of(Organization).get(org).member_count == 1
    assert db.of(Member, org_id=org).get(made.id).role == "reviewer"
    with pytest.raises(Conflict, match="already exists"):
        users.create_user(db, META, email="ANN@example.com", role="client")
    before = copy.deepcopy(db.docs)
    with pytest.raises(Unprocessable, match="unknown organization"):
        users.create_user(db, META, email="bob@example.com", role="client", org_ids=[org, "missing"])
    assert db.docs == before, "a refused account leaves nothing behind: no claim, no membership"
    assert users.find_by_email(db, "bob@example.com") is None


class _Outbox:
    def __init__(self) -> None:
        self.sent: list[tuple[str, str, str]] = []

    def send(self, to: str, subject: str, body: str) -> None:
        self.sent.append((to, subject, body))


def test_an_invitation_is_used_once_and_a_newer_one_replaces_it(db):
    org = tenancy.create_organization(db, META, name="Harbour Films")["id"]
    account(db, "root")
    outbox, settings = _Outbox(), SimpleNamespace(invitation_ttl=3600, public_url="https://avp.example", **vars(SETTINGS))
    request = invitations.InvitationRequest("Guest@Example.com", org, "reviewer")
    first = invitations.create(db, outbox, settings, Principal("root", "admin"), META, request)
    newer = invitations.create(db, outbox, settings, Principal("root", "admin"), META, request)
    assert first.token not in str(db.docs) and outbox.sent[-1][0] == "guest@example.com" and newer.token in outbox.sent[-1][2]
    with pytest.raises(Gone, match="revoked"):
        invitations.preview(db, first.token)
    assert invitations.preview(db, newer.token)["org_name"] == "Harbour Films"
    session = invitations.accept(db, settings, "k" * 32, newer.token, meta=META, password="a long guest passphrase",
                                 display_name="Gus")
    guest = db.of(User).get(session.user.id)
    assert guest.org_ids == [org] and guest.name == "Gus" and db.of(Invitation).get(newer.invitation["id"]).status == "accepted"
    with pytest.raises(Gone, match="already accepted"):
        invitations.accept(db, settings, "k" * 32, newer.token, meta=META, password="a long guest passphrase")
    with pytest.raises(NotFound, match="invitation not found"):
        invitations.preview(db, "never-made")


def test_a_sliding_window_refuses_the_attempt_past_its_limit_until_the_oldest_ages_out(db, monkeypatch):
    clock = [1000.0]
    monkeypatch.setattr(throttle.time, "time", lambda: clock[0])
    for _ in range(3):
        throttle.take(db, "tts-preview:u1", 3, 60.0, "previews")
        clock[0] += 10
    with pytest.raises(TooManyRequests) as refused:   # at 1030: the oldest (1000) ages out at 1060
        throttle.take(db, "tts-preview:u1", 3, 60.0, "previews")
    assert refused.value.retry_after == 30
    throttle.take(db, "tts-preview:u2", 3, 60.0, "previews")   # per key
    clock[0] = 1061.0
    throttle.take(db, "tts-preview:u1", 3, 60.0, "previews")
    kept = db.of(RecentAttempts).get(secret_hash("tts-preview:u1"))
    assert kept.hits == [1010.0, 1020.0, 1061.0] and kept.expires_at and kept.extra == {}
