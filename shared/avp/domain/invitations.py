"""Invitations: an email is invited into an organization with a role (and optionally a client's team);
the link's token is random, stored only as a hash, single use and short-lived. Accepting creates the
account (or links an existing one) and grants the memberships in one transaction."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from avp.auth.tokens import Principal, new_secret, secret_hash
from avp.config import Settings
from avp.domain import access, audit, auth, tenancy, users
from avp.domain.aggregates import Client, Invitation, Member, Organization, Team, User
from avp.domain.audit import AuditMeta
from avp.domain.ports import Database, UnitOfWork
from avp.domain.records import new_id, now
from avp.errors import Conflict, Forbidden, Gone, NotFound, Unauthorized, Unprocessable


@dataclass(frozen=True)
class InvitationRequest:
    """Who is invited to what."""

    email: str
    org_id: str
    role: str
    client_id: str | None = None
    team_id: str | None = None


@dataclass(frozen=True)
class Created:
    """A new invitation and its token (the token exists nowhere else but in the mail sent)."""

    invitation: dict[str, Any]
    token: str


VIEW_FIELDS = ("id", "email", "org_id", "role", "client_id", "team_id", "status", "invited_by", "created_at", "expires_at")


def invitation_view(invitation: Invitation) -> dict[str, Any]:
    """An invitation as the API shows it (never its secret's hash)."""
    return {k: getattr(invitation, k) for k in VIEW_FIELDS}


def _target(store: Database, request: InvitationRequest) -> tuple[Client | None, Team | None]:
    """The client and team named by the request, checked to belong to its organization."""
    if request.team_id and not request.client_id:
        raise Unprocessable({"team_id": ["a team needs its client_id"]})
    client = store.of(Client).lookup(request.client_id) if request.client_id else None
    if request.client_id and (client is None or client.deleted or client.org_id != request.org_id):
        raise Unprocessable({"client_id": ["no such client in this organization"]})
    team = store.of(Team, client_id=request.client_id).lookup(request.team_id) if request.team_id else None
    if request.team_id and team is None:
        raise Unprocessable({"team_id": ["no such team in this client"]})
    return client, team


def create(store: Database, mailer: Any, settings: Settings, principal: Principal, meta: AuditMeta,
           request: InvitationRequest) -> Created:
    """Invite `request.email` and mail them the link. Any earlier pending invitation of the same email to
    the same organization is revoked, so only the newest link works."""
    org = access.require_org(store, principal, request.org_id)
    client, team = _target(store, request)
    access.require_inviter(principal, request.role, client)
    if team and request.role != "client":
        raise Unprocessable({"team_id": ["only client users join a client's team"]})
    token = new_secret()
    email = users.normalize_email(request.email)
    stamp = now()
    invitation = Invitation(id=new_id(), email=email, org_id=request.org_id, role=request.role, client_id=request.client_id,
                            team_id=request.team_id, invited_by=principal.user_id, secret_hash=secret_hash(token),
                            created_at=stamp, expires_at=stamp + dt.timedelta(seconds=settings.invitation_ttl))
    earlier = store.of(Invitation).where(("email", "==", email), ("org_id", "==", request.org_id), ("status", "==", "pending"))

    def change(uow: UnitOfWork) -> None:
        invitations = uow.of(Invitation)
        still_pending = [i for i in invitations.get_many([e.id for e in earlier]) if i.status == "pending"]
        for old in still_pending:
            invitations.update(old.id, {"status": "revoked", "revoked_at": now()})
        invitations.add(invitation)
        uow.audit.append(audit.entry(meta, "invitation.create", f"invitations/{invitation.id}",
                                     after=invitation_view(invitation), extra={"revoked": [i.id for i in still_pending]}))

    store.atomically(change)
    inviter = store.of(User).lookup(principal.user_id)
    inviter_name = (inviter.name or inviter.email) if inviter else "An administrator"
    where = f" ({team.name}, {client.name})" if team and client else (f" ({client.name})" if client else "")
    mailer.send(email, f"You are invited to {org.name} on avp",
                f"{inviter_name} invited you to join {org.name}{where} "
                f"on avp as {request.role.replace('_', ' ')}.\n\nAccept the invitation here (valid until "
                f"{invitation.expires_at:%Y-%m-%d %H:%M} UTC):\n{settings.public_url}/accept-invitation#token={token}\n\n"
                "If you did not expect this, ignore this message.")
    return Created(invitation_view(invitation), token)


def _usable(invitation: Invitation | None) -> Invitation:
    if invitation is None:
        raise NotFound("invitation not found")
    if invitation.status == "accepted":
        raise Gone("this invitation was already accepted; sign in instead")
    if invitation.status == "revoked":
        raise Gone("this invitation was revoked; ask for a new one")
    if invitation.expires_at <= now():
        raise Gone("this invitation has expired; ask for a new one")
    return invitation


def _by_token(store: Database, token: str) -> Invitation:
    return _usable(store.of(Invitation).first(("secret_hash", "==", secret_hash(token))))


def preview(store: Database, token: str) -> dict[str, Any]:
    """What the invitee is shown before accepting: who invited whom to what, until when."""
    invitation = _by_token(store, token)
    org = store.of(Organization).lookup(invitation.org_id)
    inviter = store.of(User).lookup(invitation.invited_by) if invitation.invited_by else None
    client = store.of(Client).lookup(invitation.client_id) if invitation.client_id else None
    team = store.of(Team, client_id=invitation.client_id).lookup(invitation.team_id) if invitation.team_id else None
    return {"email": invitation.email, "org_id": invitation.org_id, "org_name": org.name if org else None,
            "role": invitation.role, "invited_by_name": (inviter.name or inviter.email) if inviter else None,
            "client_name": client.name if client else None, "team_name": team.name if team else None,
            "expires_at": invitation.expires_at, "existing_account": users.find_by_email(store, invitation.email) is not None}


def _grant(store: Database, invitation_id: str, user_id: str, meta: AuditMeta) -> User:
    """Use the invitation (exactly once) and give `user_id` its memberships, in one transaction."""

    def work(uow: UnitOfWork) -> User:
        invitation = _usable(uow.of(Invitation).lookup(invitation_id))
        user = uow.of(User).lookup(user_id)
        if user is None or user.deleted:
            raise NotFound("user not found")
        _require_same_role(user, invitation)
        org = uow.of(Organization).lookup(invitation.org_id)
        if org is None or org.deleted:
            raise Gone("the organization of this invitation no longer exists")
        already_member = uow.of(Member, org_id=invitation.org_id).lookup(user_id) is not None
        team = uow.of(Team, client_id=invitation.client_id).lookup(invitation.team_id) if invitation.team_id else None
        client = (uow.of(Client).lookup(invitation.client_id)
                  if invitation.client_id and user.role == invitation.role == "project_manager" else None)
        if not already_member:
            tenancy.join_organization(uow, meta, invitation.org_id, user, invitation.role)
        if team and user_id not in team.member_ids:
            tenancy.require_fitting_member(invitation.org_id, user, "client", "token")
            tenancy.join_team(uow, meta, team, user)
        if client and not client.deleted:
            tenancy.grant_pm(uow, meta, client, user)
        tenancy.write_memberships(uow, user)
        uow.of(Invitation).update(invitation_id, {"status": "accepted", "accepted_at": now(), "accepted_user_id": user_id})
        uow.audit.append(audit.entry(meta, "invitation.accept", f"invitations/{invitation_id}", after={"user_id": user_id}))
        return user

    return store.atomically(work)


def _require_same_role(user: User, invitation: Invitation) -> None:
    """An invitation grants its role's reach and no more: an existing account of another role would
    carry its own (wider or different) role into the organization, so it cannot accept (409)."""
    if user.role != invitation.role:
        raise Conflict(f"this invitation is for a {invitation.role.replace('_', ' ')} account and yours is "
                       f"{user.role.replace('_', ' ')}; ask whoever invited you for a matching invitation")


def accept(store: Database, settings: Settings, key: str, token: str, *, meta: AuditMeta,
           signed_in: Principal | None = None, password: str | None = None, display_name: str = "") -> auth.Session:
    """Accept an invitation: create the account (password policy applies), or link the existing account with this
    email, which must be the one signed in (401 otherwise; 403 when another account is signed in) and have the
    invitation's role (409); grant the memberships and sign the user in. Unknown token 404; used, revoked or
    expired 410."""
    invitation = _by_token(store, token)
    user = users.find_by_email(store, invitation.email)
    if user is None:
        if not password:
            raise Unprocessable({"password": ["required to create your account"]})
        user = users.create_user(store, meta, email=invitation.email, role=invitation.role, name=display_name,
                                 password=password)
    elif signed_in is None:
        raise Unauthorized("an account with this email exists: sign in to it, then accept the invitation",
                           headers={"WWW-Authenticate": "Bearer"})
    elif signed_in.user_id != user.id:
        raise Forbidden("this invitation is for another account; sign in as its email to accept it")
    elif user.disabled:
        raise Forbidden("account disabled")
    else:
        _require_same_role(user, invitation)
    as_user = meta.acting_as(user)
    user = _grant(store, invitation.id, user.id, as_user)
    return auth.start_session(store, settings, key, user, as_user, "invitation")


def accept_for_user(store: Database, invitation: Invitation, *, email: str, name: str, meta: AuditMeta) -> User:
    """Accept `invitation` for someone whose identity provider vouched for `email` (Microsoft sign-in):
    create their password-less account if needed and grant the memberships. Returns the user."""
    if users.normalize_email(email) != invitation.email:
        raise Forbidden("this invitation is for another email address")
    _usable(invitation)
    user = users.find_by_email(store, email) or users.create_user(store, meta, email=email, role=invitation.role, name=name,
                                                                     auth_provider="microsoft")
    return _grant(store, invitation.id, user.id, meta.acting_as(user))


def revoke(store: Database, meta: AuditMeta, invitation_id: str) -> None:
    """Withdraw a pending invitation; its link then answers 410."""

    def change(uow: UnitOfWork) -> None:
        invitation = _usable(uow.of(Invitation).lookup(invitation_id))
        uow.of(Invitation).update(invitation_id, {"status": "revoked", "revoked_at": now()})
        uow.audit.append(audit.entry(meta, "invitation.revoke", f"invitations/{invitation_id}",
                                     before={"email": invitation.email}))

    store.atomically(change)
