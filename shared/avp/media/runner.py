"""Run ffmpeg for a media step and turn its failures into `MediaError` reasons."""
from __future__ import annotations

import subprocess
from collections.abc import Sequence
from pathlib import Path

from avp.media.errors import MediaError
from avp.media.ffmpeg import FfmpegError, run
from avp.media.header import complaint


def run_media(
    args: Sequence[str | Path], *, timeout: float, action: str, check: bool = True
) -> subprocess.CompletedProcess[str]:
    """`avp.media.ffmpeg.run`, except that a timeout or a failure raises `MediaError`.

    `action` names the work for the reason ("Converting the video"). A timeout may pass
    on a less busy machine, so it is not permanent; ffmpeg failing on the same input is.
    """
    try:
        return run(args, timeout=timeout, check=check)
    except subprocess.TimeoutExpired as exc:
        raise MediaError(f"{action} took longer than {timeout:.0f} s.", permanent=False) from exc
    except FfmpegError as exc:
        raise MediaError(f"{action} failed ({complaint(exc.stderr_tail)}).") from exc
