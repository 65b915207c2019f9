"""eSpeak NG, the offline stand-in for Cloud TTS and Gemini TTS.

A system `espeak-ng` on PATH is preferred (it is what a packaged deployment installs);
otherwise the library and data shipped by the `espeakng-loader` wheel are driven through
ctypes in synchronous retrieval mode, so no audio device is touched.
"""
from __future__ import annotations

import ctypes
import functools
import re
import shutil
import subprocess
import threading
from collections.abc import Sequence
from typing import Protocol

from avp.providers.tts.base import Synthesis, TtsError, Voice, check_request

BASE_WPM = 175
# eSpeak's own limits for espeakRATE; beyond them it silently clamps, which would lie about `rate`.
MIN_WPM, MAX_WPM = 80, 450
_GENDERS = {0: "", 1: "male", 2: "female"}


class _Engine(Protocol):
    def voices(self) -> list[Voice]: ...

    def speak(self, text: str, voice: str, wpm: int) -> Synthesis: ...


class EspeakTts:
    """TtsProvider over eSpeak NG; voice ids are eSpeak language/voice names such as `en-us`."""

    name = "espeak"

    def __init__(self, engine: _Engine | None = None):
        self._engine = engine or _default_engine()

    def voices(self) -> list[Voice]:
        return self._engine.voices()

    def languages(self) -> list[str]:
        return sorted({v.language for v in self.voices()})

    def synthesize(self, text: str, *, voice: str, rate: float = 1.0) -> Synthesis:
        """Speak `text` at BASE_WPM × rate words per minute."""
        cleaned = check_request(text, rate)
        wpm = round(BASE_WPM * rate)
        if not MIN_WPM <= wpm <= MAX_WPM:
            raise TtsError(f"rate {rate} gives {wpm} wpm, outside eSpeak's {MIN_WPM}–{MAX_WPM}")
        return self._engine.speak(cleaned, voice, wpm)


def _default_engine() -> _Engine:
    exe = shutil.which("espeak-ng")
    return _CliEngine(exe) if exe else _library_engine()


class _CliEngine:
    """The system binary: `--stdout` writes a WAV we read back whole."""

    def __init__(self, exe: str):
        self._exe = exe

    @functools.cached_property
    def _voices(self) -> list[Voice]:
        out = subprocess.run([self._exe, "--voices"], capture_output=True, text=True, check=True).stdout
        return _parse_voice_table(out)

    def voices(self) -> list[Voice]:
        return self._voices

    def speak(self, text: str, voice: str, wpm: int) -> Synthesis:
        proc = subprocess.run([self._exe, "--stdout", "-v", voice, "-s", str(wpm), text], capture_output=True)
        if proc.returncode != 0:
            raise TtsError(f"espeak-ng failed: {proc.stderr.decode(errors='replace').strip()}")
        return Synthesis.from_wav(proc.stdout)


def _parse_voice_table(listing: str) -> list[Voice]:
    """Rows of `espeak-ng --voices`: Pty Language Age/Gender VoiceName File [Other languages]."""
    voices = []
    for line in listing.splitlines()[1:]:
        cols = line.split()
        if len(cols) < 5:
            continue
        gender = {"M": "male", "F": "female"}.get(cols[2].split("/")[-1], "")
        voices.append(Voice(id=cols[1], name=cols[3].replace("_", " "), language=cols[1], gender=gender, provider="espeak"))
    return voices


class _VoiceStruct(ctypes.Structure):
    _fields_ = [
        ("name", ctypes.c_char_p),
        ("languages", ctypes.c_void_p),  # packed: (priority byte, NUL-terminated name)*, then a 0 byte
        ("identifier", ctypes.c_char_p),
        ("gender", ctypes.c_ubyte),
        ("age", ctypes.c_ubyte),
        ("variant", ctypes.c_ubyte),
        ("xx1", ctypes.c_ubyte),
        ("score", ctypes.c_int),
        ("spare", ctypes.c_void_p),
    ]


_SYNTH_CALLBACK = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.c_void_p)
_AUDIO_OUTPUT_SYNCHRONOUS = 2
_ESPEAK_RATE = 1
_POS_CHARACTER = 1
_CHARS_UTF8 = 1


class _LibraryEngine:
    """libespeak-ng from the wheel. The library keeps one global state, hence one engine and a lock."""

    def __init__(self) -> None:
        import espeakng_loader

        self._lib = ctypes.CDLL(espeakng_loader.get_library_path())
        self._lib.espeak_ListVoices.restype = ctypes.POINTER(ctypes.POINTER(_VoiceStruct))
        self._sample_rate = self._lib.espeak_Initialize(
            _AUDIO_OUTPUT_SYNCHRONOUS, 0, espeakng_loader.get_data_path().encode(), 0
        )
        if self._sample_rate <= 0:
            raise TtsError("eSpeak NG failed to initialise")
        self._chunks: list[bytes] = []
        # Keep a reference: ctypes frees the trampoline if the Python object is collected.
        self._callback = _SYNTH_CALLBACK(self._collect)
        self._lib.espeak_SetSynthCallback(self._callback)
        self._lock = threading.Lock()
        self._files: dict[str, str] = {}
        self._voices = self._list_voices()

    def _collect(self, samples: ctypes.Array, count: int, _events: int) -> int:
        if count > 0:
            self._chunks.append(ctypes.string_at(samples, count * 2))
        return 0

    def _list_voices(self) -> list[Voice]:
        table = self._lib.espeak_ListVoices(None)
        voices = []
        i = 0
        while table[i]:
            entry = table[i].contents
            language = ctypes.string_at(entry.languages + 1).decode()
            voices.append(
                Voice(
                    id=language,
                    name=entry.name.decode(),
                    language=language,
                    gender=_GENDERS.get(entry.gender, ""),
                    provider="espeak",
                )
            )
            # Voice ids are languages ("fr-fr"); eSpeak loads a voice by its file ("roa/fr").
            self._files[language.lower()] = entry.identifier.decode()
            i += 1
        return voices

    def voices(self) -> list[Voice]:
        return self._voices

    def speak(self, text: str, voice: str, wpm: int) -> Synthesis:
        data = text.encode()
        with self._lock:
            self._chunks = []
            if self._lib.espeak_SetVoiceByName(self._files.get(voice.lower(), voice).encode()) != 0:
                raise TtsError(f"eSpeak could not load voice {voice!r}")
            self._lib.espeak_SetParameter(_ESPEAK_RATE, wpm, 0)
            status = self._lib.espeak_Synth(data, len(data) + 1, 0, _POS_CHARACTER, 0, _CHARS_UTF8, None, None)
            self._lib.espeak_Synchronize()
            pcm = b"".join(self._chunks)
        if status != 0 or not pcm:
            raise TtsError(f"eSpeak synthesis failed (status {status})")
        return Synthesis.from_pcm(pcm, self._sample_rate)


@functools.cache
def _library_engine() -> _LibraryEngine:
    return _LibraryEngine()
