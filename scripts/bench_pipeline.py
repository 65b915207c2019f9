"""Pipeline speed: runs the demo (the whole local stack and pipeline) on a video and reports each
step's time as a real-time factor (seconds per second of video) and as a ratio to a baseline
measured in the same process: one plain ffmpeg decode of the same file.

    .venv/bin/python scripts/bench_pipeline.py [VIDEO] [--out DIR]
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from avp.demo import SAMPLE, main as demo_main
from avp.media.ffmpeg import run


def baseline_decode(video: Path) -> float:
    started = time.perf_counter()
    run(["-i", video, "-f", "null", "-"])
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("video", nargs="?", default=str(SAMPLE))
    parser.add_argument("--out", default="bench-out")
    parser.add_argument("--data-dir", default=".avp-bench")
    args = parser.parse_args()
    video = Path(args.video)
    decode = baseline_decode(video)
    code = demo_main(argparse.Namespace(video=str(video), language="en", out=args.out, data_dir=args.data_dir, port=0))
    summary = json.loads((Path(args.out) / "summary.json").read_text())
    duration = summary["source_duration"]
    print(f"\nvideo {video.name}: {duration:.1f} s; baseline decode {decode:.2f} s")
    print(f"{'step':<12}{'seconds':>9}{'x realtime':>12}{'x decode':>10}")
    steps = summary.get("step_seconds") or {}
    for step, seconds in steps.items():
        print(f"{step:<12}{seconds:>9.2f}{seconds / duration:>12.3f}{seconds / decode:>10.1f}")
    total = sum(steps.values())
    print(f"{'all steps':<12}{total:>9.2f}{total / duration:>12.3f}{total / decode:>10.1f}")
    print(f"{'end to end':<12}{summary['total_seconds']:>9.2f}{summary['total_seconds'] / duration:>12.3f}")
    return code


if __name__ == "__main__":
    raise SystemExit(main())
