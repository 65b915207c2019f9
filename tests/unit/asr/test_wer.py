import pytest

from avp.providers.asr.wer import edit_distance, normalize, wer


def test_normalize_drops_case_punctuation_and_splits_hyphens():
    assert normalize("Ill-disposed, cold-hearted!") == ["ill", "disposed", "cold", "hearted"]


def test_mister_and_mr_are_the_same_word():
    assert normalize("Mr. Dashwood") == normalize("mister dashwood") == ["mr", "dashwood"]


@pytest.mark.parametrize(("digits", "words"), [
    ("40", "forty"), ("1,250", "one thousand two hundred fifty"), ("3.5", "three point five"), ("17", "seventeen")])
def test_numbers_are_spelled_out_in_english(digits, words):
    assert normalize(f"at {digits} seconds") == ["at", *words.split(), "seconds"]


def test_other_languages_keep_digits_and_accents():
    assert normalize("Les 40 forêts", language="fr") == ["les", "40", "forêts"]


def test_wer_ignores_style_differences():
    assert wer("and mister john dashwood had then leisure", "And Mr. John Dashwood had then leisure.") == 0.0
    assert wer("When the time reaches forty seconds", "When the time reaches 40 seconds,") == 0.0


def test_wer_counts_substitutions_insertions_and_deletions():
    assert edit_distance(["a", "b", "c"], ["a", "x", "c", "d"]) == 2
    assert wer("ask not what your country can do", "ask what your country can do for") == pytest.approx(2 / 7)


def test_wer_of_empty_reference():
    assert wer("", "") == 0.0
    assert wer("", "thank you") == 2.0
