#!/usr/bin/env python3
"""Caption quality benchmark: the local recognizer over the shared test media.

For every speech clip listed in ../shared/media/MANIFEST.md (references taken from its table),
the example video, and any media given on the command line, print the word error rate, the
real-time factor, and the QC violations of the captions segmented from the words under every
style preset; totals at the end.

    .venv/bin/python scripts/bench_captions.py [--vad] [--detect-language] [--json out.json] [media ...]
"""
from __future__ import annotations

import argparse
import json
import re
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from avp.providers.asr.local import LocalSettings, LocalTranscriber, load_model
from avp.providers.asr.wer import edit_distance, normalize

REPO = Path(__file__).resolve().parents[1]
DEFAULT_MEDIA = REPO / "../shared/media"


@dataclass(frozen=True)
class Clip:
    path: Path
    language: str | None = None
    reference: str | None = None


@dataclass
class Result:
    clip: Clip
    duration: float
    seconds: float
    language: str
    text: str
    errors: int | None
    reference_words: int
    qc: dict[str, dict[str, object]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    @property
    def wer(self) -> float | None:
        return None if self.errors is None else self.errors / max(self.reference_words, 1)


def manifest_clips(media: Path) -> list[Clip]:
    """Speech clips and their references from the table in the "Speech" section of MANIFEST.md."""
    text = (media / "MANIFEST.md").read_text(encoding="utf-8")
    section = re.search(r"^## Speech.*?(?=^## )", text, flags=re.M | re.S)
    if section is None:
        raise SystemExit(f"no Speech section in {media / 'MANIFEST.md'}")
    rows = [line.strip().strip("|").split("|") for line in section.group().splitlines() if line.startswith("|")]
    header = [cell.strip().lower() for cell in rows[0]]
    column = {name: header.index(name) for name in ("file", "lang", "reference transcript")}
    clips = []
    for row in rows[2:]:   # after the header and its |---| rule
        cells = [cell.strip() for cell in row]
        path = media / "speech" / cells[column["file"]]
        clips.append(Clip(path, cells[column["lang"]], cells[column["reference transcript"]]))
    return clips


def run_clip(transcriber: LocalTranscriber, clip: Clip, presets: list[str], *, detect_language: bool) -> Result:
    from avp.captions.presets import get_preset
    from avp.captions.qc import check_cues
    from avp.captions.segment import segment_words

    began = time.perf_counter()
    transcript = transcriber.transcribe(clip.path, language=None if detect_language else clip.language)
    seconds = time.perf_counter() - began
    errors = reference_words = None
    if clip.reference is not None:
        language = clip.language or transcript.language
        reference = normalize(clip.reference, language=language)
        errors = edit_distance(reference, normalize(transcript.text, language=language))
        reference_words = len(reference)
    result = Result(clip, transcript.duration, seconds, transcript.language, transcript.text, errors,
                    reference_words or 0, notes=transcript.notes)
    for name in presets:
        preset = get_preset(name)
        cues = segment_words(transcript.words, preset, media_duration=transcript.duration)
        report = check_cues(cues, preset)
        result.qc[name] = {"cues": report.cue_count, "violations": len(report.violations), "totals": report.totals}
    return result


def print_result(result: Result, presets: list[str]) -> None:
    wer = "  n/a " if result.wer is None else f"{result.wer:6.1%}"
    qc = "  ".join(f"{name}:{result.qc[name]['cues']}c/{result.qc[name]['violations']}v" for name in presets)
    print(f"{result.clip.path.name:<22} {result.language:>3} {result.duration:6.2f}s  WER {wer}  "
          f"RTF {result.seconds / result.duration:5.3f}  {qc}")
    print(f"    {result.text!r}" + (f"  [{'; '.join(result.notes)}]" if result.notes else ""))


def print_totals(results: list[Result], presets: list[str]) -> None:
    scored = [r for r in results if r.errors is not None]
    audio = sum(r.duration for r in results)
    busy = sum(r.seconds for r in results)
    print("\nTotals")
    print(f"  clips {len(results)}, audio {audio:.1f} s, recognition {busy:.1f} s, RTF {busy / audio:.3f}")
    if scored:
        corpus = sum(r.errors or 0 for r in scored) / max(sum(r.reference_words for r in scored), 1)
        mean = sum(r.wer or 0.0 for r in scored) / len(scored)
        print(f"  WER over {len(scored)} referenced clips: corpus {corpus:.1%}, mean per clip {mean:.1%}")
    for name in presets:
        codes: Counter[str] = Counter()
        for r in results:
            codes.update(r.qc[name]["totals"])  # type: ignore[arg-type]
        cues = sum(int(r.qc[name]["cues"]) for r in results)  # type: ignore[call-overload]
        detail = ", ".join(f"{code} {count}" for code, count in sorted(codes.items())) or "none"
        print(f"  {name:<17} cues {cues:3d}  violations {sum(codes.values()):3d}  ({detail})")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("media", nargs="*", type=Path, help="more audio or video files (no reference)")
    parser.add_argument("--media-dir", type=Path, default=DEFAULT_MEDIA, help="the shared test media folder")
    parser.add_argument("--presets", nargs="+", help="style presets to check (default: all)")
    parser.add_argument("--vad", action="store_true", help="decode only what the VAD marks as speech")
    parser.add_argument("--detect-language", action="store_true", help="do not pass the known language")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args(argv)

    from avp.captions.presets import PRESETS

    presets = args.presets or list(PRESETS)
    clips: list[Clip] = []
    if args.media_dir.is_dir():
        clips += manifest_clips(args.media_dir)
        clips.append(Clip(args.media_dir / "video/example-720p.mp4", "en"))
    else:
        print(f"shared media not found at {args.media_dir}: only the given files are measured", file=sys.stderr)
    clips += [Clip(path) for path in args.media]
    if not clips:
        parser.error("nothing to measure")

    settings = LocalSettings(vad_filter=args.vad)
    load_model(settings)   # model assembly and loading stay out of the real-time factors
    transcriber = LocalTranscriber(settings)
    results = []
    for clip in clips:
        result = run_clip(transcriber, clip, presets, detect_language=args.detect_language)
        print_result(result, presets)
        results.append(result)
    print_totals(results, presets)
    if args.json:
        args.json.write_text(json.dumps([{
            "file": str(r.clip.path), "language": r.language, "duration": r.duration, "seconds": r.seconds,
            "wer": r.wer, "text": r.text, "notes": r.notes, "qc": r.qc} for r in results], indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
