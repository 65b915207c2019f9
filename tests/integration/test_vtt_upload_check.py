"""The strict WebVTT check of a final VTT upload: every problem listed with its line, a file
starting with two byte order marks refused, what the check accepts stored as sent."""
import io

import pytest

from tests.helpers import API, make_job
from tests.integration.ops_world import build

CLEAN = "WEBVTT\n\n00:00:01.000 --> 00:00:03.000\nThe harbour at dawn.\n"
# A cue without its blank line (line 5), an unreadable timing line (line 8), a NUL (line 12).
BROKEN = ("WEBVTT\n\n00:00:01.000 --> 00:00:02.000\nfirst\n00:00:03.000 --> 00:00:04.000\nsecond\n\n"
          "00:00:05.000 -> 00:00:06.000\nlost\n\n00:00:07.000 --> 00:00:08.000\na\0b\n")


@pytest.fixture
def upload(client, container, runner):
    runner.allow_languages = False
    world = build(container)
    job = make_job(container.store, world.org["id"], world.acme["id"], status="pending_qc", source_language="en")
    url = f"{API}/production/jobs/{job['id']}/upload-final-vtt"

    def send(data: bytes):
        form = {"lang": "en", "kind": "captions", "file": (io.BytesIO(data), "final.vtt", "text/vtt")}
        return client.post(url, data=form, headers=world.h("production"), content_type="multipart/form-data")

    return send


def test_every_problem_is_listed_with_its_line(upload):
    resp = upload(BROKEN.encode())
    assert resp.status_code == 422
    problems = resp.json["detail"]["content"]
    assert [p.split(":")[0] for p in problems] == ["line 5", "line 8", "line 12"]
    assert "NUL" in problems[2]


def test_one_byte_order_mark_is_accepted_two_are_refused(upload):
    bom = "\ufeff".encode()
    assert upload(bom + CLEAN.encode()).status_code == 201
    refused = upload(bom + bom + CLEAN.encode())
    assert refused.status_code == 422
    assert refused.json["detail"]["content"] == ['line 1: a WebVTT file must start with "WEBVTT"']
