import random

import pytest

from avp.captions.cuetext import plain_text
from avp.captions.model import Word
from avp.captions.presets import PRESETS, get_preset
from avp.captions.qc import check_cues
from avp.captions.segment import segment, segment_words

NETFLIX = get_preset("netflix-en")

ALL_PRESETS = list(PRESETS.values())
MONOLOGUE = (
    "And so my fellow Americans, ask not what your country can do for you, ask what you can do for "
    "your country. My fellow citizens of the world, ask not what America will do for you, but what "
    "together we can do for the freedom of man. Finally, whether you are citizens of America or citizens "
    "of the world, ask of us here the same high standards of strength and sacrifice which we ask of you. "
    "With a good conscience our only sure reward, with history the final judge of our deeds, let us go "
    "forth to lead the land we love, asking His blessing and His help, but knowing that here on earth "
    "God's work must truly be our own. We met in New York last year."
)


def speak(text, start=0.0, seconds_per_char=0.065, gap=0.08, speaker=None, sentence_pause=0.6):
    """Words with durations proportional to their length, a pause after each sentence."""
    words, t = [], start
    for token in text.split():
        duration = max(0.12, seconds_per_char * len(token))
        words.append(Word(token, round(t, 3), round(t + duration, 3), speaker=speaker))
        t += duration + (sentence_pause if token.endswith((".", "?", "!")) else gap)
    return words


def assert_good(segments, words, preset):
    """No QC violation, every word shown once in order, and the timing rules."""
    report = check_cues([s.cue for s in segments], preset)
    assert report.ok, report.to_dict()["violations"]
    shown = [w for s in segments for w in s.words]
    deduplicated = [w for i, w in enumerate(shown) if i == 0 or w is not shown[i - 1]]
    assert deduplicated == sorted(words, key=lambda w: (w.start, w.end))
    for index, s in enumerate(segments):
        split_into_next = index + 1 < len(segments) and segments[index + 1].words[0] is s.words[-1]
        assert s.cue.start >= s.words[0].start - 0.2505
        assert split_into_next or s.cue.end >= s.words[-1].end - 0.0005
        # Lingering over 1.5 s after the speech only when the rules need that long.
        chars = len(plain_text(s.cue.text).replace("\n", ""))
        needed = max(preset.min_duration or 0, chars / preset.max_cps)
        assert s.cue.end - s.words[-1].end <= 1.5005 or s.cue.duration <= needed + 0.0015


def assert_on_time(segments):
    for s in segments:
        assert abs(s.cue.start - s.words[0].start) <= 0.2505, (s.cue, s.words[0])


def test_empty_input_gives_no_cues():
    assert segment_words([], get_preset()) == []
    assert segment_words([Word("  ", 0, 1)], get_preset()) == []


@pytest.mark.parametrize("preset", ALL_PRESETS, ids=lambda p: p.name)
def test_long_monologue(preset):
    # About 150 words per minute (within every preset's reading speed), a 0.8 s pause
    # after each sentence.
    words = speak(MONOLOGUE, seconds_per_char=0.08, sentence_pause=0.8)
    segments = segment(words, preset)
    assert_good(segments, words, preset)
    assert_on_time(segments)
    texts = [plain_text(s.cue.text) for s in segments]
    assert len(texts) >= 9
    # Never inside a name, and never a line ending on an article.
    assert not any(line.endswith("New") for t in texts for line in t.split("\n"))
    assert not any(line.endswith((" the", " a", " of")) for t in texts for line in t.split("\n"))
    # A sentence end followed by a pause always ends its cue.
    cue_ends = {s.words[-1] for s in segments}
    assert all(w in cue_ends for w in words if w.text.endswith("."))


def test_two_lines_are_bottom_heavy_when_the_words_allow():
    words = speak("Finally, whether you are citizens of America or citizens of the world,")
    [cue] = segment_words(words, get_preset())
    top, bottom = cue.text.split("\n")
    assert top == "Finally, whether you are citizens" or len(top) <= len(bottom)


@pytest.mark.parametrize("preset", ALL_PRESETS, ids=lambda p: p.name)
def test_fast_speech_extends_into_the_following_silence(preset):
    # About 22 characters per second: faster than any preset lets a viewer read.
    burst = speak("Quick, tell everybody downstairs the restaurant closes at nine tonight!",
                  seconds_per_char=0.045, gap=0.0)
    words = burst + speak("Okay.", start=burst[-1].end + 3.0)
    segments = segment(words, preset)
    assert_good(segments, words, preset)
    burst_cues = [s.cue for s in segments if s.words[0] in burst]
    assert burst_cues[-1].end > burst[-1].end + 0.2
    # Where the burst fits one cue it is on time; captions that lagged catch up at the pause.
    if len(burst_cues) == 1:
        assert_on_time(segments)
    assert_on_time(segments[-1:])


@pytest.mark.parametrize("preset", ALL_PRESETS, ids=lambda p: p.name)
def test_long_silence_is_never_spanned(preset):
    first = speak("Hello there.")
    second = speak("Banana.", start=39.9)
    words = first + second
    segments = segment(words, preset, media_duration=42.4)
    assert_good(segments, words, preset)
    assert_on_time(segments)
    assert len(segments) == 2
    assert segments[0].cue.end <= first[-1].end + 1.5005
    assert 39.65 <= segments[1].cue.start <= 39.9
    assert segments[1].cue.end <= 42.4


@pytest.mark.parametrize("preset", ALL_PRESETS, ids=lambda p: p.name)
def test_speaker_change_starts_a_new_cue(preset):
    words = speak("Where were you last night?", speaker="A") + \
        speak("At the cinema with my sister.", start=2.6, speaker="B")
    segments = segment(words, preset)
    assert_good(segments, words, preset)
    assert all(len({w.speaker for w in s.words}) == 1 for s in segments)


@pytest.mark.parametrize("preset", ALL_PRESETS, ids=lambda p: p.name)
def test_quick_exchange_shares_a_cue_marked_per_preset(preset):
    words = [Word("Yes?", 1.0, 1.2, speaker="Ann"), Word("No.", 1.25, 1.45, speaker="Bob"),
             Word("Fine.", 4.0, 4.4, speaker="Ann")]
    segments = segment(words, preset)
    assert_good(segments, words, preset)
    shared = [s.cue for s in segments if len({w.speaker for w in s.words}) == 2]
    assert len(shared) == 1
    expected = ["- Yes?", "- No."] if preset.speaker_change == "dash" else ["Ann: Yes?", "Bob: No."]
    assert shared[0].text.split("\n") == expected


@pytest.mark.parametrize("preset", ALL_PRESETS, ids=lambda p: p.name)
def test_shot_changes_snap_start_and_end(preset):
    words = speak("The door opens slowly.", start=10.0)
    [plain] = segment_words(words, preset)
    shots = [9.94, round(plain.end + 0.3, 3)]
    segments = segment(words, preset, shot_changes=shots)
    assert_good(segments, words, preset)
    [snapped] = segments
    assert (snapped.cue.start, snapped.cue.end) == (9.94, shots[1])


def test_shot_change_too_far_is_ignored():
    words = speak("The door opens slowly.", start=10.0)
    [cue] = segment_words(words, get_preset(), shot_changes=[9.5])
    assert cue.start == 10.0


@pytest.mark.parametrize("preset", ALL_PRESETS, ids=lambda p: p.name)
def test_long_url_is_split_over_lines(preset):
    url = "https://www.example.com/accessibility/guidelines/captions/broadcast-rules?lang=en&page=2"
    words = speak(f"Read more at {url} before Friday.")
    segments = segment(words, preset)
    assert_good(segments, words, preset)
    lines = [line for s in segments for line in plain_text(s.cue.text).split("\n")]
    assert all(len(line) <= preset.max_chars_per_line for line in lines)
    assert url in "".join(lines).replace(" ", "")
    assert "&amp;" in "".join(s.cue.text for s in segments)


def test_overlapping_and_unsorted_words_are_tolerated():
    words = [Word("world.", 1.0, 1.6), Word("Hello", 0.2, 1.2)]
    cues = segment_words(words, get_preset())
    assert [c.text for c in cues] == ["Hello world."]
    assert check_cues(cues, get_preset()).ok


def _random_stream(rng: random.Random) -> list[Word]:
    vocabulary = ("the a of and to in is you that it he was for on are with they I at be this have from "
                  "or one had by word but not what all were we when your can said there an each which she "
                  "do how if will up other about out many then them these so some her would make").split()
    words, t, speaker = [], rng.uniform(0, 3), rng.choice("AB")
    for _ in range(rng.randint(1, 24)):
        text = rng.choice(vocabulary)
        roll = rng.random()
        if roll < 0.04:
            text = "New York"
        elif roll > 0.985:
            text = "https://example.org/" + "p" * rng.randint(5, 70)
        if rng.random() < 0.15:
            text += rng.choice(".,?!")
        duration = rng.uniform(0.05, 0.6)
        words.append(Word(text, round(t, 3), round(t + duration, 3),
                          speaker=speaker if rng.random() < 0.8 else None))
        t += duration + rng.choice([0.0, 0.0, 0.02, 0.1, 0.3, 0.7, 1.2, 1.6, 4.0])
        if rng.random() < 0.1:
            speaker = rng.choice("ABC")
    return words


def test_random_word_streams_never_break_a_rule():
    rng = random.Random(20240611)
    for case in range(300):
        words = _random_stream(rng)
        preset = ALL_PRESETS[case % len(ALL_PRESETS)]
        shots = sorted(rng.uniform(0, words[-1].end + 2) for _ in range(rng.randint(0, 6)))
        media = rng.choice([None, words[-1].end + rng.uniform(0, 2)])
        segments = segment(words, preset, shot_changes=shots, media_duration=media,
                           pause_split=rng.choice([0.4, 0.7, 1.0]))
        if media is None:
            assert_good(segments, words, preset)
        else:
            assert_inside_media_or_squeezed(segments, words, preset, media)


def assert_inside_media_or_squeezed(segments, words, preset, media):
    """No cue runs past the media's end. Rules break only where the speech leaves no room
    before that end: the cues from the first broken one on are packed from their earliest
    start (a lead before their speech), gap to gap, up to the very end of the media."""
    cues = [s.cue for s in segments]
    assert all(c.end <= media + 0.0005 for c in cues)
    report = check_cues(cues, preset, media_duration=media)
    if report.ok:
        assert_good(segments, words, preset)
        return
    assert set(report.totals) <= {"reading_speed", "too_short"}, report.totals
    first = min(v.cue_index for v in report.violations)
    gap_ms = round((preset.min_gap or 0) * 1000)
    assert round(cues[-1].end * 1000) == round(media * 1000)
    assert all(round(b.start * 1000) - round(a.end * 1000) == gap_ms for a, b in zip(cues[first:], cues[first + 1:]))
    head = segments[first].words[0]
    if first == 0 or head is not segments[first - 1].words[-1]:  # a split word's piece starts later
        assert round(cues[first].start * 1000) == max(0, round(head.start * 1000) - 250)


def test_speech_recognised_past_the_end_of_the_media_stays_inside_it():
    """A recogniser without voice detection timed the last line to 8.43 s of a 6.17 s clip."""
    words = speak("Hey! Hey you! Get back here.") + speak("Where do you think you are going?", start=4.6)
    words[-1] = Word(words[-1].text, words[-1].start, 8.43)
    segments = segment(words, NETFLIX, media_duration=6.17)
    assert segments[-1].cue.end == 6.17 and all(s.cue.start < 6.17 for s in segments)
    assert_inside_media_or_squeezed(segments, words, NETFLIX, 6.17)
