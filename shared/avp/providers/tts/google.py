"""Cloud Text-to-Speech (google-cloud-texttospeech) returning LINEAR16, i.e. a WAV file."""
from __future__ import annotations

import requests
from google.api_core.client_options import ClientOptions
from google.api_core.exceptions import GoogleAPIError
from google.cloud import texttospeech as tts

from avp.providers.retry import error_for_status
from avp.providers.tts.base import Synthesis, TtsError, Voice, check_request

_GENDERS = {1: "male", 2: "female", 3: "neutral"}
SAMPLE_RATE = 24_000


class GoogleTts:
    """TtsProvider over Cloud TTS; voice ids are Cloud voice names such as `en-US-Neural2-C`."""

    name = "cloud_tts"

    def __init__(self, *, endpoint: str | None = None, credentials: object | None = None):
        # REST rather than gRPC: one transport for production and for the local contract fake.
        self._client = tts.TextToSpeechClient(
            transport="rest",
            credentials=credentials,
            client_options=ClientOptions(api_endpoint=endpoint) if endpoint else None,
        )
        self._voices: list[Voice] | None = None

    def voices(self) -> list[Voice]:
        if self._voices is None:
            try:
                listed = self._client.list_voices().voices
            except (GoogleAPIError, requests.RequestException) as exc:
                raise TtsError(f"Cloud TTS voice list failed: {exc}") from exc
            self._voices = [
                Voice(
                    id=v.name,
                    name=v.name,
                    language=v.language_codes[0] if v.language_codes else "",
                    gender=_GENDERS.get(int(v.ssml_gender), ""),
                    provider=self.name,
                )
                for v in listed
            ]
        return self._voices

    def languages(self) -> list[str]:
        return sorted({v.language for v in self.voices() if v.language})

    def synthesize(self, text: str, *, voice: str, rate: float = 1.0) -> Synthesis:
        """Speak `text` with a Cloud voice at the service's native speaking_rate."""
        cleaned = check_request(text, rate)
        # A Cloud voice name starts with its language code: "en-US-Neural2-C" -> "en-US".
        language = "-".join(voice.split("-")[:2])
        try:
            response = self._client.synthesize_speech(
                input=tts.SynthesisInput(text=cleaned),
                voice=tts.VoiceSelectionParams(language_code=language, name=voice),
                audio_config=tts.AudioConfig(
                    audio_encoding=tts.AudioEncoding.LINEAR16, speaking_rate=rate, sample_rate_hertz=SAMPLE_RATE
                ),
            )
        except (GoogleAPIError, requests.RequestException) as exc:
            code = getattr(exc, "code", None)  # the HTTP status of an API answer; none for a lost connection
            raise error_for_status(code if isinstance(code, int) else None, f"Cloud TTS synthesis failed: {exc}", TtsError) from exc
        return Synthesis.from_wav(response.audio_content)
