"""Glossaries: per-client (or organization-wide) term lists uploaded as XLSX workbooks, in
numbered versions, one of them active; each version's terms carry embeddings for matching.

Workbook layout (first sheet): the first row is the header. One column holds the source term
(header `source`, `term`, `source term`, or the source language's tag); every column headed by a
language tag holds that language's target term; optional columns `notes`, `do_not_translate`,
`case_sensitive`. One term per row; empty rows are skipped. Bad rows answer 422 naming each row.

Who sees a glossary: admin all; production, reviewers and linguists those of their
organizations (linguists translate with them); PMs those of their clients; client users those of
their teams' clients — PMs and client users also see organization-wide glossaries of their
organizations. Invisible answers 404. Who changes one: admins, production of its organization,
and — for a client's glossary — the client's PMs (403 for other viewers).

Storage: the workbook at `glossaries/<id>/versions/<version>/<filename>`; Firestore
`glossaries/{id}`, `.../versions/{v}`, `.../versions/{v}/terms/{t}`.
"""
from __future__ import annotations

import datetime as dt
import io
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Any

from avp import logs
from avp.auth.tokens import Principal
from avp.domain import access, audit, jobs, uploads
from avp.domain import languages as tags
from avp.domain.aggregates import Client, Glossary, GlossaryTerm, GlossaryVersion
from avp.domain.audit import AuditMeta
from avp.domain.paging import Page
from avp.domain.ports import Database, UnitOfWork
from avp.domain.records import new_id, now
from avp.errors import Conflict, Forbidden, NotFound, PayloadTooLarge, Unprocessable, UnsupportedMediaType
from avp.providers.embed import EmbedError, Embedder
from avp.storage import Storage

log = logs.get("domain.glossaries")

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MAX_XLSX_BYTES = 10 * 1024**2
MAX_UNZIPPED_BYTES = 100 * 1024**2  # a workbook is a zip: refuse zip bombs before parsing
MAX_TERMS = 20_000
MAX_CELL_CHARS = 1000
MAX_ROW_ERRORS = 100
SEARCH_PREFIX_CHARS = 20
# A running embedding older than this is taken as crashed, so `reembed` may start it again.
EMBEDDING_STALE = dt.timedelta(minutes=15)
SOURCE_HEADERS = {"source", "term", "source term", "source_term"}
NOTES_HEADERS = {"notes", "note", "comment", "comments"}
FLAG_HEADERS = {"do_not_translate": "do_not_translate", "do not translate": "do_not_translate", "dnt": "do_not_translate",
                "case_sensitive": "case_sensitive", "case sensitive": "case_sensitive"}
TRUE_WORDS, FALSE_WORDS = {"true", "yes", "y", "1", "x"}, {"false", "no", "n", "0", ""}
MANAGER_ROLES = {"production", "project_manager"}


# -- the workbook ------------------------------------------------------------------------
@dataclass(frozen=True)
class XlsxUpload:
    filename: str
    content_type: str
    data: bytes


@dataclass(frozen=True)
class Term:
    row: int
    source: str
    translations: dict[str, str]
    notes: str | None = None
    do_not_translate: bool = False
    case_sensitive: bool = False


@dataclass
class ParsedGlossary:
    source_language: str | None
    languages: list[str]
    terms: list[Term] = field(default_factory=list)


def _check_container(upload: XlsxUpload) -> None:
    if len(upload.data) > MAX_XLSX_BYTES:
        raise PayloadTooLarge(f"the workbook has {len(upload.data)} bytes; the limit is {MAX_XLSX_BYTES}")
    media_type = upload.content_type.split(";")[0].strip().lower()
    # Browsers send octet-stream for unknown types; the name and the zip signature must still agree.
    if media_type not in (XLSX_TYPE, "application/octet-stream") or not upload.filename.lower().endswith(".xlsx"):
        raise UnsupportedMediaType(f"expected an .xlsx workbook ({XLSX_TYPE}), got {media_type or 'no type'} "
                                   f"named {upload.filename[:100]!r}")
    try:
        with zipfile.ZipFile(io.BytesIO(upload.data)) as archive:
            names = archive.namelist()
            unzipped = sum(i.file_size for i in archive.infolist())
    except zipfile.BadZipFile as exc:
        raise UnsupportedMediaType("the file is not an XLSX workbook (not a zip archive)") from exc
    if "xl/workbook.xml" not in names:
        raise UnsupportedMediaType("the file is a zip archive but not an XLSX workbook")
    if unzipped > MAX_UNZIPPED_BYTES:
        raise PayloadTooLarge(f"the workbook unpacks to {unzipped} bytes; the limit is {MAX_UNZIPPED_BYTES}")


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return " ".join(str(value).split())


def _column_name(index: int) -> str:
    name = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        name = chr(65 + rest) + name
    return name


def _header(cells: list[str], source_language: str | None) -> tuple[dict[str, int], dict[str, int], str | None]:
    """Column roles from the header row: ({"source"|"notes"|flag: col}, {language: col}, source language)."""
    roles: dict[str, int] = {}
    languages: dict[str, int] = {}
    problems: list[str] = []
    for col, raw in enumerate(cells):
        name = raw.casefold()
        if not raw:
            continue
        if name in SOURCE_HEADERS and "source" not in roles:
            roles["source"] = col
        elif name in NOTES_HEADERS and "notes" not in roles:
            roles["notes"] = col
        elif name in FLAG_HEADERS and FLAG_HEADERS[name] not in roles:
            roles[FLAG_HEADERS[name]] = col
        elif tags.is_language_tag(raw):
            tag = tags.normalize_language(raw)
            if tag in languages:
                problems.append(f"column {_column_name(col)}: language {tag} appears twice")
            languages[tag] = col
        else:
            problems.append(f"column {_column_name(col)}: {raw[:50]!r} is neither a language tag nor one of "
                            "source, notes, do_not_translate, case_sensitive")
    if "source" not in roles:
        # No `source` header: the first column is the source, headed by its language.
        first = tags.normalize_language(cells[0]) if cells and tags.is_language_tag(cells[0]) else None
        if first is None:
            problems.append("no source column: head it `source` or with the source language's tag")
        else:
            roles["source"] = languages.pop(first)
            if source_language and source_language != first:
                problems.append(f"the source column is headed {first}, but source_language is {source_language}")
            source_language = first
    if not languages:
        problems.append("no target language column (head each with a language tag such as fr or de-CH)")
    if problems:
        raise Unprocessable({"header": problems})
    return roles, languages, source_language


def _flag(value: str) -> bool | None:
    word = value.casefold()
    return True if word in TRUE_WORDS else False if word in FALSE_WORDS else None


def _term(row: int, cells: list[str], roles: dict[str, int], languages: dict[str, int]) -> tuple[Term | None, list[str]]:
    def at(col: int | None) -> str:
        return cells[col] if col is not None and col < len(cells) else ""

    problems = [f"column {_column_name(c)} has {len(v)} characters (limit {MAX_CELL_CHARS})"
                for c, v in enumerate(cells) if len(v) > MAX_CELL_CHARS]
    source = at(roles["source"])
    translations = {lang: at(col) for lang, col in languages.items() if at(col)}
    flags: dict[str, bool] = {}
    for name in ("do_not_translate", "case_sensitive"):
        value = _flag(at(roles.get(name)))
        if value is None:
            problems.append(f"{name} must be yes/no (got {at(roles.get(name))[:20]!r})")
        flags[name] = bool(value)
    if not source:
        problems.append("the source term is empty")
    elif not translations and not flags["do_not_translate"]:
        problems.append(f"no translation for {source[:50]!r} (fill a language column or mark do_not_translate)")
    if problems:
        return None, problems
    return Term(row, source, translations, at(roles.get("notes")) or None, **flags), []


def parse_workbook(upload: XlsxUpload, source_language: str | None = None) -> ParsedGlossary:
    """Read and check a glossary workbook: 413 too big, 415 not XLSX, 422 with the header's or each
    bad row's problems (rows numbered as the spreadsheet shows them)."""
    from openpyxl import load_workbook

    _check_container(upload)
    try:
        book = load_workbook(io.BytesIO(upload.data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for a damaged workbook
        raise UnsupportedMediaType(f"the workbook cannot be read: {exc}") from exc
    try:
        rows = book.worksheets[0].iter_rows(values_only=True) if book.worksheets else iter(())
        header = next(rows, None)
        if header is None:
            raise Unprocessable({"header": ["the first sheet is empty"]})
        roles, languages, source_language = _header([_cell(v) for v in header], source_language)
        parsed = ParsedGlossary(source_language, sorted(languages))
        errors: dict[str, list[str]] = {}
        first_seen: dict[str, int] = {}
        for number, values in enumerate(rows, start=2):
            cells = [_cell(v) for v in values]
            if not any(cells):
                continue
            term, problems = _term(number, cells, roles, languages)
            key = term.source.casefold() if term else None
            if key in first_seen:
                problems.append(f"{term.source[:50]!r} repeats row {first_seen[key]}")
            if problems:
                errors[str(number)] = problems
                if len(errors) >= MAX_ROW_ERRORS:
                    break
                continue
            first_seen[key] = number
            parsed.terms.append(term)
            if len(parsed.terms) > MAX_TERMS:
                raise Unprocessable({"file": [f"more than {MAX_TERMS} terms"]})
    finally:
        book.close()
    if errors:
        raise Unprocessable({"rows": errors})
    if not parsed.terms:
        raise Unprocessable({"file": ["the workbook has no terms"]})
    return parsed


def search_keys(term: Term) -> list[str]:
    """Keys for `list_terms`' one array-contains filter: `any:<prefix>` for prefixes of the source,
    its translations and each of their words; `<lang>:<prefix>` for the source and that language's
    translation; `lang:<lang>` for each language the term has."""

    def prefixes(text: str) -> set[str]:
        folded = text.casefold()
        starts = {folded, *folded.split()}
        return {s[:n] for s in starts for n in range(1, min(len(s), SEARCH_PREFIX_CHARS) + 1)}

    source = prefixes(term.source)
    keys = {f"any:{p}" for p in source}
    for lang, text in term.translations.items():
        own = prefixes(text)
        keys |= {f"any:{p}" for p in own} | {f"{lang}:{p}" for p in source | own} | {f"lang:{lang}"}
    return sorted(keys)


# -- access ------------------------------------------------------------------------------
def glossary_keys(glossary: Glossary) -> list[str]:
    """Who may see the glossary: a client's, its client and organization; an organization-wide one,
    its organization (and, through `orgwide:`, the PMs and client users of that organization)."""
    org = glossary.org_id
    return [f"client:{glossary.client_id}", f"org:{org}"] if glossary.client_id else [f"org:{org}", f"orgwide:{org}"]


def reader_keys(store: Database, principal: Principal) -> list[str] | None:
    """The caller's glossary access keys; None means all (admin)."""
    if principal.is_admin:
        return None
    user = access.user_record(store, principal)
    orgs = user.org_ids
    role = user.role
    if role in ("production", "reviewer", "linguist"):
        keys = [f"org:{o}" for o in orgs]
    else:
        clients = user.pm_client_ids if role == "project_manager" else user.team_client_ids
        keys = [f"client:{c}" for c in clients] + [f"orgwide:{o}" for o in orgs]
    return sorted(set(keys))


def _may_manage(store: Database, principal: Principal, org_id: str, client_id: str | None) -> bool:
    if principal.is_admin:
        return True
    if principal.role == "production":
        return org_id in access.user_record(store, principal).org_ids
    if principal.role == "project_manager" and client_id:
        client = store.of(Client).lookup(client_id)
        return client is not None and principal.user_id in client.pm_ids
    return False


def require_glossary(store: Database, principal: Principal, glossary_id: str, action: str = "view") -> Glossary:
    """The glossary if visible (else 404); `manage` also needs the right to change it (else 403)."""
    glossary = store.of(Glossary).lookup(glossary_id)
    keys = reader_keys(store, principal)
    if glossary is None or (keys is not None and not set(keys) & set(glossary.access_keys)):
        raise NotFound("glossary not found")
    if action == "manage" and not _may_manage(store, principal, glossary.org_id, glossary.client_id):
        raise Forbidden("only admins, production of the organization or the client's PMs may change a glossary")
    return glossary


def _require_active(glossary: Glossary) -> None:
    if glossary.status != "active":
        raise Conflict(f"the glossary is {glossary.status}")


# -- views -------------------------------------------------------------------------------
VERSION_FIELDS = ("id", "number", "filename", "term_count", "languages", "source_language", "embedding_status",
                  "embedding_model", "embedding_error", "embedded_at", "note", "uploaded_by", "created_at")
GLOSSARY_FIELDS = ("id", "org_id", "client_id", "name", "description", "source_language", "target_languages", "status",
                   "active_version_id", "created_by", "created_at", "updated_at")
TERM_FIELDS = ("id", "row", "source", "translations", "notes", "do_not_translate", "case_sensitive")


def version_view(version: GlossaryVersion) -> dict[str, Any]:
    """A version as the API shows it."""
    return {k: getattr(version, k) for k in VERSION_FIELDS}


def glossary_view(glossary: Glossary, versions: Iterable[GlossaryVersion] = ()) -> dict[str, Any]:
    """A glossary as the API shows it, with the versions given (none in listings)."""
    return {**{k: getattr(glossary, k) for k in GLOSSARY_FIELDS}, "versions": [version_view(v) for v in versions]}


def term_view(term: GlossaryTerm) -> dict[str, Any]:
    """A term as the API shows it (whether it has a vector, not the vector)."""
    return {**{k: getattr(term, k) for k in TERM_FIELDS}, "embedded": bool(term.embedding)}


def _versions(store: Database, glossary_id: str) -> list[GlossaryVersion]:
    return store.of(GlossaryVersion, glossary_id=glossary_id).where(order_by=[("number", "asc")])


# -- writing versions --------------------------------------------------------------------
def _stage_version(store: Database, storage: Storage, principal: Principal, glossary_id: str, upload: XlsxUpload,
                   parsed: ParsedGlossary, note: str | None) -> GlossaryVersion:
    """Write the workbook and the terms of a new version; returns its (not yet stored) record. Until
    the record is committed nothing lists the version, so a crash here leaves no half version."""
    version_id = new_id()
    path = f"glossaries/{glossary_id}/versions/{version_id}/{uploads.safe_filename(upload.filename)}"
    storage.write_bytes(path, upload.data, XLSX_TYPE)
    store.of(GlossaryTerm, glossary_id=glossary_id, version_id=version_id).put_many(
        GlossaryTerm(row=t.row, source=t.source, translations=t.translations, notes=t.notes,
                     do_not_translate=t.do_not_translate, case_sensitive=t.case_sensitive, search=search_keys(t))
        for t in parsed.terms)
    return GlossaryVersion(id=version_id, filename=upload.filename, path=path, term_count=len(parsed.terms),
                           languages=parsed.languages, source_language=parsed.source_language, note=note,
                           uploaded_by=principal.user_id, created_at=now())


def _commit_version(store: Database, meta: AuditMeta, glossary_id: str, version: GlossaryVersion,
                    new_glossary: Glossary | None = None) -> GlossaryVersion:
    """Number and store the version (creating the glossary too when `new_glossary` is given)."""
    target = f"glossaries/{glossary_id}"

    def work(uow: UnitOfWork) -> GlossaryVersion:
        glossaries = uow.of(Glossary)
        if new_glossary is not None:
            number = 1
            glossaries.add(replace(new_glossary, id=glossary_id, version_count=1))
            uow.audit.append(audit.entry(meta, "glossary.create", target, after={"name": new_glossary.name}))
        else:
            glossary = glossaries.get(glossary_id)
            _require_active(glossary)
            number = glossary.version_count + 1
            glossaries.update(glossary_id, {"version_count": number, "updated_at": now()})
        numbered = replace(version, number=number)
        uow.of(GlossaryVersion, glossary_id=glossary_id).add(numbered)
        uow.audit.append(audit.entry(meta, "glossary.version.add", f"{target}/versions/{version.id}",
                                     after={"number": number, "term_count": version.term_count,
                                            "filename": version.filename}))
        return numbered

    return store.atomically(work)


def create_glossary(store: Database, storage: Storage, embedder: Embedder, principal: Principal, meta: AuditMeta, *,
                    name: str, upload: XlsxUpload, description: str | None = None, client_id: str | None = None,
                    org_id: str | None = None, source_language: str | None = None) -> dict[str, Any]:
    """Create a glossary from a workbook: version 1, embedded, and active when the embedding succeeded."""
    access.require_role(principal, MANAGER_ROLES)
    placement = jobs.resolve_placement(store, principal, org_id, client_id, None)
    if not _may_manage(store, principal, placement["org_id"], placement["client_id"]):
        raise Forbidden("only admins, production of the organization or the client's PMs may create a glossary")
    if source_language:
        source_language = tags.language(source_language, "source_language")
    parsed = parse_workbook(upload, source_language)
    glossary_id, stamp = new_id(), now()
    glossary = Glossary(org_id=placement["org_id"], client_id=placement["client_id"], name=name.strip(),
                        description=description, source_language=parsed.source_language,
                        target_languages=parsed.languages, status="active", created_by=principal.user_id,
                        created_at=stamp, updated_at=stamp)
    glossary.access_keys = glossary_keys(glossary)
    version = _stage_version(store, storage, principal, glossary_id, upload, parsed, None)
    _commit_version(store, meta, glossary_id, version, new_glossary=glossary)
    if embed_version(store, embedder, meta, glossary_id, version.id).embedding_status == "ready":
        _activate(store, meta, glossary_id, version.id)
    return glossary_view(store.of(Glossary).get(glossary_id), _versions(store, glossary_id))


def add_version(store: Database, storage: Storage, embedder: Embedder, principal: Principal, meta: AuditMeta,
                glossary_id: str, upload: XlsxUpload, *, note: str | None = None, activate: bool = False) -> dict[str, Any]:
    """Upload a new version; with `activate`, make it active once its embedding is ready (409 if not)."""
    glossary = require_glossary(store, principal, glossary_id, "manage")
    _require_active(glossary)
    parsed = parse_workbook(upload, glossary.source_language)
    version = _stage_version(store, storage, principal, glossary_id, upload, parsed, note)
    _commit_version(store, meta, glossary_id, version)
    embedded = embed_version(store, embedder, meta, glossary_id, version.id)
    if activate:
        _activate(store, meta, glossary_id, version.id)
    return version_view(embedded)


# -- embeddings --------------------------------------------------------------------------
def _claim_embedding(store: Database, meta: AuditMeta, glossary_id: str, version_id: str) -> GlossaryVersion:
    def work(uow: UnitOfWork) -> GlossaryVersion:
        versions = uow.of(GlossaryVersion, glossary_id=glossary_id)
        version = versions.get(version_id)
        started = version.embedding_started_at
        if version.embedding_status == "running" and started and now() - started < EMBEDDING_STALE:
            raise Conflict("this version is being embedded right now")
        versions.update(version_id, {"embedding_status": "running", "embedding_started_at": now(), "embedding_error": None})
        uow.audit.append(audit.entry(meta, "glossary.version.embed", f"glossaries/{glossary_id}/versions/{version_id}",
                                     before={"embedding_status": version.embedding_status},
                                     after={"embedding_status": "running"}))
        return version

    return store.atomically(work)


def embed_version(store: Database, embedder: Embedder, meta: AuditMeta, glossary_id: str, version_id: str) -> GlossaryVersion:
    """Embed every source term of a version and store each vector on its term; the version's
    `embedding_status` goes running -> ready (or failed, with the reason). Returns the version."""
    _claim_embedding(store, meta, glossary_id, version_id)
    versions = store.of(GlossaryVersion, glossary_id=glossary_id)
    terms_of_version = store.of(GlossaryTerm, glossary_id=glossary_id, version_id=version_id)
    terms = terms_of_version.where()
    try:
        vectors = embedder.embed([t.source for t in terms])
    except EmbedError as exc:
        logs.event(log, "embedding failed", glossary_id=glossary_id, version_id=version_id, error=str(exc))
        versions.update(version_id, {"embedding_status": "failed", "embedding_error": str(exc)[:500]})
    else:
        for term, vector in zip(terms, vectors):
            term.embedding, term.embedding_model = vector, embedder.model
        terms_of_version.put_many(terms)
        versions.update(version_id, {"embedding_status": "ready", "embedding_model": embedder.model,
                                     "embedding_dimensions": embedder.dimensions, "embedded_at": now()})
    return versions.get(version_id)


def reembed(store: Database, embedder: Embedder, principal: Principal, meta: AuditMeta, glossary_id: str,
            version_id: str) -> dict[str, Any]:
    """Embed a version's terms again (after a failure, or with a newly configured model)."""
    require_glossary(store, principal, glossary_id, "manage")
    return version_view(embed_version(store, embedder, meta, glossary_id, version_id))


# -- state changes -----------------------------------------------------------------------
def _activate(store: Database, meta: AuditMeta, glossary_id: str, version_id: str) -> Glossary:
    def work(uow: UnitOfWork) -> Glossary:
        glossaries = uow.of(Glossary)
        glossary = glossaries.get(glossary_id)
        version = uow.of(GlossaryVersion, glossary_id=glossary_id).get(version_id)
        _require_active(glossary)
        if version.embedding_status != "ready":
            raise Conflict(f"version {version.number} cannot be activated: its embedding is {version.embedding_status}")
        changes = {"active_version_id": version_id, "target_languages": version.languages,
                   "source_language": version.source_language or glossary.source_language, "updated_at": now()}
        glossaries.update(glossary_id, changes)
        uow.audit.append(audit.entry(meta, "glossary.activate", f"glossaries/{glossary_id}",
                                     before={"active_version_id": glossary.active_version_id},
                                     after={"active_version_id": version_id, "number": version.number}))
        return replace(glossary, **changes)

    return store.atomically(work)


def activate(store: Database, principal: Principal, meta: AuditMeta, glossary_id: str, version_id: str) -> dict[str, Any]:
    """Make a version the active one (409 while its embedding is not ready, or the glossary is archived)."""
    require_glossary(store, principal, glossary_id, "manage")
    return glossary_view(_activate(store, meta, glossary_id, version_id), _versions(store, glossary_id))


def archive(store: Database, principal: Principal, meta: AuditMeta, glossary_id: str) -> None:
    """Archive a glossary: it leaves the default listing and takes no new versions (409 if archived)."""
    require_glossary(store, principal, glossary_id, "manage")

    def work(uow: UnitOfWork) -> None:
        glossaries = uow.of(Glossary)
        _require_active(glossaries.get(glossary_id))
        glossaries.update(glossary_id, {"status": "archived", "archived_at": now(), "updated_at": now()})
        uow.audit.append(audit.entry(meta, "glossary.archive", f"glossaries/{glossary_id}", before={"status": "active"},
                                     after={"status": "archived"}))

    store.atomically(work)


# -- queries -----------------------------------------------------------------------------
def get_glossary(store: Database, principal: Principal, glossary_id: str) -> dict[str, Any]:
    """A glossary the caller may see, with its versions."""
    return glossary_view(require_glossary(store, principal, glossary_id), _versions(store, glossary_id))


def list_glossaries(store: Database, principal: Principal, *, page: int, size: int, status: str = "active",
                    client_id: str | None = None, org_id: str | None = None, cursor: str | None = None) -> Page:
    """Glossaries the caller may see, by name (versions are left to the detail view)."""
    filters: list[tuple[str, str, Any]] = [("status", "==", status)]
    filters += [(f, "==", v) for f, v in (("client_id", client_id), ("org_id", org_id)) if v]
    return access.page_by_keys(store.of(Glossary), reader_keys(store, principal), filters, ("name", "asc"), page, size,
                               cursor, "glossaries").map(glossary_view)


def list_terms(store: Database, principal: Principal, glossary_id: str, *, page: int, size: int,
               version_id: str | None = None, q: str | None = None, language: str | None = None,
               cursor: str | None = None) -> Page:
    """Terms of a version (default: the active one, else the newest) in workbook order; `q` matches
    the start of the source, a translation or one of their words (case-insensitive); `language`
    keeps terms translated into it (and narrows `q` to the source and that translation). Only the
    first SEARCH_PREFIX_CHARS characters of `q` are matched."""
    glossary = require_glossary(store, principal, glossary_id)
    if version_id is None:
        version_id = glossary.active_version_id or next((v.id for v in reversed(_versions(store, glossary_id))), None)
    if version_id is None or store.of(GlossaryVersion, glossary_id=glossary_id).lookup(version_id) is None:
        raise NotFound("glossary version not found")
    if language:
        language = tags.language(language, "language")
    key = None
    if q and q.strip():
        key = f"{language or 'any'}:{q.strip().casefold()[:SEARCH_PREFIX_CHARS]}"
    elif language:
        key = f"lang:{language}"
    filters = [("search", "array_contains", key)] if key else []
    terms = store.of(GlossaryTerm, glossary_id=glossary_id, version_id=version_id)
    return terms.page(filters, ("row", "asc"), page, size, cursor).map(term_view)


def translation_terms(store: Database, glossary_id: str | None, source: str, lang: str) -> dict[str, str]:
    """Source -> `lang` terms of a glossary's active version for translating from `source` ({} when
    there is none, or the glossary is of another source language): the terms translated into `lang`
    (through their `lang:<tag>` search key) and the do-not-translate ones."""
    glossary = store.of(Glossary).lookup(glossary_id) if glossary_id else None
    if glossary is None or not glossary.active_version_id:
        return {}
    if (glossary.source_language or source).split("-")[0] != source.split("-")[0]:
        return {}
    active = store.of(GlossaryTerm, glossary_id=glossary.id, version_id=glossary.active_version_id)
    terms: dict[str, str] = {}
    for found in (active.where(("do_not_translate", "==", True)), active.where(("search", "array_contains", f"lang:{lang}"))):
        for term in found:
            terms[term.source] = term.translations.get(lang) or term.source
    return terms
