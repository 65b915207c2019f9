"""The one ffmpeg runner: every media command in avp goes through `run`.

Which ffmpeg: the one avp is tested with, shipped inside the imageio-ffmpeg wheel, unless
`AVP_FFMPEG` names another. An ffmpeg found on PATH is deliberately ignored: Linux
distributions ship versions 4 to 6, and a render that fails on an unknown option only after
the upload, ingest and recognition helps nobody. A configured ffmpeg is version-checked
once, and one older than `MIN_VERSION` is refused with a message naming both versions.
"""
from __future__ import annotations

import functools
import os
import re
import subprocess
from collections.abc import Sequence
from pathlib import Path

MIN_VERSION = (7, 1)
"""The oldest ffmpeg avp accepts. The render reads its filter graph from a file with
`-/filter_complex FILE`, which appeared in ffmpeg 7.0; and ffmpeg 7.0.2 (the static build
in imageio-ffmpeg 0.6/0.7) was measured to crash (SIGSEGV) joining the copied pieces of the
smart render, and 4.2.2 likewise. The suites run against the bundled ffmpeg (9.0)."""


class FfmpegError(RuntimeError):
    """ffmpeg exited non-zero; `stderr_tail` holds its last lines for a readable reason."""

    def __init__(self, args: Sequence[str], returncode: int, stderr: str):
        self.returncode = returncode
        self.stderr_tail = "\n".join(stderr.strip().splitlines()[-8:])
        super().__init__(f"ffmpeg failed ({returncode}): {self.stderr_tail}")


class FfmpegUnusable(RuntimeError):
    """The configured ffmpeg is missing, does not run, or is too old: a set-up mistake that no
    retry fixes. The message names what was found, what is needed, and how to fix it."""


def parse_version(banner: str) -> tuple[int, ...] | None:
    """(major, minor[, patch]) from `ffmpeg -version`'s first line, or None for a build without a
    release number (a git snapshot such as `N-113000-g...`)."""
    match = re.search(r"ffmpeg version n?(\d+)\.(\d+)(?:\.(\d+))?", banner)
    if not match:
        return None
    return tuple(int(part) for part in match.groups() if part is not None)


def _text(version: tuple[int, ...] | None) -> str:
    return ".".join(map(str, version)) if version else "an unnumbered build"


@functools.cache
def bundled_exe() -> str:
    """The ffmpeg inside the imageio-ffmpeg wheel (the one avp is tested with)."""
    import imageio_ffmpeg

    return imageio_ffmpeg.get_ffmpeg_exe()


@functools.cache
def version_of(exe: str) -> tuple[int, ...] | None:
    """The release of the ffmpeg at `exe` (None for an unnumbered snapshot build); raises
    `FfmpegUnusable` when it does not run."""
    try:
        proc = subprocess.run([exe, "-hide_banner", "-version"], capture_output=True, text=True, errors="replace", timeout=30)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise FfmpegUnusable(f"the ffmpeg at {exe} does not run ({exc}); unset AVP_FFMPEG to use the bundled one") from exc
    if proc.returncode != 0 or "ffmpeg version" not in proc.stdout:
        raise FfmpegUnusable(f"{exe} is not a working ffmpeg (`-version` exited {proc.returncode}); "
                             "unset AVP_FFMPEG to use the bundled one")
    return parse_version(proc.stdout.splitlines()[0])


@functools.cache
def ffmpeg_exe() -> str:
    """The ffmpeg binary: `$AVP_FFMPEG` (checked once: it must run and be at least `MIN_VERSION`),
    else the bundled one."""
    explicit = os.environ.get("AVP_FFMPEG")
    if not explicit:
        return bundled_exe()
    version = version_of(explicit)
    if version is not None and version[:2] < MIN_VERSION:
        raise FfmpegUnusable(f"AVP_FFMPEG={explicit} is ffmpeg {_text(version)}; avp needs ffmpeg {_text(MIN_VERSION)} or newer. "
                             "Unset AVP_FFMPEG to use the bundled ffmpeg, or point it at a newer build.")
    return explicit


def describe() -> str:
    """One line saying which ffmpeg avp uses and its version (for `scripts/setup` and `avp --version`)."""
    exe = ffmpeg_exe()
    origin = "AVP_FFMPEG" if os.environ.get("AVP_FFMPEG") else "bundled with imageio-ffmpeg"
    return f"ffmpeg version {_text(version_of(exe))} ({origin}: {exe})"


def run(args: Sequence[str | Path], *, timeout: float | None = None, check: bool = True) -> subprocess.CompletedProcess[str]:
    """Run ffmpeg with `args` (without the program name), quietly, and return the finished process.

    `-nostdin` keeps a backgrounded ffmpeg from stealing the terminal; `-hide_banner` keeps
    stderr short enough to quote in an error.
    """
    cmd = [ffmpeg_exe(), "-nostdin", "-hide_banner", *map(str, args)]
    proc = subprocess.run(cmd, capture_output=True, text=True, errors="replace", timeout=timeout)
    if check and proc.returncode != 0:
        raise FfmpegError(cmd, proc.returncode, proc.stderr)
    return proc
