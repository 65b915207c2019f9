"""The embedding adapters: the local hashed n-gram embedder's properties, and the Gemini adapter
against a local fake of its HTTP API."""
from __future__ import annotations

import numpy as np
import pytest

from avp.providers.embed import EmbedError, Embedder, get_embedder
from avp.providers.embed.gemini import BATCH, DIMENSIONS


def cosine(a: list[float], b: list[float]) -> float:
    return float(np.dot(a, b))


def test_local_vectors_are_unit_deterministic_and_lexical():
    local = get_embedder("local")
    assert isinstance(local, Embedder) and "not a neural model" in local.description
    first = local.embed(["colour grading", "color grading", "harbour", "Colour Grading", "   "])
    again = get_embedder("local").embed(["colour grading"])
    assert first[0] == again[0]  # no per-process hash seed
    assert all(len(v) == local.dimensions for v in first)
    assert np.linalg.norm(first[0]) == pytest.approx(1.0, abs=1e-5)
    assert first[4] == [0.0] * local.dimensions  # nothing to embed: a zero vector, not NaN
    assert cosine(first[0], first[3]) == pytest.approx(1.0, abs=1e-5)  # case does not matter
    assert cosine(first[0], first[1]) > 0.6 > cosine(first[0], first[2])


def test_local_accents_fold():
    a, b = get_embedder("local").embed(["Café crème", "cafe creme"])
    assert cosine(a, b) == pytest.approx(1.0, abs=1e-5)


def gemini(fake_api) -> Embedder:
    return get_embedder("gemini", {"api_key": "test-key", "base_url": fake_api.url})


def test_gemini_batches_requests_and_normalises(fake_api):
    texts = [f"term {i}" for i in range(BATCH + 5)]
    vectors = gemini(fake_api).embed(texts)
    assert len(vectors) == len(texts) and all(len(v) == DIMENSIONS for v in vectors)
    assert all(np.linalg.norm(v) == pytest.approx(1.0, abs=1e-6) for v in vectors)
    assert [len(body["requests"]) for _, body in fake_api.requests] == [BATCH, 5]
    path, body = fake_api.requests[0]
    assert path.endswith("/models/gemini-embedding-001:batchEmbedContents")
    first = body["requests"][0]
    assert first["content"]["parts"][0]["text"] == "term 0"
    assert first.get("outputDimensionality", first.get("output_dimensionality")) == DIMENSIONS
    assert first.get("taskType", first.get("task_type")) == "SEMANTIC_SIMILARITY"


def test_gemini_errors_become_embed_errors(fake_api):
    fake_api.fail_with = 429
    with pytest.raises(EmbedError, match="Gemini embeddings failed"):
        gemini(fake_api).embed(["a"])
    fake_api.fail_with = None
    fake_api.drop_one = True
    with pytest.raises(EmbedError, match="1 embeddings for 2 texts"):
        gemini(fake_api).embed(["a", "b"])


def test_gemini_without_a_key_and_unknown_providers_say_so():
    with pytest.raises(EmbedError, match="API key"):
        get_embedder("gemini", {"api_key": None})
    with pytest.raises(EmbedError, match="unknown embedding provider"):
        get_embedder("word2vec")


def test_an_unbuildable_embedder_fails_each_call_with_the_reason():
    from avp.providers.embed import embedder_for

    unavailable = embedder_for("gemini", {})
    with pytest.raises(EmbedError, match="API key"):
        unavailable.embed(["a"])
    assert embedder_for("local").model.startswith("hashed-ngram")
