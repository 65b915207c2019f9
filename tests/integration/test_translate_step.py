"""The `translate` step on the emulators, with a scripted translator in place of Gemini."""
from __future__ import annotations

import dataclasses

import pytest

from avp.auth.tokens import Principal
from avp.captions.vtt import parse_vtt
from avp.domain import glossaries, jobs, tracks
from avp.domain.aggregates import Glossary, GlossaryTerm
from avp.domain.audit import SYSTEM
from avp.pipeline import steps
from avp.pipeline.context import PermanentStepError, StepContext
from avp.providers import translate as translate_providers
from avp.providers.translate import TranslateError

CAPTIONS_VTT = """WEBVTT

00:00:01.000 --> 00:00:03.000
<v Anna>Welcome to the harbour.

00:00:04.000 --> 00:00:06.500 line:80%
The boats come home
<i>at dawn</i>.
"""

DESCRIPTIONS_VTT = """WEBVTT
Kind: descriptions

NOTE avp {"priority": 1, "target": 3.1}

00:00:03.100 --> 00:00:03.900
A lighthouse blinks.
"""


class ScriptedTranslator:
    name = "scripted"

    def __init__(self, fail: TranslateError | None = None):
        self.calls: list[dict] = []
        self.fail = fail

    def translate(self, texts, *, source, target, glossary=None):
        self.calls.append({"texts": list(texts), "source": source, "target": target, "glossary": glossary})
        if self.fail:
            raise self.fail
        return [f"[{target}] {t}" for t in texts]


def _job(container, glossary_id: str | None = None) -> dict:
    job = jobs.new_job(Principal("u-test", "admin"), org_id="org-1", client_id=None, project_id=None, title="t",
                       filename="film.mp4", content_type="video/mp4", size_bytes=1000, source_language="en",
                       requested_outputs={"captions_vtt": True, "languages": ["fr"]})
    job["glossary_id"] = glossary_id
    jobs.store_new_job(container.store, SYSTEM, job)
    for kind, content in (("captions", CAPTIONS_VTT), ("descriptions", DESCRIPTIONS_VTT)):
        tracks.save_version(container.store, container.storage, SYSTEM, job["id"], "en", kind, content, source="pipeline")
    return job


def _glossary(container, *terms: glossaries.Term, active: bool = True) -> str:
    """A glossary with one version holding `terms`, stored as the upload path leaves them."""
    gid, vid = "g-1", "v-1"
    container.store.of(Glossary).put(Glossary(id=gid, org_id="org-1", status="active", source_language="en",
                                              active_version_id=vid if active else None))
    container.store.of(GlossaryTerm, glossary_id=gid, version_id=vid).put_many(
        GlossaryTerm(id=f"t{term.row}", row=term.row, source=term.source, translations=term.translations,
                     do_not_translate=term.do_not_translate, search=glossaries.search_keys(term)) for term in terms)
    return gid


@pytest.fixture
def gemini(container, monkeypatch):
    monkeypatch.setattr(container, "settings", dataclasses.replace(container.settings, translate_provider="gemini",
                                                                   gemini_api_key="test-key"))
    translator = ScriptedTranslator()
    monkeypatch.setattr(translate_providers, "get_translator", lambda provider, settings: translator)
    return translator


def _run(container, job, tmp_path) -> dict:
    return steps.translate(StepContext("translate", job["id"], container, tmp_path, language="fr"))


def _track(container, job_id: str, output: str):
    job = jobs.get_job(container.store, job_id)
    return parse_vtt(container.storage.read_text(job["outputs"]["fr"].asset(output).path)).cues


def test_gemini_translates_captions_and_descriptions_keeping_times_and_data(container, gemini, tmp_path):
    job = _job(container)
    changes = _run(container, job, tmp_path)
    assert changes["languages.fr.machine_translated"] is True and changes["languages.fr.cues_total"] == 2
    assert "machine-translated from en" in changes["languages.fr.translation_note"]
    assert [(c["source"], c["target"]) for c in gemini.calls] == [("en", "fr"), ("en", "fr")]
    assert gemini.calls[0]["texts"] == ["<v Anna>Welcome to the harbour.", "The boats come home\n<i>at dawn</i>."]
    captions = _track(container, job["id"], "captions_vtt")
    assert [(c.start, c.end, c.text) for c in captions] == [
        (1.0, 3.0, "[fr] <v Anna>Welcome to the harbour."), (4.0, 6.5, "[fr] The boats come home\n<i>at dawn</i>.")]
    assert captions[1].settings == {"line": "80%"}
    assert all(c.data == {"machine_translated": True} for c in captions)
    [description] = _track(container, job["id"], "description_vtt")
    assert (description.start, description.text) == (3.1, "[fr] A lighthouse blinks.")
    assert description.data == {"priority": 1, "target": 3.1, "machine_translated": True, "draft": True}


def test_the_active_glossary_gives_its_terms_for_the_target_language(container, gemini, tmp_path):
    gid = _glossary(container,
                    glossaries.Term(2, "harbour", {"fr": "port", "de": "Hafen"}),
                    glossaries.Term(3, "lighthouse", {"de": "Leuchtturm"}),
                    glossaries.Term(4, "Anna", {}, do_not_translate=True))
    _run(container, _job(container, gid), tmp_path)
    assert gemini.calls[0]["glossary"] == {"harbour": "port", "Anna": "Anna"}


def test_a_glossary_without_an_active_version_gives_no_terms(container, gemini, tmp_path):
    gid = _glossary(container, glossaries.Term(2, "harbour", {"fr": "port"}), active=False)
    _run(container, _job(container, gid), tmp_path)
    assert gemini.calls[0]["glossary"] == {}


def test_a_permanent_translation_error_fails_the_step_and_a_transient_one_is_retried(container, gemini, tmp_path):
    job = _job(container)
    gemini.fail = TranslateError("Gemini refused the translation request: bad key (status 400)", permanent=True)
    with pytest.raises(PermanentStepError, match="bad key"):
        _run(container, job, tmp_path)
    gemini.fail = TranslateError("Gemini unreachable", permanent=False)
    with pytest.raises(TranslateError):  # not permanent: the step exits non-zero and the workflow retries
        _run(container, job, tmp_path)
    assert "fr" not in (jobs.get_job(container.store, job["id"]).get("outputs") or {})


def test_gemini_without_an_api_key_fails_permanently_saying_so(container, monkeypatch, tmp_path):
    monkeypatch.setattr(container, "settings", dataclasses.replace(container.settings, translate_provider="gemini",
                                                                   gemini_api_key=None))
    with pytest.raises(PermanentStepError, match="GEMINI_API_KEY"):
        _run(container, _job(container), tmp_path)


def test_without_a_provider_the_tracks_are_untranslated_drafts(container, tmp_path):
    job = _job(container)
    changes = _run(container, job, tmp_path)
    assert changes["languages.fr.machine_translated"] is False
    assert "no translation provider" in changes["languages.fr.translation_note"]
    captions = _track(container, job["id"], "captions_vtt")
    assert captions[0].text == "<v Anna>Welcome to the harbour." and all(c.data == {"untranslated": True} for c in captions)
    [description] = _track(container, job["id"], "description_vtt")
    assert description.data == {"priority": 1, "target": 3.1, "untranslated": True, "draft": True}
