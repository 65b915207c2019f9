"""Shot changes by ffmpeg scene detection, and one keyframe image per shot."""
from __future__ import annotations

import re
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path

from avp.media.errors import MediaError
from avp.media.header import parse_input_header
from avp.media.probe import probe
from avp.media.runner import run_media

# Scene scores barely change with picture size, and a 160 px wide frame is cheap to compare.
DETECT_WIDTH = 160
KEYFRAME_WIDTH = 640
_SELECTED = re.compile(r"\[Parsed_showinfo_\d+ @ [^\]]+\] n:\s*\d+ pts:\s*-?\d+ pts_time:(?P<t>-?[\d.]+)")


@dataclass(frozen=True)
class Shot:
    """One shot, in seconds; `keyframe_time` is the frame that stands for it (mid-shot).

    `text` is the on-screen text read from the keyframe, filled in after OCR with
    `dataclasses.replace` ("" until then or when there is none).
    """

    index: int
    start: float
    end: float
    keyframe_time: float
    text: str = ""

    @property
    def duration(self) -> float:
        return self.end - self.start


def detect_shots(path: str | Path, *, threshold: float = 0.3, min_shot: float = 0.5) -> list[Shot]:
    """Split the video at `path` into shots in one decoding pass.

    A cut is a frame whose scene-change score (0..1) exceeds `threshold`; cuts that would
    leave a shot shorter than `min_shot` seconds are dropped, so flashes do not split shots.
    """
    result = run_media(
        ["-i", path, "-map", "0:V:0", "-vf",
         f"scale={DETECT_WIDTH}:-2,select='gt(scene,{threshold})',showinfo", "-f", "null", "-"],
        timeout=_decode_timeout(path),
        action="Detecting shots",
    )
    header = parse_input_header(result.stderr)
    duration = header.duration if header and header.duration else probe(path).duration
    cuts = [float(m["t"]) for m in _SELECTED.finditer(result.stderr)]
    return shots_from_cuts(cuts, duration, min_shot=min_shot)


def shots_from_cuts(cuts: list[float], duration: float, *, min_shot: float = 0.5) -> list[Shot]:
    """Turn cut times into consecutive shots covering 0..duration, none shorter than `min_shot`."""
    bounds = [0.0]
    for cut in sorted(cuts):
        if cut - bounds[-1] >= min_shot and duration - cut >= min_shot:
            bounds.append(cut)
    bounds.append(duration)
    return [
        Shot(index=i, start=start, end=end, keyframe_time=round((start + end) / 2, 3))
        for i, (start, end) in enumerate(zip(bounds, bounds[1:]))
    ]


def extract_keyframes(path: str | Path, shots: list[Shot], out_dir: str | Path) -> list[Path]:
    """Write `shot_NNNN.jpg` (640 px wide, NNNN = shot index) for each shot, in one ffmpeg run.

    Each image is the first frame at or after the shot's `keyframe_time`. Returns the
    paths in the order of `shots`. Images appear in `out_dir` only when all were written.
    """
    out = Path(out_dir)
    if not shots:
        return []
    scratch = out / f".keyframes-{uuid.uuid4().hex[:12]}"
    scratch.mkdir(parents=True)
    try:
        # One term per shot: true only for the first frame at or past its keyframe time.
        # prev_t is NaN on the first frame; not(gte(NaN, k)) is 1, so a time of 0 still matches.
        picks = "+".join(f"gte(t,{t:.3f})*not(gte(prev_t,{t:.3f}))" for t in (s.keyframe_time for s in shots))
        # Seek to just before the first keyframe (-copyts keeps the times select compares) and
        # stop after the last one (-frames:v): the decode covers only the span that matters.
        seek = max(0.0, min(s.keyframe_time for s in shots) - 1.0)
        run_media(
            ["-ss", f"{seek:.3f}", "-copyts", "-i", path, "-map", "0:V:0",
             "-vf", f"select='{picks}',scale={KEYFRAME_WIDTH}:-2", "-fps_mode", "passthrough",
             "-frames:v", str(len(shots)), "-q:v", "3", scratch / "%06d.jpg"],
            timeout=_decode_timeout(path),
            action="Extracting keyframes",
        )
        written = sorted(scratch.glob("*.jpg"))
        if len(written) != len(shots):
            raise MediaError(f"Expected {len(shots)} keyframes but the video gave {len(written)}.")
        targets = [out / f"shot_{shot.index:04d}.jpg" for shot in shots]
        for image, target in zip(written, targets):
            image.replace(target)
        return targets
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _decode_timeout(path: str | Path) -> float:
    # Decoding runs at tens of times real time; the size bound covers even slow, dense files.
    return 120.0 + Path(path).stat().st_size / 1_000_000
