from flask import Blueprint

from avp.bootstrap import container
from avp.domain import invitations, tenancy
from avp.web import audit_meta, authenticated, current_user, json_body, no_content, ok, query_args, sibling

schemas = sibling(__file__, "schemas")
bp = Blueprint("organizations", __name__, url_prefix="/api/v1/organizations")
admin_only = authenticated("admin")


@bp.get("")
@authenticated()
def list_organizations():
    q = query_args(schemas.OrganizationListQuery())
    return ok(tenancy.list_organizations(container().store, current_user(), page=q["page"], size=q["size"],
                                         cursor=q["cursor"], q=q["q"]).to_dict())


@bp.post("")
@admin_only
def create_organization():
    body = json_body(schemas.OrganizationCreate())
    return ok(tenancy.create_organization(container().store, audit_meta(), **body), 201)


# Registered before /<org_id> routes for readability; Flask ranks static segments first anyway.
@bp.get("/me/memberships")
@authenticated()
def my_memberships():
    return ok({"items": tenancy.my_memberships(container().store, current_user())})


@bp.get("/<org_id>")
@authenticated()
def get_organization(org_id: str):
    return ok(tenancy.get_organization(container().store, current_user(), org_id))


@bp.patch("/<org_id>")
@admin_only
def update_organization(org_id: str):
    body = json_body(schemas.OrganizationUpdate())
    return ok(tenancy.update_organization(container().store, audit_meta(), org_id, body))


@bp.get("/<org_id>/members")
@authenticated()
def list_members(org_id: str):
    q = query_args(schemas.MemberListQuery())
    return ok(tenancy.list_members(container().store, current_user(), org_id, page=q["page"], size=q["size"], cursor=q["cursor"],
                                   role=q["role"]).to_dict())


@bp.post("/<org_id>/members")
@authenticated("admin", "project_manager")  # PMs may only invite client users into their clients
def add_member(org_id: str):
    body = json_body(schemas.MemberCreate())
    c = container()
    if body["invite"]:
        request = invitations.InvitationRequest(body["email"], org_id, body["role"], body["client_id"], body["team_id"])
        created = invitations.create(c.store, c.mailer, c.settings, current_user(), audit_meta(), request)
        return ok(created.invitation, 202)
    return ok(tenancy.add_member(c.store, audit_meta(), current_user(), org_id, role=body["role"],
                                 user_id=body.get("user_id"), email=body.get("email")), 201)


@bp.patch("/<org_id>/members/<user_id>")
@admin_only
def update_member(org_id: str, user_id: str):
    body = json_body(schemas.MemberUpdate())
    return ok(tenancy.update_member(container().store, audit_meta(), current_user(), org_id, user_id, body["role"]))


@bp.delete("/<org_id>/members/<user_id>")
@admin_only
def remove_member(org_id: str, user_id: str):
    tenancy.remove_member(container().store, audit_meta(), current_user(), org_id, user_id)
    return no_content()
