"""Gemini embeddings through google-genai (`batchEmbedContents` of the Gemini API)."""
from __future__ import annotations

import math
from collections.abc import Sequence

from google import genai
from google.genai import errors as genai_errors
from google.genai import types

from avp.providers.embed.base import EmbedError
from avp.providers.retry import HTTP_ERRORS

DEFAULT_MODEL = "gemini-embedding-001"
DIMENSIONS = 768
BATCH = 100  # the API's limit of texts per batchEmbedContents request


class GeminiEmbedder:
    """Embedder over Gemini embeddings, truncated to 768 dimensions and re-normalised (the API
    normalises only its full-size vectors)."""

    name = "gemini"
    dimensions = DIMENSIONS
    description = "Gemini text embeddings (neural, multilingual)"

    def __init__(self, *, api_key: str, base_url: str | None = None, model: str = DEFAULT_MODEL):
        self._client = genai.Client(
            api_key=api_key, http_options=types.HttpOptions(base_url=base_url) if base_url else None
        )
        self.model = model

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        """Vectors for `texts`, in order, `BATCH` texts per request."""
        config = types.EmbedContentConfig(task_type="SEMANTIC_SIMILARITY", output_dimensionality=DIMENSIONS)
        vectors: list[list[float]] = []
        for start in range(0, len(texts), BATCH):
            chunk = list(texts[start:start + BATCH])
            try:
                response = self._client.models.embed_content(model=self.model, contents=chunk, config=config)
            except (genai_errors.APIError, *HTTP_ERRORS) as exc:
                raise EmbedError(f"Gemini embeddings failed: {exc}") from exc
            embeddings = response.embeddings or []
            if len(embeddings) != len(chunk) or any(not e.values for e in embeddings):
                raise EmbedError(f"Gemini returned {len(embeddings)} embeddings for {len(chunk)} texts")
            vectors += [_unit(e.values) for e in embeddings]
        return vectors


def _unit(values: Sequence[float]) -> list[float]:
    norm = math.sqrt(sum(v * v for v in values))
    if norm == 0:
        return [0.0] * len(values)
    return [v / norm for v in values]
