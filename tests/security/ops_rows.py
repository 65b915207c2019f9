"""Matrix rows for briefs, glossaries, TTS, production and the admin's statistics, health and
maintenance, with the resources they need: a brief of the world's client written by its client
user, and a glossary of that client (shared by the read-only rows, made afresh for the others)."""
from __future__ import annotations

import io

from openpyxl import Workbook

from avp.auth.tokens import Principal
from avp.domain import audit, briefs, glossaries
from avp.providers.embed import get_embedder
from tests.security.matrix import ADMIN_ONLY, EVERYONE, MEMBERS, OK, World, expect, row

BRIEF_READERS = expect(OK, reviewer=404, linguist=404)  # briefs.py: reviewers and linguists see no briefs
BRIEF_EDITORS = expect(404, admin=OK, client=OK, project_manager=OK, production=403)  # creator, the client's PM
GLOSSARY_MANAGERS = expect(403, admin=OK, production=OK, project_manager=OK)  # viewers who may not change: 403
PRODUCTION_DESK = expect(403, admin=OK, production=OK, other_org=OK)  # lists scoped to what the caller sees
VTT = "WEBVTT\n\n00:00:01.000 --> 00:00:02.000\nHello.\n"
_shared: dict[tuple[int, str], dict[str, str]] = {}


def _brief(world: World) -> dict[str, str]:
    author = Principal(world.users["client"]["id"], "client")
    made = briefs.create_brief(world.store, world.container.storage, author, audit.SYSTEM,
                               {"title": "Matrix brief", "client_id": world.params["client_id"]})
    return {"brief_id": made["id"]}


def fresh_submitted_brief(world: World) -> dict[str, str]:
    made = _brief(world)
    briefs.submit_brief(world.store, Principal(world.users["client"]["id"], "client"), audit.SYSTEM, made["brief_id"])
    return made


def _glossary(world: World) -> dict[str, str]:
    book = Workbook()
    book.active.append(["source", "fr"])
    book.active.append(["harbour", "port"])
    data = io.BytesIO()
    book.save(data)
    made = glossaries.create_glossary(world.store, world.container.storage, get_embedder("local"), world.admin(),
                                      audit.SYSTEM, name="Matrix terms", client_id=world.params["client_id"],
                                      upload=glossaries.XlsxUpload("terms.xlsx", glossaries.XLSX_TYPE, data.getvalue()))
    return {"glossary_id": made["id"], "version_id": made["versions"][0]["id"]}


def shared(make):
    """`make`'s resource, built once per world: for rows that only read it."""

    def get(world: World) -> dict[str, str]:
        key = (id(world), make.__name__)
        if key not in _shared:
            _shared[key] = make(world)
        return _shared[key]

    return get


def fresh_uploading_job(world: World) -> dict[str, str]:
    """A job like the world's, still uploading: a reprocess passes the role check and stops at 409."""
    return world.job("uploading")


OPS_ROWS = [
    # briefs
    row("GET /briefs", EVERYONE),
    row("POST /briefs", expect(OK, reviewer=403, linguist=403), body={"title": "x", "client_id": "{client_id}"}),
    row("GET /briefs/{brief_id}", BRIEF_READERS, fresh=shared(_brief)),
    row("PATCH /briefs/{brief_id}", BRIEF_EDITORS, body={"title": "renamed"}, fresh=shared(_brief)),
    row("POST /briefs/{brief_id}/submit", BRIEF_EDITORS, fresh=_brief),
    row("POST /briefs/{brief_id}/approve", expect(403, admin=OK, project_manager=OK, other_org=403),
        fresh=fresh_submitted_brief),
    # glossaries (every member of organization A reads the client's glossary; linguists translate with it)
    row("GET /glossaries", EVERYONE),
    row("POST /glossaries", expect(403, admin=OK, production=OK, project_manager=OK, other_org=OK)),  # 415 past the role
    row("GET /glossaries/{glossary_id}", MEMBERS, fresh=shared(_glossary)),
    row("GET /glossaries/{glossary_id}/terms", MEMBERS, fresh=shared(_glossary)),
    row("POST /glossaries/{glossary_id}/versions", GLOSSARY_MANAGERS, fresh=shared(_glossary)),  # 415 past the checks
    row("POST /glossaries/{glossary_id}/activate", GLOSSARY_MANAGERS, body={"version_id": "{version_id}"},
        fresh=shared(_glossary)),
    row("POST /glossaries/{glossary_id}/versions/{version_id}/reembed", GLOSSARY_MANAGERS, fresh=shared(_glossary)),
    row("DELETE /glossaries/{glossary_id}", GLOSSARY_MANAGERS, fresh=_glossary),
    # speech synthesis (any signed-in user; previews are rate-limited per user)
    row("GET /tts/voices", EVERYONE),
    row("GET /tts/languages", EVERYONE),
    row("GET /tts/options", EVERYONE),
    row("POST /tts/preview", EVERYONE, body={"voice": "en-us", "language": "en", "text": "Hello.", "format": "wav"}),
    # production desk
    row("GET /production/failures", PRODUCTION_DESK),
    row("POST /production/bulk-retry", PRODUCTION_DESK, body={"job_ids": ["{job_id}"]}),  # per-id 409 / 404 inside
    row("GET /production/queue-stats", PRODUCTION_DESK),
    row("POST /production/jobs/{job_id}/upload-final-vtt", expect(403, admin=OK, production=OK),
        body={"lang": "fr", "kind": "captions", "content": VTT}),
    # admin: statistics, health, maintenance
    row("GET /admin/stats", ADMIN_ONLY),
    row("GET /admin/jobs/stats", ADMIN_ONLY),
    row("GET /admin/health/detailed", ADMIN_ONLY),
    row("POST /admin/maintenance/reprocess-job/{job_id}", ADMIN_ONLY, fresh=fresh_uploading_job),
]
