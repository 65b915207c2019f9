from flask import Blueprint, request

from avp.bootstrap import container
from avp.domain import glossaries
from avp.errors import PayloadTooLarge, Unprocessable, UnsupportedMediaType
from avp.providers.embed import Embedder, embedder_for
from avp.web import audit_meta, authenticated, current_user, json_body, limit_body, no_content, ok, query_args, sibling

schemas = sibling(__file__, "schemas")
bp = Blueprint("glossaries", __name__, url_prefix="/api/v1/glossaries")
# Roles that may ever change a glossary; the domain then checks organization and client.
managers = authenticated("admin", "production", "project_manager")
# Room for the multipart envelope and the form fields around the workbook.
FORM_OVERHEAD = 64 * 1024


def _embedder() -> Embedder:
    s = container().settings
    # Offline the lexical local embedder, in the cloud Gemini; settings.extra["embed_provider"] overrides
    # (config.py has no environment variable for it yet).
    provider = s.embed_provider or ("local" if s.is_local else "gemini")
    return embedder_for(provider, {"api_key": s.gemini_api_key})


def _form(schema) -> tuple[dict, glossaries.XlsxUpload]:
    """The multipart form's fields (validated by `schema`) and its `file` part."""
    if request.content_length and request.content_length > glossaries.MAX_XLSX_BYTES + FORM_OVERHEAD:
        raise PayloadTooLarge(f"the workbook is larger than {glossaries.MAX_XLSX_BYTES} bytes")
    limit_body(glossaries.MAX_XLSX_BYTES + FORM_OVERHEAD)  # chunked bodies declare no length
    if request.mimetype != "multipart/form-data":
        raise UnsupportedMediaType("send multipart/form-data with the workbook in the `file` part")
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        raise Unprocessable({"file": ["an .xlsx workbook is required"]})
    data = upload.read(glossaries.MAX_XLSX_BYTES + 1)
    fields = schema.load({k: v for k, v in request.form.items()})
    return fields, glossaries.XlsxUpload(upload.filename, upload.mimetype or "", data)


@bp.get("")
@authenticated()
def list_glossaries():
    q = query_args(schemas.GlossaryListQuery())
    return ok(glossaries.list_glossaries(container().store, current_user(), page=q["page"], size=q["size"],
                                         status=q["status"], client_id=q["client_id"], org_id=q["org_id"],
                                         cursor=q["cursor"]).to_dict())


@bp.post("")
@managers
def create_glossary():
    fields, upload = _form(schemas.GlossaryCreateForm())
    c = container()
    return ok(glossaries.create_glossary(c.store, c.storage, _embedder(), current_user(), audit_meta(), upload=upload,
                                         **fields), 201)


@bp.get("/<glossary_id>")
@authenticated()
def get_glossary(glossary_id: str):
    return ok(glossaries.get_glossary(container().store, current_user(), glossary_id))


@bp.get("/<glossary_id>/terms")
@authenticated()
def list_terms(glossary_id: str):
    q = query_args(schemas.TermQuery())
    return ok(glossaries.list_terms(container().store, current_user(), glossary_id, page=q["page"], size=q["size"],
                                    version_id=q["version_id"], q=q["q"], language=q["language"],
                                    cursor=q["cursor"]).to_dict())


@bp.post("/<glossary_id>/versions")
@managers
def add_version(glossary_id: str):
    c = container()
    glossaries.require_glossary(c.store, current_user(), glossary_id, "manage")  # 404/403 before reading the upload
    fields, upload = _form(schemas.GlossaryVersionForm())
    return ok(glossaries.add_version(c.store, c.storage, _embedder(), current_user(), audit_meta(), glossary_id, upload,
                                     **fields), 201)


@bp.post("/<glossary_id>/activate")
@authenticated()
def activate(glossary_id: str):
    body = json_body(schemas.GlossaryActivate())
    return ok(glossaries.activate(container().store, current_user(), audit_meta(), glossary_id, body["version_id"]))


@bp.post("/<glossary_id>/versions/<version_id>/reembed")
@authenticated()
def reembed(glossary_id: str, version_id: str):
    return ok(glossaries.reembed(container().store, _embedder(), current_user(), audit_meta(), glossary_id, version_id), 202)


@bp.delete("/<glossary_id>")
@authenticated()
def archive(glossary_id: str):
    glossaries.archive(container().store, current_user(), audit_meta(), glossary_id)
    return no_content()
