"""Gemini TTS through google-genai: generateContent with the AUDIO modality returns 24 kHz PCM."""
from __future__ import annotations

import base64

from google import genai
from google.genai import errors as genai_errors
from google.genai import types

from avp.providers.retry import HTTP_ERRORS, error_for_status
from avp.providers.tts._audio import change_tempo
from avp.providers.tts.base import Synthesis, TtsError, Voice, check_request

DEFAULT_MODEL = "gemini-2.5-flash-preview-tts"
# The API's short names (tts_preferences.model "flash" / "pro") for the TTS models.
MODEL_ALIASES = {"flash": DEFAULT_MODEL, "pro": "gemini-2.5-pro-preview-tts"}
SAMPLE_RATE = 24_000
# The prebuilt voices and their published genders (the same names as Cloud TTS Chirp 3 HD).
_VOICES = {
    "Zephyr": "female", "Puck": "male", "Charon": "male", "Kore": "female", "Fenrir": "male",
    "Leda": "female", "Orus": "male", "Aoede": "female", "Callirrhoe": "female", "Autonoe": "female",
    "Enceladus": "male", "Iapetus": "male", "Umbriel": "male", "Algieba": "male", "Despina": "female",
    "Erinome": "female", "Algenib": "male", "Rasalgethi": "male", "Laomedeia": "female",
    "Achernar": "female", "Alnilam": "male", "Schedar": "male", "Gacrux": "female",
    "Pulcherrima": "female", "Achird": "male", "Zubenelgenubi": "male", "Vindemiatrix": "female",
    "Sadachbia": "male", "Sadaltager": "male", "Sulafat": "female",
}  # fmt: skip
VOICE_IDS = tuple(_VOICES)
# The languages Google documents for Gemini TTS (the model detects the language from the text).
LANGUAGES = (
    "ar-EG", "bn-BD", "de-DE", "en-IN", "en-US", "es-US", "fr-FR", "hi-IN", "id-ID", "it-IT", "ja-JP", "ko-KR",
    "mr-IN", "nl-NL", "pl-PL", "pt-BR", "ro-RO", "ru-RU", "ta-IN", "te-IN", "th-TH", "tr-TR", "uk-UA", "vi-VN",
)  # fmt: skip


class GeminiTts:
    """TtsProvider over Gemini TTS. There is no rate parameter, so rate is applied with atempo."""

    name = "gemini"

    def __init__(self, *, api_key: str | None = None, base_url: str | None = None, model: str = DEFAULT_MODEL):
        self._client = genai.Client(
            api_key=api_key, http_options=types.HttpOptions(base_url=base_url) if base_url else None
        )
        self._model = model

    def voices(self) -> list[Voice]:
        return [Voice(id=n, name=n, language="multi", gender=g, provider=self.name) for n, g in _VOICES.items()]

    def languages(self) -> list[str]:
        return list(LANGUAGES)

    def synthesize(self, text: str, *, voice: str, rate: float = 1.0) -> Synthesis:
        """Speak `text` with a prebuilt voice; `rate` ≠ 1 is applied afterwards, pitch kept."""
        cleaned = check_request(text, rate)
        if voice not in _VOICES:
            raise TtsError(f"unknown Gemini voice {voice!r}")
        config = types.GenerateContentConfig(
            response_modalities=["AUDIO"],
            speech_config=types.SpeechConfig(
                voice_config=types.VoiceConfig(prebuilt_voice_config=types.PrebuiltVoiceConfig(voice_name=voice))
            ),
        )
        try:
            response = self._client.models.generate_content(model=self._model, contents=cleaned, config=config)
            data = response.candidates[0].content.parts[0].inline_data.data
        except (IndexError, AttributeError, TypeError) as exc:
            raise TtsError(f"Gemini TTS returned no audio: {exc}") from exc
        except genai_errors.APIError as exc:
            raise error_for_status(exc.code, f"Gemini TTS failed: {exc.message or exc}", TtsError, exc.details) from exc
        except HTTP_ERRORS as exc:  # no answer at all: the network or the service may recover
            raise TtsError(f"Gemini TTS could not be reached: {exc}", permanent=False) from exc
        pcm = data if isinstance(data, bytes) else base64.b64decode(data)
        return change_tempo(Synthesis.from_pcm(pcm, SAMPLE_RATE), rate)
