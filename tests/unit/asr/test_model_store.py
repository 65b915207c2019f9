import hashlib
from pathlib import Path

import pytest

from avp.providers.asr.model_store import (
    MODEL_PACKAGES, ModelIntegrityError, ensure_model_dir, find_model_source, packaged_model_source)
from avp.providers.asr.base import AsrError


def _fake_parts(folder: Path, chunks: dict[int, bytes]) -> tuple[Path, str]:
    """Write model.bin.partN files plus companions; return the folder and the sha256 of the join."""
    folder.mkdir()
    for number, data in chunks.items():
        (folder / f"model.bin.part{number}").write_bytes(data)
    (folder / "config.json").write_text('{"fake": true}')
    (folder / "vocabulary.txt").write_text("a\nb\n")
    joined = b"".join(chunks[n] for n in sorted(chunks))
    return folder, hashlib.sha256(joined).hexdigest()


def test_parts_join_in_numeric_order_and_companions_are_copied(tmp_path):
    chunks = {n: f"<{n}>".encode() * 100 for n in range(1, 11)}   # part10 must follow part9
    folder, digest = _fake_parts(tmp_path / "pkg", chunks)
    model = ensure_model_dir(find_model_source([folder]), tmp_path / "cache", sha256=digest)
    assert (model / "model.bin").read_bytes() == b"".join(chunks[n] for n in range(1, 11))
    assert (model / "config.json").read_text() == '{"fake": true}'
    assert (model / "vocabulary.txt").exists()
    assert [p.name for p in (tmp_path / "cache").iterdir()] == [model.name]   # no staging left behind


def test_wrong_hash_is_rejected_and_nothing_is_cached(tmp_path):
    folder, _ = _fake_parts(tmp_path / "pkg", {1: b"weights", 2: b"tampered"})
    with pytest.raises(ModelIntegrityError, match="sha256") as caught:
        ensure_model_dir(find_model_source([folder]), tmp_path / "cache", sha256="0" * 64)
    assert caught.value.permanent
    assert list((tmp_path / "cache").iterdir()) == []


def test_cached_model_is_reused_without_rejoining(tmp_path):
    folder, digest = _fake_parts(tmp_path / "pkg", {1: b"abc", 2: b"def"})
    source = find_model_source([folder])
    first = ensure_model_dir(source, tmp_path / "cache", sha256=digest)
    for part in source.parts:
        part.unlink()   # a rebuild would now fail
    assert ensure_model_dir(source, tmp_path / "cache", sha256=digest) == first


def test_missing_part_number_is_an_integrity_error(tmp_path):
    folder, _ = _fake_parts(tmp_path / "pkg", {1: b"a", 3: b"c"})
    with pytest.raises(ModelIntegrityError, match="consecutive"):
        find_model_source([folder])


def test_folder_without_parts_is_a_permanent_error(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(AsrError) as caught:
        find_model_source([tmp_path / "empty"])
    assert caught.value.permanent


def test_packaged_model_is_split_across_both_data_packages():
    source = packaged_model_source()
    assert [p.name for p in source.parts] == ["model.bin.part1", "model.bin.part2"]
    assert [p.parent.parent.name for p in source.parts] == list(MODEL_PACKAGES)
    assert {p.name for p in source.companions} >= {"config.json", "tokenizer.json", "vocabulary.txt"}
