"""The Gemini describer against a local fake of generateContent."""
from __future__ import annotations

import base64
import json

import pytest

from avp.captions.model import Cue
from avp.providers.describe import DescribeError, DescribeInput, Keyframe, get_describer
from tests.describe_samples import Gap, Shot


JPEG = b"\xff\xd8\xff\xe0fake-jpeg\xff\xd9"
MATERIAL = DescribeInput(
    duration=42.4,
    shots=[Shot(0.0, 42.4, 0.5, "00:00:00;12")],
    gaps=[Gap(17.2, 39.8)],
    transcript=[Cue(0.0, 17.0, "Hello. This is an example video."), Cue(39.9, 40.4, "Banana.")],
    keyframes=[Keyframe(0.5, JPEG)],
)


def describer(fake):
    return get_describer("gemini", {"api_key": "test-key", "base_url": fake.url, "model": "gemini-2.5-flash"})


def test_sends_rules_material_keyframes_and_a_schema(fake_gemini):
    fake_gemini.answer = json.dumps([{"start": 18.0, "text": "A plain green screen.", "priority": 2}])
    result = describer(fake_gemini).describe(MATERIAL)
    path, body = fake_gemini.requests[-1]
    assert path.endswith("/models/gemini-2.5-flash:generateContent")
    rules = body["systemInstruction"]["parts"][0]["text"]
    assert "Never speak over dialogue" in rules and "on-screen text" in rules
    parts = body["contents"][0]["parts"]
    brief = parts[0]["text"]
    assert "[39.90-40.40] Banana." in brief and "17.20-39.80" in brief and "00:00:00;12" in brief
    assert parts[1]["text"] == "Frame at 0.50 s:"
    image = parts[2].get("inlineData") or parts[2]["inline_data"]
    assert base64.urlsafe_b64decode(image["data"]) == JPEG  # the SDK sends URL-safe base64
    config = body["generationConfig"]
    assert config["responseMimeType"] == "application/json"
    schema = json.dumps(config["responseSchema"])
    assert all(k in schema for k in ('"start"', '"text"', '"priority"'))
    assert [(d.start_target, d.text, d.priority, d.draft, d.source) for d in result] == [
        (18.0, "A plain green screen.", 2, False, "gemini")
    ]


def test_untrusted_items_are_dropped_and_priorities_clamped(fake_gemini):
    fake_gemini.answer = json.dumps([
        {"start": 50.0, "text": "after the end", "priority": 1},
        {"start": 20.0, "text": "  ", "priority": 1},
        {"start": "soon", "text": "bad time", "priority": 1},
        {"start": 30.0, "text": "Late card.", "priority": 9},
        {"start": 18.0, "text": "Green screen.", "priority": 0},
    ])  # fmt: skip
    result = describer(fake_gemini).describe(MATERIAL)
    assert [(d.start_target, d.text, d.priority) for d in result] == [(18.0, "Green screen.", 1), (30.0, "Late card.", 3)]


def test_an_answer_that_is_not_a_json_list_is_an_error(fake_gemini):
    fake_gemini.answer = "Sure! Here are descriptions:"
    with pytest.raises(DescribeError):
        describer(fake_gemini).describe(MATERIAL)
    fake_gemini.answer = json.dumps({"start": 1})
    with pytest.raises(DescribeError):
        describer(fake_gemini).describe(MATERIAL)
