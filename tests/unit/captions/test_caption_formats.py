import xml.etree.ElementTree as ET

import pytest

from avp.captions.errors import SrtParseError
from avp.captions.formats import IMSC1_TEXT_PROFILE, TT_NS, TTP_NS, TTS_NS, export, from_srt, to_srt, to_ttml
from avp.captions.model import Cue
from avp.captions.vtt import parse_vtt

CUES = [
    Cue(1.0, 2.5, "<v Ann>Hello &amp; <i>welcome</i></v>\nto AT&amp;T"),
    Cue(3723.004, 3725.0, "Second <b>cue</b> &lt;3"),
]


def test_srt_output():
    assert to_srt(CUES) == (
        "1\n00:00:01,000 --> 00:00:02,500\nHello & <i>welcome</i>\nto AT&T\n\n"
        "2\n01:02:03,004 --> 01:02:05,000\nSecond <b>cue</b> <3\n"
    )
    assert to_srt([]) == ""


def test_srt_round_trip_keeps_times_and_text():
    cues = from_srt(to_srt(CUES))
    assert [(c.start, c.end) for c in cues] == [(1.0, 2.5), (3723.004, 3725.0)]
    assert cues[0].text == "Hello &amp; <i>welcome</i>\nto AT&amp;T"
    assert cues[1].text == "Second <b>cue</b> &lt;3"


def test_from_srt_tolerates_bom_crlf_missing_index_and_font_tags():
    text = "\ufeff1\r\n00:00:01,000 --> 00:00:02,000\r\n<font color=\"red\">Red</font>\r\n\r\n\r\n" \
           "00:00:03.000 --> 00:00:04,000 X1:10 X2:20\r\nNo index\r\n"
    cues = from_srt(text)
    assert [(c.identifier, c.text) for c in cues] == [("1", "Red"), ("", "No index")]
    assert cues[1].start == 3.0


@pytest.mark.parametrize("text, line", [
    ("1\n00:00:01,000 -> 00:00:02,000\nA\n", 1),
    ("1\n00:00:01,000 --> 00:00:02,000\nA\n\n2\nnot a timing\nB\n", 5),
    ("00:00:05,000 --> 00:00:02,000\nA\n", 1),
])
def test_from_srt_errors_name_the_line(text, line):
    with pytest.raises(SrtParseError) as caught:
        from_srt(text)
    assert caught.value.line == line


def test_ttml_is_imsc1_text_profile_and_well_formed():
    document = to_ttml(CUES, "en-GB")
    root = ET.fromstring(document.encode())
    assert root.tag == f"{{{TT_NS}}}tt"
    assert root.get(f"{{{TTP_NS}}}profile") == IMSC1_TEXT_PROFILE
    assert root.get("{http://www.w3.org/XML/1998/namespace}lang") == "en-GB"
    paragraphs = root.findall(f".//{{{TT_NS}}}p")
    assert [(p.get("begin"), p.get("end")) for p in paragraphs] == [
        ("00:00:01.000", "00:00:02.500"), ("01:02:03.004", "01:02:05.000")]
    first = paragraphs[0]
    assert "".join(first.itertext()) == "Hello & welcometo AT&T"
    assert len(first.findall(f"{{{TT_NS}}}br")) == 1
    [italic] = first.findall(f"{{{TT_NS}}}span")
    assert italic.get(f"{{{TTS_NS}}}fontStyle") == "italic" and italic.text == "welcome"
    assert "AT&amp;T" in document and "&lt;3" in document
    assert root.find(f".//{{{TT_NS}}}styling/{{{TT_NS}}}style").get(f"{{{TTS_NS}}}color") == "white"


def test_export_dispatches_by_format():
    assert parse_vtt(export(CUES, "vtt", "en")).cues == CUES
    assert export(CUES, "srt", "en") == to_srt(CUES)
    assert export(CUES, "ttml", "fr").startswith("<?xml")
    with pytest.raises(ValueError, match="unknown caption format 'sbv'"):
        export(CUES, "sbv", "en")


def test_reference_track_exports_to_every_format(media_dir):
    cues = parse_vtt((media_dir / "captions" / "wwa_captions_en.vtt").read_text()).cues
    assert len(from_srt(export(cues, "srt", "en"))) == len(cues)
    assert len(ET.fromstring(export(cues, "ttml", "en").encode()).findall(f".//{{{TT_NS}}}p")) == len(cues)
