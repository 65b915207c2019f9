"""Every Gemini adapter, with nothing listening at its address, fails with its own transient
error (retried by the step, a readable reason in the job), never with the HTTP library's raw
exception: google-genai may speak through httpx or its successor httpx2, whose errors share no
base class, and an uncaught one would be a 500 or an unclassified step failure."""
from __future__ import annotations

import socket

import pytest

from avp.providers.describe.base import DescribeError, DescribeInput
from avp.providers.describe.gemini import GeminiDescriber
from avp.providers.embed.base import EmbedError
from avp.providers.embed.gemini import GeminiEmbedder
from avp.providers.translate import TranslateError
from avp.providers.translate.gemini import GeminiTranslator
from avp.providers.tts.base import TtsError
from avp.providers.tts.gemini import GeminiTts


@pytest.fixture
def nowhere() -> str:
    """An address where nothing listens (a port just freed)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}"


CALLS = {
    "describe": (DescribeError, lambda url: GeminiDescriber(api_key="k", base_url=url).describe(
        DescribeInput(duration=10.0, shots=(), gaps=()))),
    "embed": (EmbedError, lambda url: GeminiEmbedder(api_key="k", base_url=url).embed(["harbour"])),
    "translate": (TranslateError, lambda url: GeminiTranslator(api_key="k", base_url=url, backoff=0.0,
                                                               sleep=lambda _: None).translate(
        ["Welcome."], source="en", target="fr")),
    "tts": (TtsError, lambda url: GeminiTts(api_key="k", base_url=url).synthesize("Welcome.", voice="Kore")),
}


@pytest.mark.parametrize("kind", sorted(CALLS))
def test_an_unreachable_service_is_the_adapters_transient_error(kind, nowhere):
    error, call = CALLS[kind]
    with pytest.raises(error) as caught:
        call(nowhere)
    assert getattr(caught.value, "permanent", False) is False  # (an embedding failure is always retryable)
