from flask import Blueprint

from avp.bootstrap import container
from avp.domain import audit, production, stats, tenancy, users
from avp.web import audit_meta, authenticated, json_body, no_content, ok, query_args, sibling

schemas = sibling(__file__, "schemas")
bp = Blueprint("admin", __name__, url_prefix="/api/v1/admin")
admin_only = authenticated("admin")


@bp.get("/users")
@admin_only
def list_users():
    q = query_args(schemas.UserListQuery())
    return ok(users.list_users(container().store, **q).to_dict())


@bp.post("/users")
@admin_only
def create_user():
    body = json_body(schemas.UserCreate())
    c = container()
    user = users.create_user(c.store, audit_meta(), **body)
    if not body.get("password"):  # the account's owner chooses it through a mailed link
        users.send_password_reset(c.store, audit_meta(), c.mailer, c.settings.public_url, user.id, first=True)
    return ok(users.public_view(user), 201)


@bp.get("/users/<user_id>")
@admin_only
def get_user(user_id: str):
    return ok(users.public_view(users.get_user(container().store, user_id)))


@bp.patch("/users/<user_id>")
@admin_only
def update_user(user_id: str):
    body = json_body(schemas.UserUpdate())
    return ok(users.public_view(users.update_user(container().store, audit_meta(), user_id, body,
                                                 on_role_change=tenancy.drop_unfitting_seats)))


@bp.delete("/users/<user_id>")
@admin_only
def delete_user(user_id: str):
    users.delete_user(container().store, audit_meta(), user_id)
    return no_content()


@bp.post("/users/<user_id>/reset-password")
@admin_only
def reset_password(user_id: str):
    c = container()
    users.send_password_reset(c.store, audit_meta(), c.mailer, c.settings.public_url, user_id)
    return ok({"detail": "password reset email sent"}, 202)


@bp.post("/users/<user_id>/password/reset")
@admin_only
def set_password(user_id: str):
    body = json_body(schemas.PasswordSet())
    users.set_password(container().store, audit_meta(), user_id, body["new_password"])
    return no_content()


@bp.get("/audit-logs")
@admin_only
def audit_logs():
    return ok(audit.list_entries(container().store, **query_args(schemas.AuditListQuery())).to_dict())


@bp.get("/audit-logs/user/<user_id>")
@admin_only
def audit_logs_user(user_id: str):
    users.get_user(container().store, user_id, include_deleted=True)  # 404 for no such user, deleted ones keep their log
    return ok(audit.list_entries(container().store, actor_id=user_id, **query_args(schemas.AuditQuery())).to_dict())


@bp.get("/audit-logs/security")
@admin_only
def audit_logs_security():
    q = query_args(schemas.AuditSecurityQuery())
    return ok(audit.list_entries(container().store, category="security", **q).to_dict())


@bp.delete("/audit-logs/cleanup")
@admin_only
def audit_cleanup():
    q = query_args(schemas.CleanupQuery())
    return ok(audit.cleanup(container().store, audit_meta(), q["older_than_days"]))


@bp.get("/stats")
@admin_only
def platform_stats():
    return ok(stats.platform_stats(container().store))


@bp.get("/jobs/stats")
@admin_only
def job_stats():
    q = query_args(schemas.JobStatsQuery())
    return ok(stats.job_stats(container().store, start=q["start"], end=q["end"], org_id=q["org_id"]))


@bp.get("/health/detailed")
@admin_only
def health_detailed():
    c = container()
    report = stats.health(c.store, c.storage, lambda: c.workflows, asr_local=c.settings.asr_provider == "local",
                          mode="local" if c.settings.is_local else "cloud")
    return ok(report, 503 if report["status"] == "down" else 200)


@bp.post("/maintenance/reprocess-job/<job_id>")
@admin_only
def reprocess_job(job_id: str):
    body = json_body(schemas.ReprocessRequest())
    c = container()
    return ok(production.reprocess_job(c.store, c.workflows, audit_meta(), job_id, body["from_step"]), 202)
