"""Text embeddings for glossary terms: one interface (base.Embedder), a local hashed n-gram
adapter (lexical, not a neural model) and a Gemini adapter."""
from __future__ import annotations

from collections.abc import Mapping

from avp.providers.embed.base import EmbedError, Embedder, UnavailableEmbedder

__all__ = ["EmbedError", "Embedder", "UnavailableEmbedder", "get_embedder", "embedder_for"]


def get_embedder(provider: str, settings: Mapping[str, str | None] | None = None) -> Embedder:
    """Build the named embedding adapter. Settings keys (gemini): `api_key`, `base_url`, `model`.
    The cloud client library is imported only when its adapter is chosen."""
    settings = settings or {}
    if provider == "local":
        from avp.providers.embed.local import HashedNgramEmbedder

        return HashedNgramEmbedder()
    if provider == "gemini":
        from avp.providers.embed.gemini import DEFAULT_MODEL, GeminiEmbedder

        if not settings.get("api_key"):
            raise EmbedError("Gemini embeddings need an API key (GEMINI_API_KEY); none is configured")
        return GeminiEmbedder(api_key=settings["api_key"], base_url=settings.get("base_url"),
                              model=settings.get("model") or DEFAULT_MODEL)
    raise EmbedError(f"unknown embedding provider {provider!r} (local, gemini)")


def embedder_for(provider: str, settings: Mapping[str, str | None] | None = None) -> Embedder:
    """`get_embedder`, or an `UnavailableEmbedder` carrying the reason it cannot be built."""
    try:
        return get_embedder(provider, settings)
    except EmbedError as exc:
        return UnavailableEmbedder(provider, str(exc))
