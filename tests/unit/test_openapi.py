"""openapi.yaml is both the public contract and the API Gateway config: check that it lists
exactly the routes of the specification, routes each one to the right function, and is a
valid OpenAPI 3.0 document the gateway can take."""
from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
OPENAPI = REPO / "openapi.yaml"
ROUTES = REPO / "tests/data/spec/routes.txt"

GROUPS = {
    "auth", "jobs", "language_qc", "files", "tts", "briefs", "glossaries", "organizations", "clients",
    "share", "invitations", "review_notes", "admin", "production", "status",
}
METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}
# Routes the seed spec implies but does not name (their descriptions say why).
BEYOND_SPEC = {("POST", "/api/v1/auth/password/reset")}
PUBLIC = {
    ("POST", "/api/v1/auth/login"),
    ("POST", "/api/v1/auth/password/reset"),
    ("POST", "/api/v1/auth/microsoft"),
    ("POST", "/api/v1/invitations/preview"),
    ("POST", "/api/v1/invitations/accept"),
    ("GET", "/api/v1/share/public/share/{token}"),
}
REFRESH = ("POST", "/api/v1/auth/refresh")
# From ../shared/docs/DOMAIN.md
JOB_STATES = {
    "uploading", "queued", "processing", "pending_qc", "language_qc", "final_review", "complete",
    "failed", "cancelled", "rejected", "blocked_on_source",
}
LANGUAGE_QC_STATES = {"unassigned", "assigned", "in_progress", "submitted", "in_review", "approved", "rejected"}
ERROR_CODES = {"400", "401", "403", "404", "409", "413", "415", "422", "429"}


@pytest.fixture(scope="module")
def text() -> str:
    return OPENAPI.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def doc(text: str) -> dict[str, Any]:
    return yaml.safe_load(text)


def operations(doc: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any], dict[str, Any]]]:
    for path, item in doc["paths"].items():
        for method, op in item.items():
            if method in METHODS:
                yield method.upper(), path, item, op


def resolve(doc: dict[str, Any], node: Any) -> Any:
    """Follows a local `$ref` (JSON pointer) until a plain node is reached."""
    while isinstance(node, dict) and "$ref" in node:
        pointer = node["$ref"]
        assert pointer.startswith("#/"), f"non-local $ref {pointer}"
        node = doc
        for part in pointer[2:].split("/"):
            node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


def expected_group(path: str) -> str:
    rest = path.removeprefix("/api/v1/")
    if re.match(r"jobs/[^/]+/review-notes(/|$)", rest):
        return "review_notes"
    first = rest.split("/", 1)[0]
    return {"language-qc": "language_qc", "ws": "status"}.get(first, first)


def test_routes_match_the_specification_exactly(doc: dict[str, Any]) -> None:
    listed = [tuple(line.split()) for line in ROUTES.read_text().splitlines() if line.strip()]
    documented = [(method, path) for method, path, _, _ in operations(doc)]
    assert len(listed) == len(set(listed)) == 132
    assert len(documented) == len(set(documented))
    assert set(documented) - set(listed) == BEYOND_SPEC, "routes not in routes.txt"
    assert set(listed) - set(documented) == set(), "routes missing from openapi.yaml"


def test_every_operation_routes_to_its_function(doc: dict[str, Any]) -> None:
    backends = doc["x-google-api-management"]["backends"]
    assert set(backends) == GROUPS
    for group, backend in backends.items():
        assert backend["address"].startswith("https://") and backend["address"].endswith(
            "avp-" + group.replace("_", "-")
        ), group
        assert backend["pathTranslation"] == "APPEND_PATH_TO_ADDRESS"
        assert backend["jwtAudience"] == backend["address"]
        assert backend["protocol"] == "http/1.1"
    for method, path, _, op in operations(doc):
        where = f"{method} {path}"
        assert op["x-avp-function"] in GROUPS, where
        assert op["x-avp-function"] == expected_group(path), where
        # OpenAPI 3.x API Gateway: x-google-backend is the name of a backend, not an object
        assert op["x-google-backend"] == op["x-avp-function"], where
        assert op["tags"] == [op["x-avp-function"]], where
        assert op.get("summary"), where


def test_operation_ids_are_unique_snake_case(doc: dict[str, Any]) -> None:
    ids = [op["operationId"] for _, _, _, op in operations(doc)]
    assert len(ids) == len(set(ids))
    assert all(re.fullmatch(r"[a-z][a-z0-9]*(_[a-z0-9]+)*", i) for i in ids), ids


def test_path_parameters_match_the_template(doc: dict[str, Any]) -> None:
    for method, path, item, op in operations(doc):
        params = [resolve(doc, p) for p in item.get("parameters", []) + op.get("parameters", [])]
        declared = {p["name"] for p in params if p["in"] == "path"}
        assert all(p["required"] for p in params if p["in"] == "path"), f"{method} {path}"
        assert declared == set(re.findall(r"{([^}]+)}", path)), f"{method} {path}"


# Public, but an existing account accepts only with its own bearer token.
OPTIONAL_BEARER = ("POST", "/api/v1/invitations/accept")


def test_security_public_cookie_and_bearer(doc: dict[str, Any]) -> None:
    schemes = doc["components"]["securitySchemes"]
    assert schemes["bearerAuth"] == {**schemes["bearerAuth"], "type": "http", "scheme": "bearer"}
    assert schemes["refreshCookie"] == {**schemes["refreshCookie"], "type": "apiKey", "in": "cookie",
                                        "name": "refresh_token"}
    for method, path, _, op in operations(doc):
        key = (method, path)
        if key == OPTIONAL_BEARER:
            assert op["security"] == [{}, {"bearerAuth": []}] and "401" in op["responses"], key
        elif key in PUBLIC:
            assert op["security"] == [], key
        elif key == REFRESH:
            assert op["security"] == [{"refreshCookie": []}]
        else:
            assert op["security"] == [{"bearerAuth": []}], key
            assert "401" in op["responses"], key


def ref_nodes(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        if isinstance(node.get("$ref"), str):
            yield node
        for value in node.values():
            yield from ref_nodes(value)
    elif isinstance(node, list):
        for value in node:
            yield from ref_nodes(value)


def test_every_ref_resolves(doc: dict[str, Any]) -> None:
    pointers = {node["$ref"] for node in ref_nodes(doc)}
    assert pointers, "no $ref at all"
    dangling = []
    for pointer in sorted(pointers):
        try:
            resolve(doc, {"$ref": pointer})
        except (KeyError, TypeError):
            dangling.append(pointer)
    assert dangling == []


def test_refs_have_no_siblings(doc: dict[str, Any]) -> None:
    # OpenAPI 3.0 ignores keys beside $ref (e.g. nullable), so they would silently mean nothing
    assert [node for node in ref_nodes(doc) if len(node) > 1] == []


def test_errors_share_one_envelope(doc: dict[str, Any]) -> None:
    error = doc["components"]["schemas"]["Error"]
    assert error["required"] == ["detail"]
    for method, path, _, op in operations(doc):
        for code, response in op["responses"].items():
            if code in ERROR_CODES:
                body = resolve(doc, response)["content"]["application/json"]["schema"]
                assert body == {"$ref": "#/components/schemas/Error"}, f"{method} {path} {code}"


def test_domain_enums(doc: dict[str, Any]) -> None:
    schemas = doc["components"]["schemas"]
    assert set(schemas["JobStatus"]["enum"]) == JOB_STATES
    assert set(schemas["LanguageQcStatus"]["enum"]) == LANGUAGE_QC_STATES
    outputs = schemas["RequestedOutputs"]["properties"]
    assert {"captions_vtt", "audio_description_vtt", "audio_description_mp3", "accessible_video_mp4",
            "languages", "tts_preferences", "style_preset", "asr_provider"} <= set(outputs)
    assert set(schemas["TtsPreferences"]["properties"]) >= {"provider", "model", "default_voice"}
    assert set(schemas["UploadInitResponse"]["required"]) == {"upload_url", "job_id", "gcs_uri", "expires_at"}


def test_job_list_query_and_page_shape(doc: dict[str, Any]) -> None:
    op = doc["paths"]["/api/v1/jobs"]["get"]
    params = {p["name"]: p for p in (resolve(doc, p) for p in op["parameters"])}
    assert {"status", "org_id", "client_id", "project_id", "page", "size", "sort"} <= set(params)
    assert params["size"]["schema"]["maximum"] == 100
    page = resolve(doc, op["responses"]["200"]["content"]["application/json"]["schema"])
    assert set(page["required"]) == {"items", "total", "page", "size"}


def test_media_types(doc: dict[str, Any]) -> None:
    paths = doc["paths"]

    def body_types(path: str, method: str = "post") -> set[str]:
        return set(paths["/api/v1" + path][method]["requestBody"]["content"])

    assert body_types("/jobs") == {"multipart/form-data"}
    assert body_types("/glossaries") == {"multipart/form-data"}
    assert body_types("/glossaries/{glossary_id}/versions") == {"multipart/form-data"}
    assert body_types("/production/jobs/{job_id}/upload-final-vtt") == {"multipart/form-data", "application/json"}
    preview = paths["/api/v1/tts/preview"]["post"]["responses"]["200"]["content"]
    assert set(preview) == {"audio/mpeg", "audio/wav"}


def test_local_endpoints_are_documented(doc: dict[str, Any]) -> None:
    description = doc["info"]["description"]
    for endpoint in ("/healthz", "/docs", "/openapi.yaml"):
        assert endpoint in description
    assert not any(p in doc["paths"] for p in ("/healthz", "/docs", "/openapi.yaml"))


def test_no_yaml_aliases(text: str) -> None:
    # API Gateway limits YAML aliases, so the document spells everything out.
    events = yaml.parse(text)
    assert not any(isinstance(e, yaml.AliasEvent) or getattr(e, "anchor", None) for e in events)


def test_valid_openapi_30(doc: dict[str, Any]) -> None:
    validator = pytest.importorskip("openapi_spec_validator")
    assert doc["openapi"] == "3.0.3"
    validator.validate(doc, cls=validator.OpenAPIV30SpecValidator)


def test_validator_rejects_a_broken_document() -> None:
    validator = pytest.importorskip("openapi_spec_validator")
    from openapi_spec_validator.validation.exceptions import OpenAPIValidationError

    broken = {
        "openapi": "3.0.3",
        "info": {"title": "t", "version": "1"},
        "paths": {"/x/{id}": {"get": {"responses": {"200": {"description": "ok"}}}}},
    }
    with pytest.raises(OpenAPIValidationError):
        validator.validate(broken, cls=validator.OpenAPIV30SpecValidator)


# Fields named like ids that are not ids of documents this server makes: a TTS engine's voice and
# provider names, the audit target's id (a path segment of any target), a request id and the Google
# Cloud project of the status channel.
NOT_DOCUMENT_IDS = {("Voice", "id"), ("TtsProviderOption", "id"), ("AuditLogEntry", "target_id"),
                    ("AuditLogEntry", "request_id"), ("StatusChannel", "project_id")}
ID_FIELD = re.compile(r"^(id|\w+_ids?|created_by|updated_by|uploaded_by|invited_by)$")


def _plain_id_fields(name: str, node: Any) -> Iterator[str]:
    if isinstance(node, list):
        for item in node:
            yield from _plain_id_fields(name, item)
    elif isinstance(node, dict):
        for key, prop in (node.get("properties") or {}).items():
            target = prop.get("items", prop) if prop.get("type") == "array" else prop
            if ID_FIELD.match(key) and (name, key) not in NOT_DOCUMENT_IDS and "#/components/schemas/Id" not in str(target):
                yield key
        for value in node.values():
            yield from _plain_id_fields(name, value)


def test_ids_are_the_id_schema_in_requests_and_responses(doc: dict[str, Any]) -> None:
    """Every id the API hands out or takes is `Id` (1 to 128 characters), as the server bounds it
    (avp.schemas.ID): a client can pass back whatever it was given."""
    plain = [f"{name}.{key}" for name, schema in doc["components"]["schemas"].items()
             for key in _plain_id_fields(name, schema)]
    assert plain == []
