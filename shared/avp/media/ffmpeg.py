"""The one ffmpeg runner: every media command in avp goes through `run`."""
from __future__ import annotations

import functools
import os
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path


class FfmpegError(RuntimeError):
    """ffmpeg exited non-zero; `stderr_tail` holds its last lines for a readable reason."""

    def __init__(self, args: Sequence[str], returncode: int, stderr: str):
        self.returncode = returncode
        self.stderr_tail = "\n".join(stderr.strip().splitlines()[-8:])
        super().__init__(f"ffmpeg failed ({returncode}): {self.stderr_tail}")


@functools.cache
def ffmpeg_exe() -> str:
    """The ffmpeg binary: $AVP_FFMPEG, else one on PATH, else the one shipped by imageio-ffmpeg."""
    explicit = os.environ.get("AVP_FFMPEG")
    if explicit:
        return explicit
    on_path = shutil.which("ffmpeg")
    if on_path:
        return on_path
    import imageio_ffmpeg

    return imageio_ffmpeg.get_ffmpeg_exe()


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
