"""Routes of the `jobs` function: uploads, job CRUD, state actions and bulk operations (the VTT
routes are in routes_vtt.py). Each translates HTTP into one avp.domain call."""

from flask import Blueprint, request

from avp.bootstrap import container
from avp.domain import access, downloads, jobs, uploads
from avp.domain import languages as tags
from avp import jsoninput
from avp.errors import BadRequest, Unprocessable
from avp.providers.offer import check_available
from avp.web import audit_meta, authenticated, current_user, json_body, no_content, ok, query_args, sibling

schemas = sibling(__file__, "schemas")
bp = Blueprint("jobs", __name__, url_prefix="/api/v1/jobs")
ACTIONS = ("approve_source", "approve_english", "reject", "complete", "reject_final", "return_to_qc", "blocked_on_source",
           "promote_to_qc")
ACTION_SCHEMAS = {"reject": schemas.ReasonRequest, "return_to_qc": schemas.ReasonRequest,
                  "blocked_on_source": schemas.ReasonRequest, "reject_final": schemas.RejectFinalRequest}


def _runnable_here(requested_outputs) -> None:
    """422 before anything is stored when the job asks for a provider, model or voice this
    deployment cannot run (with the choices it can), rather than a failed step minutes later."""
    if requested_outputs is not None:
        check_available(uploads.parse_requested_outputs(requested_outputs), container().settings)


# -- uploads ---------------------------------------------------------------------------
@bp.post("/upload/init")
@authenticated(*jobs.CREATE_ROLES)
def upload_init():
    body = json_body(schemas.UploadInit())
    _runnable_here(body.get("requested_outputs"))
    c = container()
    session = uploads.init_upload(c.store, c.storage, current_user(), audit_meta(), uploads.UploadRequest(**body),
                                  c.settings.max_upload_bytes, request.headers.get("Origin"))
    return ok(session.to_dict(), 201)


@bp.post("/upload/complete")
@authenticated()
def upload_complete():
    body = json_body(schemas.UploadComplete())
    _runnable_here(body.get("requested_outputs"))
    c = container()
    req = uploads.CompleteRequest(**body, given=frozenset(body))
    job = uploads.complete_for_client(c.store, c.storage, c.workflows, current_user(), audit_meta(), req)
    return ok(jobs.job_view(job), 202)


@bp.post("")
@authenticated(*jobs.CREATE_ROLES)
def create_job():
    form = schemas.JobCreateForm().load(request.form.to_dict())
    upload = request.files.get("file")
    if upload is None:
        raise Unprocessable({"file": ["a file part is required"]})
    try:
        outputs = jsoninput.loads(form.pop("requested_outputs"), "requested_outputs")
    except BadRequest as exc:
        raise Unprocessable({"requested_outputs": [exc.detail]}) from exc
    _runnable_here(outputs)
    c = container()
    req = uploads.UploadRequest(filename=upload.filename or "", content_type=upload.mimetype or "", size_bytes=0,
                                requested_outputs=outputs, **form)
    job = uploads.create_direct(c.store, c.storage, c.workflows, current_user(), audit_meta(), req, upload.stream,
                                c.settings.max_direct_upload_bytes)
    return ok(jobs.job_view(job), 202)


# -- jobs ------------------------------------------------------------------------------
@bp.get("")
@authenticated()
def list_jobs():
    q = query_args(schemas.JobListQuery())
    query = jobs.JobQuery(page=q["page"], size=q["size"], cursor=q["cursor"], sort=q["sort"], statuses=tuple(q["status"]),
                          org_id=q["org_id"], client_id=q["client_id"], project_id=q["project_id"], created_by=q["created_by"],
                          q=q["q"])
    return ok(jobs.list_jobs(container().store, current_user(), query).to_dict())


@bp.get("/<job_id>")
@authenticated()
def get_job(job_id: str):
    return ok(jobs.job_view(access.require_job(container().store, current_user(), job_id)))


@bp.patch("/<job_id>")
@authenticated()
def update_job(job_id: str):
    body = json_body(schemas.JobUpdate())
    if "requested_outputs" in body:
        body["requested_outputs"] = uploads.parse_requested_outputs(body["requested_outputs"])
        check_available(body["requested_outputs"], container().settings)
    return ok(jobs.job_view(jobs.update_job(container().store, current_user(), audit_meta(), job_id, body)))


@bp.delete("/<job_id>")
@authenticated()
def delete_job(job_id: str):
    jobs.delete_job(container().store, current_user(), audit_meta(), job_id)
    return no_content()


@bp.post("/<job_id>/clone")
@authenticated()
def clone_job(job_id: str):
    body = json_body(schemas.CloneRequest())
    c = container()
    upload = uploads.UploadRequest(**body["upload"]) if "upload" in body else None
    job, session = uploads.clone_job(c.store, c.storage, c.workflows, current_user(), audit_meta(), job_id,
                                     c.settings.max_upload_bytes, title=body.get("title"), upload=upload,
                                     origin=request.headers.get("Origin"))
    return ok({"job": jobs.job_view(job), **({"upload": session.to_dict()} if session else {})}, 201)


@bp.post("/<job_id>/cancel")
@authenticated()
def cancel_job(job_id: str):
    note = json_body(schemas.ActionNote())["note"]
    c = container()
    return ok(jobs.job_view(jobs.cancel_job(c.store, c.workflows, current_user(), audit_meta(), job_id, note)))


@bp.post("/<job_id>/retry")
@authenticated()
def retry_job(job_id: str):
    note = json_body(schemas.ActionNote())["note"]
    c = container()
    return ok(jobs.job_view(jobs.retry_job(c.store, c.workflows, current_user(), audit_meta(), job_id, note)), 202)


@bp.get("/<job_id>/validate")
@authenticated()
def validate_job(job_id: str):
    c = container()
    return ok(jobs.validate_outputs(c.store, c.storage, current_user(), job_id))


# -- state actions ---------------------------------------------------------------------
def _action(job_id: str, action: str):
    body = json_body(ACTION_SCHEMAS.get(action, schemas.ActionNote)())
    languages = [tags.language(t, "languages") for t in body.get("languages", ())]
    c = container()
    job = jobs.take_action(c.store, c.workflows, current_user(), audit_meta(), job_id, action, reason=body.get("reason"),
                           note=body.get("note"), languages=languages)
    return ok(jobs.job_view(job))


for _name in ACTIONS:
    bp.add_url_rule(f"/<job_id>/actions/{_name}", f"action_{_name}",
                    authenticated()(lambda job_id, _a=_name: _action(job_id, _a)), methods=["POST"])


@bp.post("/<job_id>/actions/retry_tts")
@authenticated()
def retry_tts(job_id: str):
    body = json_body(schemas.RetryTtsRequest())
    tts = body["tts_preferences"]
    if tts is not None:
        tts = uploads.parse_requested_outputs({"tts_preferences": tts})["tts_preferences"]
        check_available({"tts_preferences": tts}, container().settings)
    c = container()
    job = jobs.retry_tts(c.store, c.workflows, current_user(), audit_meta(), job_id,
                         tags.language(body["language"], "language"), tts)
    return ok(jobs.job_view(job), 202)


# -- bulk --------------------------------------------------------------------------------
@bp.delete("/bulk")
@authenticated()
def bulk_delete():
    ids = query_args(schemas.BulkDeleteQuery())["job_ids"]
    store, user, meta = container().store, current_user(), audit_meta()
    return ok(jobs.bulk(ids, lambda job_id: jobs.delete_job(store, user, meta, job_id)).to_dict())


def _bulk_action(action: str):
    body = json_body(schemas.BulkJobIds())
    c, user, meta = container(), current_user(), audit_meta()
    result = jobs.bulk(body["job_ids"], lambda job_id: jobs.take_action(
        c.store, c.workflows, user, meta, job_id, action, reason=body["reason"], note=body["note"]))
    return ok(result.to_dict())


@bp.post("/bulk/approve")
@authenticated()
def bulk_approve():
    return _bulk_action("approve_source")


@bp.post("/bulk/return-to-qc")
@authenticated()
def bulk_return_to_qc():
    return _bulk_action("return_to_qc")


@bp.post("/bulk/download")
@authenticated()
def bulk_download():
    body = json_body(schemas.BulkDownloadRequest())
    c = container()
    started = downloads.request_bulk_download(
        c.store, c.storage, c.workflows, current_user(), body["job_ids"], max_bytes=c.settings.max_upload_bytes,
        languages=[tags.language(t, "languages") for t in body["languages"]], kinds=body["kinds"])
    return ok(started, 202)
