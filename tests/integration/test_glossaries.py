"""Glossaries through the gateway: XLSX upload and its checks, versions, terms, activation,
embeddings, archive, and who may see or change what."""
import io

import pytest
from openpyxl import Workbook

from avp.domain import glossaries
from avp.domain.aggregates import Glossary, GlossaryTerm, GlossaryVersion
from avp.providers.embed.local import HashedNgramEmbedder
from tests.helpers import API, assert_exact_records
from tests.integration.ops_world import build

XLSX = glossaries.XLSX_TYPE
HEADER = ["source", "fr", "de", "notes"]
ROWS = [["Harbour", "port", "Hafen", "the place, not the wine"],
        ["Lighthouse keeper", "gardien de phare", "Leuchtturmwärter", None],
        ["Chapter One", None, None, None, ],
        ["Storm", "tempête", None, None]]


def workbook(rows, header=HEADER) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.append(header)
    for r in rows:
        sheet.append(r)
    buf = io.BytesIO()
    book.save(buf)
    return buf.getvalue()


GOOD = [*ROWS[:2], ["Chapter One", "Chapitre un", None, "on-screen title"], ROWS[3]]


@pytest.fixture
def world(client, container):
    return build(container)


def upload(client, world, data, who="project_manager", url=f"{API}/glossaries", filename="terms.xlsx", ctype=XLSX, **form):
    fields = {"name": "Acme terms", "client_id": world.acme["id"], **form} if url.endswith("glossaries") else form
    fields = {k: v for k, v in fields.items() if v is not None}
    return client.post(url, data={**fields, "file": (io.BytesIO(data), filename, ctype)}, headers=world.h(who),
                       content_type="multipart/form-data")


def test_upload_checks(client, world):
    bad_type = upload(client, world, b"source,fr\nharbour,port\n", filename="terms.csv", ctype="text/csv")
    assert bad_type.status_code == 415
    assert upload(client, world, b"PK\x03\x04 not really", filename="x.xlsx").status_code == 415
    assert upload(client, world, b"\0" * (glossaries.MAX_XLSX_BYTES + 1)).status_code == 413
    rows = upload(client, world, workbook([*ROWS, ["Harbour", "havre", None, None], [None, "orphan", None, None]]))
    assert rows.status_code == 422
    assert set(rows.json["detail"]["rows"]) == {"4", "6", "7"}  # spreadsheet row numbers (header is row 1)
    assert "repeats row 2" in rows.json["detail"]["rows"]["6"][0]
    header = upload(client, world, workbook(ROWS, header=["source", "fr", "colour"]))
    assert header.status_code == 422 and "column C" in header.json["detail"]["header"][0]
    assert upload(client, world, workbook([], header=["source", "fr"])).status_code == 422
    json_body = client.post(f"{API}/glossaries", json={"name": "x"}, headers=world.h("project_manager"))
    assert json_body.status_code == 415


def test_create_embed_terms_versions_activate_archive(client, world, container):
    created = upload(client, world, workbook(GOOD), description="house style")
    assert created.status_code == 201, created.json
    g = created.json
    assert g["client_id"] == world.acme["id"] and g["org_id"] == world.org["id"] and g["status"] == "active"
    assert g["target_languages"] == ["de", "fr"] and [v["number"] for v in g["versions"]] == [1]
    v1 = g["versions"][0]
    assert v1["term_count"] == 4 and v1["embedding_status"] == "ready" and g["active_version_id"] == v1["id"]
    assert v1["embedding_model"] == HashedNgramEmbedder.model
    stored = container.storage.read_bytes(container.store.get(f"glossaries/{g['id']}/versions/{v1['id']}")["path"])
    assert stored[:2] == b"PK"
    term_docs = container.store.find(f"glossaries/{g['id']}/versions/{v1['id']}/terms")
    vectors = {t["source"]: t["embedding"] for t in term_docs}
    assert vectors["Harbour"] == HashedNgramEmbedder().embed(["Harbour"])[0]

    terms_url = f"{API}/glossaries/{g['id']}/terms"

    def sources(query="", who="linguist"):
        resp = client.get(f"{terms_url}{query}", headers=world.h(who))
        assert resp.status_code == 200, resp.json
        return [t["source"] for t in resp.json["items"]]

    assert sources() == ["Harbour", "Lighthouse keeper", "Chapter One", "Storm"]
    assert sources("?q=KEEP") == ["Lighthouse keeper"]          # a word of the source
    assert sources("?q=temp") == ["Storm"]                       # the start of a translation
    assert sources("?language=de") == ["Harbour", "Lighthouse keeper"]
    assert sources("?language=de&q=storm") == []
    assert sources("?q=zzz") == []
    page = client.get(f"{terms_url}?size=2", headers=world.h("client")).json
    assert page["total"] == 4 and len(page["items"]) == 2 and page["items"][0]["embedded"] is True
    assert client.get(f"{terms_url}?language=nope!", headers=world.h("client")).status_code == 422

    v2 = upload(client, world, workbook(GOOD[:2]), url=f"{API}/glossaries/{g['id']}/versions", note="trimmed")
    assert v2.status_code == 201 and v2.json["number"] == 2 and v2.json["term_count"] == 2
    assert client.get(f"{API}/glossaries/{g['id']}", headers=world.h("client")).json["active_version_id"] == v1["id"]
    assert sources(f"?version_id={v2.json['id']}") == ["Harbour", "Lighthouse keeper"]
    assert client.post(f"{API}/glossaries/{g['id']}/activate", json={"version_id": "nope"},
                       headers=world.h("production")).status_code == 404
    activated = client.post(f"{API}/glossaries/{g['id']}/activate", json={"version_id": v2.json["id"]},
                            headers=world.h("production"))
    assert activated.status_code == 200 and activated.json["active_version_id"] == v2.json["id"]
    assert activated.json["target_languages"] == ["de", "fr"] and len(activated.json["versions"]) == 2

    # A version whose embedding failed cannot be activated until it is embedded again. Kept raw on
    # purpose: the failure embed_version records when its provider fails (the local embedder cannot).
    container.store.update(f"glossaries/{g['id']}/versions/{v1['id']}", {"embedding_status": "failed"})
    refused = client.post(f"{API}/glossaries/{g['id']}/activate", json={"version_id": v1["id"]}, headers=world.h("admin"))
    assert refused.status_code == 409 and "failed" in refused.json["detail"]
    again = client.post(f"{API}/glossaries/{g['id']}/versions/{v1['id']}/reembed", headers=world.h("project_manager"))
    assert again.status_code == 202 and again.json["embedding_status"] == "ready"

    assert client.delete(f"{API}/glossaries/{g['id']}", headers=world.h("client")).status_code == 403
    assert client.delete(f"{API}/glossaries/{g['id']}", headers=world.h("project_manager")).status_code == 204
    assert client.delete(f"{API}/glossaries/{g['id']}", headers=world.h("admin")).status_code == 409
    assert upload(client, world, workbook(GOOD), url=f"{API}/glossaries/{g['id']}/versions").status_code == 409
    listed = client.get(f"{API}/glossaries", headers=world.h("project_manager")).json
    assert g["id"] not in {x["id"] for x in listed["items"]}
    archived = client.get(f"{API}/glossaries?status=archived", headers=world.h("project_manager")).json
    assert [x["id"] for x in archived["items"]] == [g["id"]]
    actions = {e["action"] for e in container.store.find("audit_logs", [])}
    assert {"glossary.create", "glossary.version.add", "glossary.version.embed", "glossary.activate",
            "glossary.archive"} <= actions
    assert_exact_records(container.store.of(Glossary))
    assert_exact_records(container.store.of(GlossaryVersion, glossary_id=g["id"]))
    for version_id in (v1["id"], v2.json["id"]):
        assert_exact_records(container.store.of(GlossaryTerm, glossary_id=g["id"], version_id=version_id))


def test_who_sees_and_who_changes(client, world):
    acme = upload(client, world, workbook(GOOD)).json
    org_wide = upload(client, world, workbook(GOOD), who="production", name="House", client_id=None,
                      org_id=world.org["id"]).json
    assert org_wide["client_id"] is None

    def visible(who):
        return {g["id"] for g in client.get(f"{API}/glossaries", headers=world.h(who)).json["items"]}

    assert visible("linguist") == visible("reviewer") == visible("production") == {acme["id"], org_wide["id"]}
    assert visible("client") == visible("project_manager") == {acme["id"], org_wide["id"]}
    assert visible("outsider_client") == {org_wide["id"]}
    assert visible("other_production") == set()
    assert client.get(f"{API}/glossaries/{acme['id']}", headers=world.h("outsider_client")).status_code == 404
    assert client.get(f"{API}/glossaries/{acme['id']}/terms", headers=world.h("other_production")).status_code == 404
    # Viewers who may not change it get 403; PMs may not create organization-wide glossaries.
    assert upload(client, world, workbook(GOOD), who="linguist").status_code == 403
    assert upload(client, world, workbook(GOOD), who="client").status_code == 403
    assert upload(client, world, workbook(GOOD), who="project_manager", client_id=None, org_id=world.org["id"]).status_code == 403
    assert upload(client, world, workbook(GOOD), url=f"{API}/glossaries/{org_wide['id']}/versions",
                  who="project_manager").status_code == 403
    assert client.post(f"{API}/glossaries/{acme['id']}/versions/{acme['versions'][0]['id']}/reembed",
                       headers=world.h("reviewer")).status_code == 403
