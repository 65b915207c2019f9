"""The offline recognizer: faster-whisper with the Whisper base model from the PyPI data packages.

Whisper invents text on silence and noise ("Thank you.", "You") and misplaces words after long
pauses, so its output passes two checks against the audio before it is returned: segments
without speech evidence are dropped, and word starts are re-anchored on sound onsets.
"""
from __future__ import annotations

import os
import threading
from bisect import bisect_right
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from avp.captions.model import Word
from avp.providers.asr.audio import SAMPLE_RATE, load_audio
from avp.providers.asr.base import NO_SPEECH, Transcript
from avp.providers.asr.model_store import default_cache_dir, ensure_model_dir, packaged_model_source
from avp.providers.asr.timing import Span, overlaps, reanchor_words, sound_spans

if TYPE_CHECKING:
    from faster_whisper import WhisperModel
    from faster_whisper.transcribe import Segment, TranscriptionInfo

PROVIDER = "local"


@dataclass(frozen=True)
class LocalSettings:
    """Knobs of the local recognizer; the defaults are the ones measured on the test media
    (`scripts/bench_captions.py` prints the figures behind them).

    `vad_filter` decodes only the stretches the Silero VAD marks as speech, packed into windows
    of at most 30 s and decoded in batches (faster-whisper's `BatchedInferencePipeline`), each
    window at its own place on the timeline. Not faster-whisper's own `vad_filter`: that one
    concatenates the voiced chunks and maps times back, and a word at a chunk join lands in the
    earlier chunk (measured: the example video's "Banana." at 40 s came back at 17.0 s). Without
    it the whole file is decoded sequentially, window after window (the slow reference).

    Windows that together fit one encoder pass share it, `pack_gap` s of silence between them
    (the encoder costs as much for 2 s of audio as for 30 s). Unlike faster-whisper's stitching
    each word goes back to the window holding its middle and stays inside it. On the 10-minute
    benchmark: 25 encoder passes instead of 43, 1.6× faster, the same words; a 1.0 or 1.5 s gap
    lost or invented words at the joins (WER 0.65 % → 1.6 % / 1.1 %), 2.0 s none.

    The VAD parameters keep speech rather than save time: a low threshold and wide padding keep
    short exclamations at 0.0 s and the last word before the end (issue 17: the library's
    defaults lost the first 1.5 s of fast dialogue).
    """

    model_dir: Path | None = None          # an assembled model folder; default: the packaged model, cached
    cache_dir: Path | None = None          # default: $AVP_MODEL_CACHE or ~/.cache/avp/models
    cpu_threads: int = 0                   # 0: every core this process may use
    compute_type: str = "int8"
    beam_size: int = 5
    vad_filter: bool = False
    batch_size: int = 8                    # windows decoded together (with vad_filter)
    vad_threshold: float = 0.35            # Silero speech probability; its default 0.5 drops quick exclamations
    vad_speech_pad_ms: int = 400           # sound kept either side of each voiced stretch
    vad_min_silence_ms: int = 1000         # shorter pauses stay inside a voiced stretch
    window_join_gap: float = 3.0           # voiced stretches this close share a window (fewer, fuller windows)
    pack_gap: float = 2.0                  # silence between windows packed into one encoder pass (0: no packing)
    speech_gate: bool = True               # drop segments where the Silero VAD hears no speech
    retime_words: bool = True              # re-anchor word starts on the audio's sound onsets
    no_speech_threshold: float = 0.6
    # Stricter than Whisper's own -1.0: its "You" on pure silence scores about -0.8.
    gate_logprob_threshold: float = -0.7
    max_compression_ratio: float = 2.4


WINDOW_SECONDS = 30.0   # Whisper's input window: a longer clip would be cut
MAX_PASSES = 3          # first decode of the windows, then at most two for what they left out
MIN_UNHEARD = 1.0       # seconds of voiced audio after a window's last word worth a second look


_models: dict[tuple[str, str, int], WhisperModel] = {}
_models_lock = threading.Lock()


def _cpu_count() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def load_model(settings: LocalSettings) -> WhisperModel:
    """The process-wide model for `settings`, assembled and loaded on first use only."""
    from faster_whisper import WhisperModel

    model_dir = settings.model_dir or ensure_model_dir(packaged_model_source(), settings.cache_dir or default_cache_dir())
    threads = settings.cpu_threads or _cpu_count()
    key = (str(model_dir), settings.compute_type, threads)
    with _models_lock:
        if key not in _models:
            _models[key] = WhisperModel(str(model_dir), device="cpu", compute_type=settings.compute_type,
                                        cpu_threads=threads)
        return _models[key]


def speech_spans(samples: np.ndarray, *, min_silence_ms: int = 2000, threshold: float = 0.5,
                 speech_pad_ms: int = 400) -> list[Span]:
    """Where the Silero voice-activity model (shipped with faster-whisper) hears speech;
    pauses shorter than `min_silence_ms` stay inside a span. No span is longer than a Whisper
    window: a longer stretch is split at its quietest moment."""
    from faster_whisper.vad import VadOptions, get_speech_timestamps

    # Padding widens a span on both sides after the split, so the limit leaves room for it.
    longest = WINDOW_SECONDS - 2 * speech_pad_ms / 1000 - 0.5
    options = VadOptions(threshold=threshold, min_silence_duration_ms=min_silence_ms, speech_pad_ms=speech_pad_ms,
                         max_speech_duration_s=longest)
    return [Span(t["start"] / SAMPLE_RATE, t["end"] / SAMPLE_RATE) for t in get_speech_timestamps(samples, options)]


def decode_windows(speech: list[Span], *, join_gap: float, window: float = WINDOW_SECONDS) -> list[Span]:
    """Voiced spans packed, in order, into windows of at most `window` seconds: a span joins the
    window before it when the silence between them is under `join_gap` and the whole still fits.
    Each window is decoded alone at its own offset, so silence between windows costs nothing and
    no word can slide across it."""
    windows: list[Span] = []
    for span in speech:
        if windows and span.start - windows[-1].end < join_gap and span.end - windows[-1].start <= window:
            windows[-1] = Span(windows[-1].start, span.end)
        else:
            windows.append(span)
    return windows


def pack_windows(windows: list[Span], *, gap: float, window: float = WINDOW_SECONDS,
                 alone: frozenset[Span] = frozenset()) -> list[list[Span]]:
    """Windows grouped, in order, so that each group laid end to end with `gap` s of silence
    between them fits one Whisper window; those in `alone` keep a window to themselves. The
    encoder costs the same for 2 s of audio as for 30 s (it pads), so short windows decoded one
    by one waste most of their passes: the second look at what a window left out is typically a
    lone word and a sentence's tail. `gap` 0 or less: every window alone."""
    packs: list[list[Span]] = []
    used = window
    for span in windows:
        length = span.end - span.start
        if gap > 0 and packs and span not in alone and packs[-1][0] not in alone and used + gap + length <= window:
            packs[-1].append(span)
            used += gap + length
        else:
            packs.append([span])
            used = length
    return packs


@dataclass(frozen=True)
class PackedWindows:
    """Where each packed window sits in the audio that is actually decoded: pack k starts at
    k × WINDOW_SECONDS, its windows follow one another with the pack's silence between them."""

    audio: np.ndarray
    clips: list[Span]                 # one per pack, in the packed audio's time
    windows: list[Span]               # every window, original time, pack by pack
    offsets: list[float]              # where each window starts in the packed audio

    @classmethod
    def build(cls, samples: np.ndarray, packs: list[list[Span]], gap: float) -> PackedWindows:
        step = int(WINDOW_SECONDS * SAMPLE_RATE)
        audio = np.zeros(step * len(packs), dtype=samples.dtype)
        clips, windows, offsets = [], [], []
        for k, pack in enumerate(packs):
            at = k * step
            for span in pack:
                piece = samples[int(span.start * SAMPLE_RATE):int(span.end * SAMPLE_RATE)][:k * step + step - at]
                audio[at:at + len(piece)] = piece
                windows.append(span)
                offsets.append(at / SAMPLE_RATE)
                at += len(piece) + int(gap * SAMPLE_RATE)
            clips.append(Span(k * WINDOW_SECONDS, min(at - int(gap * SAMPLE_RATE), k * step + step) / SAMPLE_RATE))
        return cls(audio, clips, windows, offsets)

    def locate(self, t: float) -> int:
        """The window a packed-audio time belongs to: the last one starting before it, less
        half the silence before it (a word's edges may reach into the silence)."""
        i = max(bisect_right(self.offsets, t) - 1, 0)
        if i + 1 < len(self.offsets) and self.offsets[i + 1] - t < (self.offsets[i + 1] - self._end(i)) / 2:
            i += 1
        return i

    def _end(self, i: int) -> float:
        return self.offsets[i] + self.windows[i].end - self.windows[i].start

    def shift(self, i: int) -> float:
        """Packed-audio time to original time, inside window `i`."""
        return self.windows[i].start - self.offsets[i]

    def place(self, word: Word) -> tuple[int, Word]:
        """The window `word` (packed-audio time) belongs to, by its middle, and the word at its
        original time, kept inside that window."""
        i = self.locate((word.start + word.end) / 2)
        span, shift = self.windows[i], self.shift(i)
        start = min(max(word.start + shift, span.start), span.end)
        end = min(max(word.end + shift, start), span.end)
        return i, Word(word.text, round(start, 3), round(end, 3), word.confidence)


class LocalTranscriber:
    """`Transcriber` running Whisper base on this machine's CPU."""

    def __init__(self, settings: LocalSettings | None = None):
        self.settings = settings or LocalSettings()

    def transcribe(self, audio_path: Path, *, language: str | None = None) -> Transcript:
        """Recognise `audio_path` (16 kHz mono WAV, or anything ffmpeg decodes)."""
        s = self.settings
        samples = load_audio(audio_path)
        duration = len(samples) / SAMPLE_RATE
        sound = sound_spans(samples, SAMPLE_RATE)
        gated = s.speech_gate or s.vad_filter
        speech = speech_spans(samples, min_silence_ms=s.vad_min_silence_ms, threshold=s.vad_threshold,
                              speech_pad_ms=s.vad_speech_pad_ms) if gated else [Span(0.0, duration)]
        if not sound or not speech:
            # Nothing to recognise: skipping the decoder also skips its hallucinations.
            return Transcript(language or "", 0.0, [], duration, PROVIDER, [NO_SPEECH])

        model = load_model(s)
        common = dict(beam_size=s.beam_size, word_timestamps=True,
                      no_speech_threshold=s.no_speech_threshold, compression_ratio_threshold=s.max_compression_ratio)
        notes: list[str] = []
        dropped = 0
        if s.vad_filter:
            groups, info, dropped = self._batched(model, samples, speech, sound, language, common)
            words = close_utterances([g for _, g in groups], [w for w, _ in groups], s.window_join_gap)
        else:
            segments, info = model.transcribe(samples, language=language, clip_timestamps="0", **common)
            words = []
            for segment in segments:
                if self._plausible(segment, sound, speech):
                    words.extend(_words(segment))
                else:
                    dropped += 1
        if dropped:
            notes.append(f"dropped {dropped} segment(s) without speech evidence (likely hallucinated)")
        if s.retime_words and words:
            words, moved = reanchor_words(words, sound)
            if moved:
                notes.append(f"re-anchored {moved} word(s) on the audio's sound onsets")
        words = within(words, duration)
        if not words:
            notes.append(NO_SPEECH)
        return Transcript(info.language, float(info.language_probability), words, duration, PROVIDER, notes)

    def _batched(self, model: WhisperModel, samples: np.ndarray, speech: list[Span], sound: list[Span],
                 language: str | None, common: dict) -> tuple[list[tuple[Span, list[Word]]], TranscriptionInfo, int]:
        """Words of each decode window, windows in time order. A batched window is decoded in one
        pass, without the sequential decoder's second look at what it skipped; what `unheard`
        finds is decoded again, up to `MAX_PASSES` passes. Short windows share an encoder pass
        (`pack_windows`, silence between them): on the 10-minute benchmark 25 passes instead of 43
        for the same words."""
        from faster_whisper import BatchedInferencePipeline

        pipeline = BatchedInferencePipeline(model)
        gap = self.settings.pack_gap
        pending = decode_windows(speech, join_gap=self.settings.window_join_gap)
        groups: list[tuple[Span, list[Word]]] = []
        dropped = 0
        info = None
        alone: frozenset[Span] = frozenset()
        for _ in range(MAX_PASSES):
            packs = pack_windows(pending, gap=gap, alone=alone)
            packed = PackedWindows.build(samples, packs, gap)
            segments, pass_info = pipeline.transcribe(
                packed.audio, language=language, batch_size=self.settings.batch_size, without_timestamps=False,
                clip_timestamps=[{"start": c.start, "end": c.end} for c in packed.clips], **common)
            info = info or pass_info
            language = language or pass_info.language   # later passes keep the language found first
            found: list[list[Word]] = [[] for _ in packed.windows]
            for segment in segments:
                placed = [packed.place(w) for w in _words(segment)]
                if placed:
                    start, end = min(w.start for _, w in placed), max(w.end for _, w in placed)
                else:
                    shift = packed.shift(packed.locate((segment.start + segment.end) / 2))
                    start, end = segment.start + shift, segment.end + shift
                if self._plausible(segment, sound, speech, start, end):
                    for i, word in placed:
                        found[i].append(word)
                else:
                    dropped += 1
            groups += zip(packed.windows, found)
            pad = self.settings.vad_speech_pad_ms / 1000
            pending = [rest for window, words in zip(packed.windows, found)
                       for rest in unheard(window, words, speech, sound, pad)]
            # Whisper passes over a lone word among other speech; a window that shared its pack
            # and gave nothing gets a window of its own next time.
            shared = {w for pack in packs if len(pack) > 1 for w in pack}
            retry = [w for w, words in zip(packed.windows, found) if not words and w in shared]
            alone = frozenset(retry)
            pending = sorted(pending + retry, key=lambda w: w.start)
            if not pending:
                break
        # A second look inside a window sorts before the window when it starts with it (a lone
        # word at its start), after it otherwise: its words follow in time either way.
        groups.sort(key=lambda g: (g[0].start, g[0].end))
        return groups, info, dropped

    def _plausible(self, segment: Segment, sound: list[Span], speech: list[Span],
                   start: float | None = None, end: float | None = None) -> bool:
        """Whether `segment` (spanning `start`..`end` of the original audio, by default its own
        times) is speech rather than Whisper's invention on silence or noise."""
        s = self.settings
        start = segment.start if start is None else start
        end = segment.end if end is None else end
        if segment.compression_ratio > s.max_compression_ratio:
            return False
        if segment.no_speech_prob > s.no_speech_threshold and segment.avg_logprob < s.gate_logprob_threshold:
            return False
        return overlaps(start, end, sound) and overlaps(start, end, speech)


def unheard(window: Span, words: list[Word], speech: list[Span], sound: list[Span], pad: float) -> list[Span]:
    """Voiced parts of `window` that no recognised word covers, to decode again on their own: a
    voiced stretch without a word (Whisper skips a lone word before a pause: the example video's
    "Banana." when the next narration shares its window), and the rest of a stretch after its
    last word when the VAD hears more there than its own padding plus MIN_UNHEARD s (Whisper
    stops early). A rest starts where the last word's sound ends (Whisper often ends a word
    early), at most 0.3 s later. Nothing when the window gave no word at all: decoding the same
    audio again would give the same nothing."""
    if not words:
        return []
    todo: list[Span] = []
    for span in speech:
        span = Span(max(span.start, window.start), min(span.end, window.end))
        if span.end - span.start <= 2 * pad:
            continue
        inside = [w for w in words if w.start < span.end and span.start < w.end]
        if not inside:
            todo.append(span)
            continue
        last = max(w.end for w in inside)
        ringing = next((s.end for s in sound if s.start <= last < s.end), last)
        rest = Span(min(ringing, last + 0.3), span.end)
        if rest.end - rest.start >= pad + MIN_UNHEARD:
            todo.append(rest)
    return todo


_FINAL = (".", "!", "?", "…", "。", "！", "？")


def close_utterances(groups: list[list[Word]], windows: list[Span], pause: float) -> list[Word]:
    """The words of windows decoded one by one, punctuated as one text: a window decoded alone
    has no text before it, so Whisper writes an isolated word bare ("banana" where the whole-file
    decode writes "Banana."). A window followed by a pause of `pause` s or more (or by no more
    words) ends its sentence, and the word after a sentence end starts with a capital. Only scripts with
    letter case are touched."""
    words: list[Word] = []
    for i, group in enumerate(groups):
        group = list(group)
        if not group:
            continue
        first = group[0]
        if (not words or words[-1].text.endswith(_FINAL)) and first.text[:1].islower():
            group[0] = first = replace(first, text=first.text[:1].upper() + first.text[1:])
        last = group[-1]
        following = next((w for w, g in zip(windows[i + 1:], groups[i + 1:]) if g), None)
        ends = following is None or following.start - windows[i].end >= pause
        if ends and last.text[-1:].isalpha() and last.text.lower() != last.text.upper():
            group[-1] = replace(last, text=last.text + ".")
        words.extend(group)
    return words


def within(words: list[Word], duration: float) -> list[Word]:
    """Words clamped to [0, duration]: Whisper's timestamps are multiples of 20 ms of a padded
    30 s window and its last word can end after the audio does (8.43 s on a 6.17 s clip)."""
    return [w if w.end <= duration and w.start >= 0 else
            Word(w.text, round(min(max(w.start, 0.0), duration), 3), round(min(max(w.end, 0.0), duration), 3), w.confidence)
            for w in words]


_JOINERS = ("-", "'", "’")


def _words(segment: Segment) -> list[Word]:
    # Whisper splits "ill-disposed" into " ill" + "-disposed"; a piece with no leading space
    # that starts with a hyphen or apostrophe belongs to the word before it. (Only those:
    # in languages written without spaces no piece has a leading space.)
    words: list[Word] = []
    for piece in segment.words or ():
        text = piece.word.strip()
        if not text:
            continue
        if words and not piece.word[0].isspace() and text.startswith(_JOINERS):
            last = words[-1]
            words[-1] = Word(last.text + text, last.start, round(piece.end, 3),
                             min(last.confidence, round(piece.probability, 3)))
        else:
            words.append(Word(text, round(piece.start, 3), round(piece.end, 3), round(piece.probability, 3)))
    return words
