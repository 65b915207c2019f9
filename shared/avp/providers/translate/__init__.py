"""Translation of cue texts: one interface (base.Translator) and a Gemini adapter. There is no
offline translator: with provider "none" the pipeline starts untranslated drafts instead."""
from __future__ import annotations

from collections.abc import Mapping

from avp.providers.translate.base import TranslateError, Translator

__all__ = ["TranslateError", "Translator", "get_translator"]


def get_translator(provider: str, settings: Mapping[str, str | None] | None = None) -> Translator:
    """Build the named translator. Settings keys (gemini): `api_key`, `base_url`, `model`.
    The cloud client library is imported only when its adapter is chosen."""
    settings = settings or {}
    if provider == "gemini":
        from avp.providers.translate.gemini import DEFAULT_MODEL, GeminiTranslator

        if not settings.get("api_key"):
            raise TranslateError("Gemini translation needs an API key (GEMINI_API_KEY); none is configured",
                                 permanent=True)
        return GeminiTranslator(api_key=settings["api_key"], base_url=settings.get("base_url"),
                                model=settings.get("model") or DEFAULT_MODEL)
    raise TranslateError(f"unknown translation provider {provider!r} (gemini)", permanent=True)
