import json

import pytest

from avp.captions.errors import VttParseError
from avp.captions.model import Cue
from avp.captions.presets import get_preset
from avp.captions.qc import check_cues, check_vtt

NETFLIX = get_preset("netflix-en")


def codes(cues, preset=NETFLIX):
    return [(v.code, v.cue_index) for v in check_cues(cues, preset).violations]


def test_clean_track_is_ok():
    cues = [Cue(0.0, 2.0, "Hello there."), Cue(2.083, 4.0, "General Kenobi.")]
    report = check_cues(cues, NETFLIX)
    assert report.ok and report.totals == {} and report.cue_count == 2


@pytest.mark.parametrize("cue, code, value, limit", [
    (Cue(0, 5, "x" * 43), "line_too_long", 43, 42),
    (Cue(0, 5, "one\ntwo\nthree"), "too_many_lines", 3, 2),
    (Cue(0, 1, "y" * 20), "reading_speed", 20.0, 17.0),
    (Cue(0, 0.5, "Hi."), "too_short", 0.5, 20 / 24),
    (Cue(0, 7.5, "A long wait."), "too_long", 7.5, 7.0),
    (Cue(0, 1, "<i> </i>"), "empty", 0, 1),
    (Cue(2, 1, "Backwards."), "invalid_timing", -1, 0),
    (Cue(-1, 1, "Negative."), "invalid_timing", 2, 0),
])
def test_each_cue_rule_is_detected_with_value_and_limit(cue, code, value, limit):
    [violation] = [v for v in check_cues([cue], NETFLIX).violations if v.code == code]
    assert violation.cue_index == 0
    assert violation.value == pytest.approx(value)
    assert violation.limit == pytest.approx(limit)


def test_gap_and_overlap_are_reported_on_the_later_cue():
    cues = [Cue(0, 2, "One."), Cue(2.05, 4, "Two."), Cue(3.5, 5, "Three.")]
    assert codes(cues) == [("gap_too_small", 1), ("overlap", 2)]


def test_two_frame_gap_rounded_to_milliseconds_passes():
    # 2 frames at 24 fps is 83.33 ms; files carry 83 ms.
    assert codes([Cue(0, 2, "One."), Cue(2.083, 4, "Two.")]) == []
    assert codes([Cue(0, 2, "One."), Cue(2.082, 4, "Two.")]) == [("gap_too_small", 1)]


def test_reading_speed_counts_visible_characters_without_line_breaks():
    # 34 visible characters over 2 s is exactly 17 chars/s: allowed. Markup is not read.
    text = "<v Ann>" + "a" * 17 + "</v>\n" + "b" * 16 + "&amp;"
    assert codes([Cue(0, 2, text)]) == []
    assert codes([Cue(0, 1.999, text)]) == [("reading_speed", 0)]


def test_presets_without_limits_skip_those_checks():
    bbc = get_preset("bbc")
    assert codes([Cue(0, 0.3, "Hi."), Cue(0.3, 9.5, "Long but slow.")], bbc) == []


def test_every_violation_listed_and_totals_counted():
    cues = [Cue(0, 0.2, "x" * 50 + "\n" + "y" * 50 + "\nz"), Cue(0.1, 9, "")]
    report = check_cues(cues, NETFLIX)
    assert report.totals == {"line_too_long": 2, "too_many_lines": 1, "reading_speed": 1, "too_short": 1,
                             "empty": 1, "too_long": 1, "overlap": 1}
    assert [v.line for v in report.violations if v.code == "line_too_long"] == [1, 2]
    data = json.loads(json.dumps(report.to_dict()))
    assert data["ok"] is False and data["totals"]["overlap"] == 1 and data["preset"] == "netflix-en"


def test_check_vtt_parses_then_checks():
    report = check_vtt("WEBVTT\n\n00:00.000 --> 00:00.500\nToo quick.\n", NETFLIX)
    assert [v.code for v in report.violations] == ["reading_speed", "too_short"]


def test_check_vtt_parse_error_raises_or_is_reported():
    broken = "WEBVTT\n\n00:00.000 --> 00:01.000\nA\n\nnot a cue\n"
    with pytest.raises(VttParseError):
        check_vtt(broken, NETFLIX)
    report = check_vtt(broken, NETFLIX, report_parse_errors=True)
    assert not report.ok and report.errors == ["line 6: block is neither a cue, a NOTE, a STYLE nor a REGION "
                                               "(no valid timing line): skipped"]
    lenient = check_vtt(broken, NETFLIX, strict=False)
    assert lenient.cue_count == 1 and lenient.ok
    assert lenient.warnings == [report.errors[0]]


def test_reference_track_against_netflix(media_dir):
    report = check_vtt((media_dir / "captions" / "wwa_captions_en.vtt").read_text(), NETFLIX)
    assert report.cue_count == 15
    # The reference track was not made to Netflix rules: its opening cue runs 8.7 s.
    assert ("too_long", 0) in [(v.code, v.cue_index) for v in report.violations]
    assert report.warnings


def test_cues_after_the_end_of_the_media_are_flagged():
    cues = [Cue(0.0, 2.0, "Inside."), Cue(5.0, 6.17, "Ends with the media."), Cue(6.2, 8.43, "After the end.")]
    report = check_cues(cues, NETFLIX, media_duration=6.17)
    [violation] = [v for v in report.violations if v.code == "after_media_end"]
    assert (violation.cue_index, violation.value, violation.limit) == (2, 8.43, 6.17)
    assert "6.17" in violation.message and report.totals["after_media_end"] == 1
    # The rule needs the media's duration; without it nothing is claimed.
    assert "after_media_end" not in check_cues(cues, NETFLIX).totals
    assert check_vtt("WEBVTT\n\n00:09.000 --> 00:11.000\nLate.\n", NETFLIX, media_duration=10.0).totals == {
        "after_media_end": 1}
