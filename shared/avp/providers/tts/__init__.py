"""Speech synthesis: one interface (base.TtsProvider), a local eSpeak NG adapter and two cloud ones."""
from __future__ import annotations

from collections.abc import Mapping

from avp.providers.tts.base import Synthesis, TtsError, TtsProvider, Voice

__all__ = ["Synthesis", "TtsError", "TtsProvider", "Voice", "get_tts"]


def get_tts(provider: str, settings: Mapping[str, str] | None = None) -> TtsProvider:
    """Build the named TTS adapter. Settings keys: `api_key`, `base_url`, `model` (gemini);
    `endpoint` (cloud_tts). Cloud client libraries are imported only when their adapter is chosen.
    The earlier names `local` and `google` still work."""
    settings = settings or {}
    if provider in ("local", "espeak"):
        from avp.providers.tts.local import EspeakTts

        return EspeakTts()
    if provider == "gemini":
        from avp.providers.tts.gemini import DEFAULT_MODEL, MODEL_ALIASES, GeminiTts

        model = settings.get("model") or DEFAULT_MODEL
        return GeminiTts(api_key=settings.get("api_key"), base_url=settings.get("base_url"), model=MODEL_ALIASES.get(model, model))
    if provider in ("cloud_tts", "google"):
        from avp.providers.tts.google import GoogleTts

        return GoogleTts(endpoint=settings.get("endpoint"))
    raise TtsError(f"unknown TTS provider {provider!r} (espeak, gemini, cloud_tts)")
