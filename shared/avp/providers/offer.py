"""Which speech providers, models and voices this deployment can run, under the contract's ids.

The contract (openapi.yaml, `GET /tts/options`) names TTS providers `espeak`, `gemini` and
`cloud_tts`, and recognizers `whisper`, `video_intelligence` and `gemini`. The earlier names
(`local`, `google`, `video-intelligence`) stay accepted as aliases and are stored under the
contract's id. A job asking for something that cannot run here is refused when it is made,
with the choices that can, instead of failing minutes later in a pipeline step.
"""
from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

from avp.config import Settings
from avp.errors import Unprocessable

TTS_IDS = ("espeak", "gemini", "cloud_tts")
ASR_IDS = ("whisper", "video_intelligence", "gemini")
_TTS_ALIASES = {"local": "espeak", "google": "cloud_tts"}
_ASR_ALIASES = {"local": "whisper", "video-intelligence": "video_intelligence"}
_NO_GEMINI_KEY = "this deployment has no Gemini API key (GEMINI_API_KEY)"


def tts_id(name: str) -> str:
    """The contract's id for a TTS provider name (an alias or the id itself; unknown names unchanged)."""
    return _TTS_ALIASES.get(name, name)


def asr_id(name: str) -> str:
    """The contract's id for a recognizer name (an alias or the id itself; unknown names unchanged)."""
    return _ASR_ALIASES.get(name, name)


@functools.cache
def _has_google_credentials() -> bool:
    # Looked up once per process: without credentials the lookup probes the metadata server.
    import google.auth
    from google.auth.exceptions import DefaultCredentialsError

    try:
        google.auth.default()
    except DefaultCredentialsError:
        return False
    return True


def _google_credentials_missing(service: str) -> str | None:
    if _has_google_credentials():
        return None
    return f"{service} needs Google application-default credentials, which this deployment does not have"


def _unavailable(provider: str, known: tuple[str, ...], kind: str, google_id: str, google_service: str,
                 settings: Settings) -> str | None:
    if provider not in known:
        return f"unknown {kind} provider {provider!r}"
    if provider == "gemini" and not settings.gemini_api_key:
        return f"Gemini {kind}: {_NO_GEMINI_KEY}"
    if provider == google_id:
        return _google_credentials_missing(google_service)
    return None


def tts_unavailable(provider: str, settings: Settings) -> str | None:
    """Why this deployment cannot use the TTS provider (None when it can)."""
    return _unavailable(tts_id(provider), TTS_IDS, "speech synthesis", "cloud_tts", "Cloud Text-to-Speech", settings)


def asr_unavailable(provider: str, settings: Settings) -> str | None:
    """Why this deployment cannot use the recognizer (None when it can)."""
    return _unavailable(asr_id(provider), ASR_IDS, "speech-to-text", "video_intelligence",
                        "Video Intelligence speech transcription", settings)


def tts_models(provider: str) -> tuple[str, ...]:
    """The model ids (and short names) a TTS provider takes in `tts_preferences.model`."""
    provider = tts_id(provider)
    if provider == "gemini":
        from avp.providers.tts.gemini import MODEL_ALIASES

        return (*MODEL_ALIASES, *MODEL_ALIASES.values())
    return {"espeak": ("espeak-ng",), "cloud_tts": ("cloud-tts",)}.get(provider, ())


@functools.cache  # eSpeak loads its voice list once per process
def tts_voices(provider: str) -> tuple[str, ...] | None:
    """The voice ids of a TTS provider, or None when they cannot be listed without calling it."""
    provider = tts_id(provider)
    if provider == "gemini":
        from avp.providers.tts.gemini import VOICE_IDS

        return VOICE_IDS
    if provider == "espeak":
        from avp.providers.tts.local import EspeakTts

        return tuple(v.id for v in EspeakTts().voices())
    return None  # Cloud TTS lists its voices only through the API


def _choices(items: Any, limit: int = 12) -> str:
    items = list(items)
    return ", ".join(items[:limit]) + (f" and {len(items) - limit} more (GET /tts/voices)" if len(items) > limit else "")


def check_available(requested: Mapping[str, Any], settings: Settings) -> None:
    """422 when `requested` (parsed requested_outputs, or `{"tts_preferences": ...}`) needs a
    provider, model or voice this deployment cannot run - named by the job or, when it names
    none, the deployment's default; the message lists what can run here."""
    errors: dict[str, list[str]] = {}
    prefs = requested.get("tts_preferences") or {}
    if prefs or requested.get("audio_description_mp3") or requested.get("accessible_video_mp4"):
        provider = tts_id(prefs.get("provider") or settings.tts_provider)
        reason = tts_unavailable(provider, settings)
        if reason:
            usable = [p for p in TTS_IDS if tts_unavailable(p, settings) is None]
            whose = "" if prefs.get("provider") else "the deployment's default (AVP_TTS_PROVIDER) - "
            errors["tts_preferences.provider"] = [f"{whose}{reason}; available here: {_choices(usable)}"]
        else:
            models = tts_models(provider)
            if prefs.get("model") and prefs["model"] not in models:
                errors["tts_preferences.model"] = [f"{provider} has no model {prefs['model']!r}; choose one of {_choices(models)}"]
            voices = tts_voices(provider)
            wanted = [v for v in (prefs.get("default_voice"), *(prefs.get("voices") or {}).values()) if v]
            unknown = [v for v in wanted if voices is not None and v not in voices]
            if unknown:
                errors["tts_preferences.voices"] = [f"{provider} has no voice {', '.join(map(repr, unknown))}; "
                                                    f"choose one of {_choices(voices or ())}"]
    if requested.get("asr_provider") or "captions_vtt" in requested:  # every full job transcribes
        reason = asr_unavailable(requested.get("asr_provider") or settings.asr_provider, settings)
        if reason:
            usable = [p for p in ASR_IDS if asr_unavailable(p, settings) is None]
            whose = "" if requested.get("asr_provider") else "the deployment's default (AVP_ASR_PROVIDER) - "
            errors["asr_provider"] = [f"{whose}{reason}; available here: {_choices(usable)}"]
    if errors:
        raise Unprocessable({"requested_outputs": errors})
