"""eSpeak NG through the library shipped by espeakng-loader (or a system espeak-ng)."""
from __future__ import annotations

import io
import wave

import pytest

from avp.providers.tts import TtsError, get_tts
from avp.providers.tts.cache import PreviewCache, preview_key
from avp.providers.tts.base import voice_for_language
from avp.providers.tts.local import EspeakTts, _parse_voice_table

SENTENCE = "A woman in a red coat crosses the square and hands a letter to the guard."


@pytest.fixture(scope="module")
def tts() -> EspeakTts:
    return EspeakTts()


def test_lists_real_voices_and_languages(tts):
    ids = {v.id for v in tts.voices()}
    assert {"en-us", "de", "fr-fr"} <= ids and len(ids) > 50
    assert {"en-us", "de"} <= set(tts.languages())
    assert all(v.provider == "espeak" for v in tts.voices())


def test_synthesis_is_a_wav_whose_duration_is_exact(tts):
    speech = tts.synthesize(SENTENCE, voice="en-us")
    with wave.open(io.BytesIO(speech.audio)) as w:
        assert (w.getnchannels(), w.getsampwidth(), w.getframerate()) == (1, 2, speech.sample_rate)
        assert w.getnframes() / w.getframerate() == speech.duration
    # Fifteen words at 175 wpm is about 5 s of speech: a real voice, not silence or a stub.
    assert 3.5 < speech.duration < 7.0
    assert max(abs(b) for b in memoryview(speech.pcm).cast("h")) > 3000


def test_rate_changes_the_length(tts):
    normal = tts.synthesize(SENTENCE, voice="en-us").duration
    fast = tts.synthesize(SENTENCE, voice="en-us", rate=1.2).duration
    slow = tts.synthesize(SENTENCE, voice="en-us", rate=0.8).duration
    assert slow > normal > fast
    assert fast / normal == pytest.approx(1 / 1.2, rel=0.1)


def test_bad_requests_are_tts_errors(tts):
    with pytest.raises(TtsError):
        tts.synthesize("   ", voice="en-us")
    with pytest.raises(TtsError):
        tts.synthesize("hello", voice="xx-nonexistent")
    with pytest.raises(TtsError):
        tts.synthesize("hello", voice="en-us", rate=3.0)  # 525 wpm: beyond eSpeak


def test_voice_for_language(tts):
    assert voice_for_language(tts.voices(), "en-US").id == "en-us"
    assert voice_for_language(tts.voices(), "fr").id == "fr-fr"
    with pytest.raises(TtsError):
        voice_for_language(tts.voices(), "tlh")


def test_parses_the_espeak_ng_voices_listing():
    listing = (
        "Pty Language       Age/Gender VoiceName          File                 Other Languages\n"
        " 2  en-us           --/M      English_(America)  gmw/en-US            (en 3)\n"
        " 5  de              --/F      German             gmw/de\n"
    )
    us, de = _parse_voice_table(listing)
    assert (us.id, us.name, us.gender) == ("en-us", "English (America)", "male")
    assert (de.id, de.gender) == ("de", "female")


def test_preview_cache_synthesizes_once(tmp_path, tts):
    calls = []

    class Counting:
        name = "local"

        def synthesize(self, text, *, voice, rate=1.0):
            calls.append(text)
            return tts.synthesize(text, voice=voice, rate=rate)

    cache = PreviewCache(tmp_path)
    first = cache.synthesize(Counting(), "Hello there.", voice="en-us")
    again = cache.synthesize(Counting(), "Hello there.", voice="en-us")
    assert calls == ["Hello there."] and first == again
    assert list(tmp_path.iterdir()) == [tmp_path / f"{preview_key('local', 'en-us', 1.0, 'Hello there.')}.wav"]


def test_preview_key_separates_every_input():
    keys = {
        preview_key("local", "en-us", 1.0, "a"),
        preview_key("gemini", "en-us", 1.0, "a"),
        preview_key("local", "de", 1.0, "a"),
        preview_key("local", "en-us", 1.1, "a"),
        preview_key("local", "en-us", 1.0, "b"),
    }
    assert len(keys) == 5


def test_factory():
    assert get_tts("local").name == get_tts("espeak").name == "espeak"  # the earlier name stays an alias
    with pytest.raises(TtsError):
        get_tts("nope")


def test_every_listed_voice_speaks(tts):
    # Ids are languages ("fr-fr"); each must load, whatever eSpeak's voice file is called.
    failures = []
    for voice in tts.voices():
        try:
            assert tts.synthesize("Un, deux.", voice=voice.id).duration > 0.1
        except Exception as exc:  # collect them all for one readable failure
            failures.append(f"{voice.id}: {exc}")
    assert not failures, failures
