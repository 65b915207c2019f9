"""Pipeline speed on a long video: the whole local stack and pipeline (the demo) per step, as a
real-time factor (seconds per second of video) and as a multiple of one plain ffmpeg decode of the
same file measured in the same run (before and after the pipeline; their mean is the yardstick,
since the machine's load changes while it runs).

The video is made here: the given file (default: ../shared/media/video/example-720p.mp4 when
present, else the bundled sample) concatenated with stream copy until it lasts about --minutes.
Besides each step's own time it reports the executor's share: the step processes' wall time
around the step (start-up, imports) and the idle time between one step's end and the next
one's start. `--render` also times the accessible MP4 with 5 pause points, smart-rendered and
fully re-encoded, against the same decode.

    .venv/bin/python scripts/bench_pipeline.py [VIDEO] [--minutes 10] [--json bench.json] [--render]
"""
from __future__ import annotations

import argparse
import json
import logging
import math
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from avp.demo import SAMPLE, main as demo_main
from avp.media.ffmpeg import run
from avp.media.probe import probe

REPO = Path(__file__).resolve().parents[1]
SHARED_VIDEO = REPO / "../shared/media/video/example-720p.mp4"


def long_video(source: Path, minutes: float, out_dir: Path) -> Path:
    """`source` repeated (stream copy, concat demuxer) to about `minutes` long; made once, reused."""
    repeats = max(1, round(minutes * 60 / probe(source).duration))
    target = out_dir / f"{source.stem}-x{repeats}.mp4"
    if not target.exists():
        listing = out_dir / f"{source.stem}-x{repeats}.txt"
        listing.write_text(f"file '{source.resolve()}'\n" * repeats, encoding="utf-8")
        run(["-f", "concat", "-safe", "0", "-i", listing, "-map", "0", "-c", "copy", "-movflags", "+faststart",
             "-y", target.with_suffix(".part.mp4")], timeout=600)
        target.with_suffix(".part.mp4").replace(target)
    return target


def plain_decode(video: Path) -> float:
    """Seconds to decode every stream of `video` once (the floor of any step that reads it all)."""
    started = time.perf_counter()
    run(["-i", video, "-f", "null", "-"], timeout=3600)
    return time.perf_counter() - started


class StepSpans(logging.Handler):
    """Start and end (monotonic) of each step process, from the executor's own log lines."""

    _LINE = re.compile(r"\] (?P<what>starting|finished) (?P<step>[\w:-]+)(?: --job-id \S+)?(?: --language (?P<lang>\S+))?"
                       r" \(attempt \d+\)$")

    def __init__(self) -> None:
        super().__init__()
        self.spans: dict[str, list[float]] = {}

    def emit(self, record: logging.LogRecord) -> None:
        match = self._LINE.search(record.getMessage())
        if match:
            step = match["step"] + (f"_{match['lang']}" if match["lang"] else "")
            # Handler.handle already holds the handler's lock here.
            self.spans.setdefault(step, [0.0, 0.0])[0 if match["what"] == "starting" else 1] = record.created


def executor_gaps(spans: dict[str, list[float]]) -> list[dict[str, Any]]:
    """For each step, the idle time between the latest end before its start and its start."""
    gaps = []
    ordered = sorted(spans.items(), key=lambda item: item[1][0])
    for i, (step, (start, _)) in enumerate(ordered[1:], start=1):
        before = [end for _, (s, end) in ordered[:i] if end <= start + 1e-6]
        if before:
            gaps.append({"before": step, "idle_seconds": round(start - max(before), 3)})
    return gaps


def run_pipeline(video: Path, out: Path, data_dir: Path) -> tuple[dict[str, Any], dict[str, list[float]], float]:
    spans = StepSpans()
    logger = logging.getLogger("avp.local.workflows")
    logger.addHandler(spans)
    previous = logger.level
    logger.setLevel(logging.INFO)
    try:
        code = demo_main(argparse.Namespace(video=str(video), language="en", out=str(out), data_dir=str(data_dir), port=0,
                                             json=False, verbose=False))
    finally:
        logger.removeHandler(spans)
        logger.setLevel(previous)
    if code != 0:
        raise SystemExit(f"the pipeline did not finish (demo exit {code}); see the output above")
    summary = json.loads((out / "summary.json").read_text())
    return summary, spans.spans, summary["total_seconds"]


def render_comparison(video: Path, pauses: int = 5) -> dict[str, float]:
    """The accessible MP4 of `video` with `pauses` extended descriptions (voiced by eSpeak NG),
    smart-rendered and fully re-encoded, timed in this process."""
    from avp.captions.model import Cue
    from avp.describe.fit import EXTENDED, PausePoint, Placed
    from avp.media.render import accessible_mp4
    from avp.providers.tts import get_tts
    from avp.providers.tts.base import voice_for_language

    duration = probe(video).duration
    tts = get_tts("espeak")
    voice = voice_for_language(list(tts.voices()), "en").id
    placed, points = [], []
    for i in range(pauses):
        at = round(duration * (i + 1) / (pauses + 1), 2)
        audio = tts.synthesize(f"Description number {i + 1}: the timecode keeps running on a green frame.",
                               voice=voice)
        placed.append(Placed(cue=Cue(at, at + audio.duration, f"Description {i + 1}", data={"mode": EXTENDED}), audio=audio))
        points.append(PausePoint(at=at, duration=audio.duration, cue_index=i))
    times: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="avp-bench-render-") as tmp:
        for name, smart in (("smart", True), ("full", False)):
            began = time.perf_counter()
            accessible_mp4(video, placed, points, [], Path(tmp) / f"{name}.mp4", smart=smart, language="en")
            times[name] = time.perf_counter() - began
    return times


def table(rows: list[tuple[str, float]], duration: float, decode: float) -> list[dict[str, Any]]:
    return [{"step": name, "seconds": round(s, 2), "x_realtime": round(s / duration, 3), "x_decode": round(s / decode, 2)}
            for name, s in rows]


def print_table(title: str, rows: list[dict[str, Any]], decode: float) -> None:
    print(f"\n{title}\n| step | seconds | × real time | × one plain decode ({decode:.1f} s) |\n|---|---|---|---|")
    for r in rows:
        print(f"| {r['step']} | {r['seconds']:.1f} | {r['x_realtime']:.3f} | {r['x_decode']:.2f} |")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("video", nargs="?", type=Path, help="the clip to repeat (default: the shared example video)")
    parser.add_argument("--minutes", type=float, default=10.0, help="length of the benchmark video (0: the clip as is)")
    parser.add_argument("--out", type=Path, default=Path("bench-out"))
    parser.add_argument("--data-dir", type=Path, default=Path(".avp-bench"))
    parser.add_argument("--json", type=Path, help="write the tables here (default: OUT/bench.json)")
    parser.add_argument("--render", action="store_true", help="also compare smart and full rendering with 5 pauses")
    parser.add_argument("--no-pipeline", action="store_true", help="skip the pipeline run (with --render)")
    args = parser.parse_args(argv)

    clip = args.video or (SHARED_VIDEO if SHARED_VIDEO.exists() else SAMPLE)
    if not clip.exists():
        parser.error(f"no such video: {clip}")
    args.out.mkdir(parents=True, exist_ok=True)
    video = long_video(clip, args.minutes, args.out) if args.minutes > 0 else clip
    duration = probe(video).duration
    decodes = [plain_decode(video)]
    result: dict[str, Any] = {"video": str(video), "source_clip": str(clip), "duration": duration}
    if not args.no_pipeline:
        summary, spans, total = run_pipeline(video, args.out, args.data_dir)
        decodes.append(plain_decode(video))
        decode = statistics.mean(decodes)
        steps = summary.get("step_seconds") or {}
        first = min((s for s, _ in spans.values()), default=0.0)
        rows = [(step, seconds) for step, seconds in sorted(steps.items(), key=lambda kv: -kv[1])]
        rows += [("all steps (sum)", sum(steps.values()))]
        if spans:
            rows += [("pipeline (first step start to last step end)", max(e for _, e in spans.values()) - first)]
        rows += [("end to end (stack up, upload, pipeline, downloads)", total)]
        result.update(pipeline=table(rows, duration, decode), total_seconds=total,
                      step_processes={k: round(e - s, 3) for k, (s, e) in spans.items()},
                      executor_gaps=executor_gaps(spans), status=summary.get("status"))
        print(f"\nvideo {video.name}: {duration:.1f} s; plain decode {' / '.join(f'{d:.2f}' for d in decodes)} s "
              f"(before / after the pipeline), mean {decode:.2f} s")
        print_table("Pipeline", result["pipeline"], decode)
        print("\nstep process wall time (incl. start-up) vs the step's own time:")
        for step, wall in result["step_processes"].items():
            print(f"  {step:<14} {wall:7.2f} s   own {steps.get(step, math.nan):7.2f} s")
        print("idle between steps:", ", ".join(f"{g['before']} {g['idle_seconds']:.3f} s" for g in result["executor_gaps"]))
    if args.render:
        times = render_comparison(video)
        decodes.append(plain_decode(video))
        decode = statistics.mean(decodes)
        result["render"] = {**{k: round(v, 2) for k, v in times.items()}, "smart_over_full": round(times["smart"] / times["full"], 3),
                            "table": table([("render smart (5 pauses)", times["smart"]),
                                            ("render full re-encode (5 pauses)", times["full"])], duration, decode)}
        print_table("Accessible MP4, 5 pauses", result["render"]["table"], decode)
        print(f"smart / full: {result['render']['smart_over_full']:.3f}")
    result["decode_seconds"] = [round(d, 3) for d in decodes]
    target = args.json or args.out / "bench.json"
    target.write_text(json.dumps(result, indent=2))
    print(f"\nwritten {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
