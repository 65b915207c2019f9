from avp.captions.model import Cue
from avp.describe.fit import PausePoint
from avp.media.render import _webvtt, shift_cues_for_pauses


def test_cues_after_a_pause_move_by_its_duration():
    pauses = [PausePoint(5.0, 2.0, 0), PausePoint(9.0, 1.5, 3)]
    before, at_pause, spanning, after_both = shift_cues_for_pauses(
        [Cue(1.0, 2.0, "a"), Cue(5.0, 6.0, "b"), Cue(4.0, 6.0, "c"), Cue(10.0, 11.0, "d")], pauses
    )
    assert (before.start, before.end) == (1.0, 2.0)
    assert (at_pause.start, at_pause.end) == (7.0, 8.0)  # its speech resumes after the freeze
    assert (spanning.start, spanning.end) == (4.0, 8.0)  # stays up through the freeze
    assert (after_both.start, after_both.end) == (13.5, 14.5)


def test_shift_keeps_text_and_metadata_and_does_not_mutate():
    cue = Cue(6.0, 7.0, "x", identifier="7", settings={"line": "90%"}, data={"speaker": "A"})
    (moved,) = shift_cues_for_pauses([cue], [PausePoint(1.0, 0.5, 0)])
    assert (moved.text, moved.identifier, moved.settings, moved.data) == ("x", "7", {"line": "90%"}, {"speaker": "A"})
    assert cue.start == 6.0


def test_webvtt_timestamps():
    assert _webvtt([Cue(3661.5, 3662.25, "hi")]) == "WEBVTT\n\n01:01:01.500 --> 01:01:02.250\nhi\n"
