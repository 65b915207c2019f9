"""The embedding interface every adapter implements."""
from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable


class EmbedError(RuntimeError):
    """Embedding failed: no credentials, the service refused, or it answered something unusable."""


@runtime_checkable
class Embedder(Protocol):
    """Turns texts into unit-length vectors; similar texts get a high dot product.

    `model` names the vector space: vectors of different models must never be compared."""

    name: str
    model: str
    dimensions: int
    description: str

    def embed(self, texts: Sequence[str]) -> list[list[float]]: ...


class UnavailableEmbedder:
    """Stands where a configured embedder could not be built (say, no API key): every `embed`
    fails with the reason, so work that needs embeddings records why instead of pretending."""

    dimensions = 0
    description = "not available"

    def __init__(self, name: str, reason: str):
        self.name = name
        self.model = f"{name} (unavailable)"
        self.reason = reason

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        raise EmbedError(self.reason)
