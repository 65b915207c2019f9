"""The W3C WebVTT parsing rules, one rule per test, written from the spec text.

Section numbers are those of W3C WebVTT: The Web Video Text Tracks Format, "6. Parsing":
6.1 WebVTT file parsing, 6.2 WebVTT region settings parsing (with "parse a percentage
string"), 6.3 WebVTT cue timings and settings parsing ("parse the WebVTT cue settings").
Layouts are compared with what a browser's VTTCue reports for the same cue.
"""
import sys

import pytest

from avp.captions.errors import VttParseError
from avp.captions.model import Cue
from avp.captions.vtt import (
    CueLayout,
    VttDocument,
    VttRegion,
    parse_cue_settings,
    parse_percentage,
    parse_region_settings,
    parse_vtt,
    write_vtt,
)

MAX_DOUBLE = f"{int(sys.float_info.max)}"  # 309 digits, the largest finite double
BEYOND_DOUBLE = "1" + "0" * 309  # rounds to 2**1024: an error for the HTML number rules


def layout(settings: str, regions=()) -> CueLayout:
    return parse_cue_settings(settings, regions)[1]


def one_cue(settings: str, header: str = "") -> tuple[VttDocument, Cue]:
    doc = parse_vtt(f"WEBVTT\n\n{header}00:00.000 --> 00:01.000 {settings}\ntext\n")
    return doc, doc.cues[0]


# -- 6.3 parse the WebVTT cue settings: tokens in order, an invalid value is skipped -----------


@pytest.mark.parametrize("settings, attribute, value", [
    ("align:end align:middle", "align", "end"),
    ("position:1% position:x", "position", 1.0),
    ("position:1% position:101%", "position", 1.0),
    ("size:50% size:101%", "size", 50.0),
    ("size:50% size:50", "size", 50.0),
    ("line:5 line:abc", "line", 5.0),
    ("line:5 line:100%,middle", "line", 5.0),
    ("vertical:lr vertical:up", "vertical", "lr"),
])
def test_6_3_a_later_invalid_value_keeps_the_earlier_valid_one(settings, attribute, value):
    """6.3: "...otherwise jump to the step labeled next setting": the cue keeps what it had."""
    assert getattr(layout(settings), attribute) == value
    doc, cue = one_cue(settings)
    assert getattr(doc.layout(cue), attribute) == value
    assert len(doc.warnings) == 1 and not doc.warnings[0].error


def test_6_3_settings_are_split_on_ascii_whitespace_and_need_name_colon_value():
    """6.3: split on spaces; a token without ":" or with ":" first or last is skipped."""
    assert layout("align:end\tsize:50%\fposition:20%") == CueLayout(align="end", size=50.0, position=20.0)
    assert layout(":end align: align :start") == CueLayout()
    assert layout("align:start align:end").align == "end"  # a later valid value wins
    settings, _, problems = parse_cue_settings("align:end Align:start colour:red")
    assert settings == {"align": "end"} and len(problems) == 2  # names are case-sensitive


def test_6_3_only_settings_that_take_effect_are_kept_and_written_back():
    doc, cue = one_cue("align:middle size:50% size:101% line:5,end line:6 position:10%,line-left position:20%")
    # line 6 keeps the alignment "end" of line:5,end; position 20% keeps line-left.
    assert doc.layout(cue) == CueLayout(line=6.0, line_align="end", position=20.0, position_align="line-left",
                                        size=50.0)
    assert cue.settings == {"line": "6,end", "position": "20%,line-left", "size": "50%"}
    again = parse_vtt(write_vtt(doc))
    assert again.layout(again.cues[0]) == doc.layout(cue) and not again.warnings


@pytest.mark.parametrize("value, line", [
    ("-1", -1.0), ("0", 0.0), ("-0", 0.0), ("1", 1.0), ("101", 101.0), ("4294967296", 4294967296.0),
    ("1.5", 1.5), (MAX_DOUBLE, sys.float_info.max), ("-" + MAX_DOUBLE, -sys.float_info.max),
    ("0." + "0" * 323 + "5", 5e-324), ("0." + "0" * 323 + "2", 0.0),
])
def test_6_3_line_numbers_are_html_floating_point_numbers(value, line):
    """6.3 line: digits, one optional leading "-" and at most one "." between digits, read
    with the HTML rules for parsing floating-point number values; snap-to-lines is true."""
    assert layout(f"line:{value}") == CueLayout(line=line, snap_to_lines=True)


@pytest.mark.parametrize("value", [
    BEYOND_DOUBLE, "-" + BEYOND_DOUBLE, "1e2", "1-", "--1", "-", "1..5", ".5", "5.", "1.5.2", "+1", "auto", "0x10",
])
def test_6_3_invalid_line_numbers_leave_the_line_auto(value):
    """6.3 line: anything else, and a number beyond the largest double (an error under the
    HTML rules, which round it to 2^1024), is skipped: the line stays auto."""
    assert layout(f"line:{value}").line is None


@pytest.mark.parametrize("value, line", [("0%", 0.0), ("00%", 0.0), ("100%", 100.0), ("12.5%", 12.5)])
def test_6_3_line_percentages_turn_snap_to_lines_off(value, line):
    assert layout(f"line:{value}") == CueLayout(line=line, snap_to_lines=False)


@pytest.mark.parametrize("value", ["101%", "-0%", "65536%", "1%-", "%1", "1%%", "0%0", "0%x", "%", "1.%", ".5%"])
def test_6_2_parse_a_percentage_string_enforces_syntax_and_range(value):
    """6.2 parse a percentage string: digits [. digits] %, then 0 <= value <= 100."""
    assert parse_percentage(value) is None
    assert layout(f"line:{value}").line is None and layout(f"position:{value}").position is None
    assert layout(f"size:{value}").size == 100


@pytest.mark.parametrize("settings, expected", [
    ("line:100%,start", CueLayout(line=100.0, snap_to_lines=False, line_align="start")),
    ("line:100%,center", CueLayout(line=100.0, snap_to_lines=False, line_align="center")),
    ("line:-2,end", CueLayout(line=-2.0, line_align="end")),
    ("line:100%,middle", CueLayout()),
    ("line:100%,", CueLayout()),
    ("position:10%,line-left", CueLayout(position=10.0, position_align="line-left")),
    ("position:90%,line-right", CueLayout(position=90.0, position_align="line-right")),
    ("position:10%,start", CueLayout()),
])
def test_6_3_an_unknown_alignment_skips_the_whole_setting(settings, expected):
    """6.3: "Otherwise, if linealign (colalign) is not null, then jump to the step labeled
    next setting", before the line (position) is set (w3c/webvtt#336)."""
    assert layout(settings) == expected


def test_6_3_align_and_vertical_values_are_case_sensitive_keywords():
    for value in ("start", "center", "end", "left", "right"):
        assert layout(f"align:{value}").align == value
    assert layout("align:middle").align == "center" and layout("align:END").align == "center"
    assert layout("vertical:rl").vertical == "rl" and layout("vertical:RL").vertical == ""


def test_multiple_settings_on_one_cue():
    """Several settings together, each applied (web-platform-tests settings-multiple)."""
    assert layout("align:start line:1% vertical:lr size:50% position:25%") == CueLayout(
        vertical="lr", line=1.0, snap_to_lines=False, position=25.0, size=50.0, align="start")
    assert layout("align:center line:1 vertical:rl size:0% position:100%") == CueLayout(
        vertical="rl", line=1.0, position=100.0, size=0.0, align="center")


# -- 6.2 region settings and 6.3 the region setting ----------------------------------------------


def test_6_2_region_defaults_and_every_setting():
    """6.2: a new region is 100% wide, 3 lines, anchored at (0,100) in both, not scrolling."""
    assert parse_region_settings("") == (VttRegion(), [])
    region, problems = parse_region_settings(
        "id:fred width:40% lines:4 regionanchor:0%,100% viewportanchor:10%,90%\nscroll:up")
    assert region == VttRegion("fred", 40.0, 4, (0.0, 100.0), (10.0, 90.0), "up") and not problems


@pytest.mark.parametrize("body, expected", [
    ("id:a width:101% width:x", VttRegion("a")),
    ("id:a width:50% width:101%", VttRegion("a", width=50.0)),
    ("id:a lines:-1 lines:1.5 lines:x", VttRegion("a")),
    ("id:a lines:10000000000000000000000000000000000", VttRegion("a", lines=10**34)),
    ("id:a regionanchor:10% regionanchor:10%,101% viewportanchor:,5%", VttRegion("a")),
    ("id:a scroll:down scroll:UP", VttRegion("a")),
    ("id:a id:b", VttRegion("b")),
])
def test_6_2_invalid_region_values_are_skipped(body, expected):
    assert parse_region_settings(body)[0] == expected


def test_6_2_region_ids_may_hold_any_non_ascii_whitespace():
    """6.2 splits on ASCII whitespace only: a vertical tab is part of an id."""
    assert parse_region_settings("id:\v lines:4")[0] == VttRegion("\v", lines=4)


REGIONS = "REGION\nid:foo lines:1\n\nREGION\nid:bar lines:2\n\nREGION\nid:foo lines:3\n\n"


@pytest.mark.parametrize("settings, lines", [
    ("region:foo", 3),  # the LAST region with that id
    ("region:bar", 2),
    ("region:foo region:bar", 2),
    ("region:invalid region:foo", 3),
    ("region:foo region:invalid", None),  # an unknown id sets the region to null
    ("line:5 region:bar", 2),  # a line before the region does not take the cue out
    ("region:bar line:5", None),
    ("region:bar size:50%", None),
    ("region:bar size:100%", 2),
    ("region:bar vertical:rl", None),
    ("region:foo region:", 3),  # no value: not a setting at all
])
def test_6_3_the_region_setting_resolves_to_the_last_region_with_that_id(settings, lines):
    """6.3 region: "the last WebVTT region in regions whose identifier is value, if any, or
    null otherwise"; line, size other than 100 and vertical then set it to null."""
    doc, cue = one_cue(settings, REGIONS)
    region = doc.layout(cue).region
    assert (region.lines if region else None) == lines
    assert [r.lines for r in doc.regions] == [1, 2, 3]


def test_regions_and_the_region_setting_are_written_back():
    text = ("WEBVTT\n\nREGION\nid:speaker width:40% lines:2 viewportanchor:10%,90% scroll:up\n\n"
            "00:00.000 --> 00:01.000 region:speaker align:start\nHi\n")
    doc = parse_vtt(text)
    assert doc.layout(doc.cues[0]).region == VttRegion("speaker", 40.0, 2, (0.0, 100.0), (10.0, 90.0), "up")
    written = write_vtt(doc)
    assert "REGION\nid:speaker width:40% lines:2 viewportanchor:10%,90% scroll:up\n" in written
    assert "00:00:00.000 --> 00:00:01.000 align:start region:speaker\n" in written
    again = parse_vtt(written)
    assert again == doc


def test_6_1_regions_after_the_first_cue_are_not_regions():
    """6.1: a REGION block counts only while no cue has been seen."""
    text = "WEBVTT\n\n00:00.000 --> 00:01.000\nA\n\nREGION\nid:late\n\n00:02.000 --> 00:03.000 region:late\nB\n"
    doc = parse_vtt(text, strict=False)
    assert doc.regions == [] and doc.cues[1].settings == {}


# -- 6.1 file parsing: where a browser recovers, and strict checks that list every problem ------


def test_6_1_an_arrow_line_without_a_blank_line_before_it_starts_the_next_cue():
    """6.1 collect a WebVTT block: a "-->" line after the second line ends the block, and
    the block loop reads it again as the next cue's timing line."""
    text = "WEBVTT\n\n00:01.000 --> 00:02.000\nfirst\n00:03.000 --> 00:04.000\nsecond\n"
    doc = parse_vtt(text, strict=False)
    assert [(c.start, c.text) for c in doc.cues] == [(1.0, "first"), (3.0, "second")]
    assert [(w.line, w.error) for w in doc.warnings] == [(5, True)]


def test_6_1_nul_characters_become_replacement_characters():
    """6.1: "Replace all U+0000 NULL characters by U+FFFD REPLACEMENT CHARACTERs"."""
    text = "WEBVTT\n\n\0 id\n00:00.000 --> 00:01.000\nte\0xt\n\n00:01.000 --> 00:02.000\0 align:end\nB\n"
    doc = parse_vtt(text, strict=False)
    assert doc.cues[0].identifier == "\ufffd id" and doc.cues[0].text == "te\ufffdxt"
    assert doc.layout(doc.cues[1]).align == "end"
    assert [w.line for w in doc.warnings if w.error] == [3, 5, 7]


def test_6_1_a_cue_whose_timing_line_does_not_parse_is_dropped_alone():
    """6.3 collect WebVTT cue timings and settings fails: the block returns null; the
    cues before and after it stay."""
    text = "WEBVTT\n\n00:01.000 --> 00:02.000\nA\n\n00:03.000 -> 00:04.000\nlost\n\n00:05.000 --> 00:06.000\nC\n"
    doc = parse_vtt(text, strict=False)
    assert [c.text for c in doc.cues] == ["A", "C"]
    assert [(w.line, w.error) for w in doc.warnings] == [(6, True)]


def test_strict_check_lists_every_problem_with_its_line():
    text = ("WEBVTT\n\n00:01.000 --> 00:02.000\nfirst\n00:03.000 --> 00:04.000\nsecond\n\n"
            "00:05.000 -> 00:06.000\nlost\n\n00:07.000 --> 00:08.000\na\0b\n\n00:09.000 --> 00:10.000 align:middle\nD\n")
    with pytest.raises(VttParseError) as caught:
        parse_vtt(text)
    assert [line for line, _ in caught.value.problems] == [5, 8, 12]
    assert "line 5: " in str(caught.value) and "line 12: NUL" in str(caught.value)
    # The unreadable setting on line 14 is no error: browsers ignore the setting, not the cue.
    assert [w.line for w in parse_vtt(text, strict=False).warnings] == [5, 8, 12, 14]


def test_6_1_one_byte_order_mark_is_removed_a_second_one_is_no_signature():
    """6.1: the UTF-8 decode removes one BOM; the signature must then be "WEBVTT"."""
    assert len(parse_vtt("\ufeffWEBVTT\n\n00:00.000 --> 00:01.000\nA\n").cues) == 1
    for strict in (True, False):
        with pytest.raises(VttParseError) as caught:
            parse_vtt("\ufeff\ufeffWEBVTT\n\n00:00.000 --> 00:01.000\nA\n", strict=strict)
        assert caught.value.line == 1


def test_6_1_line_terminators_cr_lf_crlf_and_lf_cr():
    """6.1: CRLF becomes LF, then every remaining CR becomes LF (so LF CR is two line ends)."""
    text = ("WEBVTT\r\rcr\r00:00.000 --> 00:01.000\rtext1\n\nlf\n00:00.000 --> 00:01.000\ntext2\r\n\r\n"
            "crlf\r\n00:00.000 --> 00:01.000\r\ntext3\n\rlfcr\r00:00.000 --> 00:01.000\ntext4\n\r")
    doc = parse_vtt(text)
    assert [(c.identifier, c.text) for c in doc.cues] == [("cr", "text1"), ("lf", "text2"), ("crlf", "text3"),
                                                            ("lfcr", "text4")]


def test_6_3_timings_skip_ascii_whitespace_only():
    """6.3 "skip whitespace" is ASCII whitespace: spaces, tabs and form feeds around the
    timings are fine, a vertical tab is not (that block is dropped); cue text keeps its spaces."""
    text = ("WEBVTT\n\nspaces\n   00:00.000    -->  00:01.000 \n   text1\n\ntabs\n\t\t00:00.000\t\t-->\t00:01.000\t\n"
            "text2\n\nform feed\n\f00:00.000\f-->\f\f00:01.000\f\ntext3\n\nvertical tab\n\v00:00.000\v-->\v00:01.000\n"
            "text4\n")
    doc = parse_vtt(text, strict=False)
    assert [(c.identifier, c.text) for c in doc.cues] == [("spaces", "   text1"), ("tabs", "text2"),
                                                            ("form feed", "text3")]
    assert [(w.line, w.error) for w in doc.warnings] == [(16, True)]


def test_6_1_cue_identifiers_are_the_whole_line_before_the_timings():
    text = "".join(f"{ident}\n00:00.000 --> 00:01.000\ntext\n\n" for ident in (" leading", "trailing ", "-- >", "->", " "))
    assert [c.identifier for c in parse_vtt("WEBVTT\n\n" + text).cues] == [" leading", "trailing ", "-- >", "->", " "]


@pytest.mark.parametrize("timing", [
    "00::00:00.000 --> 00:00:01.000", "00:000:00.000 --> 00:00:01.000", "00:00::00.000 --> 00:00:01.000",
    "00:00:000.000 --> 00:00:01.000", "00:00:00..000 --> 00:00:01.000", "00:00:00.0000 --> 00:00:01.000",
    "00:00.0000 --> 00:00:01.000", "000:00.000 --> 00:01.000", "00:00.000 --> 000:01.000",
    "00:00:00.00 --> 00:00:01.000", "0:00.000 --> 00:00:01.000", "00:60.000 --> 00:01:00.000",
])
def test_6_3_collect_a_webvtt_timestamp_refuses_malformed_times(timing):
    """6.3 collect a WebVTT timestamp: two-digit minutes and seconds (at most 59), three-digit
    fractions, hours of any length only with a third field."""
    doc = parse_vtt(f"WEBVTT\n\n00:00:00.000 --> 00:00:01.000\nkept\n\n{timing}\ndropped\n", strict=False)
    assert [c.text for c in doc.cues] == ["kept"] and doc.errors[0].line == 6


def test_6_3_hours_may_have_more_than_two_digits():
    doc = parse_vtt("WEBVTT\n\n000:00:00.000 --> 00:00:01.000\na\n\n00:00:00.000 --> 100:00:01.000\nb\n")
    assert [(c.start, c.end) for c in doc.cues] == [(0.0, 1.0), (0.0, 360001.0)]


def test_6_1_nuls_in_the_header_ids_text_and_settings():
    """6.1: NULs become U+FFFD before anything else, so a NUL line under the signature is a
    header line, and a NUL glued to a setting makes it another (unknown) setting."""
    text = ("WEBVTT\n\0\nstill header\n00:00.000 --> 00:01.000\ntext1\n\n"
            "00:00.000 --> 00:01.000 align\0:end\ntext2\n\n00:00.000 --> 00:01.000 align:end\0\ntext3\n\n"
            "00:00.000 --> 00:01.000\0align:end\ntext4\n\n00:00.000 --> 00:01.000\0 align:end\ntext5\n\n"
            "00:00.000\0 --> 00:01.000\nlost\n")
    doc = parse_vtt(text, strict=False)
    assert doc.header_lines == ["\ufffd", "still header"]
    assert [(c.text, doc.layout(c).align) for c in doc.cues] == [
        ("text1", "center"), ("text2", "center"), ("text3", "center"), ("text4", "center"), ("text5", "end")]
    assert [w.line for w in doc.errors] == [2, 4, 7, 10, 13, 16, 19, 19]


def test_absurdly_long_numbers_are_refused_not_crashed_on():
    """Hostile input: thousands of digits of hours or region lines are skipped like other
    invalid values (Python refuses int() of that many digits)."""
    doc = parse_vtt("WEBVTT\n\nREGION\nid:r lines:" + "9" * 5000 + "\n\n" + "9" * 5000 + ":00:00.000 --> 00:01.000\nx\n",
                    strict=False)
    assert doc.regions == [VttRegion("r")] and doc.cues == [] and doc.errors[0].line == 6
