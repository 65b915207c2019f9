"""The Gemini translator against a local fake of generateContent."""
from __future__ import annotations

import json

import pytest
from fake_translate_api import model_text, prompt_items

from avp.providers.translate import TranslateError, get_translator
from avp.providers.translate.gemini import BATCH_CUES, GeminiTranslator
from tests.contract.fake_http import error

CUES = ["<v Anna>Welcome to the harbour.", "The boats\ncome home <i>at dawn</i>.", "  ", "Fish &amp; chips!"]


def translator(fake, waits: list[float] | None = None) -> GeminiTranslator:
    return GeminiTranslator(api_key="test-key", base_url=fake.url, backoff=0.5,
                            sleep=(waits if waits is not None else []).append)


def test_sends_rules_the_cues_and_a_schema_of_as_many_strings(fake_gemini):
    result = get_translator("gemini", {"api_key": "test-key", "base_url": fake_gemini.url}).translate(
        CUES, source="en", target="fr")
    assert result == ["FR:<v Anna>Welcome to the harbour.", "FR:The boats\ncome home <i>at dawn</i>.", "  ",
                      "FR:Fish &amp; chips!"]  # blank cues are kept as they are, not sent
    [(path, body)] = fake_gemini.requests
    assert path.endswith("/models/gemini-2.5-flash:generateContent")
    rules = body["systemInstruction"]["parts"][0]["text"]
    assert "exactly as many strings" in rules and "<v Speaker>" in rules and "line breaks" in rules
    prompt = body["contents"][0]["parts"][0]["text"]
    assert "from language en into language fr" in prompt and "Glossary" not in prompt
    assert prompt_items(body) == [CUES[0], CUES[1], CUES[3]]  # markup and line breaks sent verbatim
    config = body["generationConfig"]
    assert config["responseMimeType"] == "application/json" and config["temperature"] == 0.0
    schema = config["responseSchema"]
    assert schema["type"] == "ARRAY" and schema["items"]["type"] == "STRING"
    bounds = [schema.get(key) for key in ("minItems", "min_items", "maxItems", "max_items")]  # proto JSON takes both
    assert [int(b) for b in bounds if b is not None] == [3, 3]


def test_long_tracks_go_in_batches_and_keep_their_order(fake_gemini):
    cues = [f"Line {n}." for n in range(BATCH_CUES * 2 + 5)]
    result = translator(fake_gemini).translate(cues, source="en", target="de")
    assert result == [f"FR:Line {n}." for n in range(len(cues))]
    assert [len(prompt_items(body)) for _, body in fake_gemini.requests] == [BATCH_CUES, BATCH_CUES, 5]


def test_a_miscounted_answer_is_asked_again(fake_gemini):
    fake_gemini.script = [model_text(json.dumps(["only one"]))]
    waits: list[float] = []
    result = translator(fake_gemini, waits).translate(CUES, source="en", target="fr")
    assert result[0] == "FR:<v Anna>Welcome to the harbour." and len(fake_gemini.requests) == 2
    assert waits == [0.5]


def test_an_answer_that_stays_miscounted_fails_as_transient(fake_gemini):
    fake_gemini.script = [model_text(json.dumps(["a", "b"]))] * 3
    waits: list[float] = []
    with pytest.raises(TranslateError, match="2 translations for 3 cues") as caught:
        translator(fake_gemini, waits).translate(CUES, source="en", target="fr")
    assert caught.value.permanent is False
    assert len(fake_gemini.requests) == 3 and waits == [0.5, 1.0]


@pytest.mark.parametrize("answer", ["Voici la traduction :", json.dumps({"items": ["a", "b", "c"]}), json.dumps([1, 2, 3])])
def test_an_answer_that_is_not_a_list_of_strings_is_transient(fake_gemini, answer):
    fake_gemini.script = [model_text(answer)] * 3
    with pytest.raises(TranslateError) as caught:
        translator(fake_gemini).translate(CUES, source="en", target="fr")
    assert caught.value.permanent is False and len(fake_gemini.requests) == 3


@pytest.mark.parametrize("status, grpc", [(429, "RESOURCE_EXHAUSTED"), (503, "UNAVAILABLE"), (500, "INTERNAL")])
def test_busy_or_failing_service_is_retried_with_backoff(fake_gemini, status, grpc):
    fake_gemini.script = [error(status, "try later", grpc), error(status, "try later", grpc)]
    waits: list[float] = []
    result = translator(fake_gemini, waits).translate(CUES, source="en", target="fr")
    assert result[3] == "FR:Fish &amp; chips!"
    assert len(fake_gemini.requests) == 3 and waits == [0.5, 1.0]


@pytest.mark.parametrize("status, grpc", [(400, "INVALID_ARGUMENT"), (403, "PERMISSION_DENIED"), (404, "NOT_FOUND")])
def test_a_rejected_request_fails_permanently_at_once(fake_gemini, status, grpc):
    fake_gemini.script = [error(status, "API key not valid", grpc)]
    with pytest.raises(TranslateError, match=f"API key not valid.*{status}") as caught:
        translator(fake_gemini).translate(CUES, source="en", target="fr")
    assert caught.value.permanent is True and len(fake_gemini.requests) == 1


def test_glossary_terms_that_occur_go_into_the_prompt(fake_gemini):
    glossary = {"harbour": "port de pêche", "Fish": "Poisson", "lighthouse": "phare"}
    translator(fake_gemini).translate(CUES, source="en", target="fr", glossary=glossary)
    prompt = fake_gemini.requests[-1][1]["contents"][0]["parts"][0]["text"]
    assert '"harbour" => "port de pêche"' in prompt and '"Fish" => "Poisson"' in prompt
    assert "lighthouse" not in prompt  # terms absent from the batch are left out


def test_the_factory_needs_an_api_key_and_a_known_provider():
    with pytest.raises(TranslateError, match="GEMINI_API_KEY") as caught:
        get_translator("gemini", {"api_key": None})
    assert caught.value.permanent is True
    with pytest.raises(TranslateError, match="unknown translation provider"):
        get_translator("deepl", {})
