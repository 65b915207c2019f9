"""Which ffmpeg avp runs: the bundled one unless AVP_FFMPEG names another, refused when too old."""
from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from avp.media import ffmpeg


@pytest.fixture(autouse=True)
def _fresh_choice():
    for cached in (ffmpeg.ffmpeg_exe, ffmpeg.version_of):
        cached.cache_clear()
    yield
    for cached in (ffmpeg.ffmpeg_exe, ffmpeg.version_of):
        cached.cache_clear()


def _program(folder: Path, name: str, banner: str) -> Path:
    """An executable answering `-version` the way an ffmpeg build of that banner does."""
    path = folder / name
    path.write_text(f"#!/bin/sh\necho '{banner}'\necho 'built with gcc 12'\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


@pytest.mark.parametrize(("banner", "version"), [
    ("ffmpeg version 5.1.6-0+deb12u1 Copyright (c) 2000-2024 the FFmpeg developers", (5, 1, 6)),
    ("ffmpeg version n9.0.2-17-g2a571b6068-20260930 Copyright (c) 2000-2026", (9, 0, 2)),
    ("ffmpeg version 7.0.2-static https://johnvansickle.com/ffmpeg/", (7, 0, 2)),
    ("ffmpeg version 6.1 Copyright", (6, 1)),
    ("ffmpeg version N-113000-g1234abcd Copyright", None),
])
def test_versions_are_read_from_the_banner(banner, version) -> None:
    assert ffmpeg.parse_version(banner) == version


def test_an_ffmpeg_on_path_is_ignored_for_the_bundled_one(tmp_path, monkeypatch) -> None:
    _program(tmp_path, "ffmpeg", "ffmpeg version 5.1.6-0+deb12u1 Copyright")
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.delenv("AVP_FFMPEG", raising=False)
    assert ffmpeg.ffmpeg_exe() == ffmpeg.bundled_exe()
    assert ffmpeg.version_of(ffmpeg.ffmpeg_exe()) >= ffmpeg.MIN_VERSION
    assert "bundled with imageio-ffmpeg" in ffmpeg.describe()


def test_a_configured_ffmpeg_that_is_too_old_is_refused_naming_both_versions(tmp_path, monkeypatch) -> None:
    old = _program(tmp_path, "ffmpeg5", "ffmpeg version 5.1.6-0+deb12u1 Copyright")
    monkeypatch.setenv("AVP_FFMPEG", str(old))
    with pytest.raises(ffmpeg.FfmpegUnusable) as refused:
        ffmpeg.run(["-version"])
    message = str(refused.value)
    assert "5.1.6" in message and "7.1 or newer" in message and "Unset AVP_FFMPEG" in message


def test_a_configured_ffmpeg_that_does_not_run_is_refused(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("AVP_FFMPEG", str(tmp_path / "nowhere" / "ffmpeg"))
    with pytest.raises(ffmpeg.FfmpegUnusable, match="does not run"):
        ffmpeg.ffmpeg_exe()


def test_a_configured_recent_ffmpeg_is_used(monkeypatch) -> None:
    monkeypatch.setenv("AVP_FFMPEG", ffmpeg.bundled_exe())  # a real, recent ffmpeg named explicitly
    assert ffmpeg.ffmpeg_exe() == ffmpeg.bundled_exe()
    assert "AVP_FFMPEG" in ffmpeg.describe()
    assert ffmpeg.run(["-version"]).returncode == 0
