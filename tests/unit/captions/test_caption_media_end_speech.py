"""Speech up to the very end of the media, recognised by the real Whisper model without voice
detection: the captions stay inside the media, and the QC has nothing past its end to flag."""
from pathlib import Path

import pytest

from avp.captions.presets import get_preset
from avp.captions.qc import check_cues
from avp.captions.segment import segment_words
from avp.media import ffmpeg
from avp.providers.asr.local import LocalSettings, LocalTranscriber

pytestmark = pytest.mark.slow
MEDIA = Path(__file__).resolve().parents[2] / "data" / "media"


@pytest.mark.parametrize("cut", [9.9, 10.2])
def test_captions_of_speech_cut_off_by_the_end_stay_inside_the_media(tmp_path, cut):
    """Cut just after "...for your country": the DCMP preset's 2 s minimum and the reading
    speed used to carry the last cue to 10.22 s on the 9.9 s clip (10.59 s on 10.2 s)."""
    clip = tmp_path / "cut.wav"
    ffmpeg.run(["-y", "-i", MEDIA / "speech/en/jfk.wav", "-t", str(cut), "-c:a", "pcm_s16le", clip])
    words = LocalTranscriber(LocalSettings(vad_filter=False)).transcribe(clip, language="en").words
    assert words and words[-1].end > cut - 0.3  # speech runs to the very end
    for name in ("netflix-en", "bbc", "dcmp"):
        preset = get_preset(name)
        cues = segment_words(words, preset, media_duration=cut)
        assert all(c.start < c.end <= cut for c in cues), name
        assert "after_media_end" not in check_cues(cues, preset, media_duration=cut).totals
