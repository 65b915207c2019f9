"""What went wrong in a media step, said so that a person can act on it, and whether trying
again can help.

Permanent (the job fails at once, no retry): a step's own `PermanentStepError`, a provider's
refusal (bad request, missing or rejected key, a quota that will not clear), an unreadable
or unsupported file, a file the step needs that is not there, an unusable ffmpeg, and
programming mistakes (bad arguments). Transient (the workflow retries with backoff): time-
outs, lost connections, 5xx and 429 answers, a process killed from outside (preemption,
out of memory), datastore contention.
"""
from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass

STEP_NAMES = {
    "ingest": "Reading the uploaded file", "transcribe": "Speech recognition", "shots": "Shot detection",
    "captions": "Making the captions", "describe": "Drafting the descriptions", "synthesize": "Voicing the descriptions",
    "render": "Rendering the audio-described outputs", "translate": "Translating the tracks", "finalize": "Finishing the job",
}
_MAX_CAUSE = 300
# What must never reach a job document: API keys, bearer tokens, signed-URL signatures, passwords.
_SECRETS = (
    (re.compile(r"(?i)\b(key|api[_-]?key|token|access_token|signature|x-goog-signature|password|secret)=[^&\s'\"]+"), r"\1=…"),
    (re.compile(r"(?i)\bbearer\s+[A-Za-z0-9._~+/=-]+"), "Bearer …"),
    (re.compile(r"\bAIza[0-9A-Za-z_-]{20,}"), "…"),  # the shape of a Google API key
)


@dataclass(frozen=True)
class Failure:
    """A classified step failure: `reason` is the sentence for the job's `failure_reason`."""

    permanent: bool
    reason: str


def clean(text: str) -> str:
    """One line, no secrets, no traceback, at most a few hundred characters."""
    lines = [line.strip() for line in str(text).strip().splitlines() if line.strip()]
    # A traceback's useful line is its last; anything else: the first line says what happened.
    line = lines[-1] if lines and lines[0].startswith("Traceback") else (lines[0] if lines else "")
    for pattern, replacement in _SECRETS:
        line = pattern.sub(replacement, line)
    return line if len(line) <= _MAX_CAUSE else line[: _MAX_CAUSE - 1].rstrip() + "…"


def sentence(step: str, cause: str, *, language: str | None = None) -> str:
    """`<What the step does> (<step>[, <language>]) failed: <cause>.`"""
    where = f"{step}, {language}" if language else step
    cause = clean(cause).rstrip(".") or "no reason given"
    return f"{STEP_NAMES.get(step, step)} ({where}) failed: {cause}."


def _permanent_flag(exc: BaseException) -> bool | None:
    flag = getattr(exc, "permanent", None)
    return flag if isinstance(flag, bool) else None


def _status_code(exc: BaseException) -> int | None:
    for attribute in ("code", "status_code", "status"):
        value = getattr(exc, attribute, None)
        if isinstance(value, int) and 100 <= value < 600:
            return value
    response = getattr(exc, "response", None)
    value = getattr(response, "status_code", None)
    return value if isinstance(value, int) else None


def _is_transient_type(exc: BaseException) -> bool:
    import requests

    if isinstance(exc, (TimeoutError, ConnectionError, subprocess.TimeoutExpired, requests.Timeout, requests.ConnectionError)):
        return True
    try:
        from google.api_core import exceptions as google_errors
    except ImportError:  # pragma: no cover - google-api-core is a dependency
        return False
    return isinstance(exc, (google_errors.ServiceUnavailable, google_errors.DeadlineExceeded, google_errors.TooManyRequests,
                            google_errors.InternalServerError, google_errors.Aborted, google_errors.BadGateway,
                            google_errors.GatewayTimeout, google_errors.RetryError))


def classify(exc: BaseException, step: str, *, language: str | None = None) -> Failure:
    """Whether `exc`, raised by `step`, is worth retrying, and the sentence that explains it."""
    from avp.errors import NotFound
    from avp.media.errors import MediaError
    from avp.media.ffmpeg import FfmpegError, FfmpegUnusable
    from avp.pipeline.context import PermanentStepError

    def failure(permanent: bool, cause: str) -> Failure:
        return Failure(permanent, sentence(step, cause, language=language))

    if isinstance(exc, PermanentStepError | FfmpegUnusable):
        return failure(True, str(exc))
    if isinstance(exc, MediaError):
        return failure(exc.permanent, exc.reason)
    if isinstance(exc, FfmpegError):
        # Killed by a signal (negative status: out of memory, preempted) may pass next time; the
        # same ffmpeg failing on the same input will not.
        return failure(exc.returncode >= 0, f"ffmpeg could not process the media ({exc.stderr_tail or 'no message'})")
    flag = _permanent_flag(exc)
    if flag is not None:  # a provider error that already knows (4xx: permanent; 5xx, 429, timeouts: not)
        return failure(flag, str(exc))
    if _is_transient_type(exc):
        return failure(False, f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__)
    if isinstance(exc, NotFound | FileNotFoundError):
        return failure(True, f"a file it needs is missing ({exc})")
    status = _status_code(exc)
    if status is not None:
        return failure(not (status >= 500 or status in (408, 429)), f"{exc} (status {status})")
    if isinstance(exc, KeyError | ValueError | TypeError | AttributeError | IndexError | NotImplementedError):
        # The same input gives the same mistake: a retry only delays the failure.
        return failure(True, f"{type(exc).__name__}: {exc}")
    return failure(False, f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__)
