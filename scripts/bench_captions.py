#!/usr/bin/env python3
"""Caption quality benchmark: the local recognizer over the shared test media, with and without
voice detection.

For every speech clip listed in ../shared/media/MANIFEST.md (references taken from its table),
the example video, clips made here from those and from eSpeak NG (speech from the very first to
the very last sample; fast turns that overlap), and any media given on the command line, print
for both decoders (the whole file sequentially, and only the voiced windows batched) the word
error rate, the word recall (share of reference words recognised, in any order), the real-time
factor and where the first and last word fall; then the QC violations of the captions made from
the VAD words under every style preset, and totals.

    .venv/bin/python scripts/bench_captions.py [--detect-language] [--threshold T] [--pad MS]
        [--min-silence MS] [--json out.json] [media ...]
"""
from __future__ import annotations

import argparse
import json
import re
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from avp.providers.asr.audio import load_audio
from avp.providers.asr.local import LocalSettings, LocalTranscriber, load_model
from avp.providers.asr.wer import edit_distance, normalize
from avp.providers.tts.base import pcm_to_wav

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
    recalled: int = 0
    first_word: float | None = None
    last_word_end: float | None = None
    banana: float | None = None      # where "Banana." starts (the example video's check)
    qc: dict[str, dict[str, object]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    @property
    def wer(self) -> float | None:
        return None if self.errors is None else self.errors / max(self.reference_words, 1)

    @property
    def recall(self) -> float | None:
        return None if self.errors is None else self.recalled / max(self.reference_words, 1)


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


SPEECH_RATE = 16_000


def _speech(path: Path) -> np.ndarray:
    """The clip at 16 kHz mono with silence before the first and after the last loud 10 ms cut off."""
    samples = load_audio(path)
    frames = samples[: len(samples) // 160 * 160].reshape(-1, 160).astype(np.float64)
    level = 10 * np.log10(np.mean(frames**2, axis=1) + 1e-12)
    loud = np.flatnonzero(level > level.max() - 35)
    return samples[loud[0] * 160:(loud[-1] + 1) * 160]


def _espeak(text: str, voice: str, work: Path) -> np.ndarray:
    from avp.providers.tts import get_tts

    synthesis = get_tts("espeak").synthesize(text, voice=voice, rate=1.3)
    path = work / f"espeak-{abs(hash((text, voice)))}.wav"
    path.write_bytes(synthesis.audio)
    return _speech(path)


def _turns(parts: list[np.ndarray], overlap: float) -> np.ndarray:
    """`parts` one after the other, each starting `overlap` s before the previous one ends."""
    step = int(overlap * SPEECH_RATE)
    total = sum(len(p) for p in parts) - step * (len(parts) - 1)
    mix = np.zeros(total, dtype=np.float64)
    at = 0
    for part in parts:
        mix[at:at + len(part)] += part
        at += len(part) - step
    return (mix / max(1.0, float(np.abs(mix).max()) / 0.9)).astype(np.float32)


def _write(path: Path, samples: np.ndarray) -> Path:
    pcm = (np.clip(samples, -1, 1) * 32767).astype("<i2").tobytes()
    path.write_bytes(pcm_to_wav(pcm, SPEECH_RATE))
    return path


def made_clips(media: Path, work: Path) -> list[Clip]:
    """Clips that test the edges: speech from the first to the last sample (three recordings back
    to back, trimmed), and fast turns between speakers, each starting 0.2 s before the last ends
    (eSpeak NG exclamations between two recordings, the first at 0.0 s)."""
    en = {p.name: p for p in (media / "speech/en").glob("*.wav")}
    refs = {c.path.name: c.reference or "" for c in manifest_clips(media)}
    edges = ["austen-0880.wav", "LDC93S1.wav", "austen-0890.wav"]
    gap = np.zeros(int(0.15 * SPEECH_RATE), dtype=np.float32)
    joined = np.concatenate([x for name in edges for x in (_speech(en[name]), gap)][:-1])
    clips = [Clip(_write(work / "made-edges.wav", joined), "en", " ".join(refs[n] for n in edges))]
    lines: list[tuple[str, str | Path]] = [("Look out!", "en-us"), ("Where?", "en-gb"), ("", en["austen-0880.wav"]),
                                           ("Right behind you!", "en-us"), ("", en["LDC93S1.wav"]), ("Run!", "en-gb")]
    parts = [_speech(voice) if isinstance(voice, Path) else _espeak(text, voice, work) for text, voice in lines]
    reference = " ".join(text or refs[voice.name] for text, voice in lines)  # type: ignore[union-attr]
    clips.append(Clip(_write(work / "made-fast-turns.wav", _turns(parts, 0.2)), "en", reference))
    return clips


def run_clip(transcriber: LocalTranscriber, clip: Clip, presets: list[str], *, detect_language: bool) -> Result:
    from avp.captions.presets import get_preset
    from avp.captions.qc import check_cues
    from avp.captions.segment import segment_words

    began = time.perf_counter()
    transcript = transcriber.transcribe(clip.path, language=None if detect_language else clip.language)
    seconds = time.perf_counter() - began
    errors = reference_words = None
    recalled = 0
    if clip.reference is not None:
        language = clip.language or transcript.language
        reference = normalize(clip.reference, language=language)
        hypothesis = normalize(transcript.text, language=language)
        errors = edit_distance(reference, hypothesis)
        reference_words = len(reference)
        recalled = sum((Counter(reference) & Counter(hypothesis)).values())
    words = transcript.words
    banana = next((w.start for w in reversed(words) if normalize(w.text) == ["banana"]), None)
    result = Result(clip, transcript.duration, seconds, transcript.language, transcript.text, errors,
                    reference_words or 0, recalled, words[0].start if words else None,
                    max(w.end for w in words) if words else None, banana, notes=transcript.notes)
    for name in presets:
        preset = get_preset(name)
        cues = segment_words(transcript.words, preset, media_duration=transcript.duration)
        report = check_cues(cues, preset)
        result.qc[name] = {"cues": report.cue_count, "violations": len(report.violations), "totals": report.totals}
    return result


def _pct(value: float | None) -> str:
    return "   n/a" if value is None else f"{value:6.1%}"


def _at(value: float | None) -> str:
    return "   -  " if value is None else f"{value:6.2f}"


def print_pair(plain: Result, vad: Result) -> None:
    """One line per clip: both decoders side by side."""
    print(f"{plain.clip.path.name:<22} {plain.duration:6.2f}s |"
          + " |".join(f" WER {_pct(r.wer)} recall {_pct(r.recall)} RTF {r.seconds / r.duration:5.3f}"
                      f" words {_at(r.first_word)}-{_at(r.last_word_end)}" for r in (plain, vad))
          + ("" if vad.banana is None and plain.banana is None else f" | Banana at {_at(plain.banana)} / {_at(vad.banana)}"))
    for name, r in (("whole", plain), ("vad", vad)):
        print(f"    {name:<5} {r.text!r}" + (f"  [{'; '.join(r.notes)}]" if r.notes else ""))


def totals(results: list[Result]) -> dict[str, float]:
    scored = [r for r in results if r.errors is not None]
    audio = sum(r.duration for r in results)
    busy = sum(r.seconds for r in results)
    words = max(sum(r.reference_words for r in scored), 1)
    return {"audio": audio, "seconds": busy, "rtf": busy / audio, "clips": len(scored),
            "wer": sum(r.errors or 0 for r in scored) / words, "recall": sum(r.recalled for r in scored) / words,
            "mean_wer": sum(r.wer or 0.0 for r in scored) / max(len(scored), 1),
            "past_end": sum(1 for r in results if (r.last_word_end or 0) > r.duration + 1e-6)}


def print_totals(plain: list[Result], vad: list[Result], presets: list[str]) -> None:
    print("\nTotals                 whole file, sequential | voiced windows, batched")
    a, b = totals(plain), totals(vad)
    print(f"  recognition s         {a['seconds']:8.1f}        | {b['seconds']:8.1f}   (audio {a['audio']:.1f} s)")
    print(f"  RTF                   {a['rtf']:8.3f}        | {b['rtf']:8.3f}   speed-up {a['rtf'] / b['rtf']:.2f}x")
    print(f"  corpus WER ({a['clips']} clips) {a['wer']:8.1%}        | {b['wer']:8.1%}")
    print(f"  mean WER per clip     {a['mean_wer']:8.1%}        | {b['mean_wer']:8.1%}")
    print(f"  word recall           {a['recall']:8.1%}        | {b['recall']:8.1%}")
    print(f"  words past the end    {a['past_end']:8d}        | {b['past_end']:8d}")
    print("Caption QC of the VAD words, per preset")
    for name in presets:
        codes: Counter[str] = Counter()
        for r in vad:
            codes.update(r.qc[name]["totals"])  # type: ignore[arg-type]
        cues = sum(int(r.qc[name]["cues"]) for r in vad)  # type: ignore[call-overload]
        detail = ", ".join(f"{code} {count}" for code, count in sorted(codes.items())) or "none"
        print(f"  {name:<17} cues {cues:3d}  violations {sum(codes.values()):3d}  ({detail})")


def _json(r: Result) -> dict[str, object]:
    return {"file": str(r.clip.path), "language": r.language, "duration": r.duration, "seconds": r.seconds, "wer": r.wer,
            "recall": r.recall, "first_word": r.first_word, "last_word_end": r.last_word_end, "banana": r.banana,
            "text": r.text, "notes": r.notes, "qc": r.qc}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("media", nargs="*", type=Path, help="more audio or video files (no reference)")
    parser.add_argument("--media-dir", type=Path, default=DEFAULT_MEDIA, help="the shared test media folder")
    parser.add_argument("--presets", nargs="+", help="style presets to check (default: all)")
    parser.add_argument("--detect-language", action="store_true", help="do not pass the known language")
    parser.add_argument("--threshold", type=float, help="Silero speech probability (default: LocalSettings')")
    parser.add_argument("--pad", type=int, help="speech padding in ms")
    parser.add_argument("--min-silence", type=int, help="shortest pause that splits speech, in ms")
    parser.add_argument("--join-gap", type=float, help="longest silence inside one decode window, in s")
    parser.add_argument("--pack-gap", type=float, help="silence between windows packed into one encoder pass, in s (0: none)")
    parser.add_argument("--vad-only", action="store_true", help="skip the whole-file decoder (parameter sweeps)")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args(argv)

    from avp.captions.presets import PRESETS

    presets = args.presets or list(PRESETS)
    work = Path(tempfile.mkdtemp(prefix="avp-bench-captions-"))
    clips: list[Clip] = []
    if args.media_dir.is_dir():
        clips += manifest_clips(args.media_dir)
        clips.append(Clip(args.media_dir / "video/example-720p.mp4", "en"))
        clips += made_clips(args.media_dir, work)
    else:
        print(f"shared media not found at {args.media_dir}: only the given files are measured", file=sys.stderr)
    clips += [Clip(path) for path in args.media]
    if not clips:
        parser.error("nothing to measure")

    tuned = {key: value for key, value in (("vad_threshold", args.threshold), ("vad_speech_pad_ms", args.pad),
                                            ("vad_min_silence_ms", args.min_silence), ("window_join_gap", args.join_gap),
                                            ("pack_gap", args.pack_gap))
             if value is not None}
    whole = LocalTranscriber(LocalSettings(vad_filter=False, **tuned))
    voiced = LocalTranscriber(LocalSettings(vad_filter=True, **tuned))
    print(f"VAD settings: {voiced.settings}")
    load_model(voiced.settings)   # model assembly and loading stay out of the real-time factors
    plain_results, vad_results = [], []
    for clip in clips:
        vad = run_clip(voiced, clip, presets, detect_language=args.detect_language)
        plain = vad if args.vad_only else run_clip(whole, clip, [], detect_language=args.detect_language)
        print_pair(plain, vad)
        plain_results.append(plain)
        vad_results.append(vad)
    print_totals(plain_results, vad_results, presets)
    if args.json:
        args.json.write_text(json.dumps({"settings": repr(voiced.settings), "whole": [_json(r) for r in plain_results],
                                         "vad": [_json(r) for r in vad_results],
                                         "totals": {"whole": totals(plain_results), "vad": totals(vad_results)}}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
