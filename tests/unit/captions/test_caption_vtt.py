import math
import time

import pytest

from avp.captions.errors import VttParseError
from avp.captions.model import Cue
from avp.captions.vtt import VttDocument, VttRegion, format_timestamp, parse_timestamp, parse_vtt, write_vtt

# web-platform-tests webvtt/parsing/file-parsing/tests/support/arrows.vtt: browsers find 6 cues.
WPT_ARROWS = (
    "WEBVTT\n\n-->\n00:00:00.000 --> 00:00:01.000\ntext1\nfoo-->\n00:00:00.000 --> 00:00:01.000\ntext2\n"
    "-->foo\n00:00:00.000 --> 00:00:01.000\ntext3\n--->\n00:00:00.000 --> 00:00:01.000\ntext4\n-->-->\n"
    "00:00:00.000 --> 00:00:01.000\ntext5\n00:00:00.000 --> 00:00:01.000\ntext6\n\n00:00:00.000 -a -->\n\n"
    "00:00:00.000 --a -->\n\n00:00:00.000 - -->\n\n00:00:00.000 -- -->\n"
)
# ... timings-negative.vtt: all four cues are kept, end before start included.
WPT_NEGATIVE = (
    "WEBVTT\n\n00:00:00.000 --> 00:00:00.000\ntext1\n\n00:00:01.000 --> 00:00:00.999\ntext2\n\n"
    "00:01:00.000 --> 00:00:59.999\ntext3\n\n01:00:00.000 --> 00:59:59.999\ntext4\n"
)


def test_reference_caption_track_parses_and_round_trips(media_dir):
    text = (media_dir / "captions" / "wwa_captions_en.vtt").read_text()
    doc = parse_vtt(text)
    assert len(doc.cues) == 15
    assert doc.kind == "captions" and doc.header_lines == ["kind: captions", "lang: en"]
    assert doc.cues[0].start == 0.429 and doc.cues[0].end == 9.165 and doc.cues[0].text == "[ music ]"
    assert doc.cues[1].text == "<v Narrator> You <i>want</i> these people."
    assert doc.notes[0].text.startswith("NOTE This VTT file") and doc.notes[0].before_cue == 0
    # "position:10%,start" is an obsolete alignment: players ignore the setting, so only a warning.
    assert [(w.line, w.error) for w in doc.warnings] == [(61, False)]
    positioned = doc.cues[11]
    assert positioned.settings == {"size": "35%", "align": "start"}
    assert doc.layout(positioned).position is None
    again = parse_vtt(write_vtt(doc))
    assert (again.cues, again.notes, again.header_lines) == (doc.cues, doc.notes, doc.header_lines)
    assert write_vtt(again) == write_vtt(doc)


def test_reference_description_track_parses(media_dir):
    doc = parse_vtt((media_dir / "captions" / "wwa_description_en.vtt").read_text())
    assert [c.start for c in doc.cues] == [0.005, 6.0, 37.1]
    assert doc.cues[2].text == "Terrill Thompson,\nTechnology Accessibility Specialist"
    assert not doc.warnings


@pytest.mark.parametrize("text, seconds", [
    ("00:00.000", 0.0), ("01:02.003", 62.003), ("00:01:02.003", 62.003), ("1:00:00.000", 3600.0),
    ("100:00:00.001", 360000.001), ("59:59.999", 3599.999), ("60:00:00.000", 216000.0),
])
def test_valid_timestamps(text, seconds):
    assert parse_timestamp(text) == pytest.approx(seconds)


@pytest.mark.parametrize("text", [
    "00:60.000", "60:00.000", "00:00:60.000", "00:60:00.000", "0:00.000", "00:00.00", "00:00.0000",
    "00:00,000", "00:00.000 ", "-01:00.000", "", "1:0:00.000",
])
def test_invalid_timestamps(text):
    assert parse_timestamp(text) is None


def test_timestamps_are_written_with_hours_and_milliseconds():
    assert format_timestamp(3725.0004) == "01:02:05.000"
    assert format_timestamp(0.0996) == "00:00:00.100"
    assert format_timestamp(400000.5) == "111:06:40.500"


def test_wpt_arrows_lenient_finds_six_cues_and_strict_names_the_line():
    doc = parse_vtt(WPT_ARROWS, strict=False)
    assert [c.text for c in doc.cues] == [f"text{n}" for n in range(1, 7)]
    assert doc.warnings
    with pytest.raises(VttParseError) as caught:
        parse_vtt(WPT_ARROWS)
    # Every problem is listed, each with its line: the four unreadable timing lines at the end too.
    lines = [line for line, _ in caught.value.problems]
    assert lines[:2] == [3, 4] and lines[-4:] == [21, 23, 25, 27]
    assert caught.value.line == 3 and "line 4: " in str(caught.value) and "line 27: " in str(caught.value)


def test_wpt_negative_timings_kept_leniently_refused_strictly():
    doc = parse_vtt(WPT_NEGATIVE, strict=False)
    assert [(c.start, c.end) for c in doc.cues] == [(0, 0), (1, 0.999), (60, 59.999), (3600, 3599.999)]
    with pytest.raises(VttParseError) as caught:
        parse_vtt(WPT_NEGATIVE)
    assert caught.value.line == 3


@pytest.mark.parametrize("text", ["", "WEBVT", "WEBVTTX\n", "webvtt\n", "\n\nWEBVTT\n", "WEBVTT-\n"])
def test_bad_signature_is_an_error_in_both_modes(text):
    for strict in (True, False):
        with pytest.raises(VttParseError) as caught:
            parse_vtt(text, strict=strict)
        assert caught.value.line == 1


def test_signature_variants_bom_crlf_and_header_text():
    assert parse_vtt("WEBVTT").cues == []
    doc = parse_vtt("\ufeffWEBVTT - A title\r\nKind: descriptions\r\n\r\n1\r\n00:01.000 --> 00:02.000\r\nHi\r\nthere\r\n")
    assert doc.header_text == "- A title" and doc.kind == "descriptions"
    assert doc.cues == [Cue(1.0, 2.0, "Hi\nthere", "1")]
    assert parse_vtt("WEBVTT\tx\r00:01.000 --> 00:02.000\rA", strict=False).cues[0].text == "A"


def test_cue_settings_round_trip():
    line = "00:00:01.000 --> 00:00:02.000 vertical:rl line:-1.5 position:10%,line-left size:35% align:end"
    doc = parse_vtt(f"WEBVTT\n\nid-7\n{line}\ntext\n")
    assert not doc.warnings
    assert list(doc.cues[0].settings) == ["vertical", "line", "position", "size", "align"]
    assert f"id-7\n{line}\ntext" in write_vtt(doc)


@pytest.mark.parametrize("setting", ["vertical:up", "line:abc", "line:5,top", "position:120%", "size:50",
                                     "align:middle", "colour:red", "novalue:", "region:nowhere"])
def test_unreadable_settings_are_warnings_even_in_strict_mode(setting):
    doc = parse_vtt(f"WEBVTT\n\n00:01.000 --> 00:02.000 {setting}\nx\n")
    assert len(doc.cues) == 1 and doc.cues[0].settings == {}
    assert [(w.line, w.error) for w in doc.warnings] == [(3, False)]


def test_note_style_region_blocks_are_kept_in_place():
    text = ("WEBVTT\n\nSTYLE\n::cue { color: yellow }\n\nREGION\nid:fred width:40%\n\n"
            "NOTE first\n\n00:01.000 --> 00:02.000\nA\n\nNOTE\nbetween\ncues\n\n00:03.000 --> 00:04.000\nB\n\nNOTE end\n")
    doc = parse_vtt(text)
    assert doc.styles == ["::cue { color: yellow }"] and doc.regions == [VttRegion(id="fred", width=40.0)]
    assert [(n.text, n.before_cue) for n in doc.notes] == [("NOTE first", 0), ("NOTE\nbetween\ncues", 1), ("NOTE end", 2)]
    assert parse_vtt(write_vtt(doc)) == doc


def test_style_after_a_cue_is_refused_strictly_and_skipped_leniently():
    text = "WEBVTT\n\n00:01.000 --> 00:02.000\nA\n\nSTYLE\n::cue {}\n"
    with pytest.raises(VttParseError) as caught:
        parse_vtt(text)
    assert caught.value.line == 6
    doc = parse_vtt(text, strict=False)
    assert doc.styles == [] and len(doc.cues) == 1 and doc.warnings[0].line == 6


def test_arrow_inside_cue_text_ends_the_cue():
    text = "WEBVTT\n\n00:01.000 --> 00:02.000\nfirst line\nthen a --> b\nlost\n\n00:03.000 --> 00:04.000\nB\n"
    with pytest.raises(VttParseError) as caught:
        parse_vtt(text)
    assert caught.value.line == 5
    doc = parse_vtt(text, strict=False)
    assert [c.text for c in doc.cues] == ["first line", "B"]


def test_garbage_block_reports_its_line():
    with pytest.raises(VttParseError, match="line 6:") as caught:
        parse_vtt("WEBVTT\n\n00:01.000 --> 00:02.000\nA\n\nthis is not a cue\n")
    assert caught.value.line == 6


def test_bad_timing_line_and_out_of_order_cues():
    with pytest.raises(VttParseError) as caught:
        parse_vtt("WEBVTT\n\n00:01.000 -> 00:02.000\nA\n")
    assert caught.value.line == 3
    with pytest.raises(VttParseError, match="before the previous cue") as caught:
        parse_vtt("WEBVTT\n\n00:05.000 --> 00:06.000\nA\n\nx\n00:01.000 --> 00:02.000\nB\n")
    assert caught.value.line == 7


def test_nul_is_replaced_and_reported():
    doc = parse_vtt("WEBVTT\n\n00:01.000 --> 00:02.000\na\0b\n", strict=False)
    assert doc.cues[0].text == "a\ufffdb" and doc.warnings[0].line == 4


def test_cue_data_survives_a_round_trip_in_a_note():
    cue = Cue(1.0, 2.5, "A door opens.", data={"draft": True, "priority": 1, "target": 12.3, "why": "a --> b\nc"})
    text = write_vtt([Cue(0.0, 0.5, "before"), cue], kind="descriptions")
    assert text.startswith("WEBVTT\nKind: descriptions\n\n")
    assert 'NOTE avp {"draft": true' in text and "\\u003e" in text
    doc = parse_vtt(text)
    assert doc.kind == "descriptions" and doc.notes == []
    assert doc.cues[1] == cue and doc.cues[0].data == {}


def test_data_note_without_a_following_cue_stays_a_note():
    doc = parse_vtt('WEBVTT\n\nNOTE avp {"a": 1}\n\nNOTE plain\n\n00:01.000 --> 00:02.000\nA\n')
    assert doc.cues[0].data == {}
    assert [n.text for n in doc.notes] == ['NOTE avp {"a": 1}', "NOTE plain"]


def test_kind_replaces_an_existing_kind_header():
    doc = VttDocument(cues=[Cue(0, 1, "x")], header_lines=["kind: captions", "lang: en"])
    assert write_vtt(doc, kind="descriptions").startswith("WEBVTT\nKind: descriptions\nlang: en\n\n")


def test_writer_keeps_text_parseable():
    cues = [Cue(1, 2, "a --> b\n\nsecond"), Cue(3, 4, "")]
    doc = parse_vtt(write_vtt(cues))
    assert [c.text for c in doc.cues] == ["a --&gt; b\nsecond", ""]
    with pytest.raises(ValueError):
        write_vtt([Cue(1, 2, "x", identifier="a --> b")])
    with pytest.raises(ValueError):
        write_vtt([Cue(1, 2, "x", settings={"align": "end start"})])


def test_parse_time_grows_linearly_with_regions_and_cues():
    """Each cue's region is found by id, not by scanning every REGION (a 1 MB upload of
    20000 regions and cues took 81 s that way). Eight times the blocks, at most ~8 times
    the time (24 allows for a busy machine; a scan would take about 64 times)."""
    def seconds(n: int) -> float:
        text = "WEBVTT\n\n" + "".join(f"REGION\nid:r{i}\n\n" for i in range(n)) + \
            "".join(f"00:00.000 --> 00:01.000 region:r{i}\nx\n\n" for i in range(n))
        best = math.inf
        for _ in range(3):
            started = time.perf_counter()
            doc = parse_vtt(text, strict=False)
            best = min(best, time.perf_counter() - started)
        assert doc.layout(doc.cues[-1]).region == VttRegion(f"r{n - 1}")
        return best

    assert seconds(6400) / seconds(800) < 24
