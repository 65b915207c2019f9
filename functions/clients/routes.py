from flask import Blueprint

from avp.bootstrap import container
from avp.domain import tenancy
from avp.web import audit_meta, authenticated, current_user, json_body, no_content, ok, query_args, sibling

schemas = sibling(__file__, "schemas")
bp = Blueprint("clients", __name__, url_prefix="/api/v1/clients")
admin_only = authenticated("admin")


@bp.get("")
@authenticated()
def list_clients():
    q = query_args(schemas.ClientListQuery())
    return ok(tenancy.list_clients(container().store, current_user(), page=q["page"], size=q["size"], cursor=q["cursor"],
                                   org_id=q["org_id"],
                                   q=q["q"]).to_dict())


@bp.post("")
@admin_only
def create_client():
    body = json_body(schemas.ClientCreate())
    return ok(tenancy.create_client(container().store, audit_meta(), **body), 201)


@bp.get("/all-projects")
@authenticated()
def all_projects():
    q = query_args(schemas.AllProjectsQuery())
    return ok(tenancy.list_all_projects(container().store, current_user(), page=q["page"], size=q["size"], cursor=q["cursor"],
                                        org_id=q["org_id"], archived=q["archived"]).to_dict())


@bp.get("/<client_id>")
@authenticated()
def get_client(client_id: str):
    return ok(tenancy.get_client(container().store, current_user(), client_id))


@bp.patch("/<client_id>")
@admin_only
def update_client(client_id: str):
    body = json_body(schemas.ClientUpdate())
    return ok(tenancy.update_client(container().store, audit_meta(), client_id, body["name"]))


@bp.delete("/<client_id>")
@admin_only
def delete_client(client_id: str):
    q = query_args(schemas.ForceQuery())
    tenancy.delete_client(container().store, audit_meta(), client_id, force=q["force"])
    return no_content()


@bp.get("/<client_id>/pm")
@authenticated()
def list_pms(client_id: str):
    return ok({"items": tenancy.list_pms(container().store, current_user(), client_id)})


@bp.post("/<client_id>/pm")
@admin_only
def add_pm(client_id: str):
    body = json_body(schemas.UserRef())
    return ok({"items": tenancy.add_pm(container().store, audit_meta(), client_id, body["user_id"])})


@bp.delete("/<client_id>/pm/<user_id>")
@admin_only
def remove_pm(client_id: str, user_id: str):
    tenancy.remove_pm(container().store, audit_meta(), client_id, user_id)
    return no_content()


@bp.get("/<client_id>/teams")
@authenticated()
def list_teams(client_id: str):
    return ok({"items": tenancy.list_teams(container().store, current_user(), client_id)})


@bp.post("/<client_id>/teams")
@admin_only
def create_team(client_id: str):
    body = json_body(schemas.TeamCreate())
    return ok(tenancy.create_team(container().store, audit_meta(), client_id, **body), 201)


@bp.patch("/<client_id>/teams/<team_id>")
@admin_only
def update_team(client_id: str, team_id: str):
    body = json_body(schemas.TeamUpdate())
    return ok(tenancy.update_team(container().store, audit_meta(), client_id, team_id, name=body["name"]))


@bp.delete("/<client_id>/teams/<team_id>")
@admin_only
def delete_team(client_id: str, team_id: str):
    tenancy.delete_team(container().store, audit_meta(), client_id, team_id)
    return no_content()


@bp.post("/<client_id>/teams/<team_id>/members")
@authenticated()  # admins and the client's PMs: decided per client by the domain
def add_team_member(client_id: str, team_id: str):
    body = json_body(schemas.UserRef())
    return ok(tenancy.add_team_member(container().store, audit_meta(), current_user(), client_id, team_id, body["user_id"]))


@bp.delete("/<client_id>/teams/<team_id>/members/<user_id>")
@authenticated()  # admins and the client's PMs: decided per client by the domain
def remove_team_member(client_id: str, team_id: str, user_id: str):
    tenancy.remove_team_member(container().store, audit_meta(), current_user(), client_id, team_id, user_id)
    return no_content()


@bp.get("/<client_id>/projects")
@authenticated()
def list_projects(client_id: str):
    q = query_args(schemas.ProjectListQuery())
    return ok(tenancy.list_projects(container().store, current_user(), client_id, page=q["page"], size=q["size"],
                                    cursor=q["cursor"],
                                    archived=q["archived"]).to_dict())


@bp.post("/<client_id>/projects")
@admin_only
def create_project(client_id: str):
    body = json_body(schemas.ProjectCreate())
    return ok(tenancy.create_project(container().store, audit_meta(), client_id, **body), 201)


@bp.patch("/<client_id>/projects/<project_id>")
@admin_only
def update_project(client_id: str, project_id: str):
    body = json_body(schemas.ProjectUpdate())
    return ok(tenancy.update_project(container().store, audit_meta(), client_id, project_id, body))


@bp.delete("/<client_id>/projects/<project_id>")
@admin_only
def delete_project(client_id: str, project_id: str):
    q = query_args(schemas.ForceQuery())
    tenancy.delete_project(container().store, audit_meta(), client_id, project_id, force=q["force"])
    return no_content()
