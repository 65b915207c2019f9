"""Which step failures are retried, and the sentence each leaves on the job."""
from __future__ import annotations

import subprocess

import pytest
import requests
from google.api_core import exceptions as google_errors

from avp.errors import NotFound
from avp.media.errors import MediaError
from avp.media.ffmpeg import FfmpegError, FfmpegUnusable
from avp.pipeline.context import PermanentStepError
from avp.pipeline.failures import classify, clean
from avp.providers.asr.base import AsrError
from avp.providers.retry import error_for_status
from avp.providers.translate.base import TranslateError
from avp.providers.tts.base import TtsError

PERMANENT = [
    (PermanentStepError("unknown speech-to-text provider 'x'"), "unknown speech-to-text provider"),  # bad arguments
    (MediaError("This is not a video or audio file."), "not a video or audio file"),  # unreadable input
    (FfmpegError(["ffmpeg"], 1, "Unrecognized option '/filter_complex'.\nError splitting the argument list"),
     "Unrecognized option"),  # the same ffmpeg fails the same way again
    (FfmpegUnusable("AVP_FFMPEG=/usr/bin/ffmpeg is ffmpeg 5.1.6; avp needs ffmpeg 7.1 or newer."), "needs ffmpeg 7.1"),
    (error_for_status(400, "Gemini TTS failed: API key not valid", TtsError), "API key not valid"),  # rejected key
    (error_for_status(403, "quota exceeded for the project", TranslateError), "quota exceeded"),  # a quota refusal
    (TtsError("unknown Gemini voice 'Nobody'"), "unknown Gemini voice"),
    (NotFound("jobs/j1/work/transcript.json"), "a file it needs is missing"),  # a missing file
    (FileNotFoundError(2, "No such file or directory", "/tmp/x.wav"), "a file it needs is missing"),
    (KeyError("media"), "KeyError"),  # a programming mistake: the same input gives the same error
]
TRANSIENT = [
    (subprocess.TimeoutExpired(["ffmpeg"], 3600), "TimeoutExpired"),
    (MediaError("Converting the video took longer than 3600 s.", permanent=False), "took longer"),
    (requests.ConnectionError("connection reset by peer"), "connection reset"),
    (TimeoutError("read timed out"), "read timed out"),
    (error_for_status(503, "Gemini TTS failed: overloaded", TtsError), "overloaded"),  # 5xx
    (error_for_status(429, "rate limit", AsrError), "rate limit"),  # a quota that clears
    (google_errors.ServiceUnavailable("Firestore unavailable"), "Firestore unavailable"),
    (google_errors.Aborted("too much contention on these documents"), "contention"),  # datastore contention
    (FfmpegError(["ffmpeg"], -9, ""), "ffmpeg"),  # killed from outside: out of memory, preempted
    (RuntimeError("something odd"), "something odd"),  # unknown: worth a bounded retry
]


@pytest.mark.parametrize(("exc", "cause"), PERMANENT)
def test_deterministic_failures_are_permanent(exc: BaseException, cause: str) -> None:
    failure = classify(exc, "synthesize")
    assert failure.permanent is True
    assert failure.reason.startswith("Voicing the descriptions (synthesize) failed: ") and cause in failure.reason
    assert failure.reason.endswith(".")


@pytest.mark.parametrize(("exc", "cause"), TRANSIENT)
def test_passing_failures_are_retried(exc: BaseException, cause: str) -> None:
    failure = classify(exc, "transcribe", language="de")
    assert failure.permanent is False
    assert failure.reason.startswith("Speech recognition (transcribe, de) failed: ") and cause in failure.reason


def test_reasons_hold_no_secrets_no_traceback_and_stay_short() -> None:
    leaky = ("Traceback (most recent call last):\n  File \"x.py\", line 1\n"
             "RuntimeError: 403 for https://generativelanguage.googleapis.com/v1/models?key=AIzaSyA1234567890abcdefghijklmnop "
             "with Authorization: Bearer ya29.a0AfH6SMB-secret-token")
    text = clean(leaky)
    assert "AIza" not in text and "ya29" not in text and "Traceback" not in text and "\n" not in text
    assert text.startswith("RuntimeError: 403") and "key=…" in text and "Bearer …" in text
    assert len(clean("x" * 5000)) <= 300
