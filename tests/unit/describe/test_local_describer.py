from __future__ import annotations

from avp.describe.drafts import is_placeholder
from avp.providers.describe import get_describer
from avp.providers.describe.base import DescribeInput
from avp.providers.describe.local import LocalDescriber
from tests.describe_samples import Gap, Shot


def describe(shots, gaps=(), duration=42.4):
    return LocalDescriber().describe(DescribeInput(duration=duration, shots=shots, gaps=list(gaps)))


def test_example_video_timecode_is_not_read_but_the_silence_is_flagged():
    # The example video: one green shot with a running timecode, narration to 17 s, "Banana." at ~40 s.
    shots = [Shot(0.0, 42.4, 0.5, "00:00:00;12")]
    drafts = describe(shots, [Gap(17.2, 39.8)])
    assert [d.text for d in drafts] == ["Opening shot.", "[Describe: 17.2–39.8 s, no dialogue]"]
    assert all(d.draft and d.source == "local" for d in drafts)
    assert drafts[1].start_target == 17.2


def test_counter_that_changes_every_shot_is_dropped_but_real_text_is_read():
    shots = [
        Shot(0.0, 4.0, 0.5, "DO-IT\n00:00:00;15"),
        Shot(4.0, 9.0, 4.5, "World Wide Access\n00:00:04;10"),
        Shot(9.0, 20.0, 9.5, "frame 0231"),
        Shot(20.0, 30.0, 20.5, "frame 0502"),
    ]
    texts = [d.text for d in describe(shots)]
    assert texts == [
        "Opening shot. On screen: DO-IT.",
        "Scene change. On screen: World Wide Access.",
        "Scene change. On screen: frame.",
        "Scene change.",  # nothing new once the counter is gone
    ]


def test_a_number_that_appears_once_is_read():
    texts = [d.text for d in describe([Shot(0, 5, 1, ""), Shot(5, 9, 6, "Chapter 3")])]
    assert texts[1] == "Scene change. On screen: Chapter 3."


def test_short_gaps_get_no_placeholder_and_priorities_rank_cues():
    drafts = describe([Shot(0, 5, 1, "Title"), Shot(5, 9, 6, "")], [Gap(1.0, 3.0)])
    assert [(d.text, d.priority) for d in drafts] == [("Opening shot. On screen: Title.", 1), ("Scene change.", 3)]


def test_factory_builds_local():
    assert get_describer("local").name == "local"


def test_placeholders_cover_their_gap_inside_the_media_and_are_marked():
    drafts = describe([Shot(0.0, 30.0, 0.5, "")], [Gap(6.4, 21.3), Gap(24.0, 31.0)], duration=30.0)
    placeholders = [d for d in drafts if is_placeholder(d.text)]
    assert [(d.text, d.start_target, d.end) for d in placeholders] == [
        ("[Describe: 6.4–21.3 s, no dialogue]", 6.4, 21.3), ("[Describe: 24.0–30.0 s, no dialogue]", 24.0, 30.0)]
    assert not is_placeholder(drafts[0].text)


def test_what_counts_as_a_placeholder():
    assert is_placeholder("[Describe: 6.4–21.3 s, no dialogue]") and is_placeholder(" [Décrire : 6,4–21,3 s] ")
    assert is_placeholder("<i>[describe the sign]</i>")
    assert not is_placeholder("Scene change. On screen: [LIVE].")
    assert not is_placeholder("[Door slams] A man runs in. [Glass breaks]")
    assert not is_placeholder("") and not is_placeholder("[")
