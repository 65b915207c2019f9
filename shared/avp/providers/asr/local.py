"""The offline recognizer: faster-whisper with the Whisper base model from the PyPI data packages.

Whisper invents text on silence and noise ("Thank you.", "You") and misplaces words after long
pauses, so its output passes two checks against the audio before it is returned: segments
without speech evidence are dropped, and word starts are re-anchored on sound onsets.
"""
from __future__ import annotations

import os
import threading
from dataclasses import dataclass
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
    from faster_whisper.transcribe import Segment

PROVIDER = "local"


@dataclass(frozen=True)
class LocalSettings:
    """Knobs of the local recognizer; the defaults are the ones measured on the test media.

    `vad_filter` restricts decoding to the stretches the Silero VAD marks as speech. It is done
    with `clip_timestamps`, not faster-whisper's own `vad_filter`: that one concatenates the
    voiced chunks and maps times back, and a word at a chunk join lands in the earlier chunk
    (measured: the example video's "Banana." at 40 s came back at 17.0 s with a 1 s minimum
    silence). Off by default: hallucinations on silence are handled by the speech gate anyway.
    """

    model_dir: Path | None = None          # an assembled model folder; default: the packaged model, cached
    cache_dir: Path | None = None          # default: $AVP_MODEL_CACHE or ~/.cache/avp/models
    cpu_threads: int = 0                   # 0: every core this process may use
    compute_type: str = "int8"
    beam_size: int = 5
    vad_filter: bool = False
    vad_min_silence_ms: int = 2000
    speech_gate: bool = True               # drop segments where the Silero VAD hears no speech
    retime_words: bool = True              # re-anchor word starts on the audio's sound onsets
    no_speech_threshold: float = 0.6
    # Stricter than Whisper's own -1.0: its "You" on pure silence scores about -0.8.
    gate_logprob_threshold: float = -0.7
    max_compression_ratio: float = 2.4


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


def speech_spans(samples: np.ndarray, *, min_silence_ms: int = 2000) -> list[Span]:
    """Where the Silero voice-activity model (shipped with faster-whisper) hears speech;
    pauses shorter than `min_silence_ms` stay inside a span."""
    from faster_whisper.vad import VadOptions, get_speech_timestamps

    options = VadOptions(min_silence_duration_ms=min_silence_ms)
    return [Span(t["start"] / SAMPLE_RATE, t["end"] / SAMPLE_RATE) for t in get_speech_timestamps(samples, options)]


class LocalTranscriber:
    """`Transcriber` running Whisper base on this machine's CPU."""

    def __init__(self, settings: LocalSettings | None = None):
        self.settings = settings or LocalSettings()

    def transcribe(self, audio_path: Path, *, language: str | None = None) -> Transcript:
        """Recognise `audio_path` (16 kHz mono WAV, or anything ffmpeg decodes)."""
        samples = load_audio(audio_path)
        duration = len(samples) / SAMPLE_RATE
        sound = sound_spans(samples, SAMPLE_RATE)
        gated = self.settings.speech_gate or self.settings.vad_filter
        speech = speech_spans(samples, min_silence_ms=self.settings.vad_min_silence_ms) if gated else [Span(0.0, duration)]
        if not sound or not speech:
            # Nothing to recognise: skipping the decoder also skips its hallucinations.
            return Transcript(language or "", 0.0, [], duration, PROVIDER, [NO_SPEECH])

        segments, info = load_model(self.settings).transcribe(
            samples,
            language=language,
            beam_size=self.settings.beam_size,
            word_timestamps=True,
            clip_timestamps=[t for span in speech for t in (span.start, span.end)] if self.settings.vad_filter else "0",
            no_speech_threshold=self.settings.no_speech_threshold,
            compression_ratio_threshold=self.settings.max_compression_ratio,
        )
        notes: list[str] = []
        words: list[Word] = []
        dropped = 0
        for segment in segments:
            if self._plausible(segment, sound, speech):
                words.extend(_words(segment))
            else:
                dropped += 1
        if dropped:
            notes.append(f"dropped {dropped} segment(s) without speech evidence (likely hallucinated)")
        if self.settings.retime_words and words:
            words, moved = reanchor_words(words, sound)
            if moved:
                notes.append(f"re-anchored {moved} word(s) on the audio's sound onsets")
        if not words:
            notes.append(NO_SPEECH)
        return Transcript(info.language, float(info.language_probability), words, duration, PROVIDER, notes)

    def _plausible(self, segment: Segment, sound: list[Span], speech: list[Span]) -> bool:
        s = self.settings
        if segment.compression_ratio > s.max_compression_ratio:
            return False
        if segment.no_speech_prob > s.no_speech_threshold and segment.avg_logprob < s.gate_logprob_threshold:
            return False
        return overlaps(segment.start, segment.end, sound) and overlaps(segment.start, segment.end, speech)


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
