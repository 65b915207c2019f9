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
KEYFRAMES_PER_RUN = 32   # inputs per ffmpeg run: each holds a demuxer and a decoder open
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
    # Every frame is decoded (cuts stay frame-exact) but without the deblocking filter, a good
    # part of H.264 decoding that changes nothing a 160 px scene score can see.
    result = run_media(
        ["-skip_loop_filter", "all", "-i", path, "-map", "0:V:0", "-vf",
         f"scale={DETECT_WIDTH}:-2:flags=fast_bilinear,select='gt(scene,{threshold})',showinfo", "-f", "null", "-"],
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
    """Write `shot_NNNN.jpg` (640 px wide, NNNN = shot index) for each shot, seeking to each.

    Each image is the first frame at or after the shot's `keyframe_time`, read by seeking (the
    film is not decoded through). Returns the paths in the order of `shots`. Images appear in `out_dir` only when all were written.
    """
    out = Path(out_dir)
    if not shots:
        return []
    scratch = out / f".keyframes-{uuid.uuid4().hex[:12]}"
    scratch.mkdir(parents=True)
    try:
        # One input per shot, each seeking to its keyframe time: ffmpeg jumps to the key frame
        # before it and decodes only from there, so the cost is a few frames per shot instead of
        # a decode of the whole film. Seeking by input is frame-exact: the first frame out is the
        # first at or after the time.
        for batch in range(0, len(shots), KEYFRAMES_PER_RUN):
            chunk = shots[batch:batch + KEYFRAMES_PER_RUN]
            args: list[str | Path] = []
            for shot in chunk:
                args += ["-ss", f"{shot.keyframe_time:.3f}", "-i", path]
            for i, shot in enumerate(chunk):
                args += ["-map", f"{i}:V:0", "-frames:v", "1", "-vf", f"scale={KEYFRAME_WIDTH}:-2", "-q:v", "3",
                         "-update", "1", scratch / f"{shot.index:06d}.jpg"]
            run_media(args, timeout=_decode_timeout(path), action="Extracting keyframes")
        written = sorted(scratch.glob("*.jpg"))
        if len(written) != len(shots):
            raise MediaError(f"Expected {len(shots)} keyframes but the video gave {len(written)}.")
        targets = [out / f"shot_{shot.index:04d}.jpg" for shot in shots]
        for shot, target in zip(shots, targets):
            (scratch / f"{shot.index:06d}.jpg").replace(target)
        return targets
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _decode_timeout(path: str | Path) -> float:
    # Decoding runs at tens of times real time; the size bound covers even slow, dense files.
    return 120.0 + Path(path).stat().st_size / 1_000_000
