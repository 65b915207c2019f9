"""Which speech providers this deployment can use, and what they offer.

`espeak` (eSpeak NG) works offline; `gemini` needs GEMINI_API_KEY; `cloud_tts` (Cloud TTS)
needs Google application-default credentials (avp.providers.offer decides). A provider that is
not configured is listed by `/tts/options` as unavailable and answers 503 when asked for by
name — never a stand-in. The earlier ids `local` and `google` are accepted as aliases.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass

from avp.config import Settings
from avp.domain.languages import LANGUAGE_TAG
from avp.errors import ServiceUnavailable
from avp.providers import offer
from avp.providers.tts import TtsError, TtsProvider, Voice, get_tts
from avp.providers.tts.gemini import DEFAULT_MODEL as GEMINI_MODEL
from avp.providers.tts.gemini import LANGUAGES as GEMINI_LANGUAGES


@dataclass(frozen=True)
class ProviderInfo:
    id: str
    name: str
    offline: bool
    models: tuple[tuple[str, str], ...]
    default_voice: str


PROVIDERS = (
    ProviderInfo("espeak", "eSpeak NG (offline)", True, (("espeak-ng", "eSpeak NG"),), "en-us"),
    ProviderInfo("gemini", "Gemini TTS", False, ((GEMINI_MODEL, "Gemini 2.5 Flash TTS"),
                                                 ("gemini-2.5-pro-preview-tts", "Gemini 2.5 Pro TTS")), "Kore"),
    ProviderInfo("cloud_tts", "Cloud Text-to-Speech", False, (("cloud-tts", "Cloud TTS voices"),), "en-US-Neural2-C"),
)
BY_ID = {p.id: p for p in PROVIDERS}


@functools.cache
def _provider(provider: str, api_key: str | None) -> TtsProvider:
    # One instance per process: eSpeak loads its voices once, cloud clients keep their connections.
    return get_tts(provider, {"api_key": api_key} if api_key else {})


def provider(name: str, settings: Settings) -> TtsProvider:
    """The named provider, or 503 saying why this deployment cannot use it."""
    name = offer.tts_id(name)
    if name not in BY_ID:
        raise ServiceUnavailable(f"unknown TTS provider {name!r}; known: {', '.join(BY_ID)}")
    reason = offer.tts_unavailable(name, settings)
    if reason:
        raise ServiceUnavailable(reason)
    try:
        return _provider(name, settings.gemini_api_key if name == "gemini" else None)
    except (TtsError, OSError) as exc:
        raise ServiceUnavailable(f"{BY_ID[name].name} cannot start: {exc}") from exc


def available(settings: Settings) -> dict[str, str | None]:
    """Each provider id with None when usable, else the reason it is not."""
    return {p.id: offer.tts_unavailable(p.id, settings) for p in PROVIDERS}


def voice_languages(voice: Voice) -> list[str]:
    # Gemini voices speak every language the model supports.
    return list(GEMINI_LANGUAGES) if voice.language == "multi" else [voice.language]


def speaks(voice: Voice, language: str) -> bool:
    """Does `voice` speak `language`? `en` matches `en-us` and `en-GB`; `en-US` matches `en` too."""
    wanted = language.lower()
    for tag in (t.lower() for t in voice_languages(voice)):
        if tag == wanted or tag.startswith(wanted + "-") or wanted.startswith(tag + "-"):
            return True
    return False


def voice_view(voice: Voice) -> dict:
    return {"id": voice.id, "name": voice.name, "provider": voice.provider,
            "models": [m for m, _ in BY_ID[voice.provider].models], "languages": voice_languages(voice),
            "gender": voice.gender or None}


def find_voice(tts: TtsProvider, voice_id: str) -> Voice | None:
    return next((v for v in tts.voices() if v.id == voice_id), None)


def voices(settings: Settings, provider_id: str | None, language: str | None) -> list[dict]:
    """Voices of `provider_id` (503 if unusable) or of every usable provider, optionally for a language."""
    names = [provider_id] if provider_id else [p for p, reason in available(settings).items() if reason is None]
    found = [v for name in names for v in provider(name, settings).voices()]
    return [voice_view(v) for v in found
            if (not language or speaks(v, language)) and all(LANGUAGE_TAG.match(t) for t in voice_languages(v))]


def languages(settings: Settings) -> list[dict]:
    """Every language some usable provider speaks, with those providers (and a name where one is known)."""
    merged: dict[str, dict] = {}
    for name, reason in available(settings).items():
        if reason is not None:
            continue
        tts = provider(name, settings)
        names = {v.language: v.name for v in tts.voices()} if name == "espeak" else {}
        for code in tts.languages():
            if not LANGUAGE_TAG.match(code):
                continue  # an engine's private code (eSpeak's `piqd`), not a language a job can name
            entry = merged.setdefault(code, {"code": code, "name": None, "providers": []})
            entry["providers"].append(name)
            entry["name"] = entry["name"] or names.get(code)
    return sorted(merged.values(), key=lambda e: e["code"].lower())


def options(settings: Settings) -> list[dict]:
    """Every provider with its models and defaults, whether this deployment can use it, and whether it runs offline."""
    reasons = available(settings)
    return [{"id": p.id, "name": p.name, "available": reasons[p.id] is None, "offline": p.offline,
             "unavailable_reason": reasons[p.id], "models": [{"id": m, "name": n} for m, n in p.models],
             "default_model": p.models[0][0], "default_voice": p.default_voice} for p in PROVIDERS]
