"""Speech transcription with the Video Intelligence API, on media already in Cloud Storage."""
from __future__ import annotations

import concurrent.futures
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from avp.captions.model import Word
from avp.providers.asr.base import NO_SPEECH, AsrError, Transcript
from avp.providers.retry import error_for_status, with_retries

if TYPE_CHECKING:
    from google.cloud import videointelligence

PROVIDER = "video-intelligence"


def default_client() -> videointelligence.VideoIntelligenceServiceClient:
    """A client with the environment's default credentials (production)."""
    from google.cloud import videointelligence

    return videointelligence.VideoIntelligenceServiceClient()


def _seconds(offset: Any) -> float:
    # proto-plus turns google.protobuf.Duration into datetime.timedelta.
    return offset.total_seconds() if offset is not None else 0.0


class VideoIntelligenceTranscriber:
    """`Transcriber` backed by Video Intelligence speech transcription.

    The API reads media from a `gs://` URI only: `transcribe_uri` is the real call, and
    `transcribe` needs `stage_audio` to put a local file in Cloud Storage first.
    `language` is required by the API (it does not detect): without one, `default_language`.
    """

    def __init__(self, client: videointelligence.VideoIntelligenceServiceClient | None = None, *,
                 stage_audio: Callable[[Path], str] | None = None, default_language: str = "en-US",
                 diarize: bool = False, timeout: float = 900.0, poll_interval: float = 5.0,
                 attempts: int = 3, backoff: float = 2.0, sleep: Callable[[float], None] | None = None):
        self._client = client
        self._stage_audio = stage_audio
        self.default_language = default_language
        self.diarize = diarize
        self.timeout = timeout
        self.poll_interval = poll_interval
        self._retry_options: dict[str, Any] = {"attempts": attempts, "backoff": backoff}
        if sleep is not None:
            self._retry_options["sleep"] = sleep

    @property
    def client(self) -> videointelligence.VideoIntelligenceServiceClient:
        if self._client is None:
            self._client = default_client()
        return self._client

    def transcribe(self, audio_path: Path, *, language: str | None = None) -> Transcript:
        """Stage `audio_path` in Cloud Storage with `stage_audio`, then `transcribe_uri`."""
        if self._stage_audio is None:
            raise AsrError("Video Intelligence reads gs:// URIs only: give the transcriber stage_audio "
                           "or call transcribe_uri", permanent=True)
        return self.transcribe_uri(self._stage_audio(audio_path), language=language)

    def transcribe_uri(self, uri: str, *, language: str | None = None) -> Transcript:
        """Transcribe the media at `uri` (gs://bucket/object): start the long-running
        annotation (retrying transient failures), then wait for it at most `timeout` seconds."""
        if not uri.startswith("gs://"):
            raise AsrError(f"not a Cloud Storage URI: {uri!r}", permanent=True)
        language_code = language or self.default_language
        operation = with_retries(lambda: self._start(uri, language_code), **self._retry_options)
        response = self._wait(operation)
        notes = [] if language else [f"language not given; assumed {language_code}"]
        return _transcript(response, language_code, notes)

    def _start(self, uri: str, language_code: str) -> Any:
        from google.api_core import exceptions
        from google.cloud import videointelligence

        config = videointelligence.SpeechTranscriptionConfig(
            language_code=language_code,
            enable_automatic_punctuation=True,
            enable_word_confidence=True,
            enable_speaker_diarization=self.diarize,
        )
        request = videointelligence.AnnotateVideoRequest(
            input_uri=uri,
            features=[videointelligence.Feature.SPEECH_TRANSCRIPTION],
            video_context=videointelligence.VideoContext(speech_transcription_config=config),
        )
        try:
            # retry=None: the client's built-in retry would multiply ours (with_retries).
            return self.client.annotate_video(request=request, retry=None, timeout=60.0)
        except exceptions.GoogleAPICallError as exc:
            raise error_for_status(_status(exc), f"Video Intelligence refused the request: {exc.message}",
                                   AsrError, exc.details) from exc
        except exceptions.GoogleAPIError as exc:
            raise AsrError(f"Video Intelligence unreachable: {exc}", permanent=False) from exc

    def _wait(self, operation: Any) -> Any:
        from google.api_core import exceptions
        from google.api_core.future.polling import DEFAULT_POLLING

        polling = DEFAULT_POLLING.with_delay(initial=self.poll_interval, maximum=max(self.poll_interval, 30.0))
        try:
            return operation.result(timeout=self.timeout, polling=polling)
        except concurrent.futures.TimeoutError as exc:
            raise AsrError(f"Video Intelligence did not finish within {self.timeout:g} s", permanent=False) from exc
        except exceptions.GoogleAPICallError as exc:
            raise error_for_status(_status(exc), f"Video Intelligence transcription failed: {exc.message}",
                                   AsrError, exc.details) from exc


def _status(exc: Any) -> int | None:
    code = getattr(exc, "code", None)
    return code if isinstance(code, int) else None


def _transcript(response: Any, language_code: str, notes: list[str]) -> Transcript:
    # With diarization on, the service repeats every word, tagged with its speaker, in a last
    # transcription: key words by time and text and keep the tagged copy.
    words: dict[tuple[float, float, str], Word] = {}
    duration = 0.0
    for result in response.annotation_results:
        if result.error and result.error.code:
            raise error_for_status(None, f"Video Intelligence transcription failed: {result.error.message}", AsrError)
        if result.segment:
            duration = max(duration, _seconds(result.segment.end_time_offset))
        for transcription in result.speech_transcriptions:
            if not transcription.alternatives:
                continue
            best = transcription.alternatives[0]
            for info in best.words:
                word = Word(text=info.word, start=_seconds(info.start_time), end=_seconds(info.end_time),
                            confidence=round(info.confidence or best.confidence, 3),
                            speaker=str(info.speaker_tag) if info.speaker_tag else None)
                key = (word.start, word.end, word.text)
                known = words.get(key)
                words[key] = replace(known, speaker=word.speaker or known.speaker) if known else word
    ordered = sorted(words.values(), key=lambda w: (w.start, w.end))
    if not ordered:
        notes.append(NO_SPEECH)
    duration = max([duration] + [w.end for w in ordered])
    return Transcript(language_code, 1.0, ordered, duration, PROVIDER, notes)
