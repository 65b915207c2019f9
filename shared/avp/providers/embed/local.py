"""The offline embedder: hashed character n-grams, a deterministic lexical vector.

Not a neural model: it knows spelling, not meaning. "colour grading" and "color grading" come
out close; "car" and "automobile" do not. It stands in for Gemini embeddings on one machine so
that glossary versions can be embedded, activated and compared without a network.
"""
from __future__ import annotations

import hashlib
import unicodedata
from collections.abc import Sequence

import numpy as np

DIMENSIONS = 512
NGRAM_SIZES = (2, 3, 4)


def _normalize(text: str) -> str:
    # Case and accents should not separate "Café" from "cafe"; whitespace runs are one boundary.
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(stripped.split())


def _features(text: str) -> list[str]:
    words = _normalize(text).split()
    grams = [f"w:{w}" for w in words]
    for word in words:
        padded = f"<{word}>"  # word boundaries make prefixes and suffixes features of their own
        for n in NGRAM_SIZES:
            grams += [padded[i:i + n] for i in range(len(padded) - n + 1)]
    return grams


def _bucket(feature: str) -> tuple[int, float]:
    # blake2b, not hash(): Python's string hash changes per process, vectors must not.
    digest = hashlib.blake2b(feature.encode("utf-8"), digest_size=8).digest()
    value = int.from_bytes(digest, "little")
    return value % DIMENSIONS, 1.0 if (value >> 63) & 1 else -1.0


class HashedNgramEmbedder:
    """Embedder over signed feature hashing of word and character 2–4-grams, L2-normalised."""

    name = "local"
    model = f"hashed-ngram-{DIMENSIONS}"
    dimensions = DIMENSIONS
    description = ("hashed character n-gram vectors (lexical similarity only; not a neural model — "
                   "configure Gemini embeddings for semantic similarity)")

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        """One unit vector per text (all zeros for an empty or blank text)."""
        out = np.zeros((len(texts), DIMENSIONS), dtype=np.float64)
        for row, text in enumerate(texts):
            for feature in _features(text):
                index, sign = _bucket(feature)
                out[row, index] += sign
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        out = np.divide(out, norms, out=np.zeros_like(out), where=norms > 0)
        return out.round(6).tolist()
