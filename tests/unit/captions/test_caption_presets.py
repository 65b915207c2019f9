import pytest

from avp.captions.presets import PRESETS, get_preset, wpm_to_cps


def test_netflix_numbers_match_the_standard():
    preset = get_preset("netflix-en")
    assert (preset.max_chars_per_line, preset.max_lines, preset.max_cps) == (42, 2, 17.0)
    assert preset.min_duration == pytest.approx(20 / 24)
    assert preset.max_duration == 7.0
    assert preset.min_gap == pytest.approx(2 / 24)
    assert preset.speaker_change == "dash"


def test_default_is_netflix_en():
    assert get_preset() is PRESETS["netflix-en"]


def test_every_standard_preset_exists():
    assert set(PRESETS) == {"netflix-en", "netflix-children", "bbc", "dcmp"}
    assert get_preset("netflix-children").max_cps == 13.0
    assert get_preset("bbc").max_chars_per_line == 37
    assert get_preset("dcmp").max_chars_per_line == 32
    assert get_preset("dcmp").min_duration == 2.0
    assert get_preset("dcmp").speaker_change == "label"


def test_wpm_conversion_agrees_with_netflix_pairing():
    # Netflix pairs 17 chars/s with 200 wpm; the conversion must reproduce that.
    assert wpm_to_cps(200) == pytest.approx(17.0)
    assert get_preset("bbc").max_cps == pytest.approx(15.3)
    assert get_preset("dcmp").max_cps == pytest.approx(13.6)


def test_unknown_preset_names_the_known_ones():
    with pytest.raises(ValueError, match="unknown caption style preset 'itv'.*bbc"):
        get_preset("itv")


def test_frames_use_the_preset_frame_rate():
    assert get_preset("netflix-en").frames(12) == pytest.approx(0.5)
